/**
 * Quickstart: a training box with Jupyter on PPIO, a serverless inference endpoint on PPIO,
 * and a fine-tuning VM on CompShare. The PPIO product and the CompShare image are picked from
 * the clouds' catalogues by look-ups; the VM falls back to a 3090 when the 4090 is sold out,
 * refuses to cost more than 5 CNY an hour, and stops itself after 8 hours.
 *
 *   pulumi config set --secret ppio:apiKey <your PPIO key>
 *   pulumi config set compshare:publicKey <your CompShare public key>
 *   pulumi config set --secret compshare:privateKey <your CompShare private key>
 *   pulumi up
 *
 * `npm run demo` runs this program against the embedded emulator instead of the clouds.
 */
import * as pulumi from "@pulumi/pulumi";
import { CompShareInstance, getCompShareImagesOutput, getPpioProductsOutput, PpioEndpoint, PpioInstance } from "pulumi-gpu-cloud";

const config = new pulumi.Config("quickstart");

/** The cheapest product with this GPU that PPIO can sell right now. */
function cheapestAvailable(gpu: string): pulumi.Output<string> {
  return getPpioProductsOutput({ category: "instance", gpu, availableOnly: true }).apply(({ products }) => {
    const priced = products.filter((p) => p.pricePerHour !== undefined).sort((a, b) => a.pricePerHour! - b.pricePerHour!);
    if (priced.length === 0) throw new Error(`PPIO has no ${gpu} product available now; set quickstart:trainerProduct`);
    return priced[0].id;
  });
}

/** The id of CompShare's available platform image with this name. */
function imageNamed(region: string, name: string): pulumi.Output<string> {
  return getCompShareImagesOutput({ region, name }).apply(({ images }) => {
    const image = images.find((i) => i.available && i.name === name);
    if (!image) throw new Error(`CompShare lists no available image "${name}" in ${region}; set quickstart:compShareImage`);
    return image.id;
  });
}

const trainerProduct = config.get("trainerProduct") ?? cheapestAvailable("4090");

// A GPU box for interactive training: ssh, Jupyter and TensorBoard.
const trainer = new PpioInstance("trainer", {
  productId: trainerProduct,
  image: "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime",
  resource: { gpuNum: 1, rootfsSizeGb: 50 },
  envs: { HF_HOME: "/workspace/hf", WANDB_MODE: "offline" },
  ports: [{ port: 6006, protocol: "http" }],
  tools: { jupyter: { enabled: true } },
  timeouts: { create: "30m" },
});

// Serverless inference: one warm worker, up to four under load, behind a URL.
const llm = new PpioEndpoint("llm", {
  type: "sync",
  productId: config.get("endpointProduct") ?? "4090.24g.serverless",
  image: "vllm/vllm-openai:v0.6.0",
  command: "--model Qwen/Qwen2.5-7B-Instruct --port 8000",
  workerConfig: { minReplicas: 1, maxReplicas: 4, gpuNum: 1, rootfsSizeGb: 100, idleTimeout: 300 },
  ports: [8000],
  healthCheck: { path: "/health", port: 8000 },
});

// A VM for longer fine-tuning runs on CompShare, billed by the hour.
const finetune = new CompShareInstance("finetune", {
  region: "cn-wlcb",
  zone: "cn-wlcb-01",
  gpuType: "4090",
  gpu: 1,
  cpu: 16,
  memory: 64 * 1024,
  compShareImageId: config.get("compShareImage") ?? imageNamed("cn-wlcb", "Ubuntu 22.04 CUDA 12.4"),
  disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
  chargeType: "Dynamic",
  // sold out? a 3090 with the same CPU and memory will do
  fallbacks: [{ gpuType: "3090" }],
  maxPricePerHour: 5,
  // the platform stops it after 8 hours, in case nobody does
  autoStop: { after: "8h" },
});

export { trainerProduct };
export const trainerSsh = trainer.sshCommand;
export const trainerPassword = trainer.sshPassword;
export const trainerJupyter = trainer.jupyterUrl;
export const llmUrl = llm.url;
export const llmWorkers = llm.workers;
export const finetuneLogin = finetune.sshLoginCommand;
export const finetunePassword = finetune.password;
export const finetunePricePerHour = finetune.pricePerHour;
export const finetuneChosenFallback = finetune.chosenFallback;
export const finetuneStopsAt = finetune.stopSchedulerTime;

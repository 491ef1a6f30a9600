/**
 * Quickstart: a training box with Jupyter on PPIO, a serverless inference endpoint on PPIO,
 * and a fine-tuning VM on CompShare.
 *
 *   pulumi config set --secret ppio:apiKey <your PPIO key>
 *   pulumi config set compshare:publicKey <your CompShare public key>
 *   pulumi config set --secret compshare:privateKey <your CompShare private key>
 *   pulumi up
 *
 * `npm run demo` runs this program against the embedded emulator instead of the clouds.
 */
import * as pulumi from "@pulumi/pulumi";
import { CompShareInstance, PpioEndpoint, PpioInstance } from "pulumi-gpu-cloud";

const config = new pulumi.Config("quickstart");

// A GPU box for interactive training: ssh, Jupyter and TensorBoard.
const trainer = new PpioInstance("trainer", {
  productId: config.get("trainerProduct") ?? "4090.24g",
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
  compShareImageId: config.get("compShareImage") ?? "compshareImage-165jmhx19ik7",
  disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
  chargeType: "Dynamic",
});

export const trainerSsh = trainer.sshCommand;
export const trainerPassword = trainer.sshPassword;
export const trainerJupyter = trainer.jupyterUrl;
export const llmUrl = llm.url;
export const llmWorkers = llm.workers;
export const finetuneLogin = finetune.sshLoginCommand;
export const finetunePassword = finetune.password;
export const finetunePricePerHour = finetune.pricePerHour;

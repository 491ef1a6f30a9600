/**
 * A serverless LLM endpoint on PPIO: vLLM workers that scale between one warm worker and
 * four, behind a sync invoke URL.
 *
 *   pulumi config set --secret ppio:apiKey <your key>
 *   pulumi up
 *
 * Against the local emulator instead: start `npx gpu-cloud-emulator` and export the
 * PPIO_BASE_URL and PPIO_API_KEY it prints.
 */
import * as pulumi from "@pulumi/pulumi";
import { PpioEndpoint } from "pulumi-gpu-cloud";

const config = new pulumi.Config("endpoint");
const model = config.get("model") ?? "Qwen/Qwen2.5-7B-Instruct";

const llm = new PpioEndpoint("llm", {
  type: "sync",
  productId: config.get("productId") ?? "4090.24g.serverless",
  image: "vllm/vllm-openai:v0.6.0",
  command: `--model ${model} --port 8000`,
  workerConfig: {
    minReplicas: 1,
    maxReplicas: 4,
    idleTimeout: 300,
    maxConcurrentPerWorker: 16,
    gpuNum: 1,
    rootfsSizeGb: 100,
    requestTimeout: 600,
  },
  // scale up once a worker carries 12 requests at a time
  policy: { type: "concurrency", value: 12 },
  ports: [8000],
  healthCheck: { path: "/health", port: 8000 },
  envs: { HF_HOME: "/models/hf" },
  timeouts: { create: "30m" },
});

export const endpointId = llm.endpointId;
export const url = llm.url;
export const workers = llm.workers;
export const status = llm.status;

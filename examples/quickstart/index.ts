/**
 * Quickstart: a GPU box for training with Jupyter and ssh, on PPIO.
 *
 *   pulumi config set --secret ppio:apiKey <your key>
 *   pulumi up
 *
 * `npm run demo` runs this program against the embedded emulator instead of the cloud.
 */
import * as pulumi from "@pulumi/pulumi";
import { PpioInstance } from "pulumi-gpu-cloud";

const config = new pulumi.Config("quickstart");

const trainer = new PpioInstance("trainer", {
  productId: config.get("productId") ?? "4090.24g",
  image: "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime",
  resource: { gpuNum: 1, rootfsSizeGb: 50 },
  envs: { HF_HOME: "/workspace/hf", WANDB_MODE: "offline" },
  ports: [{ port: 6006, protocol: "http" }],
  tools: { jupyter: { enabled: true } },
  timeouts: { create: "30m" },
});

export const trainerSsh = trainer.sshCommand;
export const trainerPassword = trainer.sshPassword;
export const trainerJupyter = trainer.jupyterUrl;
export const trainerStatus = trainer.status;

/**
 * A CompShare (优云智算) GPU virtual machine for fine-tuning: one 4090 by the hour, with a data
 * disk, that can be parked with `powerState: "stopped"` and resized in place.
 *
 *   pulumi config set compshare:publicKey <public key>
 *   pulumi config set --secret compshare:privateKey <private key>
 *   pulumi config set compshare:projectId <project>   # sub-accounts only
 *   pulumi up
 *
 * Against the local emulator instead of the cloud:
 *   COMPSHARE_BASE_URL=<emulator url> COMPSHARE_PUBLIC_KEY=emulator-compshare-public \
 *   COMPSHARE_PRIVATE_KEY=emulator-compshare-private pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { CompShareInstance } from "pulumi-gpu-cloud";

const config = new pulumi.Config("finetune");
const gpus = config.getNumber("gpus") ?? 1;

const box = new CompShareInstance("finetune", {
  region: "cn-wlcb",
  zone: "cn-wlcb-01",
  gpuType: "4090",
  gpu: gpus,
  // CompShare sells 16 vCPU and 64 GB per 4090; memory is in MB.
  cpu: 16 * gpus,
  memory: 64 * 1024 * gpus,
  compShareImageId: config.get("image") ?? "compshareImage-165jmhx19ik7",
  disks: [
    { isBoot: true, type: "CLOUD_SSD", size: 200 },
    { isBoot: false, type: "CLOUD_SSD", size: 500 },
  ],
  chargeType: "Dynamic",
  remark: "fine-tuning box",
  powerState: config.get("powerState") === "stopped" ? "stopped" : "running",
  timeouts: { create: "30m" },
});

export const uhostId = box.uhostId;
export const state = box.state;
export const ssh = box.sshLoginCommand;
export const password = box.password; // a secret: `pulumi stack output password --show-secrets`
export const ips = box.ips;
export const pricePerHour = box.pricePerHour;

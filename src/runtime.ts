/**
 * `pulumi-gpu-cloud/runtime`: the provider implementations that the serialized shims load
 * at call time inside Pulumi's provider process. Not meant to be imported by programs.
 */
import { writeStatsFile } from "./core/wait";

export { ppioInstance } from "./ppio/instance";
export { ppioEndpoint } from "./ppio/endpoint";
export { compShareInstance } from "./compshare/instance";

// Benchmark knob (GPU_CLOUD_STATS_FILE, see core/wait.ts); nothing is registered without it.
if (process.env.GPU_CLOUD_STATS_FILE) process.once("exit", () => writeStatsFile());

/**
 * `pulumi-gpu-cloud/runtime`: the provider implementations that the serialized shims load
 * at call time inside Pulumi's provider process. Not meant to be imported by programs.
 */
import { watchEngine } from "./core/engine";
import { progress } from "./core/provider";
import { writeStatsFile } from "./core/wait";

export { ppioInstance } from "./ppio/instance";
export { ppioEndpoint } from "./ppio/endpoint";
export { compShareInstance } from "./compshare/instance";

// Inside Pulumi's provider host: exit once the engine is gone (a killed CLI leaves its plugins running).
watchEngine(progress);

// Benchmark knob (GPU_CLOUD_STATS_FILE, see core/wait.ts); nothing is registered without it.
if (process.env.GPU_CLOUD_STATS_FILE) process.once("exit", () => writeStatsFile());

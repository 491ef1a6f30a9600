/**
 * `pulumi-gpu-cloud/runtime`: the provider implementations that the serialized shims load
 * at call time inside Pulumi's provider process. Not meant to be imported by programs.
 *
 * Each export loads its implementation the first time it is read, so a provider process
 * that only handles CompShare instances never loads PPIO's code, and requiring this module
 * costs nothing until a call needs something. (The HTTP stack waits further, until a call
 * makes the first request: see `core/http.ts`.)
 */
import type * as compshare from "./compshare/instance";
import type * as ppioE from "./ppio/endpoint";
import type * as ppioI from "./ppio/instance";
import { watchEngine } from "./core/engine";
import { progress } from "./core/provider";
import { writeStatsFile } from "./core/wait";

export declare const ppioInstance: typeof ppioI.ppioInstance;
export declare const ppioEndpoint: typeof ppioE.ppioEndpoint;
export declare const compShareInstance: typeof compshare.compShareInstance;

const lazy: Record<string, () => unknown> = {
  ppioInstance: () => (require("./ppio/instance") as typeof ppioI).ppioInstance,
  ppioEndpoint: () => (require("./ppio/endpoint") as typeof ppioE).ppioEndpoint,
  compShareInstance: () => (require("./compshare/instance") as typeof compshare).compShareInstance,
};
for (const [name, load] of Object.entries(lazy)) {
  Object.defineProperty(exports, name, { enumerable: true, configurable: false, get: load });
}

// Inside Pulumi's provider host: exit once the engine is gone (a killed CLI leaves its plugins running).
watchEngine(progress);

// Benchmark knob (GPU_CLOUD_STATS_FILE, see core/wait.ts); nothing is registered without it.
if (process.env.GPU_CLOUD_STATS_FILE) process.once("exit", () => writeStatsFile());

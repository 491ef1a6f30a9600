/**
 * Pieces every runtime provider shares: the thin shim that Pulumi serializes, the
 * partial-failure error, output sanitising, and credential resolution.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The runtime providers by export name in `pulumi-gpu-cloud/runtime`. */
export type RuntimeExport = "ppioInstance" | "ppioEndpoint" | "compShareInstance";

/**
 * A field-less provider whose methods load the real implementation at call time.
 *
 * Pulumi serializes the provider object given to a dynamic resource into the state as
 * JavaScript text (`__provider`). This shim keeps that text about one kilobyte, free of
 * credentials, and identical across releases: the code that runs is whatever version of
 * this package is installed next to the program, so `refresh` and `destroy` of old
 * resources also run current code. Nothing outside the function bodies may be referenced
 * here except the export name: the serializer would copy it into the state.
 */
export function makeShim(exportName: RuntimeExport): pulumi.dynamic.ResourceProvider {
  const load = () => {
    let runtime;
    try {
      runtime = require("pulumi-gpu-cloud/runtime");
    } catch (e) {
      throw new Error(
        `pulumi-gpu-cloud: cannot load "pulumi-gpu-cloud/runtime" from ${process.cwd()} ` +
          `(${(e as Error).message}). Install pulumi-gpu-cloud in the Pulumi program's directory (npm install pulumi-gpu-cloud).`,
      );
    }
    return runtime[exportName];
  };
  return {
    configure: (req) => load().configure(req),
    check: (olds, news) => load().check(olds, news),
    diff: (id, olds, news) => load().diff(id, olds, news),
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read(id, props),
    update: (id, olds, news) => load().update(id, olds, news),
    delete: (id, props) => load().delete(id, props),
  };
}

/**
 * Thrown from `create`/`update` once a cloud object exists but the operation did not
 * finish. Pulumi's dynamic-provider host recognises the `id`/`properties`/`reasons` shape
 * and records the object in the state with init errors, so it is never orphaned: the next
 * `pulumi up` retries the update (or replaces), `pulumi destroy` deletes it.
 */
export class PartialFailureError extends Error {
  constructor(
    readonly id: string,
    readonly properties: Record<string, unknown>,
    readonly reasons: string[],
  ) {
    super(reasons.join("; "));
    this.name = "PartialFailureError";
    if (!("__provider" in properties)) {
      // Without it the engine cannot load a provider to delete the object later.
      throw new Error("internal error: partial-failure properties must carry __provider");
    }
  }
}

/**
 * Outputs must be plain JSON: the host converts them *after* create returned, and a
 * value it cannot encode (undefined, a Buffer, a bigint) fails the step and orphans the
 * object. Dates become ISO strings; `undefined` members disappear.
 */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** The part of `pulumi.dynamic.Config` we use. */
export interface ConfigReader {
  get(key: string): string | undefined;
}

/**
 * Settings come from stack config (given to `configure`) first, then from the environment
 * at call time, never from the program: so they never enter `__provider` or the state.
 */
export class Settings {
  private config?: ConfigReader;

  configure(req: { config: ConfigReader }): void {
    // Synchronous on purpose: the host may dispatch another call while configure awaits.
    this.config = req.config;
  }

  get(configKey: string, envVar: string): string | undefined {
    const fromConfig = this.config?.get(configKey);
    if (fromConfig !== undefined && fromConfig !== "") return fromConfig;
    const fromEnv = process.env[envVar];
    return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
  }
}

/** Stack config and environment, shared by every provider in the process (one stack). */
export const settings = new Settings();

/** Writes a progress line where Pulumi shows it (the provider's stderr). */
export const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

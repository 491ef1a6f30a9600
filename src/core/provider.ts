/**
 * Pieces every runtime provider shares: the `__provider` module text, the partial-failure
 * error, output sanitising, and credential resolution.
 */
import { type Cloud, NotFoundError } from "./errors";

/** The runtime providers by export name in `pulumi-gpu-cloud/runtime`. */
export type RuntimeExport = "ppioInstance" | "ppioEndpoint" | "compShareInstance";

/**
 * The `__provider` text of our resources: a one-line CommonJS module whose `handler()`
 * returns the runtime provider, loaded by package name at call time.
 *
 * Pulumi's provider host evaluates `__provider` with `require-from-string` and calls
 * `handler()`; nothing else about it matters to the engine. `pulumi.dynamic.Resource`
 * would produce that text by running Pulumi's closure serializer over a provider object,
 * which wraps each of the seven methods in ~200 bytes of scaffolding (2–2.5 KB for a shim
 * that only forwards calls) and copies into the state whatever the methods happen to
 * capture. Writing the module ourselves keeps it ~300 bytes, identical across releases,
 * and free of anything but the export name: no credential can reach it. The code that
 * runs is the version of this package installed next to the program, so `refresh` and
 * `destroy` of old resources also run current code.
 */
export function providerModule(exportName: RuntimeExport): string {
  return (
    "exports.handler = function () {\n" +
    `  try { return require("pulumi-gpu-cloud/runtime").${exportName}; }\n` +
    '  catch (e) { throw new Error("pulumi-gpu-cloud: cannot load pulumi-gpu-cloud/runtime from " + process.cwd() + ' +
    '" (" + e.message + "); install pulumi-gpu-cloud in the Pulumi program\'s directory"); }\n' +
    "};\n"
  );
}

/** The type token `pulumi.dynamic.Resource` would give: the engine routes it to Pulumi's dynamic-provider host. */
export function dynamicType(module: string, type: string): string {
  return `pulumi-nodejs:dynamic/${module}:${type}`;
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

/** An error's message, whatever was thrown. */
export function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The partial failure for an object that exists but whose create or update did not
 * finish: its properties are the outputs as the cloud shows them now (or as declared, if
 * the cloud cannot be asked), plus `__provider` so the engine can load a provider later.
 */
export async function recordPartialFailure<L>(o: {
  /** How progress lines name it: `ppio instance`. */
  kind: string;
  id: string;
  inputs: Record<string, unknown>;
  step: "create" | "update";
  error: unknown;
  find: () => Promise<L | null>;
  outputs: (inputs: Record<string, unknown>, live: L | null, id: string) => Record<string, unknown>;
}): Promise<PartialFailureError> {
  const live = await o.find().catch(() => null);
  const properties = { ...o.outputs(o.inputs, live, o.id), __provider: o.inputs.__provider };
  return new PartialFailureError(o.id, properties, [
    `${o.kind} ${o.id} ${o.step} did not finish: ${reasonOf(o.error)}`,
    `It is recorded in the stack: the next \`pulumi up\` resumes it (or replaces it if it failed), \`pulumi destroy\` deletes it.`,
  ]);
}

/**
 * A resource's `delete`: send the delete, then wait until the object is gone. An object
 * the cloud no longer knows counts as deleted: that is the goal.
 */
export async function deleteThenWait(send: () => Promise<void>, waitGone: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (e) {
    if (e instanceof NotFoundError) return;
    throw e;
  }
  await waitGone();
}

/** An update found its object gone: deleted outside Pulumi, which a refresh records. */
export function goneOutsidePulumi(cloud: Cloud, noun: string, id: string, operation: string): NotFoundError {
  return new NotFoundError(`${noun} ${id} no longer exists`, {
    cloud,
    operation,
    hint: "It was deleted outside Pulumi: run `pulumi refresh`, then `pulumi up` to create it again",
  });
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

/**
 * Where progress lines go: the provider's stderr, which Pulumi shows under the stack's row
 * while an operation runs (dynamic providers cannot attach a line to their resource).
 * Looked up at each write, so whatever replaces `process.stderr.write` sees them.
 */
let progressOutput = (text: string): void => {
  process.stderr.write(text);
};

/** Sends progress lines elsewhere (a test harness that shows only what a test looks at); no argument restores stderr. */
export function setProgressOutput(output?: (text: string) => void): void {
  progressOutput = output ?? ((text) => void process.stderr.write(text));
}

/** Writes a progress line where Pulumi shows it (the provider's stderr). */
export const progress = (line: string): void => {
  progressOutput(`${line}\n`);
};

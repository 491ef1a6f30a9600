/**
 * The runtime provider of `PpioEndpoint`: check, diff, create, read, update and delete of a
 * PPIO serverless GPU endpoint (autoscaled workers behind a URL). Loaded in the Pulumi
 * provider process through `pulumi-gpu-cloud/runtime`; never serialized.
 */
import { adoptionMismatches, assertAdoptable, notAdoptable } from "../core/adopt";
import { checkResource, timeoutMs } from "../core/check";
import { diffResource, type PolicyTable } from "../core/diff";
import { NotFoundError } from "../core/errors";
import { type ConfigReader, deleteThenWait, goneOutsidePulumi, plain, progress, recordPartialFailure, settings } from "../core/provider";
import type { Observed, Verdict } from "../core/wait";
import type { PpioClient } from "./client";
import { ppioSession, readEndpoint } from "./context";
import { createExactlyOnce } from "./create";
import { explainUnknownProduct, productCatalogue } from "./products";
import { interruptNotice, markerInEnvs, mayAdopt, rememberRecorded, withMarkerEnv } from "../core/identity";
import {
  type ApiEndpoint,
  type CreateEndpointBody,
  endpointInputsSchema,
  type PpioEndpointInputs,
  type UpdateEndpointBody,
} from "./schemas";

type Props = Record<string, unknown>;
type Inputs = ReturnType<typeof endpointInputsSchema.parse>;

const PUT = "PUT /endpoints/{id}";

/** What a change of each input does. The README's table is checked against this one. */
export const ENDPOINT_POLICY: PolicyTable = {
  type: { kind: "replace", why: "fixed at creation" },
  name: { kind: "update", via: PUT },
  productId: { kind: "update", via: PUT },
  image: { kind: "update", via: PUT },
  workerConfig: { kind: "update", via: PUT },
  appName: { kind: "replace", why: "fixed at creation; part of the async invoke name" },
  registryAuthId: { kind: "update", via: PUT },
  entrypoint: { kind: "update", via: PUT },
  command: { kind: "update", via: PUT },
  policy: { kind: "update", via: PUT },
  volumes: { kind: "update", via: PUT },
  envs: { kind: "update", via: PUT },
  ports: { kind: "update", via: PUT },
  healthCheck: { kind: "update", via: PUT },
  regionId: { kind: "update", via: PUT },
  adoptId: { kind: "ignore", why: "only at create" },
  timeouts: { kind: "ignore", why: "only bounds our waits" },
  autonamePrefix: { kind: "ignore", why: "internal: the Pulumi resource name, used when name is omitted" },
  identity: { kind: "ignore", why: "internal: the stack and resource, as hashes" },
  marker: { kind: "ignore", why: "internal: what the cloud object carries to be found after a killed run" },
};

const DEFAULT_TIMEOUTS = { create: "20m", update: "20m", delete: "10m" };

// ---- status vocabulary ------------------------------------------------------------

// Endpoint statuses other than `running` are undocumented (ppio-api.md §10): any string is
// a state to wait through, unless it names a failure or the status carries an error.

/** States an endpoint does not leave on its own and that the next `pulumi up` replaces. */
export const isFailedEndpointStatus = (st: string) => /fail|error/i.test(st);

/** An endpoint recorded in a failed state, or recorded not running with a platform error. */
export const isFailedEndpointRecord = (st: string, olds: Record<string, unknown>) =>
  isFailedEndpointStatus(st) || (st !== "running" && typeof olds.statusError === "string" && olds.statusError !== "");

const statusOf = (s: Observed<ApiEndpoint>) => (s ? s.status.status : "gone");

function failure(s: ApiEndpoint): string {
  const why = [s.status.error, s.status.message].filter(Boolean).join(": ");
  return `is ${s.status.status}${why ? ` (${why})` : ""}`;
}

function untilRunning(s: Observed<ApiEndpoint>): Verdict {
  if (!s) return { failed: "disappeared" };
  if (s.status.status === "running") return "done";
  if (isFailedEndpointStatus(s.status.status) || s.status.error) return { failed: failure(s) };
  return "pending";
}

const untilGone = (s: Observed<ApiEndpoint>): Verdict => (s ? "pending" : "done");

// ---- mapping ----------------------------------------------------------------------

const wireEnvs = (envs?: Record<string, string>) =>
  envs ? Object.entries(envs).map(([key, value]) => ({ key, value })) : undefined;

/** camelCase input key → the API's `worker_config` key. */
const WORKER_KEYS = {
  minReplicas: "min_replicas",
  maxReplicas: "max_replicas",
  idleTimeout: "idle_timeout",
  maxConcurrentPerWorker: "max_concurrent_per_worker",
  gpuNum: "gpu_num",
  rootfsSizeGb: "rootfs_size_gb",
  minCudaVersion: "min_cuda_version",
  requestTimeout: "request_timeout",
} as const;

type WorkerKey = keyof typeof WORKER_KEYS;

function toWorkerConfig(w: Inputs["workerConfig"]): CreateEndpointBody["worker_config"] {
  const out: Record<string, unknown> = {};
  for (const [camel, snake] of Object.entries(WORKER_KEYS)) {
    const v = w[camel as WorkerKey];
    if (v !== undefined) out[snake] = v;
  }
  return out as CreateEndpointBody["worker_config"];
}

/** The fields both calls carry, as the user declared them. */
function commonFields(a: Inputs, name: string) {
  return {
    name,
    product_id: a.productId,
    image: a.image,
    // Always whole: PPIO requires max_replicas whenever worker_config is sent.
    worker_config: toWorkerConfig(a.workerConfig),
    ...(a.policy && { policy: a.policy }),
    ...(a.healthCheck && { health_check: a.healthCheck }),
    ...(a.regionId && { region_id: a.regionId }),
  };
}

const wireVolumes = (a: Inputs) =>
  a.volumes?.map((v) => ({ id: v.id, type: v.type, size: v.size, mount_point: v.mountPoint }));

export function toCreateBody(a: Inputs, name: string): CreateEndpointBody {
  return {
    type: a.type,
    ...commonFields(a, name),
    ...(a.appName && { app_name: a.appName }),
    registry_auth_id: a.registryAuthId,
    entrypoint: a.entrypoint,
    command: a.command,
    volumes: wireVolumes(a),
    envs: wireEnvs(withMarkerEnv(a.envs, a.marker)),
    ports: a.ports,
  };
}

/**
 * The complete desired spec, so the result never depends on whether PPIO keeps or clears
 * an omitted field: what the user removed is sent in its cleared form. `policy`,
 * `health_check` and `region_id` have no cleared form; removing them keeps the current
 * setting. `type` and `app_name` cannot be sent: PPIO refuses them on update.
 */
export function toUpdateBody(a: Inputs, name: string): UpdateEndpointBody {
  return {
    ...commonFields(a, name),
    registry_auth_id: a.registryAuthId ?? "",
    entrypoint: a.entrypoint ?? "",
    command: a.command ?? "",
    volumes: wireVolumes(a) ?? [],
    envs: wireEnvs(withMarkerEnv(a.envs, a.marker)) ?? [],
    ports: a.ports ?? [],
  };
}

const emptyToUndefined = (v: string | undefined) => (v === "" ? undefined : v);

/** Live values for the declared members of an object; the platform's defaults for the rest are not drift. */
function declaredFrom<T extends Record<string, unknown>>(declared: unknown, live: Record<string, unknown> | null | undefined, key: (k: string) => string): T | undefined {
  if (!declared || typeof declared !== "object") return declared as undefined;
  const d = declared as Record<string, unknown>;
  return Object.fromEntries(Object.keys(d).map((k) => [k, live?.[key(k)] ?? d[k]])) as T;
}

/**
 * Outputs: the inputs as declared, refreshed with what the cloud reports for the fields it
 * reports, plus the computed outputs. Whatever the platform fills in on its own (injected
 * env vars, worker-config defaults, the default scaling policy, the region it picked) is
 * shown only where the user declared the field, so it never shows as drift.
 */
export function toOutputs(declared: Props, live: ApiEndpoint | null, id: string): Props {
  const { __provider, ...inputs } = declared;
  void __provider;
  if (!live) return plain({ ...inputs, endpointId: id });
  const declaredEnvs = (inputs.envs ?? {}) as Record<string, string>;
  const liveEnvs = Object.fromEntries((live.envs ?? []).map((e) => [e.key, e.value]));
  const envs = Object.fromEntries(
    Object.keys(declaredEnvs)
      .filter((k) => k in liveEnvs)
      .map((k) => [k, liveEnvs[k]]),
  );
  const workers = live.workers ?? [];
  // A network volume may come back without its size (the docs' Get example): the declared one stands.
  const declaredVolumes = (Array.isArray(inputs.volumes) ? inputs.volumes : []) as { id?: string; mountPoint?: string; size?: number }[];
  const liveVolumes = (live.volumes ?? []).map((v) => ({
    id: v.id,
    type: v.type,
    size: v.size ?? declaredVolumes.find((d) => d.id === v.id && d.mountPoint === v.mount_point)?.size,
    mountPoint: v.mount_point,
  }));
  return plain({
    ...inputs,
    type: live.type ?? inputs.type,
    name: live.name ?? inputs.name,
    productId: live.product_id ?? inputs.productId,
    image: live.image ?? inputs.image,
    workerConfig: declaredFrom(inputs.workerConfig, live.worker_config, (k) => WORKER_KEYS[k as WorkerKey] ?? k),
    appName: inputs.appName === undefined ? undefined : (live.app_name ?? inputs.appName),
    entrypoint: emptyToUndefined(live.entrypoint) ?? (inputs.entrypoint === "" ? "" : undefined),
    command: emptyToUndefined(live.command) ?? (inputs.command === "" ? "" : undefined),
    registryAuthId: emptyToUndefined(live.registry_auth_id) ?? (inputs.registryAuthId === "" ? "" : undefined),
    policy: inputs.policy === undefined ? undefined : live.policy ? { type: live.policy.type, value: live.policy.value } : undefined,
    healthCheck:
      inputs.healthCheck === undefined
        ? undefined
        : live.health_check
          ? { path: live.health_check.path, port: live.health_check.port }
          : undefined,
    regionId: inputs.regionId === undefined ? undefined : emptyToUndefined(live.region_id) ?? inputs.regionId,
    envs: inputs.envs === undefined && Object.keys(envs).length === 0 ? undefined : envs,
    ports: live.ports && (live.ports.length > 0 || inputs.ports !== undefined) ? live.ports : inputs.ports,
    volumes: liveVolumes.length > 0 || inputs.volumes !== undefined ? liveVolumes : undefined,
    endpointId: live.id,
    status: live.status.status,
    statusMessage: [live.status.error, live.status.message].filter(Boolean).join(": ") || undefined,
    statusError: live.status.error || undefined,
    url: live.url || undefined,
    workers: { ready: workers.filter((w) => w.status.status === "ready").length, total: workers.length },
    createdAt: isoTime(live.created_at),
  });
}

function isoTime(t: number | undefined): string | undefined {
  return t ? new Date(t * 1000).toISOString() : undefined;
}

/** Values that mean the same thing compare equal in diffs. */
function normalize(field: string, v: unknown): unknown {
  if (v === "" || v === null) return undefined;
  switch (field) {
    case "envs":
      return v && typeof v === "object" && Object.keys(v).length === 0 ? undefined : v;
    case "ports":
    case "volumes":
      return Array.isArray(v) && v.length === 0 ? undefined : v;
    default:
      return v;
  }
}

// ---- the provider -----------------------------------------------------------------

function parse(props: Props): Inputs {
  const { __provider, ...rest } = props;
  void __provider;
  return endpointInputsSchema.parse(rest);
}

const kind = "ppio endpoint";

type PpioSessionLike = ReturnType<typeof ppioSession>;

function waitFor(s: PpioSessionLike, id: string, target: "running" | "deleted", ms: number, setting: string) {
  return s.endpoints.wait({
    cloud: "ppio",
    id,
    kind,
    target,
    describe: statusOf,
    until: target === "running" ? untilRunning : untilGone,
    timeoutMs: ms,
    timeoutSetting: setting,
  });
}

/** Adopts the endpoint a killed run made, or sends the create once (see create.ts). */
function createEndpointOnce(client: PpioClient, body: CreateEndpointBody, inputs: Props) {
  return createExactlyOnce({
    noun: "endpoint",
    name: body.name,
    operation: "POST /gpus/v2/endpoints",
    send: () => client.createEndpoint(body),
    list: () => client.listEndpoints({ keyword: body.name }),
    isOurs: (e) =>
      e.name === body.name &&
      (body.app_name === undefined || e.app_name === body.app_name) &&
      (e.product_id === undefined || e.product_id === body.product_id),
    marker: typeof inputs.marker === "string" ? inputs.marker : undefined,
    markerOf: async (e) => markerInEnvs(e.envs ?? (await client.findEndpoint(e.id))?.envs),
    leaving: (e) => /delet|remov/i.test(e.status.status),
    mayAdopt: (id) => mayAdopt(inputs, id),
  });
}

export const ppioEndpoint = {
  configure(req: { config: ConfigReader }): void {
    settings.configure(req);
  },

  async check(olds: Props | undefined, news: Props) {
    return checkResource(endpointInputsSchema, olds, news, 255);
  },

  async diff(id: string, olds: Props, news: Props) {
    rememberRecorded(news, id);
    return diffResource(ENDPOINT_POLICY, olds, news, normalize, "status", isFailedEndpointRecord);
  },

  async create(inputs: Props): Promise<{ id: string; outs: Props }> {
    const args = parse(inputs);
    const name = args.name!;
    const s = ppioSession();
    if (args.adoptId !== undefined) return adopt(s, args, inputs);
    let created: { id: string; resumed: boolean };
    try {
      created = await createEndpointOnce(s.client, toCreateBody(args, name), inputs);
    } catch (e) {
      // The catalogue is asked only after a refusal: the happy path makes no extra call.
      const products = productCatalogue(s.client, "serverless", progress);
      throw await explainUnknownProduct(e, { productId: args.productId, property: "productId", list: () => products("gpu") });
    }
    const { id, resumed } = created;
    if (!resumed) progress(`${kind} ${id} created ("${name}")`);
    interruptNotice(progress);
    // From here on the endpoint exists (and may run workers): any failure must hand its id to the engine.
    try {
      const running = await waitFor(s, id, "running", timeoutMs(args.timeouts, "create", DEFAULT_TIMEOUTS.create), "timeouts.create");
      // The poll that saw it running read the whole endpoint (Get and List return the same object).
      const live = running ?? (await s.client.getEndpoint(id));
      return { id, outs: toOutputs(inputs, live, id) };
    } catch (e) {
      throw await partialFailure(s.client, id, inputs, e, "create");
    }
  },

  async read(id: string, props: Props): Promise<{ id: string; props: Props }> {
    const live = await readEndpoint(ppioSession(), id);
    if (!live) return { id: "", props: {} };
    return { id, props: toOutputs(props, live, id) };
  },

  async update(id: string, olds: Props, news: Props): Promise<{ outs: Props }> {
    const outs = await applyUpdate(ppioSession(), id, news, "update");
    // An adopted endpoint stays marked as such after adoptId is removed from the program.
    return { outs: plain({ ...outs, adoptId: news.adoptId ?? olds.adoptId }) };
  },

  async delete(id: string, props: Props): Promise<void> {
    const s = ppioSession();
    const timeouts = (props.timeouts ?? undefined) as Inputs["timeouts"];
    await deleteThenWait(
      () => s.client.deleteEndpoint(id),
      () => waitFor(s, id, "deleted", timeoutMs(timeouts, "delete", DEFAULT_TIMEOUTS.delete), "timeouts.delete"),
    );
  },
};

/** Sends the complete desired spec once the endpoint is settled, then waits until it runs again. */
async function applyUpdate(s: PpioSessionLike, id: string, news: Props, step: "create" | "update"): Promise<Props> {
  const args = parse(news);
  const ms = timeoutMs(args.timeouts, "update", DEFAULT_TIMEOUTS.update);
  try {
    const live = await s.client.findEndpoint(id);
    if (!live) {
      throw goneOutsidePulumi("ppio", "endpoint", id, step);
    }
    // An endpoint still settling from an earlier (interrupted) run takes no update yet.
    if (!["running", "failed"].includes(live.status.status)) await waitFor(s, id, "running", ms, "timeouts.update");
    await s.client.updateEndpoint(id, toUpdateBody(args, args.name!));
    await waitFor(s, id, "running", ms, "timeouts.update");
    const after = await s.client.getEndpoint(id);
    return toOutputs(news, after, id);
  } catch (e) {
    if (e instanceof NotFoundError) throw e;
    throw await partialFailure(s.client, id, news, e, step);
  }
}

/**
 * `adoptId`: takes the endpoint over after checking that what cannot change in place
 * (`type`, `appName`) is as declared, then applies everything else with the update's PUT.
 * The List item may lack `type` (ppio-api.md §10): Get is asked, and a field it does not
 * report is taken as declared.
 */
async function adopt(s: PpioSessionLike, a: Inputs, inputs: Props): Promise<{ id: string; outs: Props }> {
  const id = a.adoptId!;
  const live = await s.client.findEndpoint(id);
  if (!live || /delet|remov/i.test(live.status.status)) throw notAdoptable("ppio", "endpoint", id, "create");
  const actual: Props = {};
  if (live.type) actual.type = live.type;
  if (live.app_name !== undefined) actual.appName = live.app_name;
  assertAdoptable({ cloud: "ppio", noun: "endpoint", id, operation: "create", mismatches: adoptionMismatches(ENDPOINT_POLICY, inputs, actual, normalize) });
  progress(`${kind} ${id}: adopting it (adoptId); nothing is created`);
  return { id, outs: await applyUpdate(s, id, inputs, "create") };
}

/** The error that lets the engine record an endpoint that exists but did not finish. */
function partialFailure(client: PpioClient, id: string, inputs: Props, error: unknown, step: "create" | "update") {
  return recordPartialFailure({ kind, id, inputs, step, error, find: () => client.findEndpoint(id), outputs: toOutputs });
}

export type { PpioEndpointInputs };

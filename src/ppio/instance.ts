/**
 * The runtime provider of `PpioInstance`: check, diff, create, read, update and delete of
 * a PPIO GPU/CPU container instance. Loaded in the Pulumi provider process through
 * `pulumi-gpu-cloud/runtime`; never serialized.
 */
import { adoptionMismatches, assertAdoptable, notAdoptable } from "../core/adopt";
import { checkResource, timeoutMs, UNKNOWN } from "../core/check";
import { buyFirstAvailable, type Candidate, candidatesOf, chosenOutputs, inferChosen, olderAgainstChosen, shapeOf } from "../core/choose";
import { diffByTable, diffResource, type PolicyTable } from "../core/diff";
import { ConflictError, GpuCloudError, NotFoundError } from "../core/errors";
import { type ConfigReader, deleteThenWait, goneOutsidePulumi, plain, progress, recordPartialFailure, settings } from "../core/provider";
import type { Observed, Verdict } from "../core/wait";
import type { PpioClient } from "./client";
import { ppioSession, readInstance } from "./context";
import { createExactlyOnce } from "./create";
import { explainUnknownProduct, hourlyPrice, productCatalogue } from "./products";
import { interruptNotice, markerInEnvs, mayAdopt, rememberRecorded, withMarkerEnv } from "../core/identity";
import {
  type ApiInstance,
  type CreateInstanceBody,
  INSTANCE_FIELDS,
  instanceInputsSchema,
  type PpioInstanceInputs,
  type UpgradeInstanceBody,
} from "./schemas";

type Props = Record<string, unknown>;
type Inputs = ReturnType<typeof instanceInputsSchema.parse>;

/** What a change of each input does. The README's table is checked against this one. */
export const INSTANCE_POLICY: PolicyTable = {
  name: { kind: "replace", why: "PPIO v2 has no rename" },
  productId: { kind: "replace" },
  billing: { kind: "replace" },
  type: { kind: "replace" },
  resource: { kind: "replace", why: "no in-place hardware change in PPIO v2" },
  "resource.rootfsSizeGb": { kind: "grow", via: "PUT /instances/{id}/rootfs-expand" },
  image: { kind: "update", via: "PUT /instances/{id}/upgrade" },
  registryAuthId: { kind: "update", via: "PUT /instances/{id}/upgrade" },
  entrypoint: { kind: "update", via: "PUT /instances/{id}/upgrade" },
  command: { kind: "update", via: "PUT /instances/{id}/upgrade" },
  envs: { kind: "update", via: "PUT /instances/{id}/upgrade" },
  ports: { kind: "update", via: "PUT /instances/{id}/ports" },
  powerState: { kind: "update", via: "PUT /instances/{id}/stop or /start" },
  network: { kind: "replace" },
  volumes: { kind: "replace" },
  candidateRegions: { kind: "replace" },
  tools: { kind: "replace" },
  autoMigrate: { kind: "replace" },
  fallbacks: { kind: "ignore", why: "only chooses what create buys" },
  maxPricePerHour: { kind: "ignore", why: "only bounds what create buys" },
  adoptId: { kind: "ignore", why: "only at create" },
  timeouts: { kind: "ignore", why: "only bounds our waits" },
  autonamePrefix: { kind: "ignore", why: "internal: the Pulumi resource name, used when name is omitted" },
  identity: { kind: "ignore", why: "internal: the stack and resource, as hashes" },
  marker: { kind: "ignore", why: "internal: what the cloud object carries to be found after a killed run" },
};

const UPGRADE_FIELDS = ["image", "registryAuthId", "entrypoint", "command", "envs"];

const DEFAULT_TIMEOUTS = { create: "20m", update: "20m", delete: "10m" };

// ---- status vocabulary ------------------------------------------------------------
// Deletion shows as toRemove → removing → removed, and a removed instance may stay listed for
// a while (ppio-api.md §10). No documented status means "failed": a provisioning failure is
// `status.error` set while the state stays `pulling` or `exited`. A status containing
// "fail"/"error" is still read as a failure, in case one appears.

/** Delete in progress. */
const REMOVING = new Set(["toRemove", "removing"]);
/** The instance is gone for every purpose but a listing. */
export const isRemoved = (s: ApiInstance | null | undefined) => !s || s.status.status === "removed";

const FAILED = new Set(["failed", "error", "removed", ...REMOVING]);

/** States an instance does not leave on its own and that no update can repair. */
export const isFailedStatus = (st: string) => st === "failed" || /fail|error/i.test(st);

/** An instance recorded in a failed state, or recorded not running with a platform error. */
export const isFailedRecord = (st: string, olds: Record<string, unknown>) =>
  isFailedStatus(st) || (st !== "running" && typeof olds.statusError === "string" && olds.statusError !== "");

const statusOf = (s: Observed<ApiInstance>) => (s ? s.status.status : "gone");

function failure(s: ApiInstance): string {
  const why = [s.status.error, s.status.message].filter(Boolean).join(": ");
  return `is ${s.status.status}${why ? ` (${why})` : ""}`;
}

/**
 * Running, or why it never will be. `exited` counts as a failure only once the instance
 * has been seen in another state during this wait: right after a start request the cloud
 * may still report the old `exited` for a moment. A platform error on a state that is not
 * `running` is a failure on the first poll that shows it.
 */
function untilRunning(): (s: Observed<ApiInstance>) => Verdict {
  let moved = false;
  return (s) => {
    if (!s) return { failed: "disappeared" };
    const st = s.status.status;
    if (st === "running") return "done";
    if (FAILED.has(st) || isFailedStatus(st)) return { failed: failure(s) };
    if (s.status.error && st !== "exited") return { failed: failure(s) };
    if (st === "exited" && (moved || s.status.error)) return { failed: failure(s) };
    if (st !== "exited") moved = true;
    return "pending";
  };
}

function untilStopped(s: Observed<ApiInstance>): Verdict {
  if (!s) return { failed: "disappeared" };
  if (s.status.status === "exited") return "done";
  if (FAILED.has(s.status.status)) return { failed: failure(s) };
  return "pending";
}

const untilGone = (s: Observed<ApiInstance>): Verdict => (isRemoved(s) ? "done" : "pending");

// ---- mapping ----------------------------------------------------------------------

const wireEnvs = (envs?: Record<string, string>) =>
  envs ? Object.entries(envs).map(([key, value]) => ({ key, value })) : undefined;

export function toCreateBody(a: Inputs, name: string): CreateInstanceBody {
  return {
    name,
    product_id: a.productId,
    image: a.image,
    billing: {
      mode: a.billing.mode,
      ...(a.billing.prepaid && {
        prepaid: {
          months: a.billing.prepaid.months,
          ...(a.billing.prepaid.autoRenew && { auto_renew: a.billing.prepaid.autoRenew }),
        },
      }),
    },
    resource: {
      gpu_num: a.resource.gpuNum,
      rootfs_size_gb: a.resource.rootfsSizeGb,
      ...(a.resource.minCudaVersion !== undefined && { min_cuda_version: a.resource.minCudaVersion }),
    },
    ...(a.type && { type: a.type }),
    registry_auth_id: a.registryAuthId,
    entrypoint: a.entrypoint,
    command: a.command,
    envs: wireEnvs(withMarkerEnv(a.envs, a.marker)),
    ports: a.ports,
    network: a.network,
    volumes: a.volumes?.map((v) => ({ type: v.type, id: v.id, mount_point: v.mountPoint })),
    candidate_regions: a.candidateRegions,
    tools: a.tools?.jupyter && {
      jupyter: {
        enabled: a.tools.jupyter.enabled,
        port: a.tools.jupyter.port ?? 8888,
        protocol: a.tools.jupyter.protocol ?? "http",
      },
    },
    auto_migrate: a.autoMigrate && {
      enabled: a.autoMigrate.enabled,
      include_system_disk: a.autoMigrate.includeSystemDisk ?? false,
    },
  };
}

function toUpgradeBody(a: Inputs): UpgradeInstanceBody {
  // PPIO replaces the container spec as a whole: always send every field we manage.
  return {
    image: a.image,
    registry_auth_id: a.registryAuthId ?? "",
    entrypoint: a.entrypoint ?? "",
    command: a.command ?? "",
    envs: wireEnvs(withMarkerEnv(a.envs, a.marker)) ?? [],
    save_data: true,
  };
}

const emptyToUndefined = (v: string | undefined) => (v === "" ? undefined : v);

/**
 * Outputs: the inputs as declared, refreshed with what the cloud reports for the fields
 * it reports, plus the computed outputs. Env vars the platform injects (keys the user
 * never declared) are left out, so they never show as drift.
 */
export function toOutputs(declared: Props, live: ApiInstance | null, id: string): Props {
  const { __provider, ...inputs } = declared;
  void __provider;
  if (!live) return plain({ ...inputs, instanceId: id });
  const declaredEnvs = (inputs.envs ?? {}) as Record<string, string>;
  const liveEnvs = Object.fromEntries((live.envs ?? []).map((e) => [e.key, e.value]));
  const envs = Object.fromEntries(
    Object.keys(declaredEnvs)
      .filter((k) => k in liveEnvs)
      .map((k) => [k, liveEnvs[k]]),
  );
  const st = live.status.status;
  const ssh = live.tools?.ssh;
  const jupyter = live.tools?.jupyter;
  const terminal = live.tools?.web_terminal;
  const log = live.tools?.log;
  return plain({
    ...inputs,
    name: live.name ?? inputs.name,
    image: live.image ?? inputs.image,
    entrypoint: emptyToUndefined(live.entrypoint) ?? (inputs.entrypoint === "" ? "" : undefined),
    command: emptyToUndefined(live.command) ?? (inputs.command === "" ? "" : undefined),
    registryAuthId: emptyToUndefined(live.registry_auth_id) ?? (inputs.registryAuthId === "" ? "" : undefined),
    envs: inputs.envs === undefined && Object.keys(envs).length === 0 ? undefined : envs,
    ports:
      live.ports && (live.ports.length > 0 || inputs.ports !== undefined)
        ? live.ports.map((p) => ({ port: p.port, protocol: p.protocol }))
        : inputs.ports,
    powerState: st === "exited" ? "stopped" : st === "running" ? "running" : inputs.powerState,
    instanceId: live.id,
    status: st,
    statusMessage: [live.status.error, live.status.message].filter(Boolean).join(": ") || undefined,
    statusError: live.status.error || undefined,
    region: live.region,
    sshCommand: ssh?.command || undefined,
    sshPassword: ssh?.password || undefined,
    jupyterUrl: jupyter?.enabled === false ? undefined : jupyter?.endpoint || undefined,
    webTerminalUrl: terminal?.enabled === false ? undefined : terminal?.endpoint || undefined,
    instanceLogUrl: log?.instance_endpoint || undefined,
    systemLogUrl: log?.system_endpoint || undefined,
    portEndpoints: (live.ports ?? []).filter((p) => p.endpoint).map((p) => ({ port: p.port, protocol: p.protocol, endpoint: p.endpoint })),
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
    case "powerState":
      return v ?? "running";
    case "billing":
      return v ?? { mode: "postpaid" };
    case "type":
      return v ?? "gpu";
    case "resource": {
      // "" is "no CUDA constraint", the same as leaving it out.
      const r = v as { minCudaVersion?: string } | undefined;
      return r && typeof r === "object" ? { ...r, minCudaVersion: r.minCudaVersion || undefined } : r;
    }
    case "envs":
      return v && typeof v === "object" && Object.keys(v).length === 0 ? undefined : v;
    case "ports":
    case "volumes":
    case "candidateRegions":
      return Array.isArray(v) && v.length === 0 ? undefined : v;
    default:
      return v;
  }
}

// ---- the provider -----------------------------------------------------------------

/**
 * State recorded before `type` moved out of `resource` keeps it there; reading it from there
 * keeps such a stack from seeing a change it never made.
 */
function lifted(olds: Props): Props {
  const r = olds.resource as Record<string, unknown> | undefined;
  if (!r || typeof r !== "object" || !("type" in r)) return olds;
  const { type, ...resource } = r;
  return { ...olds, type: olds.type ?? type, resource };
}

function parse(props: Props): Inputs {
  const { __provider, ...rest } = props;
  void __provider;
  return instanceInputsSchema.parse(rest);
}

const kind = "ppio instance";

function waitFor(client: PpioSessionLike, id: string, target: "running" | "stopped" | "deleted", ms: number, setting: string) {
  return client.instances.wait({
    cloud: "ppio",
    id,
    kind,
    target,
    describe: statusOf,
    until: target === "running" ? untilRunning() : target === "stopped" ? untilStopped : untilGone,
    timeoutMs: ms,
    timeoutSetting: setting,
  });
}

type PpioSessionLike = ReturnType<typeof ppioSession>;

/**
 * Sends a power or upgrade PUT. The transport sends a PUT again when its answer was lost,
 * and PPIO refuses the second delivery of an action it already took (OPERATION_LIMIT: the
 * instance is busy with it). When the instance shows the action under way or done, that
 * refusal is the echo of our own request, not a failure.
 */
async function act(s: PpioSessionLike, id: string, send: () => Promise<void>, took: (live: ApiInstance) => boolean) {
  try {
    await send();
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    const live = await s.client.findInstance(id);
    if (!live || !took(live)) throw e;
  }
}

const heading =
  (...statuses: string[]) =>
  (live: ApiInstance): boolean =>
    statuses.includes(live.status.status);

/** The instance is re-creating (or has re-created) its container with exactly this spec. */
const upgradedTo = (body: UpgradeInstanceBody) => (live: ApiInstance) => {
  const envs = new Map((live.envs ?? []).map((e) => [e.key, e.value]));
  return (
    heading("toReset", "resetting", "pulling", "running")(live) &&
    live.image === body.image &&
    (live.entrypoint ?? "") === body.entrypoint &&
    (live.command ?? "") === body.command &&
    (body.envs ?? []).every((e) => envs.get(e.key) === e.value)
  );
};

/**
 * Grows the root filesystem to `target` GB. The call takes the increment, so the size is read
 * first (a rerun after an interrupted update adds only what is missing) and read again when
 * the answer to the call was lost.
 */
async function growRootfs(s: PpioSessionLike, id: string, declared: number, target: number, ms: number) {
  const sizeOf = (live: ApiInstance) => live.resource_specs?.rootfs_size_gb ?? declared;
  let live = await s.client.getInstance(id);
  if (!["running", "exited"].includes(live.status.status)) live = (await waitFor(s, id, "running", ms, "timeouts.update")) ?? live;
  const current = sizeOf(live);
  if (current >= target) return;
  try {
    await s.client.expandRootfs(id, target - current);
  } catch (e) {
    if (!(e instanceof GpuCloudError) || !e.mayHaveSucceeded) throw e;
    if (sizeOf(await s.client.getInstance(id)) < target) throw e;
  }
  progress(`${kind} ${id} root filesystem ${current} → ${target} GB`);
}

/** Brings a settled instance to the desired power state. */
async function converge(s: PpioSessionLike, id: string, want: "running" | "stopped", ms: number, setting: string) {
  const current = await s.client.getInstance(id);
  const st = current.status.status;
  if (want === "stopped") {
    if (st !== "exited") {
      if (st !== "running") await waitFor(s, id, "running", ms, setting);
      await act(s, id, () => s.client.stopInstance(id), heading("toStop", "stopping", "exited"));
    }
    await waitFor(s, id, "stopped", ms, setting);
  } else {
    if (st === "exited") await act(s, id, () => s.client.startInstance(id), heading("toStart", "starting", "running"));
    await waitFor(s, id, "running", ms, setting);
  }
}

/** Adopts the instance a killed run made, or sends the create once (see create.ts). */
function createInstanceOnce(client: PpioClient, body: CreateInstanceBody, inputs: Props) {
  return createExactlyOnce({
    noun: "instance",
    name: body.name,
    operation: "POST /gpus/v2/instances",
    send: () => client.createInstance(body),
    list: () => client.listInstances({ name: body.name }),
    isOurs: (i) =>
      i.name === body.name &&
      (i.product_id === undefined || i.product_id === body.product_id) &&
      !isRemoved(i) &&
      !REMOVING.has(i.status.status),
    marker: typeof inputs.marker === "string" ? inputs.marker : undefined,
    markerOf: async (i) => markerInEnvs(i.envs ?? (await client.findInstance(i.id))?.envs),
    leaving: (i) => isRemoved(i) || REMOVING.has(i.status.status),
    mayAdopt: (id) => mayAdopt(inputs, id),
  });
}

/** The inputs a fallback may override: the shape `chosenShape` reports. */
export const FIELDS = INSTANCE_FIELDS;

/** `productId 4090.24g × 1 GPU, postpaid`, as messages describe a candidate. */
function describeCandidate(c: Candidate): string {
  const a = c.inputs as { productId?: unknown; billing?: { mode?: unknown }; type?: unknown; resource?: { gpuNum?: unknown } };
  const units = a.type === "cpu" ? "cpu" : `× ${String(a.resource?.gpuNum)} GPU`;
  return `productId ${String(a.productId)} ${units}, ${String(a.billing?.mode ?? "postpaid")}`;
}

/**
 * One hour of a candidate: the product's hourly price for its billing mode (postpaid:
 * `pricing.postpaid`, spot: `pricing.spot`) × its GPUs. PPIO documents no hourly price for
 * a prepaid term, so under a cap a prepaid candidate has no known price. A cpu product's
 * price is taken as per instance (inferred: the docs speak of the price alone).
 */
async function candidatePrice(c: Candidate, products: ReturnType<typeof productCatalogue>): Promise<number | undefined> {
  const a = parse(c.inputs);
  const mode = a.billing.mode;
  if (mode === "prepaid") {
    progress(`${kind}: ${c.label} is prepaid; PPIO lists no hourly price for a prepaid term, so it cannot be held to maxPricePerHour`);
    return undefined;
  }
  const product = (await products(a.type ?? "gpu"))?.find((p) => p.id === a.productId);
  const perUnit = product && hourlyPrice(product, mode);
  if (perUnit === undefined) return undefined;
  return perUnit * ((a.type ?? "gpu") === "cpu" ? 1 : a.resource.gpuNum);
}

/** Whether a live instance is what a candidate buys (after a killed run, to say which one it was). */
function boughtAs(live: ApiInstance, inputs: Props): boolean {
  const { __provider, ...rest } = inputs;
  void __provider;
  const r = instanceInputsSchema.safeParse(rest);
  if (!r.success) return false;
  const a = r.data;
  return (
    live.product_id === a.productId &&
    (live.type === undefined || live.type === (a.type ?? "gpu")) &&
    (live.billing?.mode === undefined || live.billing.mode === a.billing.mode) &&
    (live.resource_specs?.gpu_num === undefined || live.resource_specs.gpu_num === a.resource.gpuNum)
  );
}

/** The name of the input that set a candidate's `productId`, for messages. */
function productProperty(c: Candidate, inputs: Props): string {
  const override = Array.isArray(inputs.fallbacks) ? (inputs.fallbacks[c.index] as Props | undefined) : undefined;
  return c.index >= 0 && override && "productId" in override ? `fallbacks[${c.index}].productId` : "productId";
}

/** The outputs that record how the object came to be, carried from the old outputs into an update's. */
function carried(olds: Props, news: Props): Props {
  return { chosenFallback: olds.chosenFallback, chosenShape: olds.chosenShape, adoptId: news.adoptId ?? olds.adoptId };
}

/**
 * An adopted instance keeps its own name when the program declares none (PPIO v2 has no
 * rename): the generated name differing from it is not a change.
 */
function adoptedName(olds: Props, news: Props): Props {
  return olds.adoptId !== undefined && news.autonamePrefix !== undefined ? { ...olds, name: news.name } : olds;
}

/** Old outputs as diff and update compare them. */
const comparable = (olds: Props, news: Props) => adoptedName(olderAgainstChosen(lifted(olds), news), news);

/**
 * The replace-only inputs as the live instance has them, for `adoptId`. Only what Get
 * reports (ppio-api.md §2) is compared; `candidateRegions`, `tools` and
 * `resource.minCudaVersion` are not reported and are taken as declared. A name is compared
 * only when declared: a generated one gives way to the object's.
 */
function liveAsInputs(live: ApiInstance, a: Inputs, inputs: Props): Props {
  const out: Props = {};
  if (inputs.autonamePrefix === undefined && live.name) out.name = live.name;
  if (live.product_id) out.productId = live.product_id;
  if (live.type) out.type = live.type;
  if (live.billing?.mode) out.billing = { ...a.billing, mode: live.billing.mode };
  const specs = live.resource_specs;
  if (specs) {
    // A root filesystem smaller than the object's cannot be had (PPIO only grows it); a larger one is grown in place.
    out.resource = {
      ...(inputs.resource as Props),
      ...(specs.gpu_num !== undefined && { gpuNum: specs.gpu_num }),
      rootfsSizeGb: Math.max(specs.rootfs_size_gb ?? 0, a.resource.rootfsSizeGb),
    };
  }
  if (live.network) {
    out.network = live.network.id ? { id: live.network.id, ...(a.network?.ip !== undefined && { ip: live.network.ip }) } : undefined;
  }
  if (live.volumes) out.volumes = live.volumes.map((v) => ({ type: v.type, id: v.id, mountPoint: v.mount_point }));
  if (live.auto_migrate) {
    out.autoMigrate = { enabled: live.auto_migrate.enabled ?? false, includeSystemDisk: live.auto_migrate.include_system_disk ?? false };
  }
  return out;
}

/** As `normalize`, and an auto-migrate setting that is off the same as none. */
function adoptNormalize(field: string, v: unknown): unknown {
  if (field === "autoMigrate" && v && typeof v === "object") {
    const m = v as { enabled?: boolean; includeSystemDisk?: boolean };
    return m.enabled || m.includeSystemDisk ? { enabled: !!m.enabled, includeSystemDisk: !!m.includeSystemDisk } : undefined;
  }
  return normalize(field, v);
}

/** `adoptId`: takes the instance over after checking it is what the program declares, then applies the in-place inputs. */
async function adopt(s: PpioSessionLike, a: Inputs, inputs: Props): Promise<{ id: string; outs: Props }> {
  const id = a.adoptId!;
  const live = await s.client.findInstance(id);
  if (!live || isRemoved(live) || REMOVING.has(live.status.status)) throw notAdoptable("ppio", "instance", id, "create");
  const actual = liveAsInputs(live, a, inputs);
  assertAdoptable({ cloud: "ppio", noun: "instance", id, operation: "create", mismatches: adoptionMismatches(INSTANCE_POLICY, inputs, actual, adoptNormalize) });
  progress(`${kind} ${id}: adopting it (adoptId); nothing is bought`);
  const chosen = { chosenFallback: -1, chosenShape: shapeOf({ ...inputs, ...actual }, FIELDS) };
  const liveRootfs = live.resource_specs?.rootfs_size_gb;
  const olds = {
    ...toOutputs(inputs, live, id),
    resource: { ...(inputs.resource as Props), ...(liveRootfs !== undefined && { rootfsSizeGb: liveRootfs }) },
  };
  const outs = await applyUpdate(s, id, olds, inputs, chosen, "create");
  return { id, outs: plain({ ...outs, ...chosen }) };
}

/** The update of an instance: the in-place changes between `olds` and `news`, then the power state. */
async function applyUpdate(s: PpioSessionLike, id: string, olds: Props, news: Props, extra: Props, step: "create" | "update"): Promise<Props> {
  const args = parse(news);
  const ms = timeoutMs(args.timeouts, "update", DEFAULT_TIMEOUTS.update);
  const d = diffByTable(INSTANCE_POLICY, comparable(olds, news), news, normalize);
  const changed = new Set(d.updates.map((u) => u.field));
  try {
    let live = await s.client.findInstance(id);
    if (!live || isRemoved(live)) {
      throw goneOutsidePulumi("ppio", "instance", id, step);
    }
    if (changed.has("resource.rootfsSizeGb")) {
      const declared = (lifted(olds).resource as { rootfsSizeGb?: number } | undefined)?.rootfsSizeGb ?? args.resource.rootfsSizeGb;
      await growRootfs(s, id, declared, args.resource.rootfsSizeGb, ms);
      live = await s.client.getInstance(id);
    }
    if (UPGRADE_FIELDS.some((f) => changed.has(f))) {
      if (!["running", "exited"].includes(live.status.status)) await waitFor(s, id, "running", ms, "timeouts.update");
      const body = toUpgradeBody(args);
      await act(s, id, () => s.client.upgradeInstance(id, body), upgradedTo(body));
      await waitFor(s, id, "running", ms, "timeouts.update");
    }
    if (changed.has("ports")) await s.client.replacePorts(id, args.ports ?? []);
    await converge(s, id, args.powerState ?? "running", ms, "timeouts.update");
    const after = await s.client.getInstance(id);
    return toOutputs(news, after, id);
  } catch (e) {
    if (e instanceof NotFoundError) throw e;
    throw await partialFailure(s.client, id, news, e, step, extra);
  }
}

export const ppioInstance = {
  configure(req: { config: ConfigReader }): void {
    settings.configure(req);
  },

  async check(olds: Props | undefined, news: Props) {
    return checkResource(instanceInputsSchema, olds, news, 255);
  },

  async diff(id: string, olds: Props, news: Props) {
    rememberRecorded(news, id);
    return diffResource(INSTANCE_POLICY, comparable(olds, news), news, normalize, "status", isFailedRecord);
  },

  async create(inputs: Props): Promise<{ id: string; outs: Props }> {
    const args = parse(inputs);
    const name = args.name!;
    const s = ppioSession();
    if (args.adoptId !== undefined) return adopt(s, args, inputs);
    // One listing per create at most, shared by the prices and the explanation of a refusal.
    const products = productCatalogue(s.client, "instance", progress);
    const candidates = candidatesOf(inputs);
    const purchase = await buyFirstAvailable({
      cloud: "ppio",
      what: `${kind} "${name}"`,
      candidates,
      maxPricePerHour: args.maxPricePerHour,
      priceOf: (c) => candidatePrice(c, products),
      describe: describeCandidate,
      log: progress,
      buy: async (c) => {
        const a = parse(c.inputs);
        try {
          return await createInstanceOnce(s.client, toCreateBody(a, name), inputs);
        } catch (e) {
          throw await explainUnknownProduct(e, { productId: a.productId, property: productProperty(c, inputs), list: () => products(a.type ?? "gpu") });
        }
      },
    });
    const { id, resumed } = purchase.result;
    // A killed run may have bought any candidate: the instance says which one it is.
    const chosenFor = (live: ApiInstance | null) =>
      chosenOutputs(resumed && live ? inferChosen(candidates, (c) => boughtAs(live, c)) : purchase.chosen, FIELDS);
    if (!resumed) progress(`${kind} ${id} created ("${name}")`);
    interruptNotice(progress);
    // From here on the instance exists: any failure must hand its id to the engine.
    try {
      const ms = timeoutMs(args.timeouts, "create", DEFAULT_TIMEOUTS.create);
      if (resumed) {
        // An interrupted run may have left it in any state, stopped included.
        await converge(s, id, args.powerState ?? "running", ms, "timeouts.create");
        const live = await s.client.getInstance(id);
        return { id, outs: plain({ ...toOutputs(inputs, live, id), ...chosenFor(live) }) };
      }
      const running = await waitFor(s, id, "running", ms, "timeouts.create");
      const stopped = (args.powerState ?? "running") === "stopped";
      if (stopped) await converge(s, id, "stopped", ms, "timeouts.create");
      // List items lack `tools` (SSH, Jupyter): only a state read by Get can stand in for this Get.
      const live = !stopped && running?.tools ? running : await s.client.getInstance(id);
      return { id, outs: plain({ ...toOutputs(inputs, live, id), ...chosenFor(live) }) };
    } catch (e) {
      throw await partialFailure(s.client, id, inputs, e, "create", chosenFor);
    }
  },

  async read(id: string, props: Props): Promise<{ id: string; props: Props }> {
    const live = await readInstance(ppioSession(), id, props);
    if (!live || isRemoved(live)) return { id: "", props: {} };
    return { id, props: toOutputs(props, live, id) };
  },

  async update(id: string, olds: Props, news: Props): Promise<{ outs: Props }> {
    const extra = carried(olds, news);
    const outs = await applyUpdate(ppioSession(), id, olds, news, extra, "update");
    return { outs: plain({ ...outs, ...extra }) };
  },

  async delete(id: string, props: Props): Promise<void> {
    const s = ppioSession();
    const timeouts = (props.timeouts ?? undefined) as Inputs["timeouts"];
    await deleteThenWait(
      () => s.client.deleteInstance(id),
      () => waitFor(s, id, "deleted", timeoutMs(timeouts, "delete", DEFAULT_TIMEOUTS.delete), "timeouts.delete"),
    );
  },
};

/** The error that lets the engine record an instance that exists but did not finish. */
function partialFailure(
  client: PpioClient,
  id: string,
  inputs: Props,
  error: unknown,
  step: "create" | "update",
  extra: Props | ((live: ApiInstance | null) => Props) = {},
) {
  return recordPartialFailure({
    kind,
    id,
    inputs,
    step,
    error,
    find: () => client.findInstance(id),
    outputs: (i, live, oid) => plain({ ...toOutputs(i, live, oid), ...(typeof extra === "function" ? extra(live) : extra) }),
  });
}

export type { PpioInstanceInputs };
export { UNKNOWN };

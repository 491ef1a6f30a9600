/**
 * The runtime provider of `CompShareInstance`: check, diff, create, read, update and delete
 * of a CompShare GPU virtual machine. Loaded in the Pulumi provider process through
 * `pulumi-gpu-cloud/runtime`; never serialized.
 */
import { randomBytes } from "node:crypto";
import { checkResource, parseDuration, timeoutMs } from "../core/check";
import { diffByTable, diffResource, type PolicyTable } from "../core/diff";
import { adoptionMismatches, assertAdoptable, notAdoptable } from "../core/adopt";
import { buyFirstAvailable, type Candidate, candidatesOf, chosenOutputs, declaredWhileBought, inferChosen, olderAgainstChosen, shapeOf } from "../core/choose";
import { listChoices, nearest } from "../core/suggest";
import { AuthenticationError, CapacityError, ConflictError, CredentialsError, GpuCloudError, NotFoundError, TerminalStateError, ValidationError } from "../core/errors";
import { sleep } from "../core/http";
import { type ConfigReader, goneOutsidePulumi, plain, progress, reasonOf, recordPartialFailure, settings } from "../core/provider";
import type { Observed, Verdict } from "../core/wait";
import { type CompShareClient, OPERATION_IN_PROGRESS } from "./client";
import { type CompShareSession, compShareSession, readInstance } from "./context";
import { type ApiInstance, type CompShareInstanceInputs, type CreateParams, instanceInputsSchema, SHAPE_FIELDS } from "./schemas";
import { quotePrice } from "./price";
import { type CompShareImageKind, listImages } from "./images";
import { interruptNotice, mayAdopt, rememberRecorded, remarkTag, stripRemarkTag } from "../core/identity";
import { leftBehind, noteCreateSent } from "./adopt";
import { assertEngineAlive, watchEngine } from "../core/engine";

type Props = Record<string, unknown>;
type Inputs = ReturnType<typeof instanceInputsSchema.parse>;

const RESIZE = "StopCompShareInstance → ResizeCompShareInstance → back to powerState";

/** What a change of each input does. The README's table is checked against this one. */
export const INSTANCE_POLICY: PolicyTable = {
  name: { kind: "update", via: "ModifyCompShareInstanceName" },
  region: { kind: "replace" },
  zone: { kind: "replace" },
  gpuType: { kind: "replace", why: "Resize keeps the GPU type" },
  gpu: { kind: "update", via: RESIZE },
  cpu: { kind: "update", via: RESIZE },
  memory: { kind: "update", via: RESIZE },
  compShareImageId: { kind: "replace", why: "a reinstall would wipe the boot disk: it is a new machine either way" },
  disks: { kind: "replace" },
  chargeType: { kind: "replace" },
  quantity: { kind: "replace", why: "a purchase term, fixed at create" },
  remark: { kind: "replace", why: "CompShare has no action that changes a remark" },
  securityGroupId: { kind: "replace" },
  minimalCpuPlatform: { kind: "replace" },
  enableUS3: { kind: "replace" },
  machineType: { kind: "replace" },
  powerState: { kind: "update", via: "StopCompShareInstance or StartCompShareInstance" },
  autoStop: { kind: "update", via: "UpdateCompShareStopScheduler, or DeleteCompShareStopScheduler when removed" },
  checkCapacity: { kind: "ignore", why: "only decides whether create asks first" },
  fallbacks: { kind: "ignore", why: "only chooses what create buys" },
  maxPricePerHour: { kind: "ignore", why: "only bounds what create buys" },
  adoptId: { kind: "ignore", why: "only at create" },
  timeouts: { kind: "ignore", why: "only bounds our waits" },
  autonamePrefix: { kind: "ignore", why: "internal: the Pulumi resource name, used when name is omitted" },
  identity: { kind: "ignore", why: "internal: the stack and resource, as hashes" },
  marker: { kind: "ignore", why: "internal: what the cloud object carries to be found after a killed run" },
};

/** The inputs Resize changes. */
const RESIZE_FIELDS = ["gpu", "cpu", "memory"] as const;

/** What a fallback may override (`fallbacks`, `chosenShape`). */
export const FIELDS: readonly string[] = SHAPE_FIELDS;

const DEFAULT_TIMEOUTS = { create: "20m", update: "20m", delete: "15m" };

/** How often an action refused by the operation lock (RetCode 8903, never executed) is sent again. */
const LOCK_ATTEMPTS = 6;

/** Describe may lag a create by a moment; an id it does not return yet is not a failure until then. */
const APPEAR_GRACE_MS = 60_000;

const kind = "compshare instance";

// ---- state vocabulary ---------------------------------------------------------------

const INSTALL_FAIL = "Install Fail";
const STABLE = new Set(["Running", "Stopped", INSTALL_FAIL]);

export const isFailedState = (state: string): boolean => state === INSTALL_FAIL;

/** `""` means CompShare could not fetch the state just now: a transitional word, not a failure. */
const stateOf = (s: Observed<ApiInstance>) => (s ? s.State || "unknown" : "gone");

/**
 * Running, or why it never will be. `Stopped` is a failure only once the instance was seen in
 * another state during this wait: right after a start request Describe may still say Stopped.
 */
function untilRunning(): (s: Observed<ApiInstance>) => Verdict {
  const startedAt = Date.now();
  let moved = false;
  return (s) => {
    if (!s) return Date.now() - startedAt < APPEAR_GRACE_MS ? "pending" : { failed: "disappeared" };
    if (s.State === "Running") return "done";
    if (s.State === INSTALL_FAIL) return { failed: "is Install Fail (CompShare could not install it)" };
    if (s.State === "Stopped" && moved) return { failed: "stopped again instead of starting" };
    if (s.State !== "Stopped") moved = true;
    return "pending";
  };
}

function untilStopped(s: Observed<ApiInstance>): Verdict {
  if (!s) return { failed: "disappeared" };
  if (s.State === "Stopped") return "done";
  if (s.State === INSTALL_FAIL) return { failed: "is Install Fail" };
  return "pending";
}

/** Stopped with the new shape: Resize passes through `Resizing` and ends Stopped. */
function untilResized(want: { gpu: number; cpu: number; memory: number }) {
  return (s: Observed<ApiInstance>): Verdict => {
    const v = untilStopped(s);
    if (v !== "done") return v;
    return s!.GPU === want.gpu && s!.CPU === want.cpu && s!.Memory === want.memory ? "done" : "pending";
  };
}

const untilStable = (s: Observed<ApiInstance>): Verdict => (!s ? { failed: "disappeared" } : STABLE.has(s.State) ? "done" : "pending");
const untilStableOrGone = (s: Observed<ApiInstance>): Verdict => (!s || STABLE.has(s.State) ? "done" : "pending");
const untilGone = (s: Observed<ApiInstance>): Verdict => (s ? "pending" : "done");

// ---- mapping ----------------------------------------------------------------------

/**
 * The marker: every create appends ` [pulumi-gpu-cloud <marker>]` to `Remark`. With the
 * resource's marker (core/identity.ts) a rerun after a kill finds the instance; without one
 * (inputs from an older release) it is a one-off random token of that create, which still
 * resolves a lost answer. Outputs show the remark without it.
 */
export const createMarker = (marker?: string): string => remarkTag(marker ?? randomBytes(8).toString("hex"));
export const stripMarker = stripRemarkTag;

const diskParams = (a: Inputs) => a.disks.map((d) => ({ IsBoot: d.isBoot, Type: d.type, Size: d.size }));

export function toCreateParams(a: Inputs, name: string, marker: string): CreateParams {
  return {
    Region: a.region,
    Zone: a.zone,
    GpuType: a.gpuType,
    GPU: a.gpu,
    CPU: a.cpu,
    Memory: a.memory,
    CompShareImageId: a.compShareImageId,
    MachineType: a.machineType ?? "G",
    Disks: diskParams(a),
    ChargeType: a.chargeType,
    Quantity: a.quantity,
    Name: name,
    Remark: a.remark ? `${a.remark} ${marker}` : marker,
    SecurityGroupId: a.securityGroupId,
    MinimalCpuPlatform: a.minimalCpuPlatform,
    EnableUS3: a.enableUS3,
  };
}

/** CompShare sends passwords base64-encoded; anything that is not clean base64 text passes as is. */
export function decodePassword(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) return raw;
  const bytes = Buffer.from(raw, "base64");
  if (bytes.toString("base64") !== raw) return raw;
  const text = bytes.toString("utf8");
  return text.includes("\uFFFD") || /[\u0000-\u001f\u007f]/.test(text) ? raw : text;
}

function isoTime(t: number | undefined): string | undefined {
  return typeof t === "number" && Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString() : undefined;
}

const POWER: Record<string, "running" | "stopped"> = { Running: "running", Stopped: "stopped" };

/**
 * Outputs: the inputs as declared, refreshed with what CompShare reports for the fields it
 * reports, plus the computed outputs. `chargeType`, `disks` and the platform stay as
 * declared: Describe words them differently (a Spot instance reads `Postpay`), and that
 * is not drift. The shape fields a fallback may have chosen (zone, gpuType, gpu, cpu,
 * memory) show the declared value while the instance has the shape that was bought
 * (`chosenShape`), and the live value otherwise (drift). `declared` carries `chosenFallback`
 * and `chosenShape` (the old outputs, or what create just chose).
 */
export function toOutputs(declared: Props, live: ApiInstance | null, id: string, pricePerHour?: unknown): Props {
  const { __provider, ...inputs } = declared;
  void __provider;
  const price = typeof pricePerHour === "number" ? pricePerHour : undefined;
  if (!live) return plain({ ...inputs, uhostId: id, pricePerHour: price });
  const shape = inputs.chosenShape;
  const refreshed = (field: string, value: unknown) => declaredWhileBought(field, inputs[field], value === "" ? undefined : value, shape);
  return plain({
    ...inputs,
    name: live.Name || inputs.name,
    region: live.Region || inputs.region,
    zone: refreshed("zone", live.Zone),
    gpuType: refreshed("gpuType", live.GpuType),
    gpu: refreshed("gpu", live.GPU),
    cpu: refreshed("cpu", live.CPU),
    memory: refreshed("memory", live.Memory),
    compShareImageId: live.CompShareImageId || inputs.compShareImageId,
    remark: live.Remark === undefined ? inputs.remark : stripMarker(live.Remark) || undefined,
    powerState: POWER[live.State] ?? inputs.powerState,
    uhostId: live.UHostId,
    state: live.State,
    sshLoginCommand: live.SshLoginCommand || undefined,
    password: decodePassword(live.Password),
    ips: live.IPSet.map((ip) => ip.IP).filter((ip): ip is string => !!ip),
    createTime: isoTime(live.CreateTime),
    expireTime: isoTime(live.ExpireTime),
    stopSchedulerTime: isoTime(live.StopSchedulerTime),
    pricePerHour: price,
  });
}

/** The zone the instance was bought in: a fallback may have chosen another than `zone`. */
export function boughtZone(props: Props): string {
  const shape = props.chosenShape;
  const zone = shape && typeof shape === "object" ? (shape as Props).zone : undefined;
  return typeof zone === "string" && zone ? zone : String(props.zone ?? "");
}

/** Values that mean the same thing compare equal in diffs (the API's defaults filled in). */
function normalize(field: string, v: unknown): unknown {
  if (v === "" || v === null) return undefined;
  switch (field) {
    case "powerState":
      return v ?? "running";
    case "chargeType":
      return v ?? "Month";
    case "quantity":
      return v ?? 1;
    case "machineType":
      return v ?? "G";
    case "enableUS3":
      return v ?? false;
    default:
      return v;
  }
}

// ---- waiting and acting -----------------------------------------------------------

function parse(props: Props): Inputs {
  const { __provider, ...rest } = props;
  void __provider;
  return instanceInputsSchema.parse(rest);
}

interface Target {
  s: CompShareSession;
  id: string;
  region: string;
  zone: string;
  spot: boolean;
  deadline: number;
  /** The input that sets the deadline, for timeout messages. */
  setting: string;
}

const where = (t: Target) => ({ Region: t.region, Zone: t.zone, UHostId: t.id });

async function waitFor(t: Target, target: string, until: (s: Observed<ApiInstance>) => Verdict): Promise<Observed<ApiInstance>> {
  t.s.track(t.id, t.region);
  return t.s.instances.wait({
    cloud: "compshare",
    id: t.id,
    kind,
    target,
    describe: stateOf,
    until,
    timeoutMs: Math.max(0, t.deadline - Date.now()),
    timeoutSetting: t.setting,
  });
}

async function describeNow(t: Target): Promise<ApiInstance> {
  const live = await t.s.client.findInstance(t.id, t.region);
  if (!live) {
    throw goneOutsidePulumi("compshare", "instance", t.id, "DescribeCompShareInstance");
  }
  return live;
}

/**
 * Runs an action until CompShare has taken it, a bounded number of times within the deadline.
 * RetCode 8903 (the per-instance operation lock) means it was refused, not run. An ambiguous
 * failure (5xx, RetCode 150, a lost answer) is resolved as a lost create is, by a Describe
 * rather than a blind re-send: if the instance shows the action's effect (`took`), it is
 * done; otherwise, once the instance is stable, the action is sent again.
 */
async function underLock(
  t: Target,
  action: string,
  run: () => Promise<void>,
  took: (s: Observed<ApiInstance>) => boolean,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      const locked = e instanceof ConflictError && e.code === String(OPERATION_IN_PROGRESS);
      const ambiguous = e instanceof GpuCloudError && e.mayHaveSucceeded;
      const pause = 500 * attempt;
      if (!(locked || ambiguous) || attempt >= LOCK_ATTEMPTS || Date.now() + pause >= t.deadline) throw e;
      if (ambiguous) {
        if (took(await t.s.client.findInstance(t.id, t.region))) return;
        progress(`${kind} ${t.id}: ${action} outcome unknown (${reasonOf(e)}); it shows no effect, sending it again once the instance is stable`);
      } else {
        progress(`${kind} ${t.id}: ${action} refused, another operation is in progress; retrying once it is stable`);
      }
      if (took(await waitFor(t, "stable", untilStableOrGone))) return;
      // The lock can outlive the transition a moment; do not hammer it.
      await sleep(pause);
    }
  }
}

const inState =
  (...states: string[]) =>
  (s: Observed<ApiInstance>): boolean =>
    !!s && states.includes(s.State);

async function stop(t: Target): Promise<void> {
  await underLock(
    t,
    "StopCompShareInstance",
    () => t.s.client.stopInstance({ ...where(t), ...(t.spot && { Force: true }) }),
    inState("Stopping", "Stopped"),
  );
}

/**
 * Brings a settled instance to the desired power state and returns its last observed state
 * (fresh from the shared poll, so outputs need no Describe of their own).
 */
async function converge(t: Target, want: "running" | "stopped", known?: Observed<ApiInstance>): Promise<ApiInstance> {
  let live: Observed<ApiInstance> = known ?? (await describeNow(t));
  if (!STABLE.has(live.State)) live = await waitFor(t, "stable", untilStable);
  const state = live!.State;
  if (state === INSTALL_FAIL) {
    throw new TerminalStateError(`${kind} ${t.id} is Install Fail and cannot be powered ${want === "running" ? "on" : "off"}`, {
      cloud: "compshare",
      operation: "converge",
      hint: "The next `pulumi up` replaces it",
    });
  }
  if (want === "stopped" && state === "Running") {
    await stop(t);
    live = await waitFor(t, "Stopped", untilStopped);
  } else if (want === "running" && state === "Stopped") {
    await underLock(t, "StartCompShareInstance", () => t.s.client.startInstance(where(t)), inState("Starting", "Running"));
    live = await waitFor(t, "Running", untilRunning());
  }
  return live!;
}

/**
 * Asks CheckCompShareResourceCapacity whether the shape can be scheduled, so a sold-out GPU
 * type fails here, before anything is bought. The check only advises: if it cannot answer
 * (an error other than a bad key), the create goes ahead and the cloud decides.
 */
async function checkCapacity(client: CompShareClient, a: Inputs): Promise<void> {
  let specs;
  try {
    specs = await client.checkResourceCapacity({
      Region: a.region,
      Zone: a.zone,
      GpuType: a.gpuType,
      MachineType: a.machineType ?? "G",
      MinimalCpuPlatform: a.minimalCpuPlatform,
      CompShareImageId: a.compShareImageId,
      ChargeType: a.chargeType,
      Disks: diskParams(a),
    });
  } catch (e) {
    // A bad key, and an image CompShare does not offer here, are answers, not an unavailable check.
    if (e instanceof AuthenticationError || e instanceof CredentialsError || isImageRefusal(e)) throw e;
    progress(`${kind}: capacity pre-check unavailable (${reasonOf(e)}); creating anyway`);
    return;
  }
  const sameGpu = specs.filter((sp) => sp.Gpu === a.gpu);
  const exact = sameGpu.find((sp) => sp.Cpu === a.cpu && sp.Mem * 1024 === a.memory);
  const enough = exact ? exact.ResourceEnough : sameGpu.length === 0 || sameGpu.some((sp) => sp.ResourceEnough);
  if (enough) return;
  throw new CapacityError(
    `no capacity for gpuType ${a.gpuType} × ${a.gpu} (${a.cpu} vCPU, ${a.memory / 1024} GB) in zone ${a.zone} right now`,
    {
      cloud: "compshare",
      operation: "CheckCompShareResourceCapacity",
      hint: "Nothing was bought. Try another zone, gpuType or gpu count, or retry later (checkCapacity: false skips this check)",
    },
  );
}

/**
 * Sends the create; if its outcome is unknown (lost response, timeout, 5xx), lists the
 * region's instances before anything else and adopts the one with our name and this
 * create's Remark marker; sends again only once that lookup proved nothing was made.
 */
async function createExactlyOnce(client: CompShareClient, params: CreateParams, marker: string, adoptable: (id: string) => boolean): Promise<string> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const ids = await client.createInstance(params);
      if (ids.length > 1) progress(`${kind} "${params.Name}": CompShare made ${ids.length} instances (${ids.join(", ")}); managing ${ids[0]}`);
      return ids[0];
    } catch (e) {
      if (!(e instanceof GpuCloudError) || !e.mayHaveSucceeded) throw e;
      lastError = e;
      progress(`${kind} "${params.Name}": create outcome unknown (${e.message}); looking it up by name`);
      let found: ApiInstance[];
      try {
        found = (await client.describeAll({ Region: params.Region })).filter(
          (i) => i.Name === params.Name && (i.Remark ?? "").endsWith(marker) && (!i.Zone || i.Zone === params.Zone) && adoptable(i.UHostId),
        );
      } catch (lookupError) {
        throw new GpuCloudError(
          `the create request's outcome is unknown and the lookup by name failed (${reasonOf(lookupError)}); ` +
            `an instance named "${params.Name}" may exist`,
          {
            cloud: "compshare",
            operation: "CreateCompShareInstance",
            hint: "Check the CompShare console before running pulumi up again",
            cause: e,
          },
        );
      }
      if (found.length > 0) {
        progress(`${kind} "${params.Name}": found ${found[0].UHostId}; adopting it`);
        return found[0].UHostId;
      }
      progress(`${kind} "${params.Name}": no instance was made; sending the create again`);
    }
  }
  throw lastError;
}

/**
 * The hourly price of the shape under its charge type (price.ts). Only informative here: if
 * CompShare does not answer, the output is left out.
 */
async function pricePerHour(client: CompShareClient, a: Inputs): Promise<number | undefined> {
  try {
    return (await quotePrice(client, a))?.pricePerHour;
  } catch (e) {
    progress(`${kind}: price unavailable (${reasonOf(e)}); pricePerHour left out`);
    return undefined;
  }
}

// ---- unknown images ----------------------------------------------------------------

/** CompShare's answer to an image it does not offer: 230 `Params [CompShareImageId] not available`. */
function isImageRefusal(e: unknown): e is ValidationError {
  return e instanceof ValidationError && e.code === "230" && /CompShareImageId/.test(e.message);
}

/**
 * The refusal of an unknown image, with the nearest images the zone offers (platform,
 * community and the account's own). Asked only after CompShare refused; if the listing
 * fails, CompShare's own error is what the user sees.
 */
async function unknownImage(client: CompShareClient, a: Inputs, refusal: ValidationError): Promise<GpuCloudError> {
  try {
    const kinds: CompShareImageKind[] = ["system", "community", "custom"];
    const lists = await Promise.all(kinds.map((k) => listImages(client, { region: a.region, zone: a.zone }, k)));
    const choices = lists.flat().filter((i) => !i.Status || i.Status === "Available").map((i) => ({ id: i.CompShareImageId, name: i.Name }));
    const near = nearest(a.compShareImageId, choices, 5);
    return new ValidationError(
      `compShareImageId "${a.compShareImageId}" is not an image CompShare offers in zone ${a.zone} (${refusal.apiMessage}); ` +
        (near.length > 0 ? `nearest: ${listChoices(near)}` : "the zone lists no images"),
      {
        cloud: "compshare",
        operation: refusal.operation,
        code: refusal.code,
        hint: `Nothing was bought. Set compShareImageId to an available image; getCompShareImages({ region: "${a.region}", zone: "${a.zone}", kind: "system" | "community" | "custom" }) lists them`,
        cause: refusal,
      },
    );
  } catch {
    return refusal;
  }
}

// ---- choosing and adopting -------------------------------------------------------------

const describeShape = (a: Inputs) => `gpuType ${a.gpuType} × ${a.gpu}, ${a.cpu} vCPU, ${a.memory / 1024} GB, ${a.chargeType ?? "Month"}, in ${a.zone}`;

/** Describe's word for a charge type: Spot reads Postpay, Day reads Dynamic (the SDK's enum has neither). */
const DESCRIBED: Record<string, string> = { Spot: "Postpay", Day: "Dynamic" };
const describedChargeType = (v: unknown) => (typeof v === "string" ? (DESCRIBED[v] ?? v) : "Month");

/** Whether the instance has the shape of these inputs, as far as Describe tells. */
function hasShape(live: ApiInstance, c: Props): boolean {
  const same = (a: unknown, b: unknown) => a === undefined || b === undefined || a === b;
  return (
    same(live.Zone || undefined, c.zone) &&
    same(live.GpuType || undefined, c.gpuType) &&
    same(live.GPU, c.gpu) &&
    same(live.CPU, c.cpu) &&
    same(live.Memory, c.memory) &&
    (live.ChargeType === undefined || live.ChargeType === "" || live.ChargeType === describedChargeType(c.chargeType))
  );
}

type Disk = { isBoot: boolean; type: string; size: number };
const sortDisks = (d: Disk[]) => [...d].sort((x, y) => Number(y.isBoot) - Number(x.isBoot) || x.type.localeCompare(y.type) || x.size - y.size);

/** The replace-only inputs Describe reports, in input form (a field it does not report is left out and not checked). */
function actualInputs(live: ApiInstance): Props {
  const out: Props = {};
  if (live.Region) out.region = live.Region;
  if (live.Zone) out.zone = live.Zone;
  if (live.GpuType) out.gpuType = live.GpuType;
  if (live.CompShareImageId) out.compShareImageId = live.CompShareImageId;
  if (live.ChargeType) out.chargeType = live.ChargeType;
  if (live.MachineType) out.machineType = live.MachineType;
  const disks = live.DiskSet?.filter((d) => (d.DiskType || undefined) !== undefined && d.Size !== undefined);
  if (disks && disks.length > 0) out.disks = disks.map((d) => ({ isBoot: d.IsBoot === true, type: d.DiskType!, size: d.Size! }));
  return out;
}

/** How adoption compares: charge types in Describe's words, disks in one order, defaults filled in. */
function adoptNormalize(field: string, v: unknown): unknown {
  if (field === "chargeType") return describedChargeType(v ?? "Month");
  if (field === "disks" && Array.isArray(v)) return sortDisks(v as Disk[]);
  return normalize(field, v);
}

/**
 * The instance named by `adoptId`, checked against the declaration, as `update` should see
 * it: the old outputs of an instance that has the declared replace-only inputs and its own
 * name, shape, power state and no auto-stop (so update applies the declared ones).
 */
async function adoptable(s: CompShareSession, args: Inputs, inputs: Props): Promise<Props> {
  const id = args.adoptId!;
  const live = await s.client.findInstance(id, args.region);
  if (!live) throw notAdoptable("compshare", "instance", id, "DescribeCompShareInstance");
  assertAdoptable({
    cloud: "compshare",
    noun: "instance",
    id,
    operation: "DescribeCompShareInstance",
    mismatches: adoptionMismatches(INSTANCE_POLICY, inputs, actualInputs(live), adoptNormalize),
  });
  const own = { ...inputs, zone: live.Zone || args.zone, gpu: live.GPU ?? args.gpu, cpu: live.CPU ?? args.cpu, memory: live.Memory ?? args.memory };
  return {
    ...inputs,
    name: live.Name ?? inputs.name,
    gpu: own.gpu,
    cpu: own.cpu,
    memory: own.memory,
    powerState: POWER[live.State] ?? inputs.powerState,
    autoStop: undefined,
    chosenFallback: -1,
    chosenShape: shapeOf(own, FIELDS),
  };
}

// ---- auto-stop ---------------------------------------------------------------------

/** Schedules the stop `autoStop.after` from now (UpdateCompShareStopScheduler), or removes it. */
async function applyAutoStop(t: Target, autoStop: Inputs["autoStop"]): Promise<void> {
  if (autoStop) {
    const at = Math.floor((Date.now() + parseDuration(autoStop.after)) / 1000);
    await t.s.client.updateStopScheduler({ Region: t.region, Zone: t.zone, UHostId: t.id, StopTime: at });
    progress(`${kind} ${t.id}: stops at ${new Date(at * 1000).toISOString()} (autoStop ${autoStop.after})`);
  } else {
    await t.s.client.deleteStopScheduler({ Region: t.region, Zone: t.zone, UHostId: t.id });
    progress(`${kind} ${t.id}: scheduled stop removed`);
  }
}

const scheduled = (live: ApiInstance | null | undefined) => (live?.StopSchedulerTime ?? 0) * 1000 > Date.now();

// ---- the provider -----------------------------------------------------------------

export const compShareInstance = {
  configure(req: { config: ConfigReader }): void {
    settings.configure(req);
  },

  async check(olds: Props | undefined, news: Props) {
    return checkResource(instanceInputsSchema, olds, news, 63);
  },

  async diff(id: string, olds: Props, news: Props) {
    rememberRecorded(news, id);
    return diffResource(INSTANCE_POLICY, olderAgainstChosen(olds, news), news, normalize, "state", isFailedState);
  },

  async create(inputs: Props): Promise<{ id: string; outs: Props }> {
    const args = parse(inputs);
    const name = args.name!;
    const s = compShareSession();
    const deadline = Date.now() + timeoutMs(args.timeouts, "create", DEFAULT_TIMEOUTS.create);
    watchEngine(progress);
    if (args.adoptId) {
      // No purchase on this path: the instance exists; update applies the in-place inputs.
      const olds = await adoptable(s, args, inputs);
      progress(`${kind} ${args.adoptId}: adopting it (adoptId)`);
      const { outs } = await compShareInstance.update(args.adoptId, olds, inputs);
      return { id: args.adoptId, outs };
    }
    const candidates = candidatesOf(inputs);
    // Each candidate's inputs, parsed once for its price, capacity check, create and messages.
    const parsed = new Map(candidates.map((c) => [c, parse(c.inputs)]));
    const argsOf = (c: Candidate) => parsed.get(c)!;
    const zones = [...new Set(candidates.map((c) => String(c.inputs.zone)))];
    const left = args.marker ? await leftBehind(s.client, { region: args.region, zones, name }, args.marker, inputs) : undefined;
    let id: string;
    let chosen: Candidate;
    let quoted: number | undefined;
    if (left) {
      id = left.UHostId;
      chosen = inferChosen(candidates, (c) => hasShape(left, c));
    } else {
      const marker = createMarker(args.marker);
      let trying: Inputs = args;
      try {
        const bought = await buyFirstAvailable({
          cloud: "compshare",
          what: `${kind} "${name}"`,
          candidates,
          maxPricePerHour: args.maxPricePerHour,
          // The quote of the bought candidate is its pricePerHour output: no second price call.
          priceOf: async (c) => {
            const q = await quotePrice(s.client, argsOf(c)).catch((e) => {
              progress(`${kind} "${name}": no price for ${c.label} (${reasonOf(e)})`);
              return undefined;
            });
            return q?.pricePerHour;
          },
          precheck: args.checkCapacity === false ? undefined : (c) => checkCapacity(s.client, (trying = argsOf(c))),
          buy: async (c) => {
            trying = argsOf(c);
            await assertEngineAlive("the instance create");
            if (args.marker) noteCreateSent(args.marker);
            return createExactlyOnce(s.client, toCreateParams(trying, name, marker), marker, (x) => mayAdopt(inputs, x));
          },
          describe: (c) => describeShape(argsOf(c)),
          log: progress,
        });
        id = bought.result;
        chosen = bought.chosen;
        quoted = bought.pricePerHour;
      } catch (e) {
        if (isImageRefusal(e)) throw await unknownImage(s.client, trying, e);
        throw e;
      }
      progress(`${kind} ${id} created ("${name}")`);
    }
    const bought = argsOf(chosen);
    const declared = { ...inputs, ...chosenOutputs(chosen, FIELDS) };
    s.track(id, args.region);
    interruptNotice(progress);
    // From here on the instance exists: any failure must hand its id to the engine.
    const t: Target = { s, id, region: args.region, zone: bought.zone, spot: bought.chargeType === "Spot", deadline, setting: "timeouts.create" };
    try {
      // An instance an interrupted run left may be in any state, Stopped included.
      let running: Observed<ApiInstance> | undefined = left ? undefined : await waitFor(t, "Running", untilRunning());
      if (args.autoStop && !(left && scheduled(left))) {
        await applyAutoStop(t, args.autoStop);
        running = undefined; // describe again: the answer shows the scheduled time
      }
      const live = await converge(t, args.powerState ?? "running", running);
      return { id, outs: toOutputs(declared, live, id, quoted ?? (await pricePerHour(s.client, bought))) };
    } catch (e) {
      throw await partialFailure(t, declared, e, "create");
    }
  },

  async read(id: string, props: Props): Promise<{ id: string; props: Props }> {
    const region = typeof props.region === "string" ? props.region : undefined;
    const live = await readInstance(compShareSession(), id, region);
    if (!live) return { id: "", props: {} };
    return { id, props: toOutputs(props, live, id, props.pricePerHour) };
  },

  async update(id: string, olds: Props, news: Props): Promise<{ outs: Props }> {
    const args = parse(news);
    const s = compShareSession();
    const deadline = Date.now() + timeoutMs(args.timeouts, "update", DEFAULT_TIMEOUTS.update);
    const changed = new Set(diffByTable(INSTANCE_POLICY, olderAgainstChosen(olds, news), news, normalize).updates.map((u) => u.field));
    // The shape the instance has: what was bought where the declaration did not change since.
    const oldShape = (olds.chosenShape && typeof olds.chosenShape === "object" ? olds.chosenShape : {}) as Props;
    const keep = Object.fromEntries(Object.entries(oldShape).filter(([f]) => !changed.has(f)));
    const effective = parse({ ...news, ...keep });
    const chosen = { chosenFallback: olds.chosenFallback, chosenShape: { ...oldShape, ...shapeOf(effective, RESIZE_FIELDS) } };
    const declared = { ...news, ...chosen };
    const t: Target = { s, id, region: args.region, zone: boughtZone(olds), spot: effective.chargeType === "Spot", deadline, setting: "timeouts.update" };
    try {
      let live: Observed<ApiInstance> = await describeNow(t);
      if (changed.has("name")) {
        await underLock(
          t,
          "ModifyCompShareInstanceName",
          () => s.client.modifyInstanceName({ ...where(t), Name: args.name! }),
          (live) => live?.Name === args.name,
        );
      }
      const want = { gpu: effective.gpu, cpu: effective.cpu, memory: effective.memory };
      if (RESIZE_FIELDS.some((f) => changed.has(f))) {
        if (!STABLE.has(live.State)) live = await waitFor(t, "stable", untilStable);
        if (live!.State === "Running") {
          await stop(t);
          await waitFor(t, "Stopped", untilStopped);
        }
        await underLock(
          t,
          "ResizeCompShareInstance",
          () => s.client.resizeInstance({ ...where(t), Cpu: want.cpu, Memory: want.memory, Gpu: want.gpu }),
          (live) => live?.State === "Resizing" || untilResized(want)(live) === "done",
        );
        live = await waitFor(t, "resized", untilResized(want));
      } else if (changed.has("name")) {
        live = await describeNow(t);
      }
      const wasStopped = live?.State === "Stopped";
      let after = await converge(t, args.powerState ?? "running", live);
      // A changed autoStop is applied; a declared one is scheduled again when this update
      // started an instance whose stop had passed (its scheduled stop fired).
      const restarted = wasStopped && after.State === "Running" && args.autoStop && !scheduled(after);
      if (changed.has("autoStop") || restarted) {
        await applyAutoStop(t, args.autoStop);
        after = await describeNow(t);
      }
      return { outs: toOutputs(declared, after, id, await pricePerHour(s.client, effective)) };
    } catch (e) {
      if (e instanceof NotFoundError) throw e;
      throw await partialFailure(t, declared, e, "update");
    }
  },

  async delete(id: string, props: Props): Promise<void> {
    const s = compShareSession();
    const timeouts = (props.timeouts ?? undefined) as Inputs["timeouts"];
    const t: Target = {
      s,
      id,
      region: String(props.region ?? ""),
      zone: boughtZone(props),
      spot: props.chargeType === "Spot",
      deadline: Date.now() + timeoutMs(timeouts, "delete", DEFAULT_TIMEOUTS.delete),
      setting: "timeouts.delete",
    };
    let live: Observed<ApiInstance> = await readInstance(s, id, t.region);
    if (!live) return; // already gone: the goal is met
    t.spot ||= live.ChargeType === "Spot";
    if (live.Zone) t.zone = live.Zone;
    if (!STABLE.has(live.State)) live = await waitFor(t, "stable", untilStableOrGone);
    if (!live) return;
    try {
      // CompShare terminates only Stopped (or never-installed) instances.
      if (live.State === "Running") {
        await stop(t);
        await waitFor(t, "Stopped", untilStopped);
      }
      await underLock(t, "TerminateCompShareInstance", () => s.client.terminateInstance(where(t)), (live) => !live);
    } catch (e) {
      if (!(await readInstance(s, id, t.region))) return;
      throw e;
    }
    await waitFor(t, "deleted", untilGone);
  },
};

/** The error that lets the engine record an instance that exists but did not finish. */
function partialFailure(t: Target, inputs: Props, error: unknown, step: "create" | "update") {
  return recordPartialFailure({ kind, id: t.id, inputs, step, error, find: () => t.s.client.findInstance(t.id, t.region), outputs: toOutputs });
}

export type { CompShareInstanceInputs };

// UCloud CompShare emulation, split as moto splits a service: `CompShareModel` holds state and
// the cloud's rules (preconditions, operation lock, stock, quota, timed transitions);
// `createCompShareService` is the wire layer (parameters from query, form or JSON, signature
// check, the `{Action, RetCode, Message}` envelope) and only calls the model. Written from the
// reference notes, never from our client: the signature check below is its own implementation.
//
// Choices the notes leave open, made here and nowhere else:
// - a wrong-state request (Stop while Stopped, …) answers RetCode 8040 (no published code);
// - an unknown or foreign UHostId on Start/Stop/… answers 230 `Params [UHostId] not available`;
// - a terminated instance keeps its last state in Describe for `terminateMs`, then vanishes;
// - the operation lock (RetCode 8903 `InstanceOperationInProgress`) is held while any power or
//   resize transition runs, and for as long as `lockFor` says.

import { createHash, randomBytes, randomInt } from "node:crypto";
import type { CloudService, CompShareTimings, FaultRule, IncomingRequest, Reply, ResolvedRoute } from "./types";

export type { CompShareTimings };
import { pause, resume, stepIndex, type Timed } from "./clock";

// ---------------------------------------------------------------------------------------------
// Timings and wire types


export type CompShareState =
  | "Initializing"
  | "Starting"
  | "Running"
  | "Stopping"
  | "Stopped"
  | "Rebooting"
  | "Resizing"
  | "Install Fail";

export interface CompShareDisk {
  IsBoot: boolean;
  Type: string;
  Size: number;
}

/** Validated parameters of CreateCompShareInstance. */
export interface CompShareCreateInput {
  Region: string;
  Zone: string;
  GpuType: string;
  GPU: number;
  CPU: number;
  Memory: number;
  CompShareImageId: string;
  MachineType: string;
  Disks: CompShareDisk[];
  ChargeType: string;
  Quantity: number;
  Name: string;
  Remark: string;
  SecurityGroupId: string;
  MinimalCpuPlatform: string;
  EnableUS3: boolean;
  Password?: string;
}

/** An instance as DescribeCompShareInstance returns it (the fields this emulator fills). */
export interface CompShareInstanceRecord {
  UHostId: string;
  Name: string;
  Remark: string;
  Tag: string;
  Region: string;
  Zone: string;
  State: CompShareState;
  MachineType: string;
  InstanceType: "UHost";
  CpuPlatform: string;
  CpuArch: string;
  CPU: number;
  Memory: number;
  GPU: number;
  GpuType: string;
  GraphicsMemory: { Value: number; Rate: number };
  ChargeType: string;
  AutoRenew: "Yes" | "No";
  IsExpire: "Yes" | "No";
  CreateTime: number;
  ExpireTime: number;
  StartTime: number;
  CompShareImageId: string;
  CompShareImageName: string;
  CompShareImageType: string;
  CompShareImageOwnerAlias: string;
  OsName: string;
  OsType: "Linux";
  Password: string;
  SshLoginCommand: string;
  TotalDiskSpace: number;
  DiskSet: Array<{ DiskId: string; DiskType: string; Drive: string; Encrypted: "false"; IsBoot: "True" | "False"; Name: string; Size: number; Type: "Boot" | "Data" }>;
  IPSet: Array<{ IP: string; IPId: string; IPMode: "IPv4"; Type: "Bgp" | "Private"; Bandwidth: number; Default: "true" | "false" }>;
  InstancePrice: number;
}

/** A business error the wire layer renders as HTTP 200 `{Action, RetCode, Message}`. */
export class CompShareApiError extends Error {
  constructor(
    readonly retCode: number,
    message: string,
  ) {
    super(message);
    this.name = "CompShareApiError";
  }
}

export const RET = {
  missingAction: 160,
  unknownAction: 161,
  missingSignature: 170,
  badSignature: 171,
  unknownUser: 172,
  invalidParam: 230,
  quota: 8095,
  soldOut: 8357,
  wrongState: 8040,
  operationInProgress: 8903,
} as const;

const notAvailable = (param: string) => new CompShareApiError(RET.invalidParam, `Params [${param}] not available`);

// ---------------------------------------------------------------------------------------------
// Catalogue

/** Regions and their zones, from one account's GetRegion listing. */
export const COMPSHARE_ZONES: Readonly<Record<string, readonly string[]>> = {
  "cn-wlcb": ["cn-wlcb-01"],
  "cn-sh2": ["cn-sh2-02", "cn-sh2-03"],
  "cn-bj2": ["cn-bj2-02"],
};

interface GpuRow {
  graphicsGb: number;
  maxGpu: number;
  maxCpu: number;
  maxMemGb: number;
  intel: boolean;
  amd: boolean;
  spot: boolean;
  /** CNY per GPU-hour, pay-as-you-go, with 16 vCPU and 64 GB per card. */
  hourly: number;
}

const row = (graphicsGb: number, maxGpu: number, maxCpu: number, maxMemGb: number, cpus: "intel" | "amd" | "both", spot: boolean, hourly: number): GpuRow => ({
  graphicsGb,
  maxGpu,
  maxCpu,
  maxMemGb,
  intel: cpus !== "amd",
  amd: cpus !== "intel",
  spot,
  hourly,
});

/** CompShare's published GPU table; prices are plausible, not quoted. */
export const COMPSHARE_GPUS: Readonly<Record<string, GpuRow>> = {
  "4090": row(24, 10, 140, 680, "both", true, 2.05),
  "4090_48G": row(48, 8, 124, 940, "intel", false, 3.2),
  "5090": row(32, 8, 124, 940, "both", true, 2.77),
  A100: row(80, 8, 124, 1024, "intel", true, 6.5),
  A800: row(80, 8, 124, 1800, "intel", false, 7.2),
  H20: row(96, 8, 188, 1800, "intel", false, 8.1),
  "3090": row(24, 8, 124, 450, "amd", true, 1.13),
  "3080Ti": row(12, 8, 12, 125, "intel", true, 0.93),
  "2080Ti": row(11, 8, 48, 192, "intel", true, 0.62),
  "2080": row(11, 8, 92, 334, "intel", false, 0.5),
  P40: row(24, 8, 48, 502, "intel", false, 0.8),
  V100S: row(32, 8, 92, 576, "intel", true, 1.8),
};

export const COMPSHARE_IMAGES: Readonly<Record<string, { name: string; type: string; os: string }>> = {
  "compshareImage-165jmhx19ik7": { name: "Ubuntu 22.04 CUDA 12.4", type: "System", os: "Ubuntu 22.04" },
  "compshareImage-1c8w7rfxn2qd": { name: "PyTorch 2.5 CUDA 12.4", type: "App", os: "Ubuntu 22.04" },
};
/** Any id of this shape is accepted as a community or custom image. */
const IMAGE_ID = /^compshareImage-[a-z0-9]{12}$/;

const DISK_TYPES = ["CLOUD_SSD", "CLOUD_RSSD", "CLOUD_NORMAL", "LOCAL_NORMAL", "LOCAL_SSD"];
const CHARGE_TYPES = ["Month", "Day", "Dynamic", "Postpay", "Spot"];
const CPU_PLATFORMS = ["Intel/Auto", "Amd/Auto", "Auto"];
const NAME_PATTERN = /^[\p{Script=Han}A-Za-z0-9_.,:-]{1,63}$/u;
const PERIOD_HOURS: Record<string, number> = { Dynamic: 1, Postpay: 1, Spot: 1, Day: 24, Month: 720, Year: 8760 };
const PERIOD_DISCOUNT: Record<string, number> = { Dynamic: 1, Postpay: 1, Spot: 0.3, Day: 0.95, Month: 0.8, Year: 0.7 };

/** Prepaid charge types run for Quantity of these; pay-as-you-go ones never expire (ExpireTime 0). */
const TERM_SECONDS: Record<string, number> = { Day: 86400, Month: 30 * 86400, Year: 365 * 86400 };

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Hourly list price of a shape: per card with 16 vCPU / 64 GB, plus extra CPU, RAM and disk. */
function hourlyPrice(gpuType: string, gpu: number, cpu: number, memoryMb: number, disks: CompShareDisk[]): { instance: number; disks: number } {
  const r = COMPSHARE_GPUS[gpuType];
  const extraCpu = Math.max(0, cpu - 16 * gpu) * 0.02;
  const extraMem = Math.max(0, memoryMb / 1024 - 64 * gpu) * 0.005;
  const disk = disks.reduce((sum, d) => sum + Math.max(0, d.IsBoot ? d.Size - 200 : d.Size) * 0.0004, 0);
  return { instance: r.hourly * gpu + extraCpu + extraMem, disks: disk };
}

// ---------------------------------------------------------------------------------------------
// Model

type Final = CompShareState | "gone";

// State is derived from timestamps on access instead of timers, as in the PPIO model: reading
// twice in the same millisecond sees the same thing, and idle instances cost nothing.
interface Transition extends Timed<CompShareState> {
  final: Final;
}

interface Host {
  seq: number;
  id: string;
  spec: CompShareCreateInput;
  resting: CompShareState;
  transition?: Transition;
  held: boolean;
  createdAtMs: number;
  startedAtMs: number;
  lockedUntil: number;
  password: string;
  publicIp: string;
  privateIp: string;
  sshPort: number;
  diskIds: string[];
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const lowerAlnum = (n: number) => {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < n; i++) out += chars[randomInt(chars.length)];
  return out;
};

export interface DescribeQuery {
  region?: string;
  zone?: string;
  ids?: string[];
  limit: number;
  offset: number;
}

export interface CapacityQuery {
  region: string;
  zone: string;
  gpuType: string;
}

export class CompShareModel {
  /** How many CreateCompShareInstance calls actually made an instance. */
  createdCount = 0;
  /** The `UHostIds.N` of every DescribeCompShareInstance, in order (an empty list: all instances). */
  readonly describeCalls: string[][] = [];

  private readonly byId = new Map<string, Host>();
  private nextSeq = 1;
  private timings: CompShareTimings;
  private failNext = false;
  private holdingNew = false;
  /** Total cards per GPU type; cards in use are those of instances that run or are heading there. */
  private readonly capacity = new Map<string, number>();
  private quota = 20;

  constructor(
    timings: CompShareTimings,
    private readonly now: () => number = Date.now,
  ) {
    this.timings = { ...timings };
  }

  // ----- test-facing controls -----

  /** Instances Describe would return, in creation order. */
  instances(): CompShareInstanceRecord[] {
    const now = this.now();
    return this.live(now).map((h) => this.view(h, now));
  }

  get(id: string): CompShareInstanceRecord | undefined {
    const now = this.now();
    const h = this.find(id, now);
    return h && this.view(h, now);
  }

  /** The next create ends in `Install Fail` instead of Running. */
  failNextCreate(): void {
    this.failNext = true;
  }

  /** New instances stay `Initializing` until release(). */
  holdNewInstances(on: boolean): void {
    this.holdingNew = on;
  }

  /** Freezes the instance's current transition (and any it starts later) until release(). */
  hold(id: string): void {
    const now = this.now();
    const h = this.find(id, now);
    if (!h) throw new Error(`CompShareModel.hold: no live instance ${id}`);
    h.held = true;
    const t = h.transition;
    if (t) pause(t, now);
  }

  release(id?: string): void {
    const now = this.now();
    if (id === undefined) {
      this.holdingNew = false;
      for (const h of this.byId.values()) this.unfreeze(h, now);
      return;
    }
    const h = this.byId.get(id);
    if (h) this.unfreeze(h, now);
  }

  deleteBehindBack(id: string): void {
    if (!this.byId.delete(id)) throw new Error(`CompShareModel.deleteBehindBack: no instance ${id}`);
  }

  /** From now on `n` more cards of this GPU type can be allocated (0: sold out). */
  setStock(gpuType: string, n: number): void {
    this.capacity.set(gpuType, Math.max(0, n) + this.cardsInUse(gpuType, this.now()));
  }

  /** Free cards of the GPU type right now. */
  stock(gpuType: string): number {
    return this.freeCards(gpuType, this.now());
  }

  /** At most `n` instances may exist at once (terminating ones excluded). */
  setQuota(n: number): void {
    this.quota = n;
  }

  /** Refuses power and resize actions with RetCode 8903 for `ms`, whatever the state. */
  lockFor(id: string, ms: number): void {
    const h = this.byId.get(id);
    if (!h) throw new Error(`CompShareModel.lockFor: no instance ${id}`);
    h.lockedUntil = this.now() + ms;
  }

  setTimings(t: Partial<CompShareTimings>): void {
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === "number" && Number.isFinite(v) && v >= 0) this.timings[k as keyof CompShareTimings] = v;
    }
  }

  // ----- API operations (called by the wire layer) -----

  create(spec: CompShareCreateInput): string {
    const now = this.now();
    if (this.live(now).filter((h) => h.transition?.final !== "gone").length >= this.quota) {
      throw new CompShareApiError(RET.quota, `Quota exceeded: the account may have at most ${this.quota} instances`);
    }
    if (this.freeCards(spec.GpuType, now) < spec.GPU) {
      throw new CompShareApiError(RET.soldOut, `Resource not enough: GpuType [${spec.GpuType}] is sold out in ${spec.Zone}`);
    }
    let id: string;
    do id = `uhost-${lowerAlnum(12)}`;
    while (this.byId.has(id));
    const password = spec.Password ?? randomBytes(9).toString("base64url");
    const h: Host = {
      seq: this.nextSeq++,
      id,
      spec: { ...spec, Password: undefined },
      resting: "Initializing",
      held: false,
      createdAtMs: now,
      startedAtMs: 0,
      lockedUntil: 0,
      password,
      publicIp: `117.50.${randomInt(1, 255)}.${randomInt(1, 255)}`,
      privateIp: `10.60.${randomInt(0, 255)}.${randomInt(2, 255)}`,
      sshPort: randomInt(20000, 65000),
      diskIds: spec.Disks.map(() => `bsi-${lowerAlnum(8)}`),
    };
    this.byId.set(id, h);
    this.createdCount += 1;
    const failing = this.failNext;
    this.failNext = false;
    const t = failing
      ? this.begin(h, ["Initializing"], this.timings.provisionMs, "Install Fail", now)
      : this.begin(h, ["Initializing", "Starting"], this.timings.provisionMs, "Running", now);
    if (this.holdingNew && !h.held) {
      t.capMs = Math.min(t.capMs ?? Infinity, t.durationMs / t.steps.length / 2);
      t.capIndex = 0;
    }
    return id;
  }

  describe(q: DescribeQuery): { TotalCount: number; UHostSet: CompShareInstanceRecord[] } {
    const now = this.now();
    this.describeCalls.push([...(q.ids ?? [])]);
    const wanted = q.ids && q.ids.length > 0 ? new Set(q.ids) : undefined;
    const matching = this.live(now).filter(
      (h) => (!wanted || wanted.has(h.id)) && (!q.region || h.spec.Region === q.region) && (!q.zone || h.spec.Zone === q.zone),
    );
    if (q.offset > matching.length) throw notAvailable("Offset");
    return {
      TotalCount: matching.length,
      UHostSet: matching.slice(q.offset, q.offset + q.limit).map((h) => this.view(h, now)),
    };
  }

  start(id: string, where: Where): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    this.mayAct(h, "StartCompShareInstance", ["Stopped"], now);
    if (this.freeCards(h.spec.GpuType, now) < h.spec.GPU) {
      throw new CompShareApiError(RET.soldOut, `Resource not enough: no ${h.spec.GpuType} left in ${h.spec.Zone} to start ${id}`);
    }
    this.begin(h, ["Starting"], this.timings.startMs, "Running", now);
  }

  stop(id: string, where: Where, force: boolean): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    this.mayAct(h, "StopCompShareInstance", ["Running"], now);
    if (h.spec.ChargeType === "Spot" && !force) throw notAvailable("Force");
    this.begin(h, ["Stopping"], this.timings.stopMs, "Stopped", now);
  }

  reboot(id: string, where: Where): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    this.mayAct(h, "RebootCompShareInstance", ["Running"], now);
    this.begin(h, ["Rebooting"], this.timings.rebootMs, "Running", now);
  }

  terminate(id: string, where: Where): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    this.mayAct(h, "TerminateCompShareInstance", ["Stopped", "Install Fail"], now);
    this.begin(h, [h.resting], this.timings.terminateMs, "gone", now);
  }

  rename(id: string, where: Where, name: string): void {
    const h = this.mustFind(id, where, this.now());
    h.spec = { ...h.spec, Name: name };
  }

  resize(id: string, where: Where, shape: { cpu: number; memory: number; gpu: number }): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    const r = COMPSHARE_GPUS[h.spec.GpuType];
    if (shape.gpu < 1 || shape.gpu > r.maxGpu) throw notAvailable("Gpu");
    if (shape.cpu < 1 || shape.cpu > r.maxCpu) throw notAvailable("Cpu");
    if (shape.memory < 1024 || shape.memory % 1024 !== 0 || shape.memory > r.maxMemGb * 1024) throw notAvailable("Memory");
    this.mayAct(h, "ResizeCompShareInstance", ["Stopped"], now);
    h.spec = { ...h.spec, CPU: shape.cpu, Memory: shape.memory, GPU: shape.gpu };
    this.begin(h, ["Resizing"], this.timings.resizeMs, "Stopped", now);
  }

  /** One entry per GPU count with the standard per-card CPU/memory, enough if the cards are free. */
  capacityFor(q: CapacityQuery): Array<{ Gpu: number; Cpu: number; Mem: number; ResourceEnough: boolean }> {
    const r = COMPSHARE_GPUS[q.gpuType];
    const free = this.freeCards(q.gpuType, this.now());
    return legalSizes(r).flatMap(({ gpu, sizes }) =>
      sizes.map(({ cpu, memGb }) => ({ Gpu: gpu, Cpu: cpu, Mem: memGb, ResourceEnough: free >= gpu })),
    );
  }

  availableTypes(region: string, zone: string | undefined, names: string[]): unknown[] {
    const zones = zone ? [zone] : COMPSHARE_ZONES[region];
    const types = Object.entries(COMPSHARE_GPUS).filter(([name]) => names.length === 0 || names.includes(name));
    return zones.flatMap((z) =>
      types.map(([name, r]) => ({
        Name: name,
        Zone: z,
        Status: this.stock(name) > 0 ? "Normal" : "SoldOut",
        Description: `${name} ${r.graphicsGb}G`,
        MachineClass: "GPU",
        ParentType: "G",
        InstanceType: "uhost",
        GraphicsMemory: { Value: r.graphicsGb, Rate: 1 },
        Performance: { Value: 1, Rate: 1 },
        CpuPlatforms: { Intel: r.intel ? ["Intel/Auto"] : [], Amd: r.amd ? ["Amd/Auto"] : [], Ampere: [] },
        MachineSizes: legalSizes(r).map(({ gpu, sizes }) => ({
          Gpu: gpu,
          Collection: sizes.map(({ cpu, memGb }) => ({
            Cpu: cpu,
            Memory: [memGb],
            MinimalCpuPlatform: [...(r.intel ? ["Intel/Auto"] : []), ...(r.amd ? ["Amd/Auto"] : [])],
          })),
        })),
        Disks: [
          {
            Name: "cloudDisk",
            BootDisk: [{ Name: "CLOUD_SSD", InstantResize: true, MaximalSize: 500, Features: [] }],
            DataDisk: [{ Name: "CLOUD_SSD", MinimalSize: 20, MaximalSize: 32000, Features: [] }],
          },
        ],
        Features: r.spot ? ["Spot"] : [],
      })),
    );
  }

  price(q: { gpuType: string; gpu: number; cpu: number; memory: number; chargeType?: string; quantity: number; disks: CompShareDisk[] }): unknown[] {
    const base = hourlyPrice(q.gpuType, q.gpu, q.cpu, q.memory, q.disks);
    const types = q.chargeType ? [q.chargeType] : ["Dynamic", "Month", "Day"];
    return types.map((ct) => {
      const factor = (PERIOD_HOURS[ct] ?? 1) * (PERIOD_DISCOUNT[ct] ?? 1) * (ct === "Dynamic" || ct === "Postpay" || ct === "Spot" ? 1 : q.quantity);
      const instance = round2(base.instance * factor);
      const disks = round2(base.disks * factor);
      const list = round2((base.instance + base.disks) * (PERIOD_HOURS[ct] ?? 1));
      return {
        ChargeType: ct,
        Price: round2(instance + disks),
        Instance: instance,
        Disks: disks,
        SystemDisks: 0,
        CompShareImage: 0,
        OriginalPrice: list,
        ListPrice: String(list),
        InstanceDiscountType: 0,
      };
    });
  }

  // ----- internals -----

  private mayAct(h: Host, action: string, from: CompShareState[], now: number): void {
    if (h.transition || now < h.lockedUntil) {
      throw new CompShareApiError(
        RET.operationInProgress,
        `InstanceOperationInProgress: another operation on ${h.id} is still running; ${action} was not executed`,
      );
    }
    if (!from.includes(h.resting)) {
      throw new CompShareApiError(
        RET.wrongState,
        `UHost [${h.id}] is ${h.resting}; ${action} is allowed only when ${from.join(" or ")}`,
      );
    }
  }

  private cardsInUse(gpuType: string, now: number): number {
    let used = 0;
    for (const h of this.live(now)) {
      const heading = h.transition ? h.transition.final : h.resting;
      if (h.spec.GpuType === gpuType && heading !== "Stopped" && heading !== "Install Fail" && heading !== "gone") used += h.spec.GPU;
    }
    return used;
  }

  private freeCards(gpuType: string, now: number): number {
    return (this.capacity.get(gpuType) ?? 10_000) - this.cardsInUse(gpuType, now);
  }

  private begin(h: Host, steps: CompShareState[], durationMs: number, final: Final, now: number): Transition {
    const t: Transition = { steps, startedAt: now, durationMs, final };
    if (h.held) {
      t.capMs = 0;
      t.capIndex = 0;
    }
    h.transition = t;
    return t;
  }

  private unfreeze(h: Host, now: number): void {
    h.held = false;
    if (h.transition) resume(h.transition, now);
  }

  /** Applies a finished transition; returns false once the instance is gone. */
  private settle(h: Host, now: number): boolean {
    const t = h.transition;
    if (!t || t.capMs !== undefined || now - t.startedAt < t.durationMs) return true;
    h.transition = undefined;
    if (t.final === "gone") {
      this.byId.delete(h.id);
      return false;
    }
    h.resting = t.final;
    if (t.final === "Running") h.startedAtMs = t.startedAt + t.durationMs;
    return true;
  }

  private stateOf(h: Host, now: number): CompShareState {
    return h.transition ? h.transition.steps[stepIndex(h.transition, now)] : h.resting;
  }

  private find(id: string, now: number): Host | undefined {
    const h = this.byId.get(id);
    return h && this.settle(h, now) ? h : undefined;
  }

  private mustFind(id: string, where: Where, now: number): Host {
    const h = this.find(id, now);
    if (!h || (where.region && h.spec.Region !== where.region) || (where.zone && h.spec.Zone !== where.zone)) {
      throw notAvailable("UHostId");
    }
    return h;
  }

  private live(now: number): Host[] {
    return [...this.byId.values()].filter((h) => this.settle(h, now)).sort((a, b) => a.seq - b.seq);
  }

  private view(h: Host, now: number): CompShareInstanceRecord {
    const s = h.spec;
    const r = COMPSHARE_GPUS[s.GpuType];
    const state = this.stateOf(h, now);
    const image = COMPSHARE_IMAGES[s.CompShareImageId];
    const createdS = seconds(h.createdAtMs);
    const term = (TERM_SECONDS[s.ChargeType] ?? 0) * s.Quantity;
    const price = hourlyPrice(s.GpuType, s.GPU, s.CPU, s.Memory, s.Disks);
    const platform = s.MinimalCpuPlatform || (r.intel ? "Intel/Auto" : "Amd/Auto");
    return {
      UHostId: h.id,
      Name: s.Name,
      Remark: s.Remark,
      Tag: "Default",
      Region: s.Region,
      Zone: s.Zone,
      State: state,
      MachineType: s.MachineType,
      InstanceType: "UHost",
      CpuPlatform: platform === "Auto" ? (r.amd ? "Amd/Auto" : "Intel/Auto") : platform,
      CpuArch: "x86_64",
      CPU: s.CPU,
      Memory: s.Memory,
      GPU: s.GPU,
      GpuType: s.GpuType,
      GraphicsMemory: { Value: r.graphicsGb, Rate: 1 },
      ChargeType: s.ChargeType,
      AutoRenew: "No",
      IsExpire: "No",
      CreateTime: createdS,
      ExpireTime: term ? createdS + term : 0,
      StartTime: h.startedAtMs ? seconds(h.startedAtMs) : 0,
      CompShareImageId: s.CompShareImageId,
      CompShareImageName: image?.name ?? "community image",
      CompShareImageType: image?.type ?? "Community",
      CompShareImageOwnerAlias: image ? "Official" : "Community",
      OsName: image?.os ?? "Ubuntu 22.04",
      OsType: "Linux",
      Password: Buffer.from(h.password, "utf8").toString("base64"),
      // CompShare fills this only while the machine runs.
      SshLoginCommand: state === "Running" ? `ssh -p ${h.sshPort} root@${h.publicIp}` : "",
      TotalDiskSpace: s.Disks.reduce((sum, d) => sum + d.Size, 0),
      DiskSet: s.Disks.map((d, i) => ({
        DiskId: h.diskIds[i],
        DiskType: d.Type,
        Drive: `vd${String.fromCharCode(97 + i)}`,
        Encrypted: "false" as const,
        IsBoot: d.IsBoot ? ("True" as const) : ("False" as const),
        Name: d.IsBoot ? "system disk" : `data disk ${i}`,
        Size: d.Size,
        Type: d.IsBoot ? ("Boot" as const) : ("Data" as const),
      })),
      IPSet: [
        { IP: h.publicIp, IPId: `eip-${h.id.slice(6, 14)}`, IPMode: "IPv4", Type: "Bgp", Bandwidth: 100, Default: "true" },
        { IP: h.privateIp, IPId: "", IPMode: "IPv4", Type: "Private", Bandwidth: 0, Default: "false" },
      ],
      InstancePrice: round2(price.instance + price.disks),
    };
  }
}

export interface Where {
  region?: string;
  zone?: string;
}

/** Per GPU count: 16 or 8 vCPUs per card with 4 GB per vCPU, within the type's maxima. */
function legalSizes(r: GpuRow): Array<{ gpu: number; sizes: Array<{ cpu: number; memGb: number }> }> {
  const out: Array<{ gpu: number; sizes: Array<{ cpu: number; memGb: number }> }> = [];
  for (let gpu = 1; gpu <= r.maxGpu; gpu++) {
    const sizes = [16 * gpu, 8 * gpu]
      .map((cpu) => Math.min(cpu, r.maxCpu))
      .filter((cpu, i, all) => all.indexOf(cpu) === i)
      .map((cpu) => ({ cpu, memGb: Math.min(cpu * 4, r.maxMemGb) }));
    out.push({ gpu, sizes });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parameters: what arrived, as the flat map handlers read and as the pairs the signature covers

/** A JSON scalar as the gateway stringifies it: `true`/`false`, plain decimal digits, text as is. */
function scalarText(v: string | number | boolean): string {
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  // expand d.ddde±x without going through another float
  const neg = s.startsWith("-");
  const mantissa = s.slice(neg ? 1 : 0, e).replace(".", "");
  const intDigits = s.slice(neg ? 1 : 0, e).split(".")[0].length + Number(s.slice(e + 1));
  const digits = intDigits <= 0 ? "0".repeat(1 - intDigits) + mantissa : mantissa.padEnd(intDigits, "0");
  const at = Math.max(intDigits, 1);
  const text = digits.length > at ? `${digits.slice(0, at)}.${digits.slice(at)}` : digits;
  return (neg ? "-" : "") + text;
}

/** The Go SDK's rule for a nested JSON value in the signature: arrays concatenate, objects sort. */
function nestedText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(nestedText).join("");
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.keys(o)
      .sort()
      .map((k) => k + nestedText(o[k]))
      .join("");
  }
  return scalarText(v as string | number | boolean);
}

function flattenInto(out: Map<string, string>, prefix: string, v: unknown): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) v.forEach((item, i) => flattenInto(out, `${prefix}.${i}`, item));
  else if (typeof v === "object") for (const [k, item] of Object.entries(v)) flattenInto(out, `${prefix}.${k}`, item);
  else out.set(prefix, scalarText(v as string | number | boolean));
}

interface ParsedRequest {
  /** Flat parameters, for the handlers. */
  params: Map<string, string>;
  /** Top-level key → the text the signature covers for it. */
  signed: Map<string, string>;
  malformed?: string;
}

function parseRequest(req: IncomingRequest): ParsedRequest {
  const params = new Map<string, string>();
  const signed = new Map<string, string>();
  for (const [k, v] of req.query) {
    params.set(k, v);
    signed.set(k, v);
  }
  const text = req.body.toString("utf8");
  if (text.trim() === "") return { params, signed };
  const type = String(req.headers["content-type"] ?? "");
  if (type.includes("json")) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { params, signed, malformed: "request body is not valid JSON" };
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) return { params, signed, malformed: "request body must be a JSON object" };
    for (const [k, v] of Object.entries(body)) {
      if (v === null || v === undefined) continue;
      if (typeof v === "object") {
        signed.set(k, nestedText(v));
        flattenInto(params, k, v);
      } else {
        signed.set(k, scalarText(v as string | number | boolean));
        params.set(k, scalarText(v as string | number | boolean));
      }
    }
    return { params, signed };
  }
  for (const [k, v] of new URLSearchParams(text)) {
    params.set(k, v);
    signed.set(k, v);
  }
  return { params, signed };
}

function expectedSignature(signed: Map<string, string>, privateKey: string): string {
  const keys = [...signed.keys()].filter((k) => k !== "Signature").sort();
  const hash = createHash("sha1");
  for (const k of keys) hash.update(k + signed.get(k), "utf8");
  hash.update(privateKey, "utf8");
  return hash.digest("hex");
}

/** Typed reads of the flat parameters; every problem is `230 Params [Name] not available`. */
class ParamReader {
  constructor(private readonly p: Map<string, string>) {}

  has(name: string): boolean {
    return this.p.has(name);
  }

  str(name: string, opts: { required?: boolean; oneOf?: readonly string[]; pattern?: RegExp } = {}): string | undefined {
    const v = this.p.get(name);
    if (v === undefined || v === "") {
      if (opts.required) throw notAvailable(name);
      return undefined;
    }
    if (opts.oneOf && !opts.oneOf.includes(v)) throw notAvailable(name);
    if (opts.pattern && !opts.pattern.test(v)) throw notAvailable(name);
    return v;
  }

  int(name: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.p.get(name);
    if (v === undefined || v === "") {
      if (opts.required) throw notAvailable(name);
      return undefined;
    }
    if (!/^-?\d+$/.test(v)) throw notAvailable(name);
    const n = Number(v);
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) throw notAvailable(name);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.p.get(name);
    if (v === undefined || v === "") return undefined;
    if (v !== "true" && v !== "false") throw notAvailable(name);
    return v === "true";
  }

  /** `Name.0`, `Name.1`, … as a list; a gap ends it. */
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 0; this.p.has(`${name}.${i}`); i++) out.push(this.p.get(`${name}.${i}`)!);
    return out;
  }

  /** `Name.0.Field`, … as readers of each element. */
  objects(name: string): ParamReader[] {
    const out: ParamReader[] = [];
    for (let i = 0; ; i++) {
      const prefix = `${name}.${i}.`;
      const fields = new Map<string, string>();
      for (const [k, v] of this.p) if (k.startsWith(prefix)) fields.set(k.slice(prefix.length), v);
      if (fields.size === 0) return out;
      out.push(new ParamReader(fields));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Actions

function location(p: ParamReader): { region: string; zone: string } {
  const region = p.str("Region", { required: true })!;
  if (!COMPSHARE_ZONES[region]) throw notAvailable("Region");
  const zone = p.str("Zone", { required: true })!;
  if (!COMPSHARE_ZONES[region].includes(zone)) throw notAvailable("Zone");
  return { region, zone };
}

function gpuType(p: ParamReader): string {
  const t = p.str("GpuType", { required: true })!;
  if (!COMPSHARE_GPUS[t]) throw notAvailable("GpuType");
  return t;
}

function parseDisks(p: ParamReader, gpu: string, required: boolean): CompShareDisk[] {
  const items = p.objects("Disks");
  if (items.length === 0) {
    if (required) throw notAvailable("Disks");
    return [];
  }
  const disks = items.map((d, i) => {
    const isBoot = d.bool("IsBoot");
    if (isBoot === undefined) throw notAvailable(`Disks.${i}.IsBoot`);
    const type = d.str("Type", { required: true, oneOf: DISK_TYPES });
    if (type === undefined) throw notAvailable(`Disks.${i}.Type`);
    if (type === "CLOUD_RSSD" && gpu !== "A800") throw notAvailable(`Disks.${i}.Type`);
    const size = d.int("Size", { min: 1, max: 32000 });
    if (size === undefined) throw notAvailable(`Disks.${i}.Size`);
    return { IsBoot: isBoot, Type: type, Size: size };
  });
  if (disks.filter((d) => d.IsBoot).length !== 1) throw notAvailable("Disks.N.IsBoot");
  return disks;
}

function parseCreate(p: ParamReader): CompShareCreateInput {
  const { region, zone } = location(p);
  const type = gpuType(p);
  const r = COMPSHARE_GPUS[type];
  const gpu = p.int("GPU", { required: true, min: 1, max: r.maxGpu })!;
  const cpu = p.int("CPU", { required: true, min: 1, max: r.maxCpu })!;
  const memory = p.int("Memory", { required: true, min: 1024, max: r.maxMemGb * 1024 })!;
  if (memory % 1024 !== 0) throw notAvailable("Memory");
  p.str("MachineType", { required: true, oneOf: ["G"] });
  const image = p.str("CompShareImageId", { required: true, pattern: IMAGE_ID })!;
  const disks = parseDisks(p, type, true);
  const chargeType = p.str("ChargeType", { oneOf: CHARGE_TYPES }) ?? "Month";
  if (chargeType === "Spot" && !r.spot) throw notAvailable("ChargeType");
  const quantity = p.int("Quantity", { min: 1, max: 60 }) ?? 1;
  const name = p.str("Name", { pattern: NAME_PATTERN }) ?? "host";
  const platform = p.str("MinimalCpuPlatform", { oneOf: CPU_PLATFORMS }) ?? "";
  if ((platform === "Amd/Auto" && !r.amd) || (platform === "Intel/Auto" && !r.intel)) throw notAvailable("MinimalCpuPlatform");
  const password = p.str("Password");
  let decoded: string | undefined;
  if (password !== undefined) {
    decoded = Buffer.from(password, "base64").toString("utf8");
    if (Buffer.from(decoded, "utf8").toString("base64") !== password) throw notAvailable("Password");
  }
  return {
    Region: region,
    Zone: zone,
    GpuType: type,
    GPU: gpu,
    CPU: cpu,
    Memory: memory,
    CompShareImageId: image,
    MachineType: "G",
    Disks: disks,
    ChargeType: chargeType,
    Quantity: quantity,
    Name: name,
    Remark: p.str("Remark") ?? "",
    SecurityGroupId: p.str("SecurityGroupId") ?? "",
    MinimalCpuPlatform: platform,
    EnableUS3: p.bool("EnableUS3") ?? false,
    Password: decoded,
  };
}

/** Region and UHostId are required; Zone is checked when given (CompShare's docs disagree on it). */
function target(p: ParamReader): { id: string; where: Where } {
  const region = p.str("Region", { required: true })!;
  if (!COMPSHARE_ZONES[region]) throw notAvailable("Region");
  const zone = p.str("Zone");
  const id = p.str("UHostId", { required: true })!;
  return { id, where: { region, zone } };
}

type Handler = (p: ParamReader) => Record<string, unknown>;

function handlers(model: CompShareModel): Record<string, Handler> {
  return {
    CreateCompShareInstance: (p) => ({ UHostIds: [model.create(parseCreate(p))] }),

    DescribeCompShareInstance: (p) => {
      const region = p.str("Region");
      if (region !== undefined && !COMPSHARE_ZONES[region]) throw notAvailable("Region");
      const zone = p.str("Zone");
      if (zone !== undefined && region !== undefined && !COMPSHARE_ZONES[region].includes(zone)) throw notAvailable("Zone");
      const ids = p.list("UHostIds");
      if (ids.length > 100) throw notAvailable("UHostIds");
      const limit = p.int("Limit", { min: 0, max: 100 }) ?? 20;
      const offset = p.int("Offset", { min: 0 }) ?? 0;
      return model.describe({ region, zone, ids, limit: limit || 20, offset });
    },

    StartCompShareInstance: (p) => {
      const { id, where } = target(p);
      model.start(id, where);
      return { UHostId: id };
    },

    StopCompShareInstance: (p) => {
      const { id, where } = target(p);
      model.stop(id, where, p.bool("Force") ?? false);
      return { UHostId: id };
    },

    RebootCompShareInstance: (p) => {
      const { id, where } = target(p);
      model.reboot(id, where);
      return { UHostId: id };
    },

    TerminateCompShareInstance: (p) => {
      const { id, where } = target(p);
      p.bool("ReleaseUDisk");
      model.terminate(id, where);
      return { UHostId: id, InRecycle: "No" };
    },

    ModifyCompShareInstanceName: (p) => {
      const { id, where } = target(p);
      const name = p.str("Name", { required: true, pattern: NAME_PATTERN })!;
      model.rename(id, where, name);
      return { UHostId: id };
    },

    ResizeCompShareInstance: (p) => {
      const { id, where } = target(p);
      // The compute form of Resize takes all three together (as CompShare's CLI sends it).
      const cpu = p.int("Cpu", { required: true, min: 1 })!;
      const memory = p.int("Memory", { required: true, min: 1024 })!;
      const gpu = p.int("Gpu", { required: true, min: 1 })!;
      model.resize(id, where, { cpu, memory, gpu });
      return { UHostId: id };
    },

    CheckCompShareResourceCapacity: (p) => {
      const { region, zone } = location(p);
      const type = gpuType(p);
      p.str("MachineType", { required: true, oneOf: ["G"] });
      p.str("MinimalCpuPlatform", { oneOf: CPU_PLATFORMS });
      p.str("CompShareImageId", { pattern: IMAGE_ID });
      p.str("ChargeType", { oneOf: CHARGE_TYPES });
      parseDisks(p, type, false);
      return { Specs: model.capacityFor({ region, zone, gpuType: type }) };
    },

    DescribeAvailableCompShareInstanceTypes: (p) => {
      const region = p.str("Region", { required: true })!;
      if (!COMPSHARE_ZONES[region]) throw notAvailable("Region");
      const zone = p.str("Zone");
      if (zone !== undefined && !COMPSHARE_ZONES[region].includes(zone)) throw notAvailable("Zone");
      const types = model.availableTypes(region, zone, p.list("MachineTypes"));
      return { AvailableInstanceTypes: types, Status: "Normal" };
    },

    DescribeCompShareSupportZone: (p) => {
      const region = p.str("Region", { required: true })!;
      if (!COMPSHARE_ZONES[region]) throw notAvailable("Region");
      return {
        ZoneInfo: COMPSHARE_ZONES[region].map((zone, i) => ({ Region: region, Zone: zone, Describe: zone, RegionId: 1, ZoneId: i + 1 })),
      };
    },

    GetCompShareInstancePrice: (p) => {
      location(p);
      const type = gpuType(p);
      const r = COMPSHARE_GPUS[type];
      const gpu = p.int("Gpu", { required: true, min: 1, max: r.maxGpu })!;
      const cpu = p.int("Cpu", { required: true, min: 1, max: r.maxCpu })!;
      const memory = p.int("Memory", { required: true, min: 1024, max: r.maxMemGb * 1024 })!;
      const chargeType = p.str("ChargeType", { oneOf: CHARGE_TYPES });
      const quantity = p.int("Quantity", { min: 1, max: 60 }) ?? 1;
      p.str("CompShareImageId", { pattern: IMAGE_ID });
      const disks = parseDisks(p, type, false);
      return { PriceDetails: model.price({ gpuType: type, gpu, cpu, memory, chargeType, quantity, disks }) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Wire layer

export interface CompShareKeys {
  publicKey: string;
  privateKey: string;
}

const FAULT_MESSAGES: Record<number, string> = {
  150: "Service temporarily unavailable",
  153: "Request throttled, please retry later",
  [RET.soldOut]: "Resource not enough",
  [RET.quota]: "Quota exceeded",
  [RET.operationInProgress]: "InstanceOperationInProgress",
};

export function createCompShareService(model: CompShareModel, keys: CompShareKeys): CloudService {
  const table = handlers(model);
  const privateKeyOf = (publicKey: string) => (publicKey === keys.publicKey ? keys.privateKey : undefined);

  const envelope = (action: string, retCode: number, message: string, extra: Record<string, unknown> = {}) => ({
    ...extra,
    Action: `${action}Response`,
    RetCode: retCode,
    ...(message && { Message: message }),
  });

  function run(action: string, parsed: ParsedRequest): Reply {
    const fail = (retCode: number, message: string): Reply => ({ status: 200, body: envelope(action, retCode, message) });
    if (parsed.malformed) return fail(RET.invalidParam, parsed.malformed);
    if (!action) return fail(RET.missingAction, "Missing Action");
    // The gateway routes by Action before it authenticates: an unknown Action is 161 even unsigned.
    const handler = table[action];
    if (!handler) return fail(RET.unknownAction, `Action [${action}] not found`);
    const signature = parsed.params.get("Signature");
    if (!signature) return fail(RET.missingSignature, "Missing signature");
    const privateKey = privateKeyOf(parsed.params.get("PublicKey") ?? "");
    if (privateKey === undefined) return fail(RET.unknownUser, "User Not Exists");
    if (signature.toLowerCase() !== expectedSignature(parsed.signed, privateKey)) return fail(RET.badSignature, "Signature VerifyAC Error");
    try {
      return { status: 200, body: envelope(action, 0, "", handler(new ParamReader(parsed.params))) };
    } catch (err) {
      if (err instanceof CompShareApiError) return fail(err.retCode, err.message);
      throw err;
    }
  }

  return {
    cloud: "compshare",
    resolve(req): ResolvedRoute | undefined {
      if (req.pathname !== "/") return undefined;
      if (req.method !== "POST" && !(req.method === "GET" && req.query.has("Action"))) return undefined;
      const parsed = parseRequest(req);
      const action = parsed.params.get("Action") ?? "";
      return { route: `${req.method} /`, action, handle: () => run(action, parsed) };
    },
    injectedReply(rule: FaultRule, action?: string): Reply | undefined {
      const act = action ?? "";
      if (rule.status !== undefined) {
        const retCode = rule.retCode ?? (rule.status >= 500 ? 150 : rule.status);
        return { status: rule.status, body: rule.body ?? envelope(act, retCode, rule.message ?? "injected fault") };
      }
      if (rule.retCode !== undefined) {
        return {
          status: 200,
          body: rule.body ?? envelope(act, rule.retCode, rule.message ?? FAULT_MESSAGES[rule.retCode] ?? "injected fault"),
        };
      }
      return undefined;
    },
  };
}

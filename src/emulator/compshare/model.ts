// CompShare's state and rules, as moto keeps a service's models: instances and their state
// machine (timed transitions, preconditions, the per-instance operation lock), stock, quota and
// the scheduled stop. No HTTP here: the actions call these methods and shape the answers.
//
// Choices the notes leave open, made here and nowhere else:
// - a wrong-state request (Stop while Stopped, …) answers RetCode 8040 (no published code);
// - an unknown or foreign UHostId on Start/Stop/… answers 230 `Params [UHostId] not available`;
// - a terminated instance keeps its last state in Describe for `terminateMs`, then vanishes;
// - an image id that is not in the catalogue for the zone (platform images everywhere,
//   community and custom ones in their zones), or one that is not `Available`, answers 230
//   `Params [CompShareImageId] not available` on Create and CheckCompShareResourceCapacity
//   (the form of CompShare's bad-parameter answer; that it is this code for images is inferred);
// - stock may be set per GPU type and, tighter, per GPU type in one zone;
// - the operation lock (RetCode 8903 `InstanceOperationInProgress`) is held while any power or
//   resize transition runs, and for as long as `lockFor` says.

import { randomBytes, randomInt } from "node:crypto";
import type { CompShareTimings } from "../types";
import { pause, resume, stepIndex, type Timed } from "../clock";
import {
  DEFAULT_BOOT_DISK,
  DEFAULT_QUOTA,
  DEFAULT_STOCK,
  DESCRIBED_CHARGE_TYPE,
  GPUS,
  RELEASE_AFTER_STOP_SECONDS,
} from "./catalogue";
import { COMMUNITY_IMAGES, CUSTOM_IMAGES, type ImageRow, PLATFORM_IMAGES } from "./images";
import type { CreateParams } from "./schemas";
import { type Disk, hourlyPrice, legalSizes, outOfRange, round2, termEnd } from "./shapes";

export type { CompShareTimings };

export type CompShareState =
  | "Initializing"
  | "Starting"
  | "Running"
  | "Stopping"
  | "Stopped"
  | "Rebooting"
  | "Resizing"
  | "Install Fail";

/** An instance as DescribeCompShareInstance returns it: the SDK's `CompShareInstanceSet`, every field it reads. */
export interface CompShareInstanceRecord {
  UHostId: string;
  Name: string;
  Remark: string;
  Tag: string;
  /** Not in the SDK's type; kept for callers that read it. */
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
  /** The SDK's enum: Year | Month | Dynamic | Postpay (Spot reads Postpay). */
  ChargeType: string;
  AutoRenew: "Yes" | "No";
  IsExpire: "Yes" | "No";
  CreateTime: number;
  ExpireTime: number;
  StartTime: number;
  UpdateTime: number;
  /** When a stopped pay-as-you-go instance will be released; 0 otherwise. */
  ReleaseTime: number;
  StopSchedulerTime: number;
  StopTime: number;
  CompShareImageId: string;
  CompShareImageName: string;
  CompShareImageType: string;
  CompShareImageOwnerAlias: string;
  CompShareImageStatus: string;
  CompShareImagePrice: number;
  CompShareImageBillId: string;
  OsName: string;
  OsType: "Linux";
  Password: string;
  SshLoginCommand: string;
  TotalDiskSpace: number;
  DiskSet: Array<{ DiskId: string; DiskType: string; Drive: string; Encrypted: "false"; IsBoot: "True" | "False"; Name: string; Size: number; Type: "Boot" | "Data" }>;
  DiskPriceInfo: Array<{ ChargeType: string; IsBoot: boolean; Price: number }>;
  PostPayPowerOffBillingResource: Array<{ ChargeType: string; IsBoot: boolean; Price: number }>;
  IPSet: Array<{
    IP: string;
    IPId: string;
    IPMode: "IPv4";
    Type: "Bgp" | "Private";
    Bandwidth: number;
    Default: "true" | "false";
    Mac: string;
    NetworkInterfaceId: string;
    SubnetId: string;
    VPCId: string;
    Weight: number;
  }>;
  InstancePrice: number;
  DiscountType: number;
  Softwares: Array<{ Name: string; URL: string }>;
  SupportWithoutGpuStart: boolean;
  WithoutGpuSpec: { Cpu: number; Gpu: number; Memory: number };
  MonitorMessages: { CpuUsageRate: string; MemUsageRate: string; GpuInfo: Array<{ GPU: string; GpuUsageRate: string; MemoryUsageRate: string }> };
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

export const notAvailable = (param: string): CompShareApiError => new CompShareApiError(RET.invalidParam, `Params [${param}] not available`);

type Final = CompShareState | "gone";

/** An image Create may use in the zone: offered there and `Available`. */
const usable = (id: string, zone: string) => imageIn(id, zone)?.Status === "Available";

// State is derived from timestamps on access instead of timers: reading twice in the same
// millisecond sees the same thing, and idle instances cost nothing.
interface Transition extends Timed<CompShareState> {
  final: Final;
}

interface Spec {
  Region: string;
  Zone: string;
  GpuType: string;
  GPU: number;
  CPU: number;
  Memory: number;
  CompShareImageId: string;
  MachineType: string;
  Disks: Disk[];
  ChargeType: string;
  Quantity: number;
  Name: string;
  Remark: string;
  MinimalCpuPlatform: string;
}

interface Host {
  seq: number;
  id: string;
  spec: Spec;
  resting: CompShareState;
  transition?: Transition;
  held: boolean;
  createdAtMs: number;
  startedAtMs: number;
  /** When `resting` was last reached. */
  restedAtMs: number;
  lockedUntil: number;
  /** Unix seconds of the scheduled stop; 0: none. */
  stopAt: number;
  password: string;
  publicIp: string;
  privateIp: string;
  mac: string;
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

export interface Where {
  region?: string;
  zone?: string;
}

export type ImageKind = "platform" | "custom" | "community";

export interface ImageQuery {
  zone?: string;
  id?: string;
  /** Platform images only: `System` or `App`. */
  imageType?: string;
  /** Fuzzy: case-insensitive substring. */
  name?: string;
  author?: string;
  /** Exact. */
  tag?: string;
  offset: number;
  limit: number;
}

const IMAGE_SETS: Record<ImageKind, readonly ImageRow[]> = { platform: PLATFORM_IMAGES, custom: CUSTOM_IMAGES, community: COMMUNITY_IMAGES };

/** The image with this id the zone offers, of any kind. */
export function imageIn(id: string, zone: string | undefined): ImageRow | undefined {
  const offered = (r: ImageRow) => r.CompShareImageId === id && (!r.zones || (zone !== undefined && r.zones.includes(zone)));
  return PLATFORM_IMAGES.find(offered) ?? CUSTOM_IMAGES.find(offered) ?? COMMUNITY_IMAGES.find(offered);
}

/** One page of a kind of images, filtered as the Describe*Images actions filter. */
export function listImages(kind: ImageKind, q: ImageQuery): { TotalCount: number; rows: ImageRow[] } {
  const name = q.name?.toLowerCase();
  const matching = IMAGE_SETS[kind].filter(
    (r) =>
      (!r.zones || (q.zone !== undefined && r.zones.includes(q.zone))) &&
      (q.id === undefined || r.CompShareImageId === q.id) &&
      (q.imageType === undefined || r.ImageType === q.imageType) &&
      (name === undefined || r.Name.toLowerCase().includes(name)) &&
      (q.author === undefined || r.Author === q.author) &&
      (q.tag === undefined || r.Tags.includes(q.tag)),
  );
  return { TotalCount: matching.length, rows: matching.slice(q.offset, q.offset + q.limit) };
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
  /** Tighter caps per GPU type in one zone, keyed `gpuType@zone`. */
  private readonly zoneCapacity = new Map<string, number>();
  private quota = DEFAULT_QUOTA;

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

  /**
   * From now on `n` more cards of this GPU type can be allocated (0: sold out), everywhere or,
   * with `zone`, in that zone only (the type's overall stock still applies).
   */
  setStock(gpuType: string, n: number, zone?: string): void {
    const now = this.now();
    if (zone === undefined) this.capacity.set(gpuType, Math.max(0, n) + this.cardsInUse(gpuType, now));
    else this.zoneCapacity.set(`${gpuType}@${zone}`, Math.max(0, n) + this.cardsInUse(gpuType, now, zone));
  }

  /** Free cards of the GPU type right now (in the zone, when given). */
  stock(gpuType: string, zone?: string): number {
    return this.freeCards(gpuType, this.now(), zone);
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

  // ----- API operations (called by the actions) -----

  /** The model's clock, in Unix seconds (quotes are made at this time). */
  nowSeconds(): number {
    return seconds(this.now());
  }

  /** One instance of the validated shape; its password is the decoded `Password` or a random one. */
  create(params: CreateParams): string {
    const now = this.now();
    if (this.live(now).filter((h) => h.transition?.final !== "gone").length >= this.quota) {
      throw new CompShareApiError(RET.quota, `Quota exceeded: the account may have at most ${this.quota} instances`);
    }
    if (!usable(params.CompShareImageId, params.Zone)) throw notAvailable("CompShareImageId");
    if (this.freeCards(params.GpuType, now, params.Zone) < params.GPU) {
      throw new CompShareApiError(RET.soldOut, `Resource not enough: GpuType [${params.GpuType}] is sold out in ${params.Zone}`);
    }
    let id: string;
    do id = `uhost-${lowerAlnum(12)}`;
    while (this.byId.has(id));
    const disks: Disk[] = params.Disks?.map((d) => ({ IsBoot: d.IsBoot, Type: d.Type, Size: d.Size })) ?? [{ ...DEFAULT_BOOT_DISK }];
    const h: Host = {
      seq: this.nextSeq++,
      id,
      spec: {
        Region: params.Region,
        Zone: params.Zone,
        GpuType: params.GpuType,
        GPU: params.GPU,
        CPU: params.CPU,
        Memory: params.Memory,
        CompShareImageId: params.CompShareImageId,
        MachineType: params.MachineType,
        Disks: disks,
        ChargeType: params.ChargeType,
        Quantity: params.Quantity,
        Name: params.Name,
        Remark: params.Remark,
        MinimalCpuPlatform: params.MinimalCpuPlatform ?? "",
      },
      resting: "Initializing",
      held: false,
      createdAtMs: now,
      startedAtMs: 0,
      restedAtMs: now,
      lockedUntil: 0,
      stopAt: 0,
      password: params.Password !== undefined ? Buffer.from(params.Password, "base64").toString("utf8") : randomBytes(9).toString("base64url"),
      publicIp: `117.50.${randomInt(1, 255)}.${randomInt(1, 255)}`,
      privateIp: `10.60.${randomInt(0, 255)}.${randomInt(2, 255)}`,
      mac: `52:54:00:${[0, 0, 0].map(() => randomInt(256).toString(16).padStart(2, "0")).join(":")}`,
      sshPort: randomInt(20000, 65000),
      diskIds: disks.map(() => `bsi-${lowerAlnum(8)}`),
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
    if (this.freeCards(h.spec.GpuType, now, h.spec.Zone) < h.spec.GPU) {
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
    const [wrong] = outOfRange(h.spec.GpuType, shape.gpu, shape.cpu, shape.memory);
    if (wrong) throw notAvailable({ gpu: "Gpu", cpu: "Cpu", memory: "Memory" }[wrong]);
    this.mayAct(h, "ResizeCompShareInstance", ["Stopped"], now);
    h.spec = { ...h.spec, CPU: shape.cpu, Memory: shape.memory, GPU: shape.gpu };
    this.begin(h, ["Resizing"], this.timings.resizeMs, "Stopped", now);
  }

  /** Grows one disk (the disk form of Resize): stopped instances only, never smaller. */
  resizeDisk(id: string, where: Where, diskId: string, sizeGb: number): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    const i = h.diskIds.indexOf(diskId);
    if (i < 0) throw notAvailable("DiskId");
    if (sizeGb <= h.spec.Disks[i].Size) throw notAvailable("DiskSpace");
    this.mayAct(h, "ResizeCompShareInstance", ["Stopped"], now);
    h.spec = { ...h.spec, Disks: h.spec.Disks.map((d, j) => (j === i ? { ...d, Size: sizeGb } : d)) };
    this.begin(h, ["Resizing"], this.timings.resizeMs, "Stopped", now);
  }

  /**
   * Stops a running instance at `stopAt` (Unix seconds). CompShare's docs: at least five
   * minutes ahead, not for Spot.
   */
  scheduleStop(id: string, where: Where, stopAt: number): void {
    const now = this.now();
    const h = this.mustFind(id, where, now);
    if (h.spec.ChargeType === "Spot") throw notAvailable("UHostId");
    if (stopAt < seconds(now) + 300) throw notAvailable("StopTime");
    h.stopAt = stopAt;
  }

  cancelScheduledStop(id: string, where: Where): void {
    this.mustFind(id, where, this.now()).stopAt = 0;
  }

  /**
   * One entry per GPU count with the standard per-card CPU/memory, enough if the cards are
   * free in the zone; an image the zone does not offer is refused as Create refuses it.
   */
  capacityFor(gpuType: string, zone: string, imageId?: string): Array<{ Gpu: number; Cpu: number; Mem: number; ResourceEnough: boolean }> {
    if (imageId !== undefined && !usable(imageId, zone)) throw notAvailable("CompShareImageId");
    const free = this.freeCards(gpuType, this.now(), zone);
    return legalSizes(GPUS[gpuType]).flatMap(({ gpu, sizes }) =>
      sizes.map(({ cpu, memGb }) => ({ Gpu: gpu, Cpu: cpu, Mem: memGb, ResourceEnough: free >= gpu })),
    );
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
      throw new CompShareApiError(RET.wrongState, `UHost [${h.id}] is ${h.resting}; ${action} is allowed only when ${from.join(" or ")}`);
    }
  }

  private cardsInUse(gpuType: string, now: number, zone?: string): number {
    let used = 0;
    for (const h of this.live(now)) {
      const heading = h.transition ? h.transition.final : h.resting;
      if (h.spec.GpuType === gpuType && (zone === undefined || h.spec.Zone === zone) && heading !== "Stopped" && heading !== "Install Fail" && heading !== "gone") used += h.spec.GPU;
    }
    return used;
  }

  private freeCards(gpuType: string, now: number, zone?: string): number {
    const overall = (this.capacity.get(gpuType) ?? DEFAULT_STOCK) - this.cardsInUse(gpuType, now);
    const cap = zone === undefined ? undefined : this.zoneCapacity.get(`${gpuType}@${zone}`);
    return cap === undefined ? overall : Math.min(overall, cap - this.cardsInUse(gpuType, now, zone));
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

  /** Applies finished transitions and a due scheduled stop; returns false once the instance is gone. */
  private settle(h: Host, now: number): boolean {
    for (;;) {
      const t = h.transition;
      if (!t) {
        if (h.resting !== "Running" || h.stopAt === 0 || now < h.stopAt * 1000) return true;
        // the scheduled stop runs as a Stop sent at that moment
        const at = Math.max(h.stopAt * 1000, h.restedAtMs);
        h.stopAt = 0;
        this.begin(h, ["Stopping"], this.timings.stopMs, "Stopped", at);
        continue;
      }
      if (t.capMs !== undefined || now - t.startedAt < t.durationMs) return true;
      h.transition = undefined;
      if (t.final === "gone") {
        this.byId.delete(h.id);
        return false;
      }
      h.resting = t.final;
      h.restedAtMs = t.startedAt + t.durationMs;
      if (t.final === "Running") h.startedAtMs = h.restedAtMs;
    }
  }

  private stateOf(h: Host, now: number): CompShareState {
    return h.transition ? h.transition.steps[stepIndex(h.transition, now)] : h.resting;
  }

  /** When the state Describe shows began. */
  private stateSinceMs(h: Host, now: number): number {
    const t = h.transition;
    if (!t) return h.restedAtMs;
    return t.startedAt + (stepIndex(t, now) * t.durationMs) / t.steps.length;
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
    const r = GPUS[s.GpuType];
    const state = this.stateOf(h, now);
    const image = imageIn(s.CompShareImageId, s.Zone);
    const createdS = seconds(h.createdAtMs);
    const expire = termEnd(s.ChargeType, s.Quantity, createdS);
    const price = hourlyPrice(s.GpuType, s.GPU, s.CPU, s.Memory, s.Disks);
    const platform = s.MinimalCpuPlatform || (r.intel ? "Intel/Auto" : "Amd/Auto");
    const payAsYouGo = expire === 0;
    const stopped = state === "Stopped" && !h.transition;
    const diskPrice = (d: Disk) => round2(hourlyPrice(s.GpuType, 0, 0, 0, [d]).disks);
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
      ChargeType: DESCRIBED_CHARGE_TYPE[s.ChargeType] ?? s.ChargeType,
      AutoRenew: "No",
      IsExpire: expire > 0 && seconds(now) >= expire ? "Yes" : "No",
      CreateTime: createdS,
      ExpireTime: expire,
      StartTime: h.startedAtMs ? seconds(h.startedAtMs) : 0,
      UpdateTime: seconds(this.stateSinceMs(h, now)),
      ReleaseTime: stopped && payAsYouGo ? seconds(h.restedAtMs) + RELEASE_AFTER_STOP_SECONDS : 0,
      StopSchedulerTime: h.stopAt,
      StopTime: h.stopAt,
      CompShareImageId: s.CompShareImageId,
      CompShareImageName: image?.Name ?? "",
      CompShareImageType: image?.ImageType ?? "",
      CompShareImageOwnerAlias: image?.ImageOwnerAlias ?? "",
      CompShareImageStatus: "Available",
      CompShareImagePrice: 0,
      CompShareImageBillId: "",
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
      DiskPriceInfo: s.Disks.map((d) => ({ ChargeType: DESCRIBED_CHARGE_TYPE[s.ChargeType] ?? s.ChargeType, IsBoot: d.IsBoot, Price: diskPrice(d) })),
      // while stopped, a pay-as-you-go instance is billed for its disks only
      PostPayPowerOffBillingResource: payAsYouGo ? s.Disks.map((d) => ({ ChargeType: "Postpay", IsBoot: d.IsBoot, Price: diskPrice(d) })) : [],
      IPSet: [
        {
          IP: h.publicIp,
          IPId: `eip-${h.id.slice(6, 14)}`,
          IPMode: "IPv4",
          Type: "Bgp",
          Bandwidth: 100,
          // "is the default NIC" is a field of Private addresses (the SDK)
          Default: "false",
          Mac: "",
          NetworkInterfaceId: "",
          SubnetId: "",
          VPCId: "",
          Weight: 50,
        },
        {
          IP: h.privateIp,
          IPId: "",
          IPMode: "IPv4",
          Type: "Private",
          Bandwidth: 0,
          Default: "true",
          Mac: h.mac,
          NetworkInterfaceId: "",
          SubnetId: `subnet-${s.Zone}`,
          VPCId: `uvnet-${s.Region}`,
          Weight: 0,
        },
      ],
      InstancePrice: round2(price.instance + price.disks),
      DiscountType: 0,
      Softwares: [],
      SupportWithoutGpuStart: false,
      WithoutGpuSpec: { Cpu: 0, Gpu: 0, Memory: 0 },
      MonitorMessages: { CpuUsageRate: "0", MemUsageRate: "0", GpuInfo: [] },
    };
  }
}

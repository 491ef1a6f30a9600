// The request parameters of each CompShare action as the emulator's own zod schemas, written
// from the Go SDK's request types (ucloud-sdk-go v0.22.98, services/ucompshare), CompShare's
// docs and the wire corpus, never from our client. Parameters arrive flat and as text
// (`Disks.0.Size=200`); `unflatten` nests them and the schemas turn text into values. Every
// problem is RetCode 230 `Params [Name] not available`, Name being the flat parameter.

import { z } from "zod";
import { CHARGE_TYPES, CPU_PLATFORMS_BY_VENDOR, DISK_TYPES, GPUS, PRICE_CHARGE_TYPES, ZONES } from "./catalogue";
import { outOfRange } from "./shapes";

/** Digits as sent; a JSON body's numbers arrive here already as text. */
const int = z.string().regex(/^-?\d+$/).transform(Number);
const intIn = (min: number, max = Number.MAX_SAFE_INTEGER) => int.refine((n) => n >= min && n <= max);
/** `true`/`false` as the SDKs send them; `True`/`False` as CompShare's docs spell the enum. */
const bool = z.enum(["true", "false", "True", "False"]).transform((v) => v.toLowerCase() === "true");
const text = z.string().min(1);

const region = text.refine((r) => ZONES[r] !== undefined);
const gpuType = text.refine((t) => GPUS[t] !== undefined);
/** CJK, letters, digits and `_ . , : -`, 1–63 characters (CompShare's docs). */
const name = z.string().regex(/^[\p{Script=Han}A-Za-z0-9_.,:-]{1,63}$/u);
/** The corpus's own example is `compshareImage-xxxx`: any id of this form is an image. */
const imageId = z.string().regex(/^compshareImage-[A-Za-z0-9]+$/);

const { Intel, Amd, Ampere } = CPU_PLATFORMS_BY_VENDOR;
const platform = z.enum(["Auto", ...Intel, ...Amd, ...Ampere]);

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, ...path: (string | number)[]) => ctx.addIssue({ code: "custom", path, message: "not available" });

// Refinements run even when a field failed (zod 4): each one checks only what it can read.

function zoneOf(v: { Region: string; Zone?: string }, ctx: Ctx): void {
  if (v.Zone !== undefined && ZONES[v.Region] && !ZONES[v.Region].includes(v.Zone)) fail(ctx, "Zone");
}

const createDisk = z.looseObject({ IsBoot: bool, Type: z.enum(DISK_TYPES), Size: intIn(1, 32000) });
/** The price quote's disks: every field optional in the SDK's GetCompShareInstancePriceParamDisks. */
const priceDisk = z.looseObject({ IsBoot: bool.optional(), Type: z.enum(DISK_TYPES).optional(), Size: intIn(0, 32000).optional() });

function disksFit(disks: { IsBoot?: boolean; Type?: string }[] | undefined, gpu: string, ctx: Ctx, oneBoot: boolean): void {
  if (!disks) return;
  disks.forEach((d, i) => {
    if (d.Type === "CLOUD_RSSD" && gpu !== "A800") fail(ctx, "Disks", i, "Type");
  });
  if (oneBoot && disks.filter((d) => d.IsBoot).length !== 1) fail(ctx, "Disks.N.IsBoot");
}

/** The shape within the GPU type's maxima; `names` are the action's spellings (`GPU` on create, `Gpu` on price). */
function shapeFits(gpuType: string, shape: [number, number, number], names: [string, string, string], ctx: Ctx): void {
  const [gpu, cpu, memory] = names;
  const wrong = outOfRange(gpuType, ...shape);
  for (const [field, name] of [["gpu", gpu], ["cpu", cpu], ["memory", memory]] as const) if (wrong.includes(field)) fail(ctx, name);
}

function platformFits(platform: string | undefined, gpu: string, ctx: Ctx): void {
  const vendor = platform?.split("/")[0];
  const row = GPUS[gpu];
  if (!row) return;
  if ((vendor === "Intel" && !row.intel) || (vendor === "Amd" && !row.amd) || vendor === "Ampere") fail(ctx, "MinimalCpuPlatform");
}

export const createSchema = z
  .looseObject({
    Region: region,
    Zone: text,
    GpuType: gpuType,
    GPU: intIn(1),
    CPU: intIn(1),
    Memory: intIn(1024).refine((m) => m % 1024 === 0),
    MachineType: z.literal("G"),
    CompShareImageId: imageId,
    /** Optional in the SDK; without it the instance gets the default boot disk. */
    Disks: z.array(createDisk).min(1).optional(),
    ChargeType: z.enum(CHARGE_TYPES).default("Month"),
    /** 0 with Month: until the end of the month (the SDK). Unused by pay-as-you-go types. */
    Quantity: intIn(0, 60).default(1),
    Name: name.default("host"),
    Remark: z.string().default(""),
    SecurityGroupId: z.string().default(""),
    MinimalCpuPlatform: platform.optional(),
    EnableUS3: bool.default(false),
    /** base64 of the root password (the SDK). */
    Password: z.string().optional(),
    LoginMode: z.literal("Password").optional(),
    /** How many instances one call makes (CompShare's CLI sends it). */
    MaxCount: intIn(1, 10).default(1),
  })
  .superRefine((v, ctx) => {
    zoneOf(v, ctx);
    const row = GPUS[v.GpuType];
    if (!row) return;
    shapeFits(v.GpuType, [v.GPU, v.CPU, v.Memory], ["GPU", "CPU", "Memory"], ctx);
    disksFit(v.Disks, v.GpuType, ctx, true);
    if (v.ChargeType === "Spot" && !row.spot) fail(ctx, "ChargeType");
    if (v.Quantity === 0 && v.ChargeType === "Day") fail(ctx, "Quantity");
    platformFits(v.MinimalCpuPlatform, v.GpuType, ctx);
    if (v.Password !== undefined && Buffer.from(Buffer.from(v.Password, "base64").toString("utf8"), "utf8").toString("base64") !== v.Password) {
      fail(ctx, "Password");
    }
  });
export type CreateParams = z.output<typeof createSchema>;

/** Region is optional in the SDK ("all regions"); checked when given. */
export const describeSchema = z
  .looseObject({
    Region: region.optional(),
    Zone: text.optional(),
    UHostIds: z.array(z.string()).max(100).default([]),
    /** 0 reads as the default. */
    Limit: intIn(0, 100)
      .default(20)
      .transform((n) => n || 20),
    Offset: intIn(0).default(0),
    WithoutGpu: bool.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.Region !== undefined) zoneOf({ Region: v.Region, Zone: v.Zone }, ctx);
  });

/**
 * Region and UHostId are required; Zone is optional (CompShare's docs disagree on it) and,
 * when given, must be the instance's: an id looked up in another zone is unknown (the model).
 */
const target = { Region: region, Zone: text.optional(), UHostId: text };

export const startSchema = z
  .looseObject({ ...target, WithoutGpu: bool.optional(), WithoutGpuSpec: z.enum(["A", "B"]).optional() })
  ;
/** `Force` is in CompShare's docs only; the emulator needs it for Spot. */
export const stopSchema = z.looseObject({ ...target, Force: bool.default(false) });
export const rebootSchema = z.looseObject(target);
export const terminateSchema = z.looseObject({ ...target, ReleaseUDisk: bool.default(false) });
export const renameSchema = z.looseObject({ ...target, Name: name });

/**
 * Either the compute form (`Cpu`, `Memory`, `Gpu` together, as CompShare's CLI sends them)
 * or the disk form (`DiskId` + `DiskSpace` in GB, a string in the SDK): never both.
 */
export const resizeSchema = z
  .looseObject({
    ...target,
    Cpu: intIn(1).optional(),
    Memory: intIn(1024).optional(),
    Gpu: intIn(1).optional(),
    DiskId: text.optional(),
    DiskSpace: intIn(1, 32000).optional(),
  })
  .superRefine((v, ctx) => {
    const compute = v.Cpu !== undefined || v.Memory !== undefined || v.Gpu !== undefined;
    const disk = v.DiskId !== undefined || v.DiskSpace !== undefined;
    if (compute || !disk) {
      for (const k of ["Cpu", "Memory", "Gpu"] as const) if (v[k] === undefined) fail(ctx, k);
      if (disk) fail(ctx, "DiskId");
    } else {
      if (v.DiskId === undefined) fail(ctx, "DiskId");
      if (v.DiskSpace === undefined) fail(ctx, "DiskSpace");
    }
  });
export type ResizeParams = z.output<typeof resizeSchema>;

export const stopSchedulerSchema = z.looseObject({ ...target, StopTime: intIn(1) });
export const deleteStopSchedulerSchema = z.looseObject(target);

const location = { Region: region, Zone: text };

export const capacitySchema = z
  .looseObject({
    ...location,
    GpuType: gpuType,
    MachineType: z.literal("G"),
    MinimalCpuPlatform: platform.optional(),
    CompShareImageId: imageId.optional(),
    ChargeType: z.enum(CHARGE_TYPES).optional(),
    Disks: z.array(createDisk).optional(),
  })
  .superRefine((v, ctx) => {
    zoneOf(v, ctx);
    disksFit(v.Disks, v.GpuType, ctx, false);
  });

export const availableTypesSchema = z
  .looseObject({
    Region: region,
    Zone: text.optional(),
    MachineTypes: z.array(z.string()).default([]),
    /** `uhost` (default) or `spot` (CompShare's docs). */
    InstanceType: z.enum(["uhost", "spot"]).default("uhost"),
  })
  .superRefine(zoneOf);

export const supportZoneSchema = z.looseObject({ Region: region });

/** `Limit`: default 20, at most 100 (the SDK); `Offset` from 0. */
const page = { Limit: intIn(1, 100).default(20), Offset: intIn(0).default(0) };

/**
 * DescribeCompShareImages: platform images; `ImageType` `System` (the default) or `App` (the
 * SDK). The action applies the default only when no `CompShareImageId` is asked for, so an
 * App image is found by its id alone (inferred).
 */
export const imagesSchema = z
  .looseObject({
    Region: region,
    Zone: text.optional(),
    CompShareImageId: text.optional(),
    ImageType: z.enum(["System", "App"]).optional(),
    Name: text.optional(),
    Author: text.optional(),
    Tag: text.optional(),
    ...page,
  })
  .superRefine(zoneOf);

/** DescribeCompShareCustomImages: Zone is required (the SDK). */
export const customImagesSchema = z
  .looseObject({ Region: region, Zone: text, CompShareImageId: text.optional(), ...page })
  .superRefine(zoneOf);

/** DescribeCommunityImages: Zone is required; `Tag` matches exactly, `Name` fuzzily (the SDK). */
export const communityImagesSchema = z
  .looseObject({
    Region: region,
    Zone: text,
    CompShareImageId: text.optional(),
    Name: text.optional(),
    Author: text.optional(),
    Tag: text.optional(),
    SortCondition: z.looseObject({ Field: z.enum(["Favor", "PubTime", "Price", "CreatedCount"]), ASC: bool.optional() }).optional(),
    ...page,
  })
  .superRefine(zoneOf);

/**
 * `GpuType`, `Gpu`, `Cpu` and `Memory` are optional in the SDK, with the defaults 1, 16 and
 * 32768 MB; the SDK names no default GpuType, its enum lists only 4090, so that is the
 * default here (inferred). `Quantity` is in CompShare's docs, not the SDK.
 */
export const priceSchema = z
  .looseObject({
    ...location,
    GpuType: gpuType.default("4090"),
    Gpu: intIn(1).default(1),
    Cpu: intIn(1).default(16),
    Memory: intIn(1024).default(32768),
    ChargeType: z.enum(PRICE_CHARGE_TYPES).optional(),
    Quantity: intIn(0, 60).default(1),
    CompShareImageId: imageId.optional(),
    Disks: z.array(priceDisk).default([]),
  })
  .superRefine((v, ctx) => {
    zoneOf(v, ctx);
    if (!GPUS[v.GpuType]) return;
    shapeFits(v.GpuType, [v.Gpu, v.Cpu, v.Memory], ["Gpu", "Cpu", "Memory"], ctx);
    disksFit(v.Disks, v.GpuType, ctx, false);
  });
export type PriceParams = z.output<typeof priceSchema>;

// ---------------------------------------------------------------------------------------------

type Nested = string | Nested[] | { [key: string]: Nested };

/**
 * `{"Disks.0.Size": "200", "UHostIds.0": "a"}` → `{ Disks: [{ Size: "200" }], UHostIds: ["a"] }`.
 * A level whose keys are all indices is a list, in index order; a gap is closed (the Go SDK
 * skips an empty value but keeps counting, so `UHostIds.0`, `UHostIds.2` is a list of two).
 */
export function unflatten(flat: ReadonlyMap<string, string>): Record<string, Nested> {
  type Node = { [key: string]: Node | string };
  const root: Node = {};
  for (const [key, value] of flat) {
    const parts = key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      node = typeof next === "object" ? next : (node[part] = {});
    }
    const last = parts[parts.length - 1];
    if (typeof node[last] !== "object") node[last] = value;
  }
  const shape = (n: Node | string, top: boolean): Nested => {
    if (typeof n === "string") return n;
    const keys = Object.keys(n);
    if (!top && keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
      return keys.sort((a, b) => Number(a) - Number(b)).map((k) => shape(n[k], false));
    }
    return Object.fromEntries(keys.map((k) => [k, shape(n[k], false)]));
  };
  return shape(root, true) as Record<string, Nested>;
}

/** The flat name of the parameter an issue is about: `Disks.0.Type`, `GPU`, `Disks.N.IsBoot`. */
export function paramName(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join(".");
}

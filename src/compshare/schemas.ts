/**
 * zod schemas for CompShare: the resource inputs (camelCase, validated in `check` with no API
 * call), the GPU-type table those checks use, the request parameters of the actions we send
 * (PascalCase, as on the wire) and the response shapes (validated on every answer). Types
 * are inferred from these; there are no hand-written duplicates.
 */
import { z } from "zod";
import { durationSchema, parseDuration, powerStateSchema, timeoutsSchema } from "../core/check";
import { fallbacksSchema, maxPricePerHourSchema } from "../core/choose";

/** The inputs a fallback may override: what makes the shape that is bought. */
export const SHAPE_FIELDS = ["zone", "gpuType", "gpu", "cpu", "memory", "chargeType", "quantity", "disks", "minimalCpuPlatform"] as const;

/** CompShare refuses a scheduled stop less than five minutes ahead (its docs). */
export const MIN_AUTO_STOP_SECONDS = 300;

// ---- the GPU-type table -----------------------------------------------------------------

/**
 * What CompShare's own docs publish per GPU type: card memory, and the most GPUs, vCPUs and
 * GB of RAM one instance may have; which CPU platforms the type runs on; whether Spot is
 * offered. The legal CPU/memory combinations below those maxima come only from
 * DescribeAvailableCompShareInstanceTypes, so `check` enforces the maxima and leaves the
 * exact combination to the cloud.
 */
export interface GpuTypeSpec {
  graphicsMemoryGb: number;
  maxGpu: number;
  maxCpu: number;
  maxMemoryGb: number;
  platforms: readonly ("Intel" | "Amd")[];
  spot: boolean;
}

export const GPU_TYPES = {
  "4090": { graphicsMemoryGb: 24, maxGpu: 10, maxCpu: 140, maxMemoryGb: 680, platforms: ["Intel", "Amd"], spot: true },
  "4090_48G": { graphicsMemoryGb: 48, maxGpu: 8, maxCpu: 124, maxMemoryGb: 940, platforms: ["Intel"], spot: false },
  "5090": { graphicsMemoryGb: 32, maxGpu: 8, maxCpu: 124, maxMemoryGb: 940, platforms: ["Intel", "Amd"], spot: true },
  A100: { graphicsMemoryGb: 80, maxGpu: 8, maxCpu: 124, maxMemoryGb: 1024, platforms: ["Intel"], spot: true },
  A800: { graphicsMemoryGb: 80, maxGpu: 8, maxCpu: 124, maxMemoryGb: 1800, platforms: ["Intel"], spot: false },
  H20: { graphicsMemoryGb: 96, maxGpu: 8, maxCpu: 188, maxMemoryGb: 1800, platforms: ["Intel"], spot: false },
  "3090": { graphicsMemoryGb: 24, maxGpu: 8, maxCpu: 124, maxMemoryGb: 450, platforms: ["Amd"], spot: true },
  "3080Ti": { graphicsMemoryGb: 12, maxGpu: 8, maxCpu: 12, maxMemoryGb: 125, platforms: ["Intel"], spot: true },
  "2080Ti": { graphicsMemoryGb: 11, maxGpu: 8, maxCpu: 48, maxMemoryGb: 192, platforms: ["Intel"], spot: true },
  "2080": { graphicsMemoryGb: 11, maxGpu: 8, maxCpu: 92, maxMemoryGb: 334, platforms: ["Intel"], spot: false },
  P40: { graphicsMemoryGb: 24, maxGpu: 8, maxCpu: 48, maxMemoryGb: 502, platforms: ["Intel"], spot: false },
  V100S: { graphicsMemoryGb: 32, maxGpu: 8, maxCpu: 92, maxMemoryGb: 576, platforms: ["Intel"], spot: true },
} as const satisfies Record<string, GpuTypeSpec>;

export type GpuType = keyof typeof GPU_TYPES;
export const GPU_TYPE_NAMES = Object.keys(GPU_TYPES) as [GpuType, ...GpuType[]];

export const DISK_TYPES = ["CLOUD_SSD", "CLOUD_RSSD", "CLOUD_NORMAL", "LOCAL_NORMAL", "LOCAL_SSD"] as const;
export const CHARGE_TYPES = ["Month", "Day", "Dynamic", "Postpay", "Spot"] as const;
/** The Go SDK's list for CreateCompShareInstance (v0.22.98); `Auto` lets CompShare pick Intel or AMD. */
export const CPU_PLATFORMS = [
  "Auto",
  "Intel/Auto",
  "Intel/IvyBridge",
  "Intel/Haswell",
  "Intel/Broadwell",
  "Intel/Skylake",
  "Intel/Cascadelake",
  "Intel/CascadelakeR",
  "Intel/IceLake",
  "Amd/Auto",
  "Amd/Epyc2",
  "Ampere/Auto",
  "Ampere/Altra",
] as const;

/** CJK, letters, digits and `_ . , : -`, as CompShare documents for instance names (emptiness is checked apart). */
export const NAME_PATTERN = /^[\p{Script=Han}A-Za-z0-9_.,:-]*$/u;

// ---- inputs ---------------------------------------------------------------------------

const list = (values: readonly string[]) => values.map((v) => `"${v}"`).join(", ");
const positiveInt = (what: string) => z.number().int(`${what} must be a whole number`).min(1, `${what} must be at least 1`);

export const diskSchema = z.strictObject({
  isBoot: z.boolean({ message: "must be true or false" }),
  type: z.enum(DISK_TYPES, { message: `must be one of ${list(DISK_TYPES)}` }),
  size: positiveInt("size (GB)"),
});

export const instanceInputsSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, "name must not be empty")
      .max(63, "name is at most 63 characters")
      .regex(NAME_PATTERN, "name may contain only CJK characters, letters, digits and _ . , : -")
      .optional(),
    autonamePrefix: z.string().optional(),
    identity: z.string().optional(),
    marker: z.string().optional(),
    region: z.string().min(1, "region must not be empty, e.g. cn-wlcb"),
    zone: z.string().min(1, "zone must not be empty, e.g. cn-wlcb-01"),
    gpuType: z.enum(GPU_TYPE_NAMES, { message: `must be one of ${list(GPU_TYPE_NAMES)}` }),
    gpu: positiveInt("gpu"),
    cpu: positiveInt("cpu"),
    memory: positiveInt("memory (MB)").refine((m) => m % 1024 === 0, {
      message: "memory is in MB and must be a multiple of 1024 (e.g. 65536 for 64 GB)",
    }),
    compShareImageId: z
      .string()
      .regex(/^compshareImage-[A-Za-z0-9]+$/, 'must be a CompShare image id such as "compshareImage-165jmhx19ik7"'),
    disks: z.array(diskSchema).min(1, "at least the boot disk is required"),
    chargeType: z.enum(CHARGE_TYPES, { message: `must be one of ${list(CHARGE_TYPES)}` }).optional(),
    /** 0 with `Month` buys until the end of the current month (the Go SDK's CreateCompShareInstance). */
    quantity: z.number().int("quantity must be a whole number").min(0, "quantity must be at least 0").optional(),
    remark: z.string().max(255, "remark is at most 255 characters").optional(),
    securityGroupId: z.string().min(1, "securityGroupId must not be empty when given").optional(),
    minimalCpuPlatform: z.enum(CPU_PLATFORMS, { message: `must be one of ${list(CPU_PLATFORMS)}` }).optional(),
    enableUS3: z.boolean({ message: "must be true or false" }).optional(),
    machineType: z.literal("G", { message: 'must be "G" (CompShare GPU machines)' }).optional(),
    /** Ask CheckCompShareResourceCapacity before buying (default true). */
    checkCapacity: z.boolean({ message: "must be true or false" }).optional(),
    powerState: powerStateSchema,
    timeouts: timeoutsSchema,
    fallbacks: fallbacksSchema(SHAPE_FIELDS),
    maxPricePerHour: maxPricePerHourSchema,
    adoptId: z.string().regex(/^uhost-[A-Za-z0-9]+$/, 'adoptId must be a CompShare instance id such as "uhost-0123456789ab"').optional(),
    /** Stop the instance this long after it reaches Running (UpdateCompShareStopScheduler). */
    autoStop: z
      .strictObject({
        after: z.string().superRefine((d, ctx) => {
          if (!durationSchema.safeParse(d).success) {
            ctx.addIssue({ code: "custom", message: 'must be a duration such as "8h", "90m" or "1h30m"' });
          } else if (safeDuration(d) < MIN_AUTO_STOP_SECONDS * 1000) {
            ctx.addIssue({ code: "custom", message: `CompShare schedules a stop at least ${MIN_AUTO_STOP_SECONDS / 60} minutes ahead: use "5m" or more` });
          }
        }),
      })
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.autoStop && v.chargeType === "Spot") {
      ctx.addIssue({ code: "custom", path: ["autoStop"], message: "CompShare offers no scheduled stop for Spot instances; remove autoStop or use another chargeType" });
    }
    const spec: GpuTypeSpec | undefined = GPU_TYPES[v.gpuType];
    if (!spec) return;
    const t = v.gpuType;
    if (v.gpu > spec.maxGpu) ctx.addIssue({ code: "custom", path: ["gpu"], message: `a ${t} instance has at most ${spec.maxGpu} GPUs` });
    if (v.cpu > spec.maxCpu) ctx.addIssue({ code: "custom", path: ["cpu"], message: `a ${t} instance has at most ${spec.maxCpu} vCPUs` });
    if (v.memory > spec.maxMemoryGb * 1024) {
      ctx.addIssue({
        code: "custom",
        path: ["memory"],
        message: `a ${t} instance has at most ${spec.maxMemoryGb} GB (${spec.maxMemoryGb * 1024} MB) of memory`,
      });
    }
    const boots = v.disks.filter((d) => d.isBoot).length;
    if (boots !== 1 && v.disks.length > 0) {
      ctx.addIssue({ code: "custom", path: ["disks"], message: `exactly one disk must have isBoot: true, found ${boots}` });
    }
    v.disks.forEach((d, i) => {
      if (d.type === "CLOUD_RSSD" && t !== "A800") {
        ctx.addIssue({ code: "custom", path: ["disks", i, "type"], message: `CLOUD_RSSD is offered only with A800, not ${t}` });
      }
    });
    if (v.chargeType === "Spot" && !spec.spot) {
      ctx.addIssue({ code: "custom", path: ["chargeType"], message: `Spot is not offered for ${t}` });
    }
    if (v.quantity === 0 && (v.chargeType ?? "Month") !== "Month") {
      ctx.addIssue({ code: "custom", path: ["quantity"], message: 'quantity 0 (until the end of the month) needs chargeType "Month"' });
    }
    const vendor = v.minimalCpuPlatform?.split("/")[0];
    const on = spec.platforms;
    if (vendor === "Amd" && !on.includes("Amd")) {
      ctx.addIssue({ code: "custom", path: ["minimalCpuPlatform"], message: `${t} runs only on Intel CPUs; use "Intel/Auto" or "Auto"` });
    }
    if (vendor === "Intel" && !on.includes("Intel")) {
      ctx.addIssue({ code: "custom", path: ["minimalCpuPlatform"], message: `${t} runs only on AMD CPUs; use "Amd/Auto" or "Auto"` });
    }
    if (vendor === "Ampere") {
      const use = on.map((p) => `"${p}/Auto"`).join(", ");
      ctx.addIssue({ code: "custom", path: ["minimalCpuPlatform"], message: `${t} does not run on Ampere CPUs; use ${use} or "Auto"` });
    }
  });

export type CompShareInstanceInputs = z.input<typeof instanceInputsSchema>;

function safeDuration(d: string): number {
  try {
    return parseDuration(d);
  } catch {
    return 0;
  }
}
export type CompShareInstanceParsed = z.infer<typeof instanceInputsSchema>;

// ---- request parameters (wire names) ----------------------------------------------------

const location = { Region: z.string(), Zone: z.string() };
const target = { ...location, UHostId: z.string() };

export const createParamsSchema = z.object({
  ...location,
  GpuType: z.string(),
  GPU: z.number(),
  CPU: z.number(),
  Memory: z.number(),
  CompShareImageId: z.string(),
  MachineType: z.string(),
  Disks: z.array(z.object({ IsBoot: z.boolean(), Type: z.string(), Size: z.number() })),
  ChargeType: z.string().optional(),
  Quantity: z.number().optional(),
  Name: z.string().optional(),
  Remark: z.string().optional(),
  SecurityGroupId: z.string().optional(),
  MinimalCpuPlatform: z.string().optional(),
  EnableUS3: z.boolean().optional(),
});
export type CreateParams = z.infer<typeof createParamsSchema>;

export const describeParamsSchema = z.object({
  Region: z.string().optional(),
  Zone: z.string().optional(),
  UHostIds: z.array(z.string()).max(100).optional(),
  Limit: z.number().max(100).optional(),
  Offset: z.number().optional(),
});
export type DescribeParams = z.infer<typeof describeParamsSchema>;

export const targetParamsSchema = z.object(target);
export type TargetParams = z.infer<typeof targetParamsSchema>;

export const stopParamsSchema = z.object({ ...target, Force: z.boolean().optional() });
export type StopParams = z.infer<typeof stopParamsSchema>;

export const terminateParamsSchema = z.object({ ...target, ReleaseUDisk: z.boolean().optional() });
export type TerminateParams = z.infer<typeof terminateParamsSchema>;

export const modifyNameParamsSchema = z.object({ ...target, Name: z.string() });
export type ModifyNameParams = z.infer<typeof modifyNameParamsSchema>;

/** Note `Cpu`/`Gpu` here against `CPU`/`GPU` on create: that is how the API spells them. */
export const resizeParamsSchema = z.object({ ...target, Cpu: z.number(), Memory: z.number(), Gpu: z.number() });
export type ResizeParams = z.infer<typeof resizeParamsSchema>;

export const capacityParamsSchema = z.object({
  ...location,
  GpuType: z.string(),
  MachineType: z.string(),
  MinimalCpuPlatform: z.string().optional(),
  CompShareImageId: z.string().optional(),
  ChargeType: z.string().optional(),
  Disks: createParamsSchema.shape.Disks.optional(),
});
export type CapacityParams = z.infer<typeof capacityParamsSchema>;

export const availableTypesParamsSchema = z.object({
  Region: z.string(),
  Zone: z.string().optional(),
  MachineTypes: z.array(z.string()).optional(),
});
export type AvailableTypesParams = z.infer<typeof availableTypesParamsSchema>;

/** `Gpu`, `Cpu`, `Memory` are optional: the Go SDK's defaults are 1, 16 and 32768 (MB). */
export const priceParamsSchema = z.object({
  ...location,
  GpuType: z.string(),
  Gpu: z.number().optional(),
  Cpu: z.number().optional(),
  Memory: z.number().optional(),
  ChargeType: z.string().optional(),
  Quantity: z.number().optional(),
  CompShareImageId: z.string().optional(),
  Disks: createParamsSchema.shape.Disks.optional(),
});
export type PriceParams = z.infer<typeof priceParamsSchema>;

// ---- responses ----------------------------------------------------------------------
//
// Shapes from the Go SDK's response types (services/ucompshare, v0.22.98), read liberally:
// a number may arrive as a numeric string (the SDK itself patches `"RetCode":"123"`), an
// optional field of the wrong form reads as absent, a list entry that cannot be read is
// dropped, and unknown fields and State words pass. One odd field never fails an answer.

/** A JSON number or a numeric string. */
const wireNumber = z.union([z.number(), z.string().trim().regex(/^-?\d+(\.\d+)?$/).transform(Number)]);
/** `true`/`false` as a JSON bool or as text (`"true"`, `"True"`). */
const wireBool = z.union([z.boolean(), z.enum(["true", "false", "True", "False"]).transform((v) => v.toLowerCase() === "true")]);

/** An optional field: absent when missing or unreadable. */
const opt = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const optNumber = opt(wireNumber);
const optString = opt(z.string());

/** A list of what can be read: entries that fail are left out; a missing or non-list value is `[]`. */
function lenientArray<T extends z.ZodType>(item: T) {
  return z
    .unknown()
    .optional()
    .transform((value): z.output<T>[] =>
    Array.isArray(value)
      ? value.flatMap((entry) => {
          const parsed = item.safeParse(entry);
          return parsed.success ? [parsed.data] : [];
        })
      : [],
  );
}

export const envelopeSchema = z.looseObject({
  RetCode: wireNumber,
  Message: optString,
  Action: optString,
});
export type Envelope = z.infer<typeof envelopeSchema>;

export const createResponseSchema = z.looseObject({
  UHostIds: lenientArray(z.string()).refine((ids) => ids.length > 0, "no UHostIds in the answer"),
});

/** `CompShareInstanceSet` of the SDK, the fields we read. */
export const apiInstanceSchema = z.looseObject({
  UHostId: z.string(),
  Name: optString,
  Remark: optString,
  /** Not in the SDK's type; read when a gateway sends it. */
  Region: optString,
  Zone: optString,
  /** Any word, including new ones; an empty string means the cloud could not fetch it just now. */
  State: z.string().optional().default("").catch(""),
  MachineType: optString,
  CpuPlatform: optString,
  CPU: optNumber,
  Memory: optNumber,
  GPU: optNumber,
  GpuType: optString,
  /** `Year`, `Month`, `Dynamic` or `Postpay` in the SDK (a Spot instance reads `Postpay`). */
  ChargeType: optString,
  CompShareImageId: optString,
  CreateTime: optNumber,
  ExpireTime: optNumber,
  StartTime: optNumber,
  UpdateTime: optNumber,
  /** When a stopped instance will be released (Unix seconds; 0 or absent: not scheduled). */
  ReleaseTime: optNumber,
  StopTime: optNumber,
  StopSchedulerTime: optNumber,
  AutoRenew: optString,
  IsExpire: optString,
  InstancePrice: optNumber,
  Password: optString,
  SshLoginCommand: optString,
  IPSet: lenientArray(
    z.looseObject({ IP: optString, Type: optString, Mac: optString, SubnetId: optString, VPCId: optString }),
  ),
  DiskSet: opt(
    lenientArray(z.looseObject({ DiskId: optString, DiskType: optString, IsBoot: opt(wireBool), Size: optNumber, Type: optString })),
  ),
});
export type ApiInstance = z.infer<typeof apiInstanceSchema>;

export const describeResponseSchema = z.looseObject({
  TotalCount: optNumber,
  UHostSet: lenientArray(apiInstanceSchema),
});

export const capacitySpecSchema = z.looseObject({
  Gpu: wireNumber,
  Cpu: wireNumber,
  /** GB here, unlike Memory (MB) everywhere else. */
  Mem: wireNumber,
  ResourceEnough: wireBool,
});
export type CapacitySpec = z.infer<typeof capacitySpecSchema>;

export const capacityResponseSchema = z.looseObject({ Specs: lenientArray(capacitySpecSchema) });

const featureSchema = z.looseObject({
  Name: z.string(),
  Modes: lenientArray(z.looseObject({ Name: z.string(), MinimalCpuPlatform: lenientArray(z.string()) })),
});

/** `AvailableInstanceTypes` of the SDK. `Status`: `Normal`, `Beta`, `Soldout`, `Hidden` (or a new word). */
export const availableTypeSchema = z.looseObject({
  Name: z.string(),
  Zone: optString,
  Status: optString,
  InstanceType: optString,
  MachineClass: optString,
  GraphicsMemory: opt(z.looseObject({ Value: optNumber })),
  CpuPlatforms: opt(z.record(z.string(), lenientArray(z.string()))),
  MachineSizes: lenientArray(
    z.looseObject({
      Gpu: wireNumber,
      Collection: lenientArray(z.looseObject({ Cpu: wireNumber, Memory: lenientArray(wireNumber) })),
    }),
  ),
  Features: lenientArray(featureSchema),
});
export type AvailableType = z.infer<typeof availableTypeSchema>;

export const availableTypesResponseSchema = z.looseObject({
  AvailableInstanceTypes: lenientArray(availableTypeSchema),
  Status: optString,
});

/** `CompSharePriceDetail` of the SDK, plus `SystemDisks`, which CompShare's own docs list. */
export const priceDetailSchema = z.looseObject({
  ChargeType: optString,
  Instance: optNumber,
  Disks: optNumber,
  SystemDisks: optNumber,
  /** Per GPU per hour. */
  CompShareImage: optNumber,
  OriginalPrice: optNumber,
  /** A string in the SDK. */
  ListPrice: optNumber,
  /** 1: a night discount, 2: a holiday discount. */
  InstanceDiscountType: optNumber,
});
export type PriceDetail = z.infer<typeof priceDetailSchema>;

/**
 * The SDK reads `PriceDetail`; CompShare's docs and official CLI read `PriceDetails`. Either
 * key is taken (the SDK's first when both carry entries).
 */
export const priceResponseSchema = z
  .looseObject({
    PriceDetail: lenientArray(priceDetailSchema),
    PriceDetails: lenientArray(priceDetailSchema),
  })
  .transform((r) => ({ details: r.PriceDetail.length > 0 ? r.PriceDetail : r.PriceDetails }));

// ---- images, zones, scheduled stop --------------------------------------------------------

/** DescribeCompShareImages (platform images), the SDK's request; `ImageType` `System` (default) or `App`. */
export const imagesParamsSchema = z.object({
  Region: z.string(),
  Zone: z.string().optional(),
  CompShareImageId: z.string().optional(),
  ImageType: z.string().optional(),
  Name: z.string().optional(),
  Author: z.string().optional(),
  Tag: z.string().optional(),
  Offset: z.number().optional(),
  Limit: z.number().max(100).optional(),
});
export type ImagesParams = z.infer<typeof imagesParamsSchema>;

/** DescribeCompShareCustomImages / DescribeCommunityImages: `Zone` is required (the SDK). */
export const zoneImagesParamsSchema = z.object({
  Region: z.string(),
  Zone: z.string(),
  CompShareImageId: z.string().optional(),
  /** DescribeCommunityImages only. */
  Name: z.string().optional(),
  Author: z.string().optional(),
  Tag: z.string().optional(),
  Offset: z.number().optional(),
  Limit: z.number().max(100).optional(),
});
export type ZoneImagesParams = z.infer<typeof zoneImagesParamsSchema>;

/** `CompShareImage` of the SDK (models.go), the fields we read; `Container` is text in the SDK, a bool in some answers. */
export const apiImageSchema = z.looseObject({
  CompShareImageId: z.string(),
  Name: optString,
  ImageType: optString,
  ImageOwnerAlias: optString,
  Author: optString,
  Status: optString,
  Description: optString,
  Size: optNumber,
  Price: optNumber,
  Container: opt(wireBool),
  Tags: lenientArray(z.string()),
  Softwares: opt(
    z.looseObject({ Framework: optString, FrameworkVersion: optString, CUDAVersion: optString, Applications: lenientArray(z.string()) }),
  ),
  SourceGpuType: optString,
  CreateTime: optNumber,
});
export type ApiImage = z.infer<typeof apiImageSchema>;

export const imagesResponseSchema = z.looseObject({ ImageSet: lenientArray(apiImageSchema), TotalCount: optNumber });

/** `SupportZone` of the SDK. */
export const supportZoneSchema = z.looseObject({
  Region: optString,
  Zone: z.string(),
  Describe: optString,
  RegionId: optNumber,
  ZoneId: optNumber,
});
export type SupportZone = z.infer<typeof supportZoneSchema>;

export const supportZoneResponseSchema = z.looseObject({ ZoneInfo: lenientArray(supportZoneSchema) });

/** UpdateCompShareStopScheduler: `StopTime` in Unix seconds, at least 300 s ahead (CompShare's docs); `Zone` optional (the SDK). */
export const stopSchedulerParamsSchema = z.object({ Region: z.string(), Zone: z.string().optional(), UHostId: z.string(), StopTime: z.number() });
export type StopSchedulerParams = z.infer<typeof stopSchedulerParamsSchema>;
export type DeleteStopSchedulerParams = Omit<StopSchedulerParams, "StopTime">;

/** GetRegion (gateway-wide; the Go SDK's uaccount `RegionInfo`): one entry per zone the account may use. */
export const regionsResponseSchema = z.looseObject({
  Regions: lenientArray(z.looseObject({ Region: z.string(), Zone: optString, RegionId: optNumber, RegionName: optString, IsDefault: opt(wireBool) })),
});

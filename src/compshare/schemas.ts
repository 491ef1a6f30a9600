/**
 * zod schemas for CompShare: the resource inputs (camelCase, validated in `check` with no API
 * call), the GPU-type table those checks use, the request parameters of the actions we send
 * (PascalCase, as on the wire) and the response shapes (validated on every answer). Types
 * are inferred from these; there are no hand-written duplicates.
 */
import { z } from "zod";
import { powerStateSchema, timeoutsSchema } from "../core/check";

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
export const CPU_PLATFORMS = ["Intel/Auto", "Amd/Auto", "Auto"] as const;

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
    quantity: positiveInt("quantity").optional(),
    remark: z.string().max(255, "remark is at most 255 characters").optional(),
    securityGroupId: z.string().min(1, "securityGroupId must not be empty when given").optional(),
    minimalCpuPlatform: z.enum(CPU_PLATFORMS, { message: `must be one of ${list(CPU_PLATFORMS)}` }).optional(),
    enableUS3: z.boolean({ message: "must be true or false" }).optional(),
    machineType: z.literal("G", { message: 'must be "G" (CompShare GPU machines)' }).optional(),
    /** Ask CheckCompShareResourceCapacity before buying (default true). */
    checkCapacity: z.boolean({ message: "must be true or false" }).optional(),
    powerState: powerStateSchema,
    timeouts: timeoutsSchema,
  })
  .superRefine((v, ctx) => {
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
    const platform = v.minimalCpuPlatform;
    if (platform === "Amd/Auto" && !spec.platforms.includes("Amd")) {
      ctx.addIssue({ code: "custom", path: ["minimalCpuPlatform"], message: `${t} runs only on Intel CPUs; use "Intel/Auto" or "Auto"` });
    }
    if (platform === "Intel/Auto" && !spec.platforms.includes("Intel")) {
      ctx.addIssue({ code: "custom", path: ["minimalCpuPlatform"], message: `${t} runs only on AMD CPUs; use "Amd/Auto" or "Auto"` });
    }
  });

export type CompShareInstanceInputs = z.input<typeof instanceInputsSchema>;
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

export const priceParamsSchema = z.object({
  ...location,
  GpuType: z.string(),
  Gpu: z.number(),
  Cpu: z.number(),
  Memory: z.number(),
  ChargeType: z.string().optional(),
  Quantity: z.number().optional(),
  CompShareImageId: z.string().optional(),
  Disks: createParamsSchema.shape.Disks.optional(),
});
export type PriceParams = z.infer<typeof priceParamsSchema>;

// ---- responses ----------------------------------------------------------------------

/** The gateway may send numbers as numeric strings (the Go SDK patches `"RetCode":"123"`). */
const wireNumber = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/).transform(Number)]);

export const envelopeSchema = z.looseObject({
  RetCode: wireNumber,
  Message: z.string().optional(),
  Action: z.string().optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

export const createResponseSchema = z.looseObject({ UHostIds: z.array(z.string()).min(1, "no UHostIds in the answer") });

export const apiInstanceSchema = z.looseObject({
  UHostId: z.string(),
  Name: z.string().optional(),
  Remark: z.string().optional(),
  Region: z.string().optional(),
  Zone: z.string().optional(),
  /** An empty string means the cloud could not fetch the state just now. */
  State: z.string().optional().default(""),
  MachineType: z.string().optional(),
  CpuPlatform: z.string().optional(),
  CPU: wireNumber.optional(),
  Memory: wireNumber.optional(),
  GPU: wireNumber.optional(),
  GpuType: z.string().optional(),
  ChargeType: z.string().optional(),
  CompShareImageId: z.string().optional(),
  CreateTime: wireNumber.optional(),
  ExpireTime: wireNumber.optional(),
  Password: z.string().optional(),
  SshLoginCommand: z.string().optional(),
  IPSet: z
    .array(z.looseObject({ IP: z.string().optional(), Type: z.string().optional() }))
    .nullish()
    .transform((v) => v ?? []),
});
export type ApiInstance = z.infer<typeof apiInstanceSchema>;

export const describeResponseSchema = z.looseObject({
  TotalCount: wireNumber.optional(),
  UHostSet: z
    .array(apiInstanceSchema)
    .nullish()
    .transform((v) => v ?? []),
});

export const capacitySpecSchema = z.looseObject({
  Gpu: wireNumber,
  Cpu: wireNumber,
  /** GB here, unlike Memory (MB) everywhere else. */
  Mem: wireNumber,
  ResourceEnough: z.boolean(),
});
export type CapacitySpec = z.infer<typeof capacitySpecSchema>;

export const capacityResponseSchema = z.looseObject({
  Specs: z
    .array(capacitySpecSchema)
    .nullish()
    .transform((v) => v ?? []),
});

export const availableTypeSchema = z.looseObject({
  Name: z.string(),
  Zone: z.string().optional(),
  Status: z.string().optional(),
  GraphicsMemory: z.looseObject({ Value: wireNumber.optional() }).optional(),
  CpuPlatforms: z.record(z.string(), z.array(z.string())).optional(),
  MachineSizes: z
    .array(
      z.looseObject({
        Gpu: wireNumber,
        Collection: z.array(z.looseObject({ Cpu: wireNumber, Memory: z.array(wireNumber) })).optional(),
      }),
    )
    .optional(),
});
export type AvailableType = z.infer<typeof availableTypeSchema>;

export const availableTypesResponseSchema = z.looseObject({
  AvailableInstanceTypes: z
    .array(availableTypeSchema)
    .nullish()
    .transform((v) => v ?? []),
});

export const priceDetailSchema = z.looseObject({
  ChargeType: z.string().optional(),
  Price: wireNumber.optional(),
  Instance: wireNumber.optional(),
  Disks: wireNumber.optional(),
  SystemDisks: wireNumber.optional(),
  CompShareImage: wireNumber.optional(),
});
export type PriceDetail = z.infer<typeof priceDetailSchema>;

/** The SDKs say `PriceDetail`, the live API (per CompShare's docs and CLI) `PriceDetails`: take either. */
export const priceResponseSchema = z
  .looseObject({
    PriceDetails: z.array(priceDetailSchema).nullish(),
    PriceDetail: z.array(priceDetailSchema).nullish(),
  })
  .transform((r) => ({ details: r.PriceDetails ?? r.PriceDetail ?? [] }));

/**
 * zod schemas for PPIO: the resource inputs (camelCase, validated in `check`) and the API's
 * wire shapes (snake_case, validated on every response). Types are inferred from these;
 * there are no hand-written duplicates.
 */
import { z } from "zod";
import { envsSchema, powerStateSchema, timeoutsSchema } from "../core/check";

// ---- inputs ---------------------------------------------------------------------------

const idString = (what: string) => z.string().min(1, `${what} must not be empty`).max(255, `${what} is at most 255 characters`);

export const portSchema = z.strictObject({
  port: z
    .number()
    .int("must be a whole number")
    .min(1, "ports are 1–65535")
    .max(65535, "ports are 1–65535")
    .refine((p) => p < 2222 || p > 2224, { message: "ports 2222–2224 are reserved by PPIO" }),
  protocol: z.enum(["tcp", "http"], { message: 'must be "tcp" or "http"' }),
});

export const instanceBillingSchema = z.strictObject({
  mode: z.enum(["postpaid", "prepaid", "spot"], { message: 'must be "postpaid", "prepaid" or "spot"' }),
  prepaid: z
    .strictObject({
      months: z.number().int().min(1, "must be at least 1 month"),
      autoRenew: z.strictObject({ enabled: z.boolean(), months: z.number().int().min(1).optional() }).optional(),
    })
    .optional(),
});

export const instanceInputsSchema = z
  .strictObject({
    name: z.string().min(1, "name must not be empty").max(255, "name is at most 255 characters").optional(),
    autonamePrefix: z.string().optional(),
    productId: idString("productId"),
    image: z.string().min(1, "image must not be empty").max(500, "image is at most 500 characters"),
    billing: instanceBillingSchema.default({ mode: "postpaid" }),
    resource: z.strictObject({
      gpuNum: z.number().int("must be a whole number").min(0).max(8, "at most 8 GPUs per instance"),
      rootfsSizeGb: z.number().int("must be a whole number").min(10, "at least 10 GB").max(6144, "at most 6144 GB"),
      type: z.enum(["gpu", "cpu"], { message: 'must be "gpu" or "cpu"' }).optional(),
      minCudaVersion: z.string().regex(/^\d+\.\d+$/, 'must look like "12.1"').optional(),
    }),
    registryAuthId: z.string().max(255, "registryAuthId is at most 255 characters").optional(),
    entrypoint: z.string().max(2047, "at most 2047 characters").optional(),
    command: z.string().max(2047, "at most 2047 characters").optional(),
    envs: envsSchema,
    ports: z.array(portSchema).max(15, "at most 15 ports").optional(),
    network: z.strictObject({ id: z.string().min(1), ip: z.string().optional() }).optional(),
    volumes: z
      .array(
        z.strictObject({
          type: z.literal("network", { message: 'must be "network"' }),
          id: z.string().min(1, "volume id must not be empty"),
          mountPoint: z.string().regex(/^\/[^\s]*$/, "must be an absolute path such as /data"),
        }),
      )
      .optional(),
    candidateRegions: z.array(z.string().min(1)).optional(),
    tools: z
      .strictObject({
        jupyter: z
          .strictObject({ enabled: z.boolean(), port: z.number().int().min(1).max(65535).optional() })
          .optional(),
      })
      .optional(),
    autoMigrate: z.strictObject({ enabled: z.boolean(), includeSystemDisk: z.boolean().optional() }).optional(),
    powerState: powerStateSchema,
    timeouts: timeoutsSchema,
  })
  .superRefine((v, ctx) => {
    const type = v.resource.type ?? "gpu";
    if (type === "gpu" && v.resource.gpuNum < 1) {
      ctx.addIssue({ code: "custom", path: ["resource", "gpuNum"], message: "a gpu instance needs 1–8 GPUs" });
    }
    if (type === "cpu" && v.resource.gpuNum !== 0) {
      ctx.addIssue({ code: "custom", path: ["resource", "gpuNum"], message: 'must be 0 when resource.type is "cpu"' });
    }
    const seen = new Set<number>();
    v.ports?.forEach((p, i) => {
      if (seen.has(p.port)) ctx.addIssue({ code: "custom", path: ["ports", i, "port"], message: `port ${p.port} is listed twice` });
      seen.add(p.port);
    });
    const tools = v.tools?.jupyter?.enabled ? 1 : 0;
    if ((v.ports?.length ?? 0) + tools > 15) {
      ctx.addIssue({ code: "custom", path: ["ports"], message: "ports plus enabled tools are at most 15" });
    }
    if (v.billing.mode === "prepaid" && !v.billing.prepaid) {
      ctx.addIssue({ code: "custom", path: ["billing", "prepaid"], message: 'required when billing.mode is "prepaid"' });
    }
  });

export type PpioInstanceInputs = z.input<typeof instanceInputsSchema>;

// ---- wire shapes ----------------------------------------------------------------------

export const statusSchema = z.looseObject({
  status: z.string(),
  error: z.string().optional().default(""),
  message: z.string().optional().default(""),
});

const kv = z.looseObject({ key: z.string(), value: z.string().optional().default("") });
const timestamp = z.union([z.number(), z.string()]).optional();

export const apiInstanceSchema = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  type: z.string().optional(),
  product_id: z.string().optional(),
  image: z.string().optional(),
  registry_auth_id: z.string().optional(),
  entrypoint: z.string().optional(),
  command: z.string().optional(),
  envs: z.array(kv).nullish(),
  ports: z
    .array(z.looseObject({ port: z.number(), protocol: z.string(), endpoint: z.string().optional() }))
    .nullish(),
  region: z.string().optional(),
  status: statusSchema,
  tools: z
    .looseObject({
      ssh: z.looseObject({ command: z.string().optional(), username: z.string().optional(), password: z.string().optional() }).nullish(),
      jupyter: z.looseObject({ endpoint: z.string().optional(), enabled: z.boolean().optional(), port: z.number().optional() }).nullish(),
    })
    .nullish(),
  created_at: timestamp,
});

export type ApiInstance = z.infer<typeof apiInstanceSchema>;

export const listSchema = <T extends z.ZodType>(item: T) =>
  z.looseObject({
    data: z.array(item).nullish().transform((d) => d ?? []),
    next_cursor: z.string().optional().default(""),
    has_more: z.boolean().optional().default(false),
  });

export const createdSchema = z.looseObject({ id: z.string().min(1) });

export const errorBodySchema = z.looseObject({
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

const wireEnvs = z.array(z.object({ key: z.string(), value: z.string() }));

/** The body of `POST /gpus/v2/instances`, snake_case as on the wire. */
export const createInstanceBodySchema = z.object({
  name: z.string(),
  product_id: z.string(),
  image: z.string(),
  billing: z.unknown(),
  resource: z.unknown(),
  registry_auth_id: z.string().optional(),
  entrypoint: z.string().optional(),
  command: z.string().optional(),
  envs: wireEnvs.optional(),
  ports: z.array(z.object({ port: z.number(), protocol: z.string() })).optional(),
  network: z.unknown().optional(),
  volumes: z.unknown().optional(),
  candidate_regions: z.array(z.string()).optional(),
  tools: z.unknown().optional(),
  auto_migrate: z.unknown().optional(),
});
export type CreateInstanceBody = z.infer<typeof createInstanceBodySchema>;

/** The body of `PUT /gpus/v2/instances/{id}/upgrade`: the complete desired container spec. */
export const upgradeInstanceBodySchema = z.object({
  image: z.string(),
  registry_auth_id: z.string().optional(),
  entrypoint: z.string().optional(),
  command: z.string().optional(),
  envs: wireEnvs.optional(),
  save_data: z.boolean().optional(),
});
export type UpgradeInstanceBody = z.infer<typeof upgradeInstanceBodySchema>;

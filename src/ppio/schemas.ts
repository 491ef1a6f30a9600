/**
 * zod schemas for PPIO: the resource inputs (camelCase, validated in `check`) and the API's
 * wire shapes (snake_case, validated on every response). Types are inferred from these;
 * there are no hand-written duplicates.
 */
import { z } from "zod";
import { envsSchema, powerStateSchema, timeoutsSchema } from "../core/check";
import { adoptIdSchema, fallbacksSchema, maxPricePerHourSchema } from "../core/choose";

/** The inputs that make a PpioInstance's shape: what a fallback may override (core/choose.ts). */
export const INSTANCE_FIELDS = ["productId", "billing", "type", "resource", "candidateRegions"] as const;

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
  // Optional even for "prepaid": the docs' own create example sends `{ "mode": "prepaid" }`
  // alone, and the platform then picks its default term.
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
    identity: z.string().optional(),
    marker: z.string().optional(),
    productId: idString("productId"),
    image: z.string().min(1, "image must not be empty").max(500, "image is at most 500 characters"),
    billing: instanceBillingSchema.default({ mode: "postpaid" }),
    // A sibling of `resource` on the wire (ppio-api.md §10, seed page).
    type: z.enum(["gpu", "cpu"], { message: 'must be "gpu" or "cpu"' }).optional(),
    resource: z.strictObject({
      gpuNum: z.number().int("must be a whole number").min(0).max(8, "at most 8 GPUs per instance"),
      rootfsSizeGb: z.number().int("must be a whole number").min(10, "at least 10 GB").max(6144, "at most 6144 GB"),
      // "" is the seed example's value: no constraint.
      minCudaVersion: z.string().regex(/^(\d+\.\d+)?$/, 'must look like "12.1" (or "" for none)').optional(),
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
          .strictObject({
            enabled: z.boolean(),
            port: z.number().int().min(1).max(65535).optional(),
            protocol: z.literal("http", { message: 'must be "http"' }).optional(),
          })
          .optional(),
      })
      .optional(),
    autoMigrate: z.strictObject({ enabled: z.boolean(), includeSystemDisk: z.boolean().optional() }).optional(),
    powerState: powerStateSchema,
    fallbacks: fallbacksSchema(INSTANCE_FIELDS),
    maxPricePerHour: maxPricePerHourSchema,
    adoptId: adoptIdSchema,
    timeouts: timeoutsSchema,
  })
  .superRefine((v, ctx) => {
    const type = v.type ?? "gpu";
    if (type === "gpu" && v.resource.gpuNum < 1) {
      ctx.addIssue({ code: "custom", path: ["resource", "gpuNum"], message: "a gpu instance needs 1–8 GPUs" });
    }
    if (type === "cpu" && v.resource.gpuNum !== 0) {
      ctx.addIssue({ code: "custom", path: ["resource", "gpuNum"], message: 'must be 0 when type is "cpu"' });
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
  });

export type PpioInstanceInputs = z.input<typeof instanceInputsSchema>;

// ---- wire shapes ----------------------------------------------------------------------
// Liberal: the API is protobuf-JSON, so a 64-bit integer may arrive as a number or a numeric
// string (ppio-api.md §10; test/wire/ppio/); optional objects may be missing or null; unknown
// fields pass through; a member that cannot be read becomes absent instead of failing the
// whole answer. Only `id` is required.

/** An integer sent as a number or a numeric string, read as a number. */
export const wireInt = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

/** Absent, null or unreadable all read as undefined. */
const opt = <T extends z.ZodType>(t: T) => t.nullish().catch(undefined).transform((v) => v ?? undefined);
const optInt = opt(wireInt);
const optStr = opt(z.string());
const optBool = opt(z.boolean());

/** A list member: items that cannot be read are dropped, not the list. */
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(z.unknown())
    .nullish()
    .catch(undefined)
    .transform((items) =>
      items?.flatMap((i) => {
        const r = item.safeParse(i);
        return r.success ? [r.data as z.output<T>] : [];
      }),
    );

export const statusSchema = z
  .looseObject({
    status: z.string().catch(""),
    error: z.string().nullish().catch("").transform((v) => v ?? ""),
    message: z.string().nullish().catch("").transform((v) => v ?? ""),
  })
  .nullish()
  .catch(undefined)
  .transform((v) => v ?? { status: "", error: "", message: "" });

const kv = z.looseObject({ key: z.string(), value: z.string().nullish().transform((v) => v ?? "") });
const timestamp = optInt;

export const apiInstanceSchema = z.looseObject({
  id: z.string(),
  name: optStr,
  type: optStr,
  product_id: optStr,
  image: optStr,
  registry_auth_id: optStr,
  entrypoint: optStr,
  command: optStr,
  envs: listOf(kv),
  ports: listOf(z.looseObject({ port: wireInt, protocol: z.string().catch(""), endpoint: optStr })),
  resource_specs: opt(
    z.looseObject({ rootfs_size_gb: optInt, gpu_num: optInt, cpu_num: optInt, memory_gb: optInt }),
  ),
  region: optStr,
  // Compared when an instance is adopted (`adoptId`); Get documents them (ppio-api.md §2).
  billing: opt(z.looseObject({ mode: optStr })),
  network: opt(z.looseObject({ id: optStr, ip: optStr })),
  volumes: listOf(z.looseObject({ type: optStr, id: optStr, mount_point: optStr })),
  auto_migrate: opt(z.looseObject({ enabled: optBool, include_system_disk: optBool })),
  status: statusSchema,
  tools: opt(
    z.looseObject({
      ssh: opt(z.looseObject({ command: optStr, username: optStr, password: optStr })),
      jupyter: opt(z.looseObject({ endpoint: optStr, enabled: optBool, port: optInt })),
      web_terminal: opt(z.looseObject({ endpoint: optStr, enabled: optBool })),
      log: opt(z.looseObject({ instance_endpoint: optStr, system_endpoint: optStr })),
    }),
  ),
  created_at: timestamp,
});

export type ApiInstance = z.infer<typeof apiInstanceSchema>;

// ---- catalogue: products and regions (ppio-api.md §6.1, §6.2) ---------------------------
// Every member optional but `id`: only the first part of the products page could be read,
// the regions item was cut off after `id` (its other fields come from third-party usage),
// and the JSON types of prices and sizes are not documented (a 64-bit integer may be a
// string, as elsewhere in this protobuf-JSON API).

/** `true`/`false` as a boolean or its text. */
const wireBool = opt(z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]));

const priceSchema = opt(z.looseObject({ base_price: optInt, final_price: optInt, unit: optStr }));

export const apiProductSchema = z.looseObject({
  id: z.string().min(1),
  name: optStr,
  type: optStr,
  category: optStr,
  description: optStr,
  region_ids: listOf(z.string()),
  resource_spec: opt(
    z.looseObject({
      gpu: opt(
        z.looseObject({
          spec_id: optStr,
          name: optStr,
          memory_gb: optInt,
          min: optInt,
          max: optInt,
          available: optInt,
          max_available: optInt,
        }),
      ),
      cpu: optInt,
      memory_gb: optInt,
      rootfs: opt(z.looseObject({ min_gb: optInt, max_gb: optInt, free_gb: optInt })),
    }),
  ),
  pricing: opt(
    z.looseObject({
      precision: optInt,
      postpaid: priceSchema,
      spot: priceSchema,
      prepaid: listOf(z.looseObject({ spec_id: optStr, duration_months: optInt, final_price: optInt, base_price: optInt })),
      storage_price_per_gb: optInt,
    }),
  ),
  billing_methods: listOf(z.string()),
  inventory_state: optStr,
  deployable: wireBool,
  activity: opt(z.looseObject({ is_activity_product: wireBool, active: wireBool, purchasable: wireBool })),
});

export type ApiProduct = z.infer<typeof apiProductSchema>;

export const apiRegionSchema = z.looseObject({
  id: z.string().min(1),
  name: optStr,
  gpus: listOf(z.string()),
  feature: opt(z.looseObject({ network_volume: wireBool, instance_vpc_network: wireBool })),
});

export type ApiRegion = z.infer<typeof apiRegionSchema>;

/** A list page. `total` is optional (the real capture has it; the docs' envelope does not). */
export const listSchema = <T extends z.ZodType>(item: T) =>
  z.looseObject({
    data: listOf(item).transform((d) => d ?? []),
    next_cursor: z
      .union([z.string(), z.number().transform(String)])
      .nullish()
      .catch("")
      .transform((v) => v ?? ""),
    has_more: z
      .union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")])
      .nullish()
      .catch(false)
      .transform((v) => v ?? false),
    total: optInt,
  });

export const createdSchema = z.looseObject({ id: z.string().min(1) });

export const errorBodySchema = z.looseObject({
  code: optInt,
  reason: optStr,
  message: optStr,
});

const wireEnvs = z.array(z.object({ key: z.string(), value: z.string() }));

/** The body of `POST /gpus/v2/instances`, snake_case as on the wire. */
export const createInstanceBodySchema = z.object({
  name: z.string(),
  product_id: z.string(),
  image: z.string(),
  billing: z.unknown(),
  resource: z.unknown(),
  type: z.enum(["gpu", "cpu"]).optional(),
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

/** The body of `PUT /gpus/v2/instances/{id}/rootfs-expand`: the GB to add (ppio-api.md §4.8). */
export const rootfsExpandBodySchema = z.object({ rootfs_size_expand_gb: z.number().int() });
export type RootfsExpandBody = z.infer<typeof rootfsExpandBodySchema>;

// ---- serverless endpoints: inputs -------------------------------------------------------

const whole = z.number().int("must be a whole number");

export const endpointWorkerConfigSchema = z.strictObject({
  minReplicas: whole.min(0, "must be at least 0").optional(),
  maxReplicas: whole.min(0, "must be 0–1000").max(1000, "must be 0–1000"),
  idleTimeout: whole.min(0, "must be at least 0 seconds").optional(),
  maxConcurrentPerWorker: whole.min(1, "must be at least 1").optional(),
  gpuNum: whole.min(1, "must be 1–8").max(8, "must be 1–8").optional(),
  rootfsSizeGb: whole.min(10, "at least 10 GB").optional(),
  minCudaVersion: z.string().regex(/^\d+\.\d+$/, 'must look like "12.1"').optional(),
  requestTimeout: whole.min(1, "must be at least 1 second").optional(),
});

export const endpointVolumeSchema = z.strictObject({
  id: z.string().max(255, "at most 255 characters"),
  type: z.enum(["local", "network"], { message: 'must be "local" or "network"' }),
  // A network volume has its own size; the Get example shows it without one (ppio-api.md §10).
  size: whole.min(1, "must be at least 1 GB").optional(),
  mountPoint: z.string().regex(/^\/[^\s]*$/, "must be an absolute path such as /data"),
});

export const endpointInputsSchema = z
  .strictObject({
    type: z.enum(["sync", "async"], { message: 'must be "sync" or "async"' }),
    name: z.string().min(1, "name must not be empty").max(255, "name is at most 255 characters").optional(),
    autonamePrefix: z.string().optional(),
    identity: z.string().optional(),
    marker: z.string().optional(),
    productId: idString("productId"),
    image: z.string().min(1, "image must not be empty").max(500, "image is at most 500 characters"),
    workerConfig: endpointWorkerConfigSchema,
    appName: z.string().max(255, "appName is at most 255 characters").optional(),
    registryAuthId: z.string().max(255, "registryAuthId is at most 255 characters").optional(),
    entrypoint: z.string().max(2047, "at most 2047 characters").optional(),
    command: z.string().max(2047, "at most 2047 characters").optional(),
    policy: z
      .strictObject({
        type: z.enum(["queue", "concurrency"], { message: 'must be "queue" or "concurrency"' }),
        value: whole.min(1, "must be at least 1"),
      })
      .optional(),
    volumes: z.array(endpointVolumeSchema).optional(),
    envs: envsSchema,
    ports: z.array(whole.min(1, "ports are 1–65535").max(65535, "ports are 1–65535")).optional(),
    healthCheck: z
      .strictObject({
        path: z.string().regex(/^\/\S*$/, "must be an absolute URL path such as /health"),
        port: whole.min(1, "ports are 1–65535").max(65535, "ports are 1–65535"),
      })
      .optional(),
    regionId: idString("regionId").optional(),
    adoptId: adoptIdSchema,
    timeouts: timeoutsSchema,
  })
  .superRefine((v, ctx) => {
    // Cross-field rules only look at values that are already numbers: during preview a
    // field may still be unknown, and its own schema reports (or forgives) it.
    const { minReplicas, maxReplicas } = v.workerConfig ?? {};
    if (typeof minReplicas === "number" && typeof maxReplicas === "number" && minReplicas > maxReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["workerConfig", "minReplicas"],
        message: `must not exceed workerConfig.maxReplicas (${maxReplicas})`,
      });
    }
    const seen = new Set<number>();
    if (Array.isArray(v.ports)) {
      v.ports.forEach((p, i) => {
        if (seen.has(p)) ctx.addIssue({ code: "custom", path: ["ports", i], message: `port ${p} is listed twice` });
        seen.add(p);
      });
    }
    if (Array.isArray(v.volumes)) {
      v.volumes.forEach((vol, i) => {
        if (vol?.type === "network" && vol.id === "") {
          ctx.addIssue({ code: "custom", path: ["volumes", i, "id"], message: "a network volume needs its id" });
        }
        if (vol?.type === "local" && vol.size === undefined) {
          ctx.addIssue({ code: "custom", path: ["volumes", i, "size"], message: "a local volume needs its size in GB" });
        }
      });
    }
  });

export type PpioEndpointInputs = z.input<typeof endpointInputsSchema>;

// ---- serverless endpoints: wire shapes --------------------------------------------------

export const apiEndpointSchema = z.looseObject({
  id: z.string(),
  type: optStr,
  name: optStr,
  app_name: optStr,
  status: statusSchema,
  url: optStr,
  product_id: optStr,
  worker_config: opt(
    z.looseObject({
      min_replicas: optInt,
      max_replicas: optInt,
      idle_timeout: optInt,
      max_concurrent_per_worker: optInt,
      gpu_num: optInt,
      rootfs_size_gb: optInt,
      min_cuda_version: optStr,
      request_timeout: optInt,
    }),
  ),
  policy: opt(z.looseObject({ type: z.string(), value: wireInt })),
  image: optStr,
  registry_auth_id: optStr,
  entrypoint: optStr,
  command: optStr,
  volumes: listOf(
    z.looseObject({
      id: z.string().nullish().transform((v) => v ?? ""),
      type: z.string(),
      size: optInt,
      mount_point: z.string(),
    }),
  ),
  envs: listOf(kv),
  ports: listOf(wireInt),
  workers: listOf(z.looseObject({ id: z.string(), status: statusSchema })),
  health_check: opt(z.looseObject({ path: z.string(), port: wireInt })),
  region_id: optStr,
  created_at: timestamp,
});

export type ApiEndpoint = z.infer<typeof apiEndpointSchema>;

const wireWorkerConfig = z.object({
  max_replicas: z.number(),
  min_replicas: z.number().optional(),
  idle_timeout: z.number().optional(),
  max_concurrent_per_worker: z.number().optional(),
  gpu_num: z.number().optional(),
  rootfs_size_gb: z.number().optional(),
  min_cuda_version: z.string().optional(),
  request_timeout: z.number().optional(),
});

/** The fields `PUT /gpus/v2/endpoints/{id}` accepts: everything but `type` and `app_name`. */
export const updateEndpointBodySchema = z.object({
  name: z.string().optional(),
  product_id: z.string().optional(),
  image: z.string().optional(),
  worker_config: wireWorkerConfig.optional(),
  registry_auth_id: z.string().optional(),
  entrypoint: z.string().optional(),
  command: z.string().optional(),
  policy: z.object({ type: z.string(), value: z.number() }).optional(),
  volumes: z
    .array(z.object({ id: z.string(), type: z.string(), size: z.number().optional(), mount_point: z.string() }))
    .optional(),
  envs: wireEnvs.optional(),
  ports: z.array(z.number()).optional(),
  health_check: z.object({ path: z.string(), port: z.number() }).optional(),
  region_id: z.string().optional(),
});
export type UpdateEndpointBody = z.infer<typeof updateEndpointBodySchema>;

/** The body of `POST /gpus/v2/endpoints`: the update fields plus the two fixed at creation. */
export const createEndpointBodySchema = updateEndpointBodySchema.extend({
  type: z.string(),
  name: z.string(),
  product_id: z.string(),
  image: z.string(),
  worker_config: wireWorkerConfig,
  app_name: z.string().optional(),
});
export type CreateEndpointBody = z.infer<typeof createEndpointBodySchema>;

// The emulator's own reading of PPIO v2 request bodies (snake_case, as on the wire), written
// from ppio-api.md and the wire corpus (test/wire/ppio/), never from the client. Every problem
// reads "<snake_case path>: <rule>", joined into one VALIDATOR_PARAM message. Unknown fields
// are dropped, as a protobuf-JSON gateway does; integers must be JSON numbers, the form the
// docs' request examples use.

import { z } from "zod";
import catalogue from "./catalogue.json";
import { invalid } from "./errors";

const { limits } = catalogue;
const RESERVED = new Set(limits.reservedPorts);

const absent = (input: unknown) => input === undefined || input === null;

/** A string of `min`–`max` characters; absent (or null) is "is required". */
const str = (min: number, max: number) =>
  z
    .string({ error: (i) => (absent(i.input) ? "is required" : "must be a string") })
    .refine((v) => v.length >= min && v.length <= max, {
      message: min > 0 ? `length must be between ${min} and ${max}` : `length must be at most ${max}`,
    });

/** An optional string, "" when absent. */
const optStr = (max: number) => str(0, max).nullish().transform((v) => v ?? "");

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const rule = max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer between ${min} and ${max}`;
  return z
    .number({ error: (i) => (absent(i.input) ? "is required" : rule) })
    .refine((v) => Number.isSafeInteger(v) && v >= min && v <= max, { message: rule });
};

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (i) => (absent(i.input) ? `is required (one of ${values.join(", ")})` : `must be one of ${values.join(", ")}`),
  });

const bool = z.boolean({ error: "must be a boolean" });

const obj = <S extends z.ZodRawShape>(shape: S) =>
  z.object(shape, { error: (i) => (absent(i.input) ? "is required" : "must be an object") });

const list = <T extends z.ZodType>(item: T) => z.array(item, { error: (i) => (absent(i.input) ? "is required" : "must be an array") });

/** Optional members: absent and null both mean "not sent". */
const maybe = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

// ---- shared pieces --------------------------------------------------------------------------

const envs = maybe(
  list(obj({ key: str(1, 511), value: optStr(4095) })).refine((e) => e.length <= limits.maxEnvs, {
    message: `at most ${limits.maxEnvs} items`,
  }),
).transform((v) => v ?? []);

const portNumber = int(1, 65535).refine((p) => !RESERVED.has(p), {
  message: "is reserved (2222-2224 are used by the platform)",
});

const instancePorts = list(obj({ port: portNumber, protocol: oneOf(["tcp", "http"] as const) })).superRefine((ports, ctx) => {
  const seen = new Set<number>();
  ports.forEach((p, i) => {
    if (seen.has(p.port)) ctx.addIssue({ code: "custom", path: [i, "port"], message: `duplicate port ${p.port}` });
    seen.add(p.port);
  });
});

// ---- instances ------------------------------------------------------------------------------

const billing = obj({
  mode: oneOf(["postpaid", "prepaid", "spot"] as const),
  // `{ "mode": "prepaid" }` alone is the seed's example; the emulator then picks one month.
  prepaid: maybe(
    obj({
      months: maybe(int(1, 120)),
      auto_renew: maybe(obj({ enabled: maybe(bool), months: maybe(int(1, 120)) })),
    }),
  ),
});

/** `POST /gpus/v2/instances` (seed page; ppio-api.md §4.1 and §10: `type` is top level). */
export const createInstanceSchema = z
  .object({
    name: str(1, 255),
    product_id: str(1, 255),
    image: str(1, 500),
    type: maybe(oneOf(["gpu", "cpu"] as const)).transform((t) => t ?? "gpu"),
    billing,
    resource: obj({
      gpu_num: maybe(int(0, limits.gpuNum.max)),
      rootfs_size_gb: int(limits.rootfsGb.min, limits.rootfsGb.max),
      // "" is the seed's example value: no constraint
      min_cuda_version: optStr(63),
    }),
    registry_auth_id: optStr(255),
    entrypoint: optStr(2047),
    command: optStr(2047),
    envs,
    ports: maybe(instancePorts).transform((v) => v ?? []),
    network: maybe(obj({ id: str(1, 255), ip: optStr(64) })).transform((n) => n ?? { id: "", ip: "" }),
    volumes: maybe(list(obj({ type: oneOf(["network"] as const), id: str(1, 255), mount_point: str(1, 4095) }))).transform(
      (v) => v ?? [],
    ),
    candidate_regions: maybe(list(str(1, 255))).transform((v) => v ?? []),
    tools: maybe(
      obj({
        jupyter: maybe(
          obj({
            enabled: maybe(bool).transform((v) => v ?? false),
            port: maybe(int(1, 65535)).transform((v) => v ?? 8888),
            protocol: maybe(oneOf(["http"] as const)).transform((v) => v ?? "http"),
          }),
        ),
      }),
    ).transform((t) => t ?? { jupyter: undefined }),
    auto_migrate: maybe(obj({ enabled: maybe(bool), include_system_disk: maybe(bool) })).transform((m) => ({
      enabled: m?.enabled ?? false,
      include_system_disk: m?.include_system_disk ?? false,
    })),
  })
  .superRefine((b, ctx) => {
    const gpus = b.resource.gpu_num;
    if (b.type === "gpu" && (gpus === undefined || gpus < limits.gpuNum.min)) {
      ctx.addIssue({
        code: "custom",
        path: ["resource", "gpu_num"],
        message: `must be an integer between ${limits.gpuNum.min} and ${limits.gpuNum.max} for a gpu instance`,
      });
    }
    const jupyter = b.tools.jupyter;
    if (jupyter?.enabled && RESERVED.has(jupyter.port)) {
      ctx.addIssue({ code: "custom", path: ["tools", "jupyter", "port"], message: `${jupyter.port} is reserved (2222-2224 are used by the platform)` });
    }
    const total = b.ports.length + (jupyter?.enabled ? 1 : 0);
    if (total > limits.maxPortsAndTools) {
      ctx.addIssue({
        code: "custom",
        path: ["ports"],
        message: `at most ${limits.maxPortsAndTools} ports and enabled tools in total, got ${total}`,
      });
    }
  })
  .transform((b) => ({ ...b, resource: { ...b.resource, gpu_num: b.resource.gpu_num ?? 0 } }));

export type InstanceSpec = z.output<typeof createInstanceSchema>;

/** `PUT /gpus/v2/instances/{id}/upgrade` (ppio-api.md §4.6). */
export const upgradeSchema = z.object({
  image: str(1, 500),
  registry_auth_id: optStr(255),
  entrypoint: optStr(2047),
  command: optStr(2047),
  envs,
  save_data: maybe(bool).transform((v) => v ?? false),
});
export type UpgradeSpec = z.output<typeof upgradeSchema>;

/** `PUT /gpus/v2/instances/{id}/ports` (ppio-api.md §4.7): the whole new set. */
export const portsSchema = z.object({ ports: instancePorts });

/** `PUT /gpus/v2/instances/{id}/rootfs-expand` (ppio-api.md §4.8, §10): the GB to add. */
export const rootfsExpandSchema = z.object({ rootfs_size_expand_gb: int(1, limits.rootfsGb.max) });

// ---- endpoints ------------------------------------------------------------------------------

/** `worker_config` is always replaced whole: what it omits takes the platform default. */
const workerConfig = obj({
  max_replicas: int(0, 1000),
  min_replicas: maybe(int(0, 1000)),
  idle_timeout: maybe(int(0)),
  max_concurrent_per_worker: maybe(int(1)),
  gpu_num: maybe(int(1, 8)),
  rootfs_size_gb: maybe(int(10)),
  min_cuda_version: maybe(str(0, 63)),
  request_timeout: maybe(int(1)),
})
  .superRefine((w, ctx) => {
    const min = w.min_replicas ?? 0;
    if (min > w.max_replicas) {
      ctx.addIssue({ code: "custom", path: ["min_replicas"], message: `must not exceed max_replicas (${w.max_replicas})` });
    }
  })
  .transform((w) => {
    const d = catalogue.endpoint.workerDefaults;
    return {
      min_replicas: w.min_replicas ?? d.min_replicas,
      max_replicas: w.max_replicas,
      idle_timeout: w.idle_timeout ?? d.idle_timeout,
      max_concurrent_per_worker: w.max_concurrent_per_worker ?? d.max_concurrent_per_worker,
      gpu_num: w.gpu_num ?? d.gpu_num,
      rootfs_size_gb: w.rootfs_size_gb ?? d.rootfs_size_gb,
      min_cuda_version: w.min_cuda_version ?? d.min_cuda_version,
      request_timeout: w.request_timeout ?? d.request_timeout,
    };
  });
export type WorkerConfig = z.output<typeof workerConfig>;

const policy = obj({ type: oneOf(["queue", "concurrency"] as const), value: int(1) });

// A network volume has its own size: the Get example shows it without one (ppio-api.md §10);
// a local volume is made to the size asked.
const endpointVolume = obj({
  type: oneOf(["local", "network"] as const),
  id: optStr(255),
  size: maybe(int(1)),
  mount_point: str(1, 4095),
}).superRefine((v, ctx) => {
  if (v.type === "network" && !v.id) ctx.addIssue({ code: "custom", path: ["id"], message: "is required" });
  if (v.type === "local" && v.size === undefined) ctx.addIssue({ code: "custom", path: ["size"], message: "is required" });
});
export type EndpointVolume = z.output<typeof endpointVolume>;

const endpointPorts = list(int(1, 65535)).superRefine((ports, ctx) => {
  ports.forEach((p, i) => {
    if (ports.indexOf(p) !== i) ctx.addIssue({ code: "custom", path: [i], message: `duplicate port ${p}` });
  });
});

const healthCheck = obj({ path: str(1, 255), port: int(1, 65535) });

/** The members both the create and the update take (ppio-api.md §5.3, §5.4). */
const endpointFields = {
  registry_auth_id: maybe(str(0, 255)),
  entrypoint: maybe(str(0, 2047)),
  command: maybe(str(0, 2047)),
  policy: maybe(policy),
  volumes: maybe(list(endpointVolume)),
  envs: maybe(envs),
  ports: maybe(endpointPorts),
  health_check: maybe(healthCheck),
};

/** `POST /gpus/v2/endpoints`, the platform's defaults filled in. */
export const createEndpointSchema = z
  .object({
    type: oneOf(["sync", "async"] as const),
    name: str(1, 255),
    product_id: str(1, 255),
    image: str(1, 500),
    worker_config: workerConfig,
    app_name: optStr(255),
    region_id: maybe(str(0, 255)),
    ...endpointFields,
  })
  .transform((b) => ({
    ...b,
    registry_auth_id: b.registry_auth_id ?? "",
    entrypoint: b.entrypoint ?? "",
    command: b.command ?? "",
    policy: b.policy ?? { type: catalogue.endpoint.defaultPolicy.type as "queue" | "concurrency", value: catalogue.endpoint.defaultPolicy.value },
    volumes: b.volumes ?? [],
    envs: b.envs ?? [],
    ports: b.ports ?? [],
    health_check: b.health_check ?? null,
    region_id: b.region_id || catalogue.defaultRegion,
  }));
export type EndpointSpec = z.output<typeof createEndpointSchema>;

/** `PUT /gpus/v2/endpoints/{id}`: only what was sent; the rest is kept. `type` and `app_name` are fixed. */
export const updateEndpointSchema = z
  .object({
    type: z.unknown().optional(),
    app_name: z.unknown().optional(),
    name: maybe(str(1, 255)),
    product_id: maybe(str(1, 255)),
    // the docs allow an empty image on update; it can only mean "keep the current one"
    image: maybe(str(0, 500)).transform((v) => v || undefined),
    worker_config: maybe(workerConfig),
    region_id: maybe(str(0, 255)).transform((v) => v || undefined),
    ...endpointFields,
  })
  .superRefine((b, ctx) => {
    for (const fixed of ["type", "app_name"] as const) {
      if (!absent(b[fixed])) ctx.addIssue({ code: "custom", path: [fixed], message: "cannot be changed after creation" });
    }
  })
  .transform(({ type: _t, app_name: _a, ...rest }) => rest);
export type EndpointUpdate = Partial<z.output<typeof updateEndpointSchema>>;

// ---- list queries ---------------------------------------------------------------------------

const queryStr = (max: number) =>
  z
    .string()
    .nullish()
    .refine((v) => (v ?? "").length <= max, { message: `length must be at most ${max}` })
    .transform((v) => v || undefined);

const limit = z
  .string()
  .nullish()
  .refine((v) => !v || /^\d+$/.test(v), { message: "must be a non-negative integer" })
  .transform((v) => {
    const n = v ? Number(v) : 0;
    return n > 0 ? Math.min(n, limits.listLimit.max) : limits.listLimit.default;
  });

const paging = { limit, cursor: z.string().nullish().transform((v) => v || undefined) };

/** `GET /gpus/v2/instances` (ppio-api.md §4.3). */
export const instanceListQuery = z.object({
  ...paging,
  name: queryStr(255),
  status: queryStr(63),
  regions: queryStr(1024).transform((v) => v?.split(",").map((r) => r.trim()).filter(Boolean)),
  billing_mode: queryStr(63),
});

const queryInt = z
  .string()
  .nullish()
  .refine((v) => !v || /^\d+$/.test(v), { message: "must be a non-negative integer" })
  .transform((v) => (v ? Number(v) : undefined));

/**
 * `GET /gpus/v2/products` (ppio-api.md §6.1): `type` and `category` are required, an empty
 * `type` is `gpu`; `region_ids` is read as a comma-separated list (inferred: the docs' text
 * was cut off there). `limit`/`cursor` are what one third-party CLI sends; without `limit`
 * the emulator answers every match on one page.
 */
export const productListQuery = z.object({
  type: z
    .string({ error: "is required (one of gpu, cpu)" })
    .transform((v) => v || "gpu")
    .pipe(oneOf(["gpu", "cpu"] as const)),
  category: oneOf(["instance", "serverless"] as const),
  region_ids: queryStr(1024).transform((v) => v?.split(",").map((r) => r.trim()).filter(Boolean)),
  billing_method: maybe(oneOf(["postpaid", "prepaid", "spot"] as const)),
  cpu: queryInt,
  memory_gb: queryInt,
  rootfs_size: queryInt,
  limit: queryInt,
  cursor: z.string().nullish().transform((v) => v || undefined),
});

/** `GET /gpus/v2/regions` (ppio-api.md §6.2). */
export const regionListQuery = z.object({ ...paging });

/** `GET /gpus/v2/endpoints`. */
export const endpointListQuery = z.object({ ...paging, keyword: queryStr(255) });

// ---- reading ------------------------------------------------------------------------------

const where = (path: PropertyKey[]) =>
  path.reduce<string>((s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), "");

/** Parses with a wire schema; every problem becomes part of one VALIDATOR_PARAM error. */
export function read<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw invalid(r.error.issues.map((i) => `${where(i.path) || "body"}: ${i.message}`).join("; "));
}

/** A query string as a plain object for the list schemas. */
export const queryObject = (q: URLSearchParams) => Object.fromEntries(q.entries());

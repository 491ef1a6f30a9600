/**
 * Invariant 6 under generated input: every invalid object `check` sees yields at least one
 * CheckFailure naming an offending property, with no request to any cloud; every valid one
 * passes with no failure and comes back meaning the same thing.
 *
 * Invalid objects are a generated valid object with one generated defect: a wrong type, an
 * out-of-range number, a bad enum, an over-long string, a bad port, a malformed env key, a
 * missing or unknown property, or an inconsistent combination. Each defect names the
 * property (or the prefix of it) that a failure must point at.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHARGE_TYPES, DISK_TYPES, GPU_TYPE_NAMES, GPU_TYPES, type GpuType } from "../../src/compshare/schemas";
import type { Emulator } from "../../src/emulator/server";
import { PROVIDER_TEXT } from "../support/fixtures";
import { DRIVERS, type Props, type ResourceName, startCanaryEmulator } from "./drivers";
import { writeResults } from "./run";

const INVALID_RUNS = 250;
const VALID_RUNS = 200;

let emu: Emulator;
const tally: Record<string, { resource: ResourceName; invalid: number; valid: number; requests?: number }> = {};

beforeAll(async () => {
  emu = await startCanaryEmulator();
  // If check ever called a cloud, it would call this emulator, which records every request.
  for (const d of Object.values(DRIVERS)) d.provider.configure(d.config(emu));
});
afterAll(async () => {
  const requests = emu.requests.length;
  for (const t of Object.values(tally)) t.requests = requests;
  writeResults("check.json", Object.values(tally));
  await emu.close();
});

// ---- building blocks -------------------------------------------------------------------

/** Inputs reach a provider as protobuf Structs: plain JSON, ordinary prototypes. */
const asJson = <T>(v: T): T => JSON.parse(JSON.stringify(v));

const opt = { noNullPrototype: true } as const;
const rec = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T, required: (keyof T)[] = Object.keys(model)) =>
  fc.record(model, { requiredKeys: required as never, ...opt }) as fc.Arbitrary<Props>;

const text = (min: number, max: number) => fc.string({ minLength: min, maxLength: max });
const longer = (max: number) => fc.integer({ min: max + 1, max: max + 40 }).map((n) => "x".repeat(n));
const cuda = fc.tuple(fc.integer({ min: 10, max: 13 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => `${a}.${b}`);
const duration = fc.constantFrom("90s", "20m", "1h30m", "1h", "45m10s", "2s");
const timeouts = rec({ create: duration, update: duration, delete: duration }, []);
const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,24}$/).filter((k) => k !== "__proto__");
const envs = fc.dictionary(envKey, text(0, 40), { maxKeys: 6, ...opt });
const absPath = fc.stringMatching(/^\/[a-z0-9_/.-]{0,20}$/);
const powerState = fc.constantFrom("running", "stopped");

/** A defect: where the failure must point, and how to put it into a valid object. */
interface Defect {
  property: string;
  apply(valid: Props): Props;
}
const defect = (property: string, bad: fc.Arbitrary<unknown>, put?: (v: Props, bad: any) => Props): fc.Arbitrary<Defect> =>
  bad.map((b) => ({ property, apply: (v) => (put ? put(v, b) : { ...v, [property]: b }) }));
const without = (property: string): fc.Arbitrary<Defect> =>
  fc.constant({ property, apply: ({ [property]: _gone, ...rest }: Props) => rest });
const unknownKey = (names: string[]) =>
  fc.constantFrom(...names).map((k): Defect => ({ property: k, apply: (v) => ({ ...v, [k]: "x" }) }));
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));
const wrongTypeNotString = wrongType;
const wrongTypeNotNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.constant([1]));

const badEnvs = fc.oneof(
  fc.constantFrom("1ABC", "A B", "A=B", "", "ÄPFEL", "-x", "a/b").map((k) => ({ [k]: "v" })),
  fc.constant({ ["A".repeat(512)]: "v" }),
  fc.constant({ A: "x".repeat(4096) }),
  fc.constant(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${i}`, "v"]))),
  fc.constant({ A: 1 }),
  // The API's list form, with a key given twice: a map cannot hold duplicates, the list is refused.
  fc.constant([
    { key: "A", value: "1" },
    { key: "A", value: "2" },
  ]),
);
const badDuration = fc.constantFrom("10 minutes", "0s", "", "5", "1d", "-1m", "1h-5m");
const badTimeouts = fc.oneof(
  badDuration.map((d) => ({ create: d })),
  badDuration.map((d) => ({ delete: d })),
  fc.constant({ read: "5m" }),
  fc.constant("20m"),
);

// ---- PpioInstance ------------------------------------------------------------------------

const ppioPort = rec({
  port: fc.integer({ min: 1, max: 65535 }).filter((p) => p < 2222 || p > 2224),
  protocol: fc.constantFrom("tcp", "http"),
});

const ppioInstanceValid: fc.Arbitrary<Props> = rec(
  {
    name: text(1, 60),
    productId: text(1, 40),
    image: text(1, 80),
    billing: fc.oneof(
      rec({ mode: fc.constantFrom("postpaid", "spot") }),
      rec({
        mode: fc.constant("prepaid"),
        prepaid: rec(
          { months: fc.integer({ min: 1, max: 36 }), autoRenew: rec({ enabled: fc.boolean(), months: fc.integer({ min: 1, max: 12 }) }, ["enabled"]) },
          ["months"],
        ),
      }),
    ),
    resource: fc.oneof(
      rec(
        { gpuNum: fc.integer({ min: 1, max: 8 }), rootfsSizeGb: fc.integer({ min: 10, max: 6144 }), minCudaVersion: cuda },
        ["gpuNum", "rootfsSizeGb"],
      ),
      rec({ gpuNum: fc.constant(0), rootfsSizeGb: fc.integer({ min: 10, max: 6144 }) }),
    ),
    registryAuthId: text(0, 40),
    entrypoint: text(0, 60),
    command: text(0, 60),
    envs,
    ports: fc.uniqueArray(ppioPort, { maxLength: 10, selector: (p) => p.port }),
    network: rec({ id: text(1, 20), ip: fc.ipV4() }, ["id"]),
    volumes: fc.array(rec({ type: fc.constant("network"), id: text(1, 20), mountPoint: absPath }), { maxLength: 3 }),
    candidateRegions: fc.array(text(1, 12), { maxLength: 3 }),
    tools: rec({ jupyter: rec({ enabled: fc.boolean(), port: fc.integer({ min: 1, max: 65535 }), protocol: fc.constant("http") }, ["enabled"]) }, []),
    autoMigrate: rec({ enabled: fc.boolean(), includeSystemDisk: fc.boolean() }, ["enabled"]),
    powerState,
    timeouts,
  },
  ["productId", "image", "resource"],
).map((v) => {
  // `type` sits beside `resource` and must agree with its GPU count
  const r = v.resource as Props;
  return r.gpuNum === 0 ? { ...v, type: "cpu" } : (r.rootfsSizeGb as number) % 2 === 0 ? { ...v, type: "gpu" } : v;
});

const setIn = (v: Props, key: string, patch: Props) => ({ ...v, [key]: { ...(v[key] as Props), ...patch } });

const ppioInstanceDefects: fc.Arbitrary<Defect> = fc.oneof(
  defect("productId", fc.oneof(wrongTypeNotString, fc.constant(""), longer(255))),
  defect("image", fc.oneof(wrongTypeNotString, fc.constant(""), longer(500))),
  defect("name", fc.oneof(wrongTypeNotString, fc.constant(""), longer(255))),
  without("productId"),
  without("image"),
  without("resource"),
  defect(
    "resource.gpuNum",
    fc.oneof(fc.integer({ min: 9, max: 1000 }), fc.integer({ min: -1000, max: -1 }), fc.constant(1.5), fc.constant("2")),
    (v, b) => ({ ...setIn(v, "resource", { gpuNum: b }), type: "gpu" }),
  ),
  // inconsistent: a CPU instance with GPUs, a GPU instance without
  defect("resource.gpuNum", fc.integer({ min: 1, max: 8 }), (v, b) => ({ ...setIn(v, "resource", { gpuNum: b }), type: "cpu" })),
  defect("resource.gpuNum", fc.constant(0), (v) => ({ ...setIn(v, "resource", { gpuNum: 0 }), type: "gpu" })),
  defect(
    "resource.rootfsSizeGb",
    fc.oneof(fc.integer({ min: -5, max: 9 }), fc.integer({ min: 6145, max: 100_000 }), fc.constant("50"), fc.constant(10.5)),
    (v, b) => setIn(v, "resource", { rootfsSizeGb: b }),
  ),
  defect("type", fc.constantFrom("tpu", "GPU", "")),
  // `type` belongs beside `resource`, not inside it
  defect("resource.type", fc.constant("gpu"), (v, b) => setIn(v, "resource", { type: b })),
  defect("resource.minCudaVersion", fc.constantFrom("12", "v12.1", "12.1.0"), (v, b) => setIn(v, "resource", { minCudaVersion: b })),
  defect("resource.disk", fc.constant(1), (v) => setIn(v, "resource", { disk: 1 })),
  defect("billing.mode", fc.constantFrom("monthly", "", "PREPAID"), (v, b) => ({ ...v, billing: { mode: b } })),
  defect("billing.prepaid.months", fc.constantFrom(0, -1, 1.5), (v, b) => ({ ...v, billing: { mode: "prepaid", prepaid: { months: b } } })),
  defect(
    "ports",
    fc.oneof(fc.integer({ min: -10, max: 0 }), fc.integer({ min: 65536, max: 200_000 }), fc.integer({ min: 2222, max: 2224 }), fc.constant(80.5)),
    (v, p) => ({ ...v, ports: [{ port: p, protocol: "tcp" }] }),
  ),
  defect("ports", fc.constantFrom("udp", "TCP", "https"), (v, proto) => ({ ...v, ports: [{ port: 8080, protocol: proto }] })),
  defect("ports", fc.integer({ min: 3000, max: 9000 }), (v, p) => ({ ...v, ports: [{ port: p, protocol: "tcp" }, { port: p, protocol: "http" }] })),
  defect("ports", fc.constant(16), (v, n) => ({ ...v, ports: Array.from({ length: n }, (_, i) => ({ port: 10_000 + i, protocol: "tcp" })) })),
  defect("ports", fc.constantFrom("8080", 8080, { port: 8080 })),
  defect("ports", fc.constant(0), (v) => ({ ...v, ports: [{ port: 8080, protocol: "tcp", host: "0.0.0.0" }] })),
  defect("envs", badEnvs),
  defect("powerState", fc.constantFrom("paused", "on", "Running", "")),
  defect("timeouts", badTimeouts),
  defect("volumes", fc.constantFrom("data", "", "~/data"), (v, m) => ({ ...v, volumes: [{ type: "network", id: "vol-1", mountPoint: m }] })),
  defect("volumes", fc.constantFrom("local", "nfs"), (v, t) => ({ ...v, volumes: [{ type: t, id: "vol-1", mountPoint: "/data" }] })),
  defect("tools", fc.constantFrom(0, 65536, -1), (v, p) => ({ ...v, tools: { jupyter: { enabled: true, port: p } } })),
  defect("network", fc.constantFrom({}, { ip: "10.0.0.1" }, "net-1")),
  defect("candidateRegions", fc.constantFrom([""], "cn-sh", [1])),
  defect("registryAuthId", longer(255)),
  defect("entrypoint", longer(2047)),
  defect("command", fc.oneof(longer(2047), fc.constant(["python", "serve.py"]))),
  defect("autoMigrate", fc.constantFrom({}, { enabled: "yes" }, true)),
  unknownKey(["imagee", "gpuNum", "region", "sshKey", "tags"]),
);

// ---- PpioEndpoint ------------------------------------------------------------------------

const workerConfig = fc.integer({ min: 0, max: 1000 }).chain((max) =>
  rec(
    {
      maxReplicas: fc.constant(max),
      minReplicas: fc.integer({ min: 0, max }),
      idleTimeout: fc.integer({ min: 0, max: 3600 }),
      maxConcurrentPerWorker: fc.integer({ min: 1, max: 64 }),
      gpuNum: fc.integer({ min: 1, max: 8 }),
      rootfsSizeGb: fc.integer({ min: 10, max: 500 }),
      minCudaVersion: cuda,
      requestTimeout: fc.integer({ min: 1, max: 3600 }),
    },
    ["maxReplicas"],
  ),
);

const endpointVolume = fc.oneof(
  rec({ id: text(1, 20), type: fc.constant("network"), size: fc.integer({ min: 1, max: 1000 }), mountPoint: absPath }, ["id", "type", "mountPoint"]),
  rec({ id: text(0, 20), type: fc.constant("local"), size: fc.integer({ min: 1, max: 1000 }), mountPoint: absPath }),
);

const ppioEndpointValid: fc.Arbitrary<Props> = rec(
  {
    type: fc.constantFrom("sync", "async"),
    name: text(1, 60),
    productId: text(1, 40),
    image: text(1, 80),
    workerConfig,
    appName: text(0, 40),
    registryAuthId: text(0, 40),
    entrypoint: text(0, 60),
    command: text(0, 60),
    policy: rec({ type: fc.constantFrom("queue", "concurrency"), value: fc.integer({ min: 1, max: 100 }) }),
    volumes: fc.array(endpointVolume, { maxLength: 3 }),
    envs,
    ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 5 }),
    healthCheck: rec({ path: absPath, port: fc.integer({ min: 1, max: 65535 }) }),
    regionId: text(1, 20),
    timeouts,
  },
  ["type", "productId", "image", "workerConfig"],
);

const inWorkers = (patch: Props) => (v: Props) => setIn(v, "workerConfig", patch);

const ppioEndpointDefects: fc.Arbitrary<Defect> = fc.oneof(
  defect("type", fc.oneof(fc.constantFrom("batch", "", "SYNC"), wrongTypeNotString)),
  without("type"),
  without("workerConfig"),
  defect("productId", fc.oneof(wrongTypeNotString, fc.constant(""), longer(255))),
  defect("image", fc.oneof(fc.constant(""), longer(500), wrongTypeNotString)),
  defect("name", fc.oneof(fc.constant(""), longer(255))),
  defect("workerConfig", fc.constantFrom(null, 3, "1-3", [])),
  defect("workerConfig.maxReplicas", fc.oneof(fc.integer({ min: 1001, max: 10_000 }), fc.constant(-1), fc.constant(2.5), wrongTypeNotNumber), (v, b) =>
    inWorkers({ maxReplicas: b })(v),
  ),
  defect("workerConfig.maxReplicas", fc.constant(0), (v) => ({ ...v, workerConfig: { minReplicas: 1 } })),
  // inconsistent: more replicas at minimum than at maximum
  defect("workerConfig.minReplicas", fc.integer({ min: 0, max: 999 }), (v, max) => inWorkers({ maxReplicas: max, minReplicas: max + 1 })(v)),
  defect("workerConfig.minReplicas", fc.constantFrom(-1, 0.5, "1"), (v, b) => inWorkers({ minReplicas: b })(v)),
  defect("workerConfig.gpuNum", fc.constantFrom(0, 9, 1.5), (v, b) => inWorkers({ gpuNum: b })(v)),
  defect("workerConfig.rootfsSizeGb", fc.integer({ min: -1, max: 9 }), (v, b) => inWorkers({ rootfsSizeGb: b })(v)),
  defect("workerConfig.idleTimeout", fc.integer({ min: -100, max: -1 }), (v, b) => inWorkers({ idleTimeout: b })(v)),
  defect("workerConfig.maxConcurrentPerWorker", fc.integer({ min: -5, max: 0 }), (v, b) => inWorkers({ maxConcurrentPerWorker: b })(v)),
  defect("workerConfig.requestTimeout", fc.integer({ min: -5, max: 0 }), (v, b) => inWorkers({ requestTimeout: b })(v)),
  defect("workerConfig.minCudaVersion", fc.constantFrom("12", "12.x", ""), (v, b) => inWorkers({ minCudaVersion: b })(v)),
  defect("workerConfig.replicas", fc.constant(2), (v, b) => inWorkers({ replicas: b })(v)),
  defect("ports", fc.oneof(fc.integer({ min: -10, max: 0 }), fc.integer({ min: 65536, max: 100_000 }), fc.constant(80.5)), (v, p) => ({ ...v, ports: [p] })),
  defect("ports", fc.integer({ min: 1, max: 65535 }), (v, p) => ({ ...v, ports: [p, p] })),
  defect("ports", fc.constantFrom(["8000"], "8000", [{ port: 8000 }])),
  defect("healthCheck", fc.constantFrom("health", "", "http://x/health"), (v, p) => ({ ...v, healthCheck: { path: p, port: 8000 } })),
  defect("healthCheck", fc.constantFrom(0, 65536, "8000"), (v, p) => ({ ...v, healthCheck: { path: "/health", port: p } })),
  defect("policy", fc.constantFrom("rps", "", "QUEUE"), (v, t) => ({ ...v, policy: { type: t, value: 1 } })),
  defect("policy", fc.constantFrom(0, -1, 1.5), (v, n) => ({ ...v, policy: { type: "queue", value: n } })),
  defect("volumes", fc.constantFrom("nfs", "", "Network"), (v, t) => ({ ...v, volumes: [{ id: "v", type: t, size: 10, mountPoint: "/m" }] })),
  defect("volumes", fc.constantFrom(0, -1, 2.5), (v, s) => ({ ...v, volumes: [{ id: "v", type: "local", size: s, mountPoint: "/m" }] })),
  defect("volumes", fc.constantFrom("mnt", "", "data/x"), (v, m) => ({ ...v, volumes: [{ id: "v", type: "local", size: 1, mountPoint: m }] })),
  // inconsistent: a network volume must name the volume
  defect("volumes", fc.constant(""), (v) => ({ ...v, volumes: [{ id: "", type: "network", size: 10, mountPoint: "/m" }] })),
  defect("volumes", fc.constant(0), (v) => ({ ...v, volumes: [{ id: "", type: "local", mountPoint: "/m" }] })),
  defect("appName", longer(255)),
  defect("regionId", fc.oneof(fc.constant(""), longer(255))),
  defect("envs", badEnvs),
  defect("timeouts", badTimeouts),
  unknownKey(["minReplicas", "gpuType", "autoscaling", "region"]),
);

// ---- CompShareInstance -------------------------------------------------------------------

const csName = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.,:-]{1,63}$/),
  fc.constantFrom("训练机-1", "推理.节点:2", "gpu_实验"),
);

const csValid: fc.Arbitrary<Props> = fc.constantFrom(...GPU_TYPE_NAMES).chain((gpuType) => {
  const spec = GPU_TYPES[gpuType];
  const diskType = fc.constantFrom(...DISK_TYPES.filter((t) => t !== "CLOUD_RSSD" || gpuType === "A800"));
  const platforms = ["Auto", ...spec.platforms.map((p) => `${p}/Auto`)];
  return rec(
    {
      name: csName,
      region: text(1, 16),
      zone: text(1, 16),
      gpuType: fc.constant(gpuType),
      gpu: fc.integer({ min: 1, max: spec.maxGpu }),
      cpu: fc.integer({ min: 1, max: spec.maxCpu }),
      memory: fc.integer({ min: 1, max: spec.maxMemoryGb }).map((gb) => gb * 1024),
      compShareImageId: fc.stringMatching(/^compshareImage-[A-Za-z0-9]{1,16}$/),
      disks: fc
        .tuple(
          rec({ isBoot: fc.constant(true), type: diskType, size: fc.integer({ min: 1, max: 2000 }) }),
          fc.array(rec({ isBoot: fc.constant(false), type: diskType, size: fc.integer({ min: 1, max: 2000 }) }), { maxLength: 2 }),
        )
        .map(([boot, data]) => [boot, ...data]),
      chargeType: fc.constantFrom(...CHARGE_TYPES.filter((c) => c !== "Spot" || spec.spot)),
      quantity: fc.integer({ min: 1, max: 12 }),
      remark: text(0, 80),
      securityGroupId: text(1, 20),
      minimalCpuPlatform: fc.constantFrom(...platforms),
      enableUS3: fc.boolean(),
      machineType: fc.constant("G"),
      checkCapacity: fc.boolean(),
      powerState,
      timeouts,
    },
    ["region", "zone", "gpuType", "gpu", "cpu", "memory", "compShareImageId", "disks"],
  );
});

const maxOf = (v: Props, field: "maxGpu" | "maxCpu" | "maxMemoryGb") => GPU_TYPES[v.gpuType as GpuType][field];
/** A shape every GPU type accepts, so a defect elsewhere is the only one. */
const smallShape = (gpuType: string) => ({ gpuType, gpu: 1, cpu: 8, memory: 32_768 });

const csDefects: fc.Arbitrary<Defect> = fc.oneof(
  defect("gpuType", fc.oneof(fc.constantFrom("4080", "", "rtx4090", "a100"), fc.constant(4090))),
  defect("gpu", fc.oneof(fc.integer({ min: -5, max: 0 }), fc.constant(1.5), wrongTypeNotNumber)),
  defect("gpu", fc.integer({ min: 1, max: 50 }), (v, k) => ({ ...v, gpu: maxOf(v, "maxGpu") + k })),
  defect("cpu", fc.oneof(fc.integer({ min: -5, max: 0 }), fc.constant("16"))),
  defect("cpu", fc.integer({ min: 1, max: 500 }), (v, k) => ({ ...v, cpu: maxOf(v, "maxCpu") + k })),
  defect("memory", fc.oneof(fc.integer({ min: 1, max: 100_000 }).filter((m) => m % 1024 !== 0), fc.constant(0), fc.constant("64G"))),
  defect("memory", fc.integer({ min: 1, max: 64 }), (v, k) => ({ ...v, memory: (maxOf(v, "maxMemoryGb") + k) * 1024 })),
  defect("compShareImageId", fc.constantFrom("img-123", "compshareImage-", "", "compshareImage-abc/def")),
  defect("disks", fc.constant([])),
  defect("disks", fc.integer({ min: 1, max: 500 }), (v, size) => ({ ...v, disks: [{ isBoot: false, type: "CLOUD_SSD", size }] })),
  defect("disks", fc.integer({ min: 1, max: 500 }), (v, size) => ({
    ...v,
    disks: [
      { isBoot: true, type: "CLOUD_SSD", size },
      { isBoot: true, type: "CLOUD_SSD", size },
    ],
  })),
  defect("disks", fc.constantFrom("SSD", "cloud_ssd", ""), (v, t) => ({ ...v, disks: [{ isBoot: true, type: t, size: 100 }] })),
  defect("disks", fc.constantFrom(0, -10, 20.5), (v, s) => ({ ...v, disks: [{ isBoot: true, type: "CLOUD_SSD", size: s }] })),
  defect("disks", fc.constantFrom("true", 1), (v, b) => ({ ...v, disks: [{ isBoot: b, type: "CLOUD_SSD", size: 100 }] })),
  // inconsistent: RSSD exists only with A800; Spot and AMD only where the type offers them
  defect("disks", fc.constantFrom("4090", "H20", "A100"), (v, t) => ({ ...v, ...smallShape(t), disks: [{ isBoot: true, type: "CLOUD_RSSD", size: 100 }] })),
  defect("chargeType", fc.constantFrom("A800", "H20", "4090_48G"), (v, t) => ({ ...v, ...smallShape(t), chargeType: "Spot" })),
  defect("minimalCpuPlatform", fc.constantFrom("A800", "H20", "A100"), (v, t) => ({ ...v, ...smallShape(t), minimalCpuPlatform: "Amd/Auto" })),
  defect("minimalCpuPlatform", fc.constant("3090"), (v, t) => ({ ...v, ...smallShape(t), minimalCpuPlatform: "Intel/Auto" })),
  defect("minimalCpuPlatform", fc.constantFrom("Arm", "intel", "")),
  defect("chargeType", fc.constantFrom("Weekly", "month", "")),
  defect("name", fc.oneof(fc.constantFrom("my vm", "vm!", "vm/1", "🚀gpu", ""), longer(63))),
  defect("region", fc.oneof(fc.constant(""), wrongTypeNotString)),
  defect("zone", fc.constant("")),
  defect("quantity", fc.constantFrom(-1, 1.5, "1")),
  // 0 means "until the end of the month": a defect with any charge type but Month
  defect("quantity", fc.constantFrom("Day", "Dynamic", "Postpay"), (v, chargeType) => ({ ...v, chargeType, quantity: 0 })),
  defect("remark", longer(255)),
  defect("securityGroupId", fc.constant("")),
  defect("machineType", fc.constantFrom("O", "g", "GPU")),
  defect("enableUS3", fc.constantFrom("yes", 1, "true")),
  defect("checkCapacity", fc.constantFrom("false", 0)),
  defect("powerState", fc.constantFrom("off", "Stopped")),
  defect("timeouts", badTimeouts),
  without("region"),
  without("disks"),
  without("compShareImageId"),
  unknownKey(["diskSize", "imageId", "Password", "gpus"]),
);

// ---- the properties ----------------------------------------------------------------------

interface Case {
  resource: ResourceName;
  valid: fc.Arbitrary<Props>;
  defects: fc.Arbitrary<Defect>;
  nameMax: number;
}

const cases: Case[] = [
  { resource: "PpioInstance", valid: ppioInstanceValid, defects: ppioInstanceDefects, nameMax: 255 },
  { resource: "PpioEndpoint", valid: ppioEndpointValid, defects: ppioEndpointDefects, nameMax: 255 },
  { resource: "CompShareInstance", valid: csValid, defects: csDefects, nameMax: 63 },
];

const under = (property: string, prefix: string) =>
  property === prefix || property.startsWith(`${prefix}.`) || property.startsWith(`${prefix}[`);

describe.each(cases)("check of $resource", ({ resource, valid, defects, nameMax }) => {
  const p = DRIVERS[resource].provider;
  const t = (tally[resource] = { resource, invalid: 0, valid: 0 });

  it(`names an offending property for each of ${INVALID_RUNS} invalid inputs, with no request`, async () => {
    await fc.assert(
      fc.asyncProperty(valid, defects, async (v, d) => {
        const inputs = asJson(d.apply(v));
        const { failures } = await p.check(undefined, { ...inputs, __provider: PROVIDER_TEXT });
        t.invalid++;
        expect(failures.length, `no failure for a defect in ${d.property}: ${JSON.stringify(inputs)}`).toBeGreaterThan(0);
        expect(
          failures.some((f) => under(f.property, d.property)),
          `no failure names ${d.property}: ${JSON.stringify(failures)}`,
        ).toBe(true);
        for (const f of failures) expect(f.reason.length, JSON.stringify(f)).toBeGreaterThan(3);
      }),
      { numRuns: INVALID_RUNS },
    );
    expect(t.invalid).toBeGreaterThanOrEqual(INVALID_RUNS);
    expect(emu.requests).toEqual([]);
  });

  it(`passes ${VALID_RUNS} valid inputs unchanged in meaning`, async () => {
    await fc.assert(
      fc.asyncProperty(valid, async (generated) => {
        const v = asJson(generated);
        const given = v.name === undefined ? { ...v, autonamePrefix: "res" } : v;
        const { inputs, failures } = await p.check(undefined, { ...given, __provider: PROVIDER_TEXT });
        t.valid++;
        expect(failures).toEqual([]);
        const { name, ...rest } = inputs;
        const { name: givenName, ...givenRest } = given;
        expect(rest).toEqual({ ...givenRest, __provider: PROVIDER_TEXT });
        if (givenName !== undefined) expect(name).toBe(givenName);
        else expect(name).toMatch(new RegExp(`^res-[0-9a-f]{7}$`));
        expect((name as string).length).toBeLessThanOrEqual(nameMax);
        // The same inputs read back as outputs diff clean: nothing was reinterpreted.
        expect(await p.diff("id", inputs, inputs)).toEqual({ changes: false, replaces: [] });
      }),
      { numRuns: VALID_RUNS },
    );
    expect(emu.requests).toEqual([]);
  });
});

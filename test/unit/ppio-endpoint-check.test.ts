import { afterEach, describe, expect, it } from "vitest";
import { UNKNOWN } from "../../src/core/check";
import { ENDPOINT_POLICY, ppioEndpoint, toCreateBody, toUpdateBody } from "../../src/ppio/endpoint";
import { endpointInputsSchema } from "../../src/ppio/schemas";
import { fakeConfig } from "../support/fixtures";

const valid = {
  type: "sync",
  name: "llm-1",
  productId: "4090.24g.serverless",
  image: "vllm/vllm-openai:v0.6.0",
  workerConfig: { minReplicas: 0, maxReplicas: 2 },
};

const props = async (news: Record<string, unknown>, olds?: Record<string, unknown>) => {
  const r = await ppioEndpoint.check(olds, news);
  return r.failures.map((f) => f.property).sort();
};

afterEach(() => ppioEndpoint.configure(fakeConfig({})));

describe("PpioEndpoint check", () => {
  it("accepts a minimal valid endpoint and a full one", async () => {
    expect(await props(valid)).toEqual([]);
    expect(
      await props({
        ...valid,
        type: "async",
        workerConfig: {
          minReplicas: 1,
          maxReplicas: 1000,
          idleTimeout: 0,
          maxConcurrentPerWorker: 8,
          gpuNum: 8,
          rootfsSizeGb: 10,
          minCudaVersion: "12.1",
          requestTimeout: 600,
        },
        appName: "chat",
        registryAuthId: "auth-1",
        entrypoint: "/bin/sh -c",
        command: "python -m vllm.entrypoints.openai.api_server",
        policy: { type: "concurrency", value: 4 },
        volumes: [
          { id: "vol-1", type: "network", size: 100, mountPoint: "/models" },
          { id: "", type: "local", size: 30, mountPoint: "/scratch" },
        ],
        envs: { HF_HOME: "/models/hf" },
        ports: [8000, 65535],
        healthCheck: { path: "/health", port: 8000 },
        regionId: "us-ca-6",
        timeouts: { create: "30m", update: "1h", delete: "5m" },
      }),
    ).toEqual([]);
  });

  it("names every offending property, with workerConfig members by their full path", async () => {
    expect(
      await props({
        ...valid,
        type: "batch",
        productId: "",
        workerConfig: { minReplicas: -1, maxReplicas: 1001, gpuNum: 9, rootfsSizeGb: 5, maxConcurrentPerWorker: 0, requestTimeout: 0 },
        ports: [0, 70000],
        policy: { type: "latency", value: 0 },
        healthCheck: { path: "health", port: 8000 },
        envs: { "1BAD": "x" },
        timeouts: { update: "later" },
      }),
    ).toEqual([
      "envs.1BAD",
      "healthCheck.path",
      "policy.type",
      "policy.value",
      "ports[0]",
      "ports[1]",
      "productId",
      "timeouts.update",
      "type",
      "workerConfig.gpuNum",
      "workerConfig.maxConcurrentPerWorker",
      "workerConfig.maxReplicas",
      "workerConfig.minReplicas",
      "workerConfig.requestTimeout",
      "workerConfig.rootfsSizeGb",
    ]);
  });

  it("requires workerConfig.maxReplicas and explains the range", async () => {
    const missing = await ppioEndpoint.check(undefined, { ...valid, workerConfig: { minReplicas: 1 } });
    expect(missing.failures.map((f) => f.property)).toEqual(["workerConfig.maxReplicas"]);
    const tooMany = await ppioEndpoint.check(undefined, { ...valid, workerConfig: { maxReplicas: 1001 } });
    expect(tooMany.failures).toEqual([{ property: "workerConfig.maxReplicas", reason: "must be 0–1000" }]);
    expect(await props({ ...valid, workerConfig: undefined })).toEqual(["workerConfig"]);
  });

  it("refuses minReplicas above maxReplicas, naming workerConfig.minReplicas", async () => {
    const r = await ppioEndpoint.check(undefined, { ...valid, workerConfig: { minReplicas: 3, maxReplicas: 2 } });
    expect(r.failures).toEqual([{ property: "workerConfig.minReplicas", reason: "must not exceed workerConfig.maxReplicas (2)" }]);
    expect(await props({ ...valid, workerConfig: { minReplicas: 2, maxReplicas: 2 } })).toEqual([]);
  });

  it("checks the other combinations: duplicate ports, a network volume needs its id", async () => {
    expect(await props({ ...valid, ports: [8000, 8000] })).toEqual(["ports[1]"]);
    expect(await props({ ...valid, volumes: [{ id: "", type: "network", size: 10, mountPoint: "/d" }] })).toEqual(["volumes[0].id"]);
    expect(await props({ ...valid, appName: "a".repeat(256) })).toEqual(["appName"]);
  });

  it("takes a network volume without size (the docs' Get example), but not a local one", async () => {
    expect(await props({ ...valid, volumes: [{ id: "storage-id", type: "network", mountPoint: "/data" }] })).toEqual([]);
    expect(await props({ ...valid, volumes: [{ id: "", type: "local", mountPoint: "/data" }] })).toEqual(["volumes[0].size"]);
  });

  it("flags misspelt inputs", async () => {
    expect(await props({ ...valid, workerConfig: { maxReplicas: 1, maxReplica: 2 } })).toEqual(["workerConfig.maxReplica"]);
    expect(await props({ ...valid, region: "x" })).toEqual(["region"]);
  });

  it("lets values unknown at preview through, including in cross-field rules", async () => {
    expect(
      await props({
        ...valid,
        image: UNKNOWN,
        envs: { A: UNKNOWN },
        workerConfig: { minReplicas: 5, maxReplicas: UNKNOWN },
        ports: UNKNOWN,
        appName: UNKNOWN,
      }),
    ).toEqual([]);
    expect(await props({ ...valid, workerConfig: UNKNOWN })).toEqual([]);
  });

  it("generates a name from the resource name and keeps it", async () => {
    const { name: _n, ...unnamed } = valid;
    const first = await ppioEndpoint.check(undefined, { ...unnamed, autonamePrefix: "llm" });
    expect(first.inputs.name).toMatch(/^llm-[0-9a-f]{7}$/);
    const again = await ppioEndpoint.check(first.inputs, { ...unnamed, autonamePrefix: "llm" });
    expect(again.inputs.name).toBe(first.inputs.name);
  });

  it("keeps __provider in the checked inputs and makes no API call", async () => {
    // An unreachable cloud: any request would fail the check.
    ppioEndpoint.configure(fakeConfig({ "ppio:apiKey": "k-unused-0000", "ppio:baseUrl": "http://127.0.0.1:9" }));
    const r = await ppioEndpoint.check(undefined, { ...valid, __provider: "code" });
    expect(r.inputs.__provider).toBe("code");
    expect(r.failures).toEqual([]);
  });
});

describe("PpioEndpoint diff table", () => {
  it("covers every input", () => {
    expect(Object.keys(ENDPOINT_POLICY).sort()).toEqual(Object.keys(endpointInputsSchema.shape).sort());
  });

  const olds = { ...valid, envs: { A: "1" }, endpointId: "abc", status: "running", workers: { ready: 0, total: 0 }, url: "https://x" };
  const diff = (news: Record<string, unknown>) => ppioEndpoint.diff("abc", olds, { ...valid, envs: { A: "1" }, ...news });

  it("updates every input but type and appName in place", async () => {
    const changes: Record<string, unknown>[] = [
      { name: "llm-2" },
      { productId: "h100" },
      { image: "other:1" },
      { workerConfig: { minReplicas: 1, maxReplicas: 2 } },
      { registryAuthId: "r" },
      { entrypoint: "sh" },
      { command: "run" },
      { policy: { type: "queue", value: 30 } },
      { volumes: [{ id: "v", type: "network", size: 10, mountPoint: "/d" }] },
      { envs: { A: "2" } },
      { ports: [8000] },
      { healthCheck: { path: "/h", port: 80 } },
      { regionId: "us-ca-6" },
    ];
    const fields = new Set(changes.flatMap(Object.keys));
    const updatable = Object.entries(ENDPOINT_POLICY).filter(([, p]) => p.kind === "update").map(([f]) => f);
    expect([...fields].sort()).toEqual(updatable.sort());
    for (const change of changes) expect(await diff(change), JSON.stringify(change)).toEqual({ changes: true, replaces: [] });
  });

  it("replaces for type and appName", async () => {
    expect(await diff({ type: "async" })).toEqual({ changes: true, replaces: ["type"] });
    expect(await diff({ appName: "chat" })).toEqual({ changes: true, replaces: ["appName"] });
  });

  it("never diffs on timeouts or empty collections", async () => {
    expect(await diff({ timeouts: { create: "1h" } })).toEqual({ changes: false, replaces: [] });
    expect(await diff({ ports: [], volumes: [], registryAuthId: "" })).toEqual({ changes: false, replaces: [] });
  });

  it("replaces an endpoint recorded as failed", async () => {
    expect(await ppioEndpoint.diff("abc", { ...olds, status: "failed" }, { ...valid, envs: { A: "1" } })).toEqual({
      changes: true,
      replaces: ["status"],
    });
  });

  it("treats an unknown value as a change", async () => {
    expect(await diff({ image: UNKNOWN })).toEqual({ changes: true, replaces: [] });
    expect(await diff({ appName: UNKNOWN })).toEqual({ changes: true, replaces: ["appName"] });
  });
});

describe("PpioEndpoint wire mapping", () => {
  const full = endpointInputsSchema.parse({
    ...valid,
    workerConfig: { maxReplicas: 3, idleTimeout: 30, minCudaVersion: "12.1" },
    appName: "chat",
    envs: { A: "1" },
    ports: [8000],
    volumes: [{ id: "v", type: "network", size: 10, mountPoint: "/d" }],
    policy: { type: "queue", value: 10 },
    healthCheck: { path: "/health", port: 8000 },
  });

  it("maps camelCase inputs to the snake_case create body", () => {
    expect(toCreateBody(full, "llm-1")).toEqual({
      type: "sync",
      name: "llm-1",
      product_id: "4090.24g.serverless",
      image: "vllm/vllm-openai:v0.6.0",
      worker_config: { max_replicas: 3, idle_timeout: 30, min_cuda_version: "12.1" },
      app_name: "chat",
      policy: { type: "queue", value: 10 },
      health_check: { path: "/health", port: 8000 },
      envs: [{ key: "A", value: "1" }],
      ports: [8000],
      volumes: [{ id: "v", type: "network", size: 10, mount_point: "/d" }],
      registry_auth_id: undefined,
      entrypoint: undefined,
      command: undefined,
    });
  });

  it("sends the complete spec on update, never type or app_name, omitted fields cleared", () => {
    const body = toUpdateBody(endpointInputsSchema.parse(valid), "llm-1");
    expect(body).not.toHaveProperty("type");
    expect(body).not.toHaveProperty("app_name");
    expect(body).toEqual({
      name: "llm-1",
      product_id: "4090.24g.serverless",
      image: "vllm/vllm-openai:v0.6.0",
      worker_config: { min_replicas: 0, max_replicas: 2 },
      registry_auth_id: "",
      entrypoint: "",
      command: "",
      volumes: [],
      envs: [],
      ports: [],
    });
    expect(toUpdateBody(full, "llm-1")).not.toHaveProperty("app_name");
  });
});

describe("PpioEndpoint check: adoptId", () => {
  it("takes an adoptId, refuses an empty one, and has no fallbacks or price cap", async () => {
    expect(await props({ ...valid, adoptId: "o8UJWkag5WTn" })).toEqual([]);
    expect(await props({ ...valid, adoptId: "" })).toEqual(["adoptId"]);
    expect(await props({ ...valid, fallbacks: [{ productId: "h100.80g.serverless" }], maxPricePerHour: 1 })).toEqual(["fallbacks", "maxPricePerHour"]);
    expect(ENDPOINT_POLICY.adoptId).toMatchObject({ kind: "ignore" });
  });
});

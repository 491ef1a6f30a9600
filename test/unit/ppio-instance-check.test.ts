import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../../src/core/check";
import { INSTANCE_POLICY, ppioInstance, toCreateBody } from "../../src/ppio/instance";
import { instanceInputsSchema } from "../../src/ppio/schemas";

const valid = {
  name: "trainer-1",
  productId: "4090.24g",
  image: "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime",
  resource: { gpuNum: 1, rootfsSizeGb: 50 },
};

const props = async (news: Record<string, unknown>, olds?: Record<string, unknown>) => {
  const r = await ppioInstance.check(olds, news);
  return r.failures.map((f) => f.property).sort();
};

describe("PpioInstance check", () => {
  it("accepts a minimal valid instance and a full one", async () => {
    expect(await props(valid)).toEqual([]);
    expect(
      await props({
        ...valid,
        billing: { mode: "prepaid", prepaid: { months: 1, autoRenew: { enabled: true, months: 1 } } },
        type: "gpu",
        resource: { gpuNum: 2, rootfsSizeGb: 100, minCudaVersion: "12.1" },
        registryAuthId: "auth-1",
        entrypoint: "/bin/sh -c",
        command: "python train.py",
        envs: { HF_HOME: "/data/hf", WANDB_MODE: "offline" },
        ports: [{ port: 8888, protocol: "http" }, { port: 22000, protocol: "tcp" }],
        network: { id: "vpc-1", ip: "10.0.0.2" },
        volumes: [{ type: "network", id: "vol-1", mountPoint: "/data" }],
        candidateRegions: ["cn-east-1"],
        tools: { jupyter: { enabled: true, port: 8888, protocol: "http" } },
        autoMigrate: { enabled: false },
        powerState: "stopped",
        timeouts: { create: "30m", delete: "5m" },
      }),
    ).toEqual([]);
  });

  it("names every offending property", async () => {
    expect(
      await props({
        ...valid,
        productId: "",
        resource: { gpuNum: 9, rootfsSizeGb: 5 },
        ports: [{ port: 8080, protocol: "udp" }, { port: 2223, protocol: "tcp" }],
        envs: { "1BAD": "x" },
        powerState: "paused",
        timeouts: { create: "soon" },
      }),
    ).toEqual([
      "envs.1BAD",
      "ports[0].protocol",
      "ports[1].port",
      "powerState",
      "productId",
      "resource.gpuNum",
      "resource.rootfsSizeGb",
      "timeouts.create",
    ]);
  });

  it("explains the rule in the reason", async () => {
    const r = await ppioInstance.check(undefined, { ...valid, ports: [{ port: 2222, protocol: "tcp" }] });
    expect(r.failures).toEqual([{ property: "ports[0].port", reason: "ports 2222–2224 are reserved by PPIO" }]);
  });

  it("checks combinations: cpu instances have no GPUs, duplicate ports", async () => {
    expect(await props({ ...valid, type: "cpu", resource: { gpuNum: 1, rootfsSizeGb: 20 } })).toEqual(["resource.gpuNum"]);
    expect(await props({ ...valid, type: "cpu", resource: { gpuNum: 0, rootfsSizeGb: 20 } })).toEqual([]);
    expect(await props({ ...valid, resource: { gpuNum: 0, rootfsSizeGb: 20 } })).toEqual(["resource.gpuNum"]);
    expect(await props({ ...valid, ports: [{ port: 80, protocol: "http" }, { port: 80, protocol: "tcp" }] })).toEqual(["ports[1].port"]);
  });

  it("accepts the seed example's values: prepaid without a term, an empty minCudaVersion, jupyter's protocol", async () => {
    expect(await props({ ...valid, billing: { mode: "prepaid" } })).toEqual([]);
    expect(await props({ ...valid, resource: { gpuNum: 1, rootfsSizeGb: 20, minCudaVersion: "" } })).toEqual([]);
    expect(await props({ ...valid, tools: { jupyter: { enabled: true, protocol: "http" } } })).toEqual([]);
    expect(await props({ ...valid, tools: { jupyter: { enabled: true, protocol: "tcp" } } })).toEqual(["tools.jupyter.protocol"]);
    expect(await props({ ...valid, resource: { gpuNum: 1, rootfsSizeGb: 20, minCudaVersion: "twelve" } })).toEqual(["resource.minCudaVersion"]);
  });

  it("takes type at the top level, not inside resource", async () => {
    expect(await props({ ...valid, type: "tpu" })).toEqual(["type"]);
    expect(await props({ ...valid, resource: { gpuNum: 1, rootfsSizeGb: 20, type: "gpu" } })).toEqual(["resource.type"]);
  });

  it("flags misspelt inputs", async () => {
    expect(await props({ ...valid, resource: { gpuNum: 1, rootfsSizeGb: 50, gpuNumm: 2 } })).toEqual(["resource.gpuNumm"]);
  });

  it("lets values unknown at preview through", async () => {
    expect(await props({ ...valid, image: UNKNOWN, envs: { A: UNKNOWN }, resource: UNKNOWN })).toEqual([]);
  });

  it("generates a name from the resource name and keeps it", async () => {
    const { name: _n, ...unnamed } = valid;
    const first = await ppioInstance.check(undefined, { ...unnamed, autonamePrefix: "trainer" });
    expect(first.inputs.name).toMatch(/^trainer-[0-9a-f]{7}$/);
    const again = await ppioInstance.check(first.inputs, { ...unnamed, autonamePrefix: "trainer" });
    expect(again.inputs.name).toBe(first.inputs.name);
  });

  it("keeps __provider in the checked inputs", async () => {
    const r = await ppioInstance.check(undefined, { ...valid, __provider: "code" });
    expect(r.inputs.__provider).toBe("code");
  });
});

describe("PpioInstance diff table", () => {
  it("covers every input (and rootfsSizeGb inside resource on its own row)", () => {
    const topLevel = Object.keys(INSTANCE_POLICY).filter((k) => !k.includes("."));
    expect(topLevel.sort()).toEqual(Object.keys(instanceInputsSchema.shape).sort());
    expect(Object.keys(INSTANCE_POLICY).filter((k) => k.includes("."))).toEqual(["resource.rootfsSizeGb"]);
  });

  const olds = { ...valid, envs: { A: "1" }, instanceId: "abc", status: "running", sshCommand: "ssh" };
  const diff = (news: Record<string, unknown>) => ppioInstance.diff("abc", olds, { ...valid, envs: { A: "1" }, ...news });

  it("updates image, command and envs in place", async () => {
    for (const change of [{ image: "other:1" }, { command: "run" }, { envs: { A: "2" } }, { entrypoint: "sh" }, { registryAuthId: "r" }]) {
      expect(await diff(change)).toEqual({ changes: true, replaces: [] });
    }
  });

  it("updates ports and power state in place", async () => {
    expect(await diff({ ports: [{ port: 80, protocol: "http" }] })).toEqual({ changes: true, replaces: [] });
    expect(await diff({ powerState: "stopped" })).toEqual({ changes: true, replaces: [] });
  });

  it("grows the root filesystem in place and replaces to shrink it", async () => {
    expect(await diff({ resource: { gpuNum: 1, rootfsSizeGb: 80 } })).toEqual({ changes: true, replaces: [] });
    expect(await diff({ resource: { gpuNum: 1, rootfsSizeGb: 40 } })).toEqual({ changes: true, replaces: ["resource.rootfsSizeGb"] });
    expect((await diff({ resource: { gpuNum: 1, rootfsSizeGb: UNKNOWN } })).replaces).toEqual(["resource.rootfsSizeGb"]);
    expect((await diff({ resource: { gpuNum: 2, rootfsSizeGb: 80 } })).replaces).toEqual(["resource"]);
  });

  it("replaces for hardware, type, product, billing and name", async () => {
    expect((await diff({ resource: { gpuNum: 2, rootfsSizeGb: 50 } })).replaces).toEqual(["resource"]);
    expect((await diff({ type: "cpu", resource: { gpuNum: 0, rootfsSizeGb: 50 } })).replaces).toEqual(["type", "resource"]);
    expect((await diff({ productId: "h100" })).replaces).toEqual(["productId"]);
    expect((await diff({ billing: { mode: "spot" } })).replaces).toEqual(["billing"]);
    expect((await diff({ name: "renamed" })).replaces).toEqual(["name"]);
  });

  it("never diffs on timeouts, defaults or empty collections", async () => {
    expect(await diff({ timeouts: { create: "1h" } })).toEqual({ changes: false, replaces: [] });
    expect(await diff({ powerState: "running", billing: { mode: "postpaid" }, ports: [] })).toEqual({ changes: false, replaces: [] });
    expect(await diff({ type: "gpu" })).toEqual({ changes: false, replaces: [] });
    expect(await diff({ resource: { gpuNum: 1, rootfsSizeGb: 50, minCudaVersion: "" } })).toEqual({ changes: false, replaces: [] });
  });

  it("reads type from resource in state recorded before it moved to the top level", async () => {
    const old = { ...olds, resource: { gpuNum: 0, rootfsSizeGb: 50, type: "cpu" } };
    const same = { ...valid, envs: { A: "1" }, type: "cpu", resource: { gpuNum: 0, rootfsSizeGb: 50 } };
    expect(await ppioInstance.diff("abc", old, same)).toEqual({ changes: false, replaces: [] });
  });

  it("replaces an instance recorded with a platform error while not running", async () => {
    const news = { ...valid, envs: { A: "1" } };
    expect(await ppioInstance.diff("abc", { ...olds, status: "pulling", statusError: "IMAGE_PULL_FAILED" }, news)).toEqual({
      changes: true,
      replaces: ["status"],
    });
    expect(await ppioInstance.diff("abc", { ...olds, status: "pulling" }, news)).toEqual({ changes: false, replaces: [] });
  });
});

describe("PpioInstance wire mapping", () => {
  it("maps camelCase inputs to the snake_case create body", () => {
    const body = toCreateBody(
      instanceInputsSchema.parse({
        ...valid,
        envs: { A: "1" },
        volumes: [{ type: "network", id: "v", mountPoint: "/data" }],
        tools: { jupyter: { enabled: true } },
        type: "cpu",
        resource: { gpuNum: 0, rootfsSizeGb: 50, minCudaVersion: "12.1" },
      }),
      "trainer-1",
    );
    expect(body).toMatchObject({
      name: "trainer-1",
      product_id: "4090.24g",
      billing: { mode: "postpaid" },
      type: "cpu",
      resource: { gpu_num: 0, rootfs_size_gb: 50, min_cuda_version: "12.1" },
      envs: [{ key: "A", value: "1" }],
      volumes: [{ type: "network", id: "v", mount_point: "/data" }],
      tools: { jupyter: { enabled: true, port: 8888, protocol: "http" } },
    });
    expect(body.resource).not.toHaveProperty("type");
    const seed = toCreateBody(
      instanceInputsSchema.parse({ ...valid, billing: { mode: "prepaid" }, resource: { gpuNum: 1, rootfsSizeGb: 20, minCudaVersion: "" } }),
      "x",
    );
    expect(seed).toMatchObject({ billing: { mode: "prepaid" }, resource: { min_cuda_version: "" } });
    expect(seed).not.toHaveProperty("type");
  });
});

describe("PpioInstance check: fallbacks, maxPricePerHour, adoptId", () => {
  const failures = async (news: Record<string, unknown>) => (await ppioInstance.check(undefined, news)).failures;

  it("accepts fallbacks over the shape fields, a price cap and an adoptId", async () => {
    expect(
      await failures({
        ...valid,
        fallbacks: [{ productId: "3090.24g" }, { billing: { mode: "spot" } }, { type: "gpu", resource: { gpuNum: 2, rootfsSizeGb: 50 }, candidateRegions: ["cn-north-1"] }],
        maxPricePerHour: 2.5,
        adoptId: "e70d0a62c99c2402",
      }),
    ).toEqual([]);
  });

  it("refuses a fallback key that is not a shape field, naming it", async () => {
    const f = await failures({ ...valid, fallbacks: [{ image: "other" }] });
    expect(f).toEqual([{ property: "fallbacks[0].image", reason: expect.stringMatching(/may override only "productId", "billing", "type", "resource", "candidateRegions"/) }]);
  });

  it("checks each fallback as the instance it would buy", async () => {
    const f = await failures({ ...valid, fallbacks: [{ productId: "3090.24g" }, { billing: { mode: "monthly" } }, { resource: { gpuNum: 9, rootfsSizeGb: 50 } }] });
    expect(f.map((x) => x.property)).toEqual(["fallbacks[1].billing.mode", "fallbacks[2].resource.gpuNum"]);
    // a fallback that makes the declared type wrong: a cpu instance with GPUs
    const cpu = await failures({ ...valid, fallbacks: [{ type: "cpu" }] });
    expect(cpu).toEqual([{ property: "fallbacks[0].resource.gpuNum", reason: 'must be 0 when type is "cpu"' }]);
    expect((await failures({ ...valid, fallbacks: [{}] })).map((x) => x.property)).toEqual(["fallbacks[0]"]);
  });

  it("refuses a cap that is not a positive number and an empty adoptId", async () => {
    const f = await failures({ ...valid, maxPricePerHour: 0, adoptId: "" });
    expect(f.map((x) => x.property).sort()).toEqual(["adoptId", "maxPricePerHour"]);
  });

  it("ignores fallbacks, maxPricePerHour and adoptId in diffs", () => {
    for (const field of ["fallbacks", "maxPricePerHour", "adoptId"]) expect(INSTANCE_POLICY[field]).toMatchObject({ kind: "ignore" });
  });
});

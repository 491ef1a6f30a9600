/**
 * CompShareInstance check (no API call), its diff table, and the pure mappings: create
 * parameters, the Remark marker, password decoding, outputs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UNKNOWN } from "../../src/core/check";
import {
  compShareInstance,
  createMarker,
  decodePassword,
  INSTANCE_POLICY,
  stripMarker,
  toCreateParams,
  toOutputs,
} from "../../src/compshare/instance";
import { GPU_TYPES, instanceInputsSchema } from "../../src/compshare/schemas";
import { fakeConfig, isPlainJson } from "../support/fixtures";

const valid = {
  name: "trainer-1",
  region: "cn-wlcb",
  zone: "cn-wlcb-01",
  gpuType: "4090",
  gpu: 1,
  cpu: 16,
  memory: 65536,
  compShareImageId: "compshareImage-165jmhx19ik7",
  disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
};

const props = async (news: Record<string, unknown>, olds?: Record<string, unknown>) => {
  const r = await compShareInstance.check(olds, news);
  return r.failures.map((f) => f.property).sort();
};
const reasons = async (news: Record<string, unknown>) => (await compShareInstance.check(undefined, news)).failures;

describe("CompShareInstance check", () => {
  // check must not need credentials or the network: prove it by having neither
  const saved = { ...process.env };
  beforeEach(() => {
    for (const k of ["COMPSHARE_PUBLIC_KEY", "COMPSHARE_PRIVATE_KEY", "COMPSHARE_BASE_URL"]) delete process.env[k];
    compShareInstance.configure(fakeConfig({ "compshare:baseUrl": "http://127.0.0.1:9" }));
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it("accepts a minimal valid instance and a full one", async () => {
    expect(await props(valid)).toEqual([]);
    expect(
      await props({
        ...valid,
        gpuType: "A800",
        gpu: 8,
        cpu: 124,
        memory: 1800 * 1024,
        disks: [
          { isBoot: true, type: "CLOUD_RSSD", size: 500 },
          { isBoot: false, type: "CLOUD_SSD", size: 2000 },
        ],
        chargeType: "Month",
        quantity: 3,
        name: "训练机_a.1,b:c-d",
        remark: "team a",
        securityGroupId: "firewall-abc",
        minimalCpuPlatform: "Intel/Auto",
        enableUS3: true,
        machineType: "G",
        checkCapacity: false,
        powerState: "stopped",
        timeouts: { create: "30m", delete: "5m" },
      }),
    ).toEqual([]);
  });

  it("names every offending property", async () => {
    expect(
      await props({
        ...valid,
        region: "",
        gpuType: "H100",
        gpu: 0,
        memory: 65535,
        compShareImageId: "ubuntu",
        disks: [{ isBoot: "yes", type: "SSD", size: 0 }],
        chargeType: "Hourly",
        minimalCpuPlatform: "ARM",
        machineType: "O",
        powerState: "paused",
        timeouts: { create: "soon" },
        name: "x".repeat(64),
      }),
    ).toEqual([
      "chargeType",
      "compShareImageId",
      "disks[0].isBoot",
      "disks[0].size",
      "disks[0].type",
      "gpu",
      "gpuType",
      "machineType",
      "memory",
      "minimalCpuPlatform",
      "name",
      "powerState",
      "region",
      "timeouts.create",
    ]);
  });

  it("memory is MB, a multiple of 1024", async () => {
    expect(await reasons({ ...valid, memory: 64000 })).toEqual([
      { property: "memory", reason: "memory is in MB and must be a multiple of 1024 (e.g. 65536 for 64 GB)" },
    ]);
  });

  it("enforces each GPU type's maxima for GPUs, vCPUs and memory", async () => {
    for (const [type, spec] of Object.entries(GPU_TYPES)) {
      const base = { ...valid, gpuType: type, minimalCpuPlatform: undefined };
      expect(await props({ ...base, gpu: spec.maxGpu, cpu: spec.maxCpu, memory: spec.maxMemoryGb * 1024 }), type).toEqual([]);
      expect(await props({ ...base, gpu: spec.maxGpu + 1, cpu: spec.maxCpu + 1, memory: (spec.maxMemoryGb + 1) * 1024 }), type).toEqual([
        "cpu",
        "gpu",
        "memory",
      ]);
    }
    expect(await reasons({ ...valid, gpuType: "3080Ti", cpu: 13 })).toEqual([{ property: "cpu", reason: "a 3080Ti instance has at most 12 vCPUs" }]);
  });

  it("needs exactly one boot disk", async () => {
    expect(await reasons({ ...valid, disks: [{ isBoot: false, type: "CLOUD_SSD", size: 100 }] })).toEqual([
      { property: "disks", reason: "exactly one disk must have isBoot: true, found 0" },
    ]);
    const two = [
      { isBoot: true, type: "CLOUD_SSD", size: 100 },
      { isBoot: true, type: "CLOUD_SSD", size: 100 },
    ];
    expect(await props({ ...valid, disks: two })).toEqual(["disks"]);
    expect(await props({ ...valid, disks: [] })).toEqual(["disks"]);
  });

  it("offers CLOUD_RSSD only with A800", async () => {
    const disks = [
      { isBoot: true, type: "CLOUD_SSD", size: 100 },
      { isBoot: false, type: "CLOUD_RSSD", size: 100 },
    ];
    expect(await reasons({ ...valid, disks })).toEqual([{ property: "disks[1].type", reason: "CLOUD_RSSD is offered only with A800, not 4090" }]);
    expect(await props({ ...valid, gpuType: "A800", disks })).toEqual([]);
  });

  it.each(["4090_48G", "A800", "H20", "P40", "2080"])("refuses Spot for %s", async (gpuType) => {
    expect(await reasons({ ...valid, gpuType, chargeType: "Spot" })).toEqual([{ property: "chargeType", reason: `Spot is not offered for ${gpuType}` }]);
  });

  it("allows Spot where it is offered", async () => {
    for (const gpuType of ["4090", "5090", "3090", "A100", "V100S"]) expect(await props({ ...valid, gpuType, chargeType: "Spot" })).toEqual([]);
  });

  it.each(["H20", "A800", "A100", "P40", "4090_48G", "3080Ti", "2080Ti", "2080", "V100S"])("refuses an AMD platform for Intel-only %s", async (gpuType) => {
    expect(await reasons({ ...valid, cpu: 8, gpuType, minimalCpuPlatform: "Amd/Auto" })).toEqual([{ property: "minimalCpuPlatform", reason: `${gpuType} runs only on Intel CPUs; use "Intel/Auto" or "Auto"` },
    ]);
    expect(await props({ ...valid, cpu: 8, gpuType, minimalCpuPlatform: "Intel/Auto" })).toEqual([]);
    expect(await props({ ...valid, cpu: 8, gpuType, minimalCpuPlatform: "Auto" })).toEqual([]);
  });

  it("refuses an Intel platform for AMD-only 3090", async () => {
    expect(await reasons({ ...valid, gpuType: "3090", minimalCpuPlatform: "Intel/Auto" })).toEqual([
      { property: "minimalCpuPlatform", reason: '3090 runs only on AMD CPUs; use "Amd/Auto" or "Auto"' },
    ]);
  });

  it("names are at most 63 characters of CJK, letters, digits and _ . , : -", async () => {
    expect(await props({ ...valid, name: "a".repeat(63) })).toEqual([]);
    expect(await props({ ...valid, name: "训练-01" })).toEqual([]);
    for (const bad of ["a b", "a/b", "a@b", "emoji😀", ""]) expect(await props({ ...valid, name: bad }), bad).toEqual(["name"]);
  });

  it("quantity 0 buys until the end of the month, so it needs Month (the default)", async () => {
    expect(await props({ ...valid, quantity: 0 })).toEqual([]);
    expect(await props({ ...valid, chargeType: "Month", quantity: 0 })).toEqual([]);
    expect(await reasons({ ...valid, chargeType: "Day", quantity: 0 })).toEqual([
      { property: "quantity", reason: 'quantity 0 (until the end of the month) needs chargeType "Month"' },
    ]);
    expect(await props({ ...valid, quantity: -1 })).toEqual(["quantity"]);
  });

  it("takes the SDK's CPU platform list, by vendor", async () => {
    expect(await props({ ...valid, gpuType: "H20", cpu: 8, minimalCpuPlatform: "Intel/Cascadelake" })).toEqual([]);
    expect(await props({ ...valid, gpuType: "3090", minimalCpuPlatform: "Amd/Epyc2" })).toEqual([]);
    expect(await reasons({ ...valid, gpuType: "3090", minimalCpuPlatform: "Intel/IceLake" })).toEqual([
      { property: "minimalCpuPlatform", reason: '3090 runs only on AMD CPUs; use "Amd/Auto" or "Auto"' },
    ]);
    expect(await reasons({ ...valid, minimalCpuPlatform: "Ampere/Altra" })).toEqual([
      { property: "minimalCpuPlatform", reason: '4090 does not run on Ampere CPUs; use "Intel/Auto", "Amd/Auto" or "Auto"' },
    ]);
  });

  it("flags misspelt inputs", async () => {
    expect(await props({ ...valid, gpus: 2 })).toEqual(["gpus"]);
    expect(await props({ ...valid, disks: [{ isBoot: true, type: "CLOUD_SSD", size: 100, sizeGb: 1 }] })).toEqual(["disks[0].sizeGb"]);
  });

  it("lets values unknown at preview through", async () => {
    expect(await props({ ...valid, compShareImageId: UNKNOWN, zone: UNKNOWN, disks: UNKNOWN })).toEqual([]);
  });

  it("generates a name from the resource name, at most 63 characters, and keeps it", async () => {
    const { name: _n, ...unnamed } = valid;
    const first = await compShareInstance.check(undefined, { ...unnamed, autonamePrefix: "trainer" });
    expect(first.failures).toEqual([]);
    expect(first.inputs.name).toMatch(/^trainer-[0-9a-f]{7}$/);
    const again = await compShareInstance.check(first.inputs, { ...unnamed, autonamePrefix: "trainer" });
    expect(again.inputs.name).toBe(first.inputs.name);
    const long = await compShareInstance.check(undefined, { ...unnamed, autonamePrefix: "p".repeat(80) });
    expect((long.inputs.name as string).length).toBeLessThanOrEqual(63);
    expect(long.failures).toEqual([]);
  });

  it("keeps __provider in the checked inputs", async () => {
    const r = await compShareInstance.check(undefined, { ...valid, __provider: "code" });
    expect(r.inputs.__provider).toBe("code");
  });
});

describe("CompShareInstance diff table", () => {
  it("covers every input", () => {
    expect(Object.keys(INSTANCE_POLICY).sort()).toEqual(Object.keys(instanceInputsSchema.shape).sort());
  });

  const olds = { ...valid, uhostId: "uhost-abc", state: "Running", powerState: "running", password: "p", ips: ["1.2.3.4"] };
  const diff = (news: Record<string, unknown>) => compShareInstance.diff("uhost-abc", olds, { ...valid, ...news });

  it.each([{ name: "renamed" }, { gpu: 2 }, { cpu: 32 }, { memory: 131072 }, { powerState: "stopped" }])("updates %o in place", async (change) => {
    expect(await diff(change)).toEqual({ changes: true, replaces: [] });
  });

  it.each([
    ["region", "cn-sh2"],
    ["zone", "cn-wlcb-02"],
    ["gpuType", "5090"],
    ["compShareImageId", "compshareImage-1c8w7rfxn2qd"],
    ["disks", [{ isBoot: true, type: "CLOUD_SSD", size: 300 }]],
    ["chargeType", "Dynamic"],
    ["quantity", 2],
    ["remark", "new"],
    ["securityGroupId", "firewall-x"],
    ["minimalCpuPlatform", "Intel/Auto"],
    ["enableUS3", true],
  ])("replaces on %s", async (field, value) => {
    expect(await diff({ [field]: value })).toEqual({ changes: true, replaces: [field] });
  });

  it("never diffs on timeouts, checkCapacity or the API's defaults", async () => {
    expect(await diff({ timeouts: { create: "1h" }, checkCapacity: false })).toEqual({ changes: false, replaces: [] });
    expect(await diff({ chargeType: "Month", quantity: 1, machineType: "G", powerState: "running", enableUS3: false, remark: "" })).toEqual({
      changes: false,
      replaces: [],
    });
  });

  it("replaces an instance recorded as Install Fail", async () => {
    expect(await compShareInstance.diff("uhost-abc", { ...olds, state: "Install Fail" }, valid)).toEqual({ changes: true, replaces: ["state"] });
  });

  it("a value unknown at preview counts as a change", async () => {
    expect(await diff({ gpuType: UNKNOWN })).toEqual({ changes: true, replaces: ["gpuType"] });
  });
});

describe("CompShareInstance wire mapping", () => {
  it("maps camelCase inputs to the Create parameters, with the marker in Remark", () => {
    const marker = createMarker();
    expect(marker).toMatch(/^\[pulumi-gpu-cloud [0-9a-f]{16}\]$/);
    const params = toCreateParams(
      instanceInputsSchema.parse({
        ...valid,
        chargeType: "Spot",
        remark: "team a",
        enableUS3: false,
        disks: [
          { isBoot: true, type: "CLOUD_SSD", size: 200 },
          { isBoot: false, type: "CLOUD_NORMAL", size: 500 },
        ],
      }),
      "trainer-1",
      marker,
    );
    expect(params).toEqual({
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      GpuType: "4090",
      GPU: 1,
      CPU: 16,
      Memory: 65536,
      CompShareImageId: "compshareImage-165jmhx19ik7",
      MachineType: "G",
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 200 },
        { IsBoot: false, Type: "CLOUD_NORMAL", Size: 500 },
      ],
      ChargeType: "Spot",
      Quantity: undefined,
      Name: "trainer-1",
      Remark: `team a ${marker}`,
      SecurityGroupId: undefined,
      MinimalCpuPlatform: undefined,
      EnableUS3: false,
    });
    expect(stripMarker(params.Remark)).toBe("team a");
    expect(stripMarker(marker)).toBe("");
  });

  it("decodes base64 passwords and leaves anything else alone", () => {
    expect(decodePassword(Buffer.from("s3cret!Pass").toString("base64"))).toBe("s3cret!Pass");
    expect(decodePassword("not base64!")).toBe("not base64!");
    expect(decodePassword("abc")).toBe("abc");
    expect(decodePassword(Buffer.from([0xff, 0x00, 0x10]).toString("base64"))).toBe("/wAQ");
    expect(decodePassword(undefined)).toBeUndefined();
  });

  it("outputs are plain JSON: live fields, decoded password, ips, ISO times, no marker", () => {
    const outs = toOutputs(
      { ...valid, remark: "r", __provider: "x" },
      {
        UHostId: "uhost-abc",
        Name: "trainer-1",
        Remark: "r [pulumi-gpu-cloud 0123456789abcdef]",
        State: "Stopped",
        GPU: 2,
        CPU: 32,
        Memory: 131072,
        Password: Buffer.from("pw").toString("base64"),
        SshLoginCommand: "",
        IPSet: [{ IP: "117.50.1.2" }, { IP: "10.0.0.2" }],
        CreateTime: 1_700_000_000,
        ExpireTime: 0,
      },
      "uhost-abc",
      1.2345,
    );
    expect(outs).toEqual({
      ...valid,
      gpu: 2,
      cpu: 32,
      memory: 131072,
      remark: "r",
      powerState: "stopped",
      uhostId: "uhost-abc",
      state: "Stopped",
      password: "pw",
      ips: ["117.50.1.2", "10.0.0.2"],
      createTime: "2023-11-14T22:13:20.000Z",
      pricePerHour: 1.2345,
    });
    expect(isPlainJson(outs)).toBe(true);
  });
});

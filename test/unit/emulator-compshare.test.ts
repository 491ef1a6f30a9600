// Exercises the CompShare emulator over real HTTP with plain fetch and a signer written here,
// deliberately without our client: these tests pin the wire contract the client is tested against.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/server";

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(() => {
  emu.faults.clear();
  emu.compshare.release();
});

type Flat = Record<string, string>;

/** UCloud signing, spelled out independently of src/compshare. */
function signFlat(flat: Flat, privateKey: string): string {
  const text = Object.keys(flat)
    .filter((k) => k !== "Signature")
    .sort()
    .map((k) => k + flat[k])
    .join("");
  return createHash("sha1").update(text + privateKey, "utf8").digest("hex");
}

interface Res {
  status: number;
  body: any;
  headers: Headers;
}

async function post(fields: Flat): Promise<Res> {
  const res = await fetch(`${emu.url}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** A correctly signed form POST. */
async function call(action: string, params: Flat = {}, keys = { pub: emu.compsharePublicKey, priv: emu.compsharePrivateKey }): Promise<Res> {
  const flat: Flat = { ...params, Action: action, PublicKey: keys.pub };
  return post({ ...flat, Signature: signFlat(flat, keys.priv) });
}

async function ok(action: string, params: Flat = {}): Promise<any> {
  const res = await call(action, params);
  expect(res.status).toBe(200);
  expect(res.body.RetCode, JSON.stringify(res.body)).toBe(0);
  expect(res.body.Action).toBe(`${action}Response`);
  return res.body;
}

async function retCode(action: string, params: Flat = {}): Promise<{ RetCode: number; Message: string }> {
  const res = await call(action, params);
  expect(res.status).toBe(200);
  return res.body;
}

const where = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const shape: Flat = {
  ...where,
  GpuType: "4090",
  GPU: "1",
  CPU: "16",
  Memory: "65536",
  MachineType: "G",
  CompShareImageId: "compshareImage-165jmhx19ik7",
  "Disks.0.IsBoot": "true",
  "Disks.0.Type": "CLOUD_SSD",
  "Disks.0.Size": "200",
  ChargeType: "Dynamic",
  Name: "emu-test",
};

async function create(over: Flat = {}): Promise<string> {
  const body = await ok("CreateCompShareInstance", { ...shape, ...over });
  expect(body.UHostIds).toHaveLength(1);
  return body.UHostIds[0];
}

async function describeOne(id: string): Promise<any> {
  const body = await ok("DescribeCompShareInstance", { Region: "cn-wlcb", "UHostIds.0": id });
  return body.UHostSet[0];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitState(id: string, want: string | null, timeoutMs = 3000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await describeOne(id);
    const s = h ? h.State : null;
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (s === want) return seen;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${want}; saw ${seen.join(" → ")}`);
    await sleep(15);
  }
}

async function terminate(id: string): Promise<void> {
  const h = await describeOne(id);
  if (!h) return;
  let state = h.State;
  while (!["Running", "Stopped", "Install Fail"].includes(state)) {
    await sleep(15);
    state = (await describeOne(id)).State;
  }
  if (state === "Running") {
    await ok("StopCompShareInstance", { ...where, UHostId: id, Force: "true" });
    await waitState(id, "Stopped");
  }
  await ok("TerminateCompShareInstance", { ...where, UHostId: id });
  await waitState(id, null);
}

describe("gateway: envelope, signature, actions", () => {
  it("answers HTTP 200 with RetCode and the UCloud request id header", async () => {
    const body = await ok("DescribeCompShareInstance", { Region: "cn-wlcb" });
    expect(body).toMatchObject({ RetCode: 0, TotalCount: expect.any(Number), UHostSet: expect.any(Array) });
    const res = await call("DescribeCompShareInstance", { Region: "cn-wlcb" });
    expect(res.headers.get("x-ucloud-request-uuid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("170 without a signature, 171 on a wrong one, 172 for an unknown public key", async () => {
    const flat: Flat = { Action: "DescribeCompShareInstance", PublicKey: emu.compsharePublicKey, Region: "cn-wlcb" };
    expect((await post(flat)).body).toMatchObject({ RetCode: 170, Action: "DescribeCompShareInstanceResponse" });
    expect((await post({ ...flat, Signature: signFlat(flat, "not-the-key") })).body).toMatchObject({
      RetCode: 171,
      Message: "Signature VerifyAC Error",
    });
    const stranger = { ...flat, PublicKey: "someone-else" };
    expect((await post({ ...stranger, Signature: signFlat(stranger, emu.compsharePrivateKey) })).body).toMatchObject({
      RetCode: 172,
      Message: "User Not Exists",
    });
    // a value changed after signing is a mismatch, too
    const signed = { ...flat, Signature: signFlat(flat, emu.compsharePrivateKey) };
    expect((await post({ ...signed, Region: "cn-sh2" })).body.RetCode).toBe(171);
  });

  it("160 without an Action, 161 for an unknown one", async () => {
    const flat: Flat = { PublicKey: emu.compsharePublicKey };
    expect((await post({ ...flat, Signature: signFlat(flat, emu.compsharePrivateKey) })).body.RetCode).toBe(160);
    const res = await retCode("PoweronCompShareInstance");
    expect(res).toMatchObject({ RetCode: 161, Message: "Action [PoweronCompShareInstance] not found" });
  });

  it("verifies a signed bool exactly as sent: `True` signed as `true` is a mismatch", async () => {
    const flat: Flat = { ...shape, Action: "CreateCompShareInstance", PublicKey: emu.compsharePublicKey };
    const signature = signFlat(flat, emu.compsharePrivateKey);
    const res = await post({ ...flat, "Disks.0.IsBoot": "True", Signature: signature });
    expect(res.body.RetCode).toBe(171);
  });

  it("accepts JSON with flat keys and typed values, signed over their text", async () => {
    const params = { Action: "DescribeCompShareInstance", PublicKey: emu.compsharePublicKey, Region: "cn-wlcb", Limit: 5, WithoutGpu: false };
    const text: Flat = { Action: params.Action, PublicKey: params.PublicKey, Region: "cn-wlcb", Limit: "5", WithoutGpu: "false" };
    const res = await fetch(`${emu.url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...params, Signature: signFlat(text, emu.compsharePrivateKey) }),
    });
    expect(((await res.json()) as any).RetCode).toBe(0);
  });

  it("accepts nested JSON signed the Go SDK's way, with Action in the query string", async () => {
    const disks = [{ IsBoot: true, Type: "CLOUD_SSD", Size: 200 }];
    // Go's rule: an array concatenates its elements, an object its sorted key+value pairs.
    const nestedText = "IsBoottrueSize200TypeCLOUD_SSD";
    const signed: Flat = {
      Action: "CheckCompShareResourceCapacity",
      PublicKey: emu.compsharePublicKey,
      ...where,
      GpuType: "4090",
      MachineType: "G",
      Disks: nestedText,
    };
    const res = await fetch(`${emu.url}/?Action=CheckCompShareResourceCapacity`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        Action: "CheckCompShareResourceCapacity",
        PublicKey: emu.compsharePublicKey,
        ...where,
        GpuType: "4090",
        MachineType: "G",
        Disks: disks,
        Signature: signFlat(signed, emu.compsharePrivateKey),
      }),
    });
    const body = (await res.json()) as any;
    expect(body.RetCode).toBe(0);
    expect(body.Specs[0]).toMatchObject({ Gpu: 1, Cpu: expect.any(Number), Mem: expect.any(Number), ResourceEnough: true });
  });

  it("accepts GET with everything in the query string", async () => {
    const flat: Flat = { Action: "DescribeCompShareSupportZone", PublicKey: emu.compsharePublicKey, Region: "cn-sh2" };
    const res = await fetch(`${emu.url}/?${new URLSearchParams({ ...flat, Signature: signFlat(flat, emu.compsharePrivateKey) })}`);
    const body = (await res.json()) as any;
    expect(body.RetCode).toBe(0);
    expect(body.ZoneInfo.map((z: { Zone: string }) => z.Zone)).toEqual(["cn-sh2-02", "cn-sh2-03"]);
  });
});

describe("CreateCompShareInstance validation", () => {
  const cases: [string, Flat, string][] = [
    ["unknown region", { Region: "cn-nowhere" }, "Region"],
    ["zone of another region", { Zone: "cn-sh2-02" }, "Zone"],
    ["unknown GPU type", { GpuType: "H100" }, "GpuType"],
    ["too many GPUs", { GPU: "11" }, "GPU"],
    ["memory not a multiple of 1024", { Memory: "16000" }, "Memory"],
    ["memory above the type's maximum", { GpuType: "3080Ti", Memory: String(126 * 1024), CPU: "12" }, "Memory"],
    ["malformed image id", { CompShareImageId: "ubuntu" }, "CompShareImageId"],
    ["RSSD on a non-A800", { "Disks.0.Type": "CLOUD_RSSD" }, "Disks.0.Type"],
    ["no boot disk", { "Disks.0.IsBoot": "false" }, "Disks.N.IsBoot"],
    ["Spot on A800", { GpuType: "A800", ChargeType: "Spot" }, "ChargeType"],
    ["AMD platform for an Intel-only type", { GpuType: "H20", MinimalCpuPlatform: "Amd/Auto" }, "MinimalCpuPlatform"],
    ["name with a space", { Name: "a b" }, "Name"],
    ["machine type other than G", { MachineType: "O" }, "MachineType"],
  ];
  it.each(cases)("%s → 230 Params [...] not available", async (_what, over, param) => {
    const before = emu.compshare.createdCount;
    const res = await retCode("CreateCompShareInstance", { ...shape, ...over });
    expect(res).toMatchObject({ RetCode: 230, Message: `Params [${param}] not available` });
    expect(emu.compshare.createdCount).toBe(before);
  });

  it("accepts CLOUD_RSSD on A800 and a community image of the zone", async () => {
    const id = await create({ GpuType: "A800", "Disks.0.Type": "CLOUD_RSSD", CompShareImageId: "compshareImage-1f6kx2hv9q0a" });
    expect(await describeOne(id)).toMatchObject({ CompShareImageId: "compshareImage-1f6kx2hv9q0a", CompShareImageType: "Community", CompShareImageOwnerAlias: "Community" });
    await terminate(id);
  });

  it("refuses an image the zone does not offer, or one that is not Available, on Create and the capacity check", async () => {
    const before = emu.compshare.createdCount;
    for (const image of [
      "compshareImage-0123456789ab", // not in the catalogue
      "compshareImage-1h7pa3dk6m1c", // a community image that is Offline
      "compshareImage-1k8mc5ny7h3g", // a custom image still Making
    ]) {
      expect(await retCode("CreateCompShareInstance", { ...shape, CompShareImageId: image })).toMatchObject({ RetCode: 230, Message: "Params [CompShareImageId] not available" });
      expect(await retCode("CheckCompShareResourceCapacity", { ...where, GpuType: "4090", MachineType: "G", CompShareImageId: image })).toMatchObject({
        RetCode: 230,
        Message: "Params [CompShareImageId] not available",
      });
    }
    // Fooocus is listed in cn-wlcb-01 only
    expect((await retCode("CreateCompShareInstance", { ...shape, Region: "cn-sh2", Zone: "cn-sh2-02", CompShareImageId: "compshareImage-1g2ns8ce4r5b" })).RetCode).toBe(230);
    expect(emu.compshare.createdCount).toBe(before);
  });
});

describe("instance lifecycle", () => {
  it("Initializing → Starting → Running; stop, resize, start, terminate; gone from Describe", async () => {
    const id = await create({ Name: "lifecycle", Remark: "r" });
    expect(id).toMatch(/^uhost-[a-z0-9]{12}$/);
    const first = await describeOne(id);
    expect(first.State).toBe("Initializing");
    expect(first.SshLoginCommand).toBe("");
    expect(await waitState(id, "Running")).toEqual(expect.arrayContaining(["Starting", "Running"]));

    const running = await describeOne(id);
    expect(running).toMatchObject({
      UHostId: id,
      Name: "lifecycle",
      Remark: "r",
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      GpuType: "4090",
      GPU: 1,
      CPU: 16,
      Memory: 65536,
      ChargeType: "Dynamic",
      MachineType: "G",
      CreateTime: expect.any(Number),
      ExpireTime: 0,
      SshLoginCommand: expect.stringMatching(/^ssh -p \d+ root@\d+\.\d+\.\d+\.\d+$/),
    });
    expect(Buffer.from(running.Password, "base64").toString("base64")).toBe(running.Password);
    expect(running.IPSet.map((ip: { Type: string }) => ip.Type)).toEqual(["Bgp", "Private"]);
    expect(Math.abs(running.CreateTime - Date.now() / 1000)).toBeLessThan(60);

    // wrong-state requests are refused, not queued
    expect((await retCode("StartCompShareInstance", { ...where, UHostId: id })).RetCode).toBe(8040);
    expect((await retCode("ResizeCompShareInstance", { ...where, UHostId: id, Cpu: "32", Memory: "131072", Gpu: "2" })).RetCode).toBe(8040);
    expect((await retCode("TerminateCompShareInstance", { ...where, UHostId: id })).RetCode).toBe(8040);

    await ok("StopCompShareInstance", { ...where, UHostId: id });
    // the per-instance lock holds while Stopping
    expect(await retCode("StopCompShareInstance", { ...where, UHostId: id })).toMatchObject({
      RetCode: 8903,
      Message: expect.stringContaining("InstanceOperationInProgress"),
    });
    expect(await waitState(id, "Stopped")).toEqual(expect.arrayContaining(["Stopping", "Stopped"]));
    expect((await describeOne(id)).SshLoginCommand).toBe("");

    await ok("ResizeCompShareInstance", { ...where, UHostId: id, Cpu: "32", Memory: "131072", Gpu: "2" });
    expect((await describeOne(id)).State).toBe("Resizing");
    await waitState(id, "Stopped");
    expect(await describeOne(id)).toMatchObject({ GPU: 2, CPU: 32, Memory: 131072 });

    await ok("ModifyCompShareInstanceName", { ...where, UHostId: id, Name: "renamed" });
    expect((await describeOne(id)).Name).toBe("renamed");

    await ok("StartCompShareInstance", { ...where, UHostId: id });
    await waitState(id, "Running");
    await ok("RebootCompShareInstance", { ...where, UHostId: id });
    expect(await waitState(id, "Running")).toContain("Rebooting");

    await ok("StopCompShareInstance", { ...where, UHostId: id });
    await waitState(id, "Stopped");
    const terminated = await ok("TerminateCompShareInstance", { ...where, UHostId: id });
    expect(terminated.UHostId).toBe(id);
    await waitState(id, null);
    const gone = await ok("DescribeCompShareInstance", { Region: "cn-wlcb", "UHostIds.0": id });
    expect(gone).toMatchObject({ RetCode: 0, TotalCount: 0, UHostSet: [] });
    expect((await retCode("StartCompShareInstance", { ...where, UHostId: id })).RetCode).toBe(230);
  });

  it("refuses an id in another zone as unknown", async () => {
    const id = await create();
    expect(await retCode("StopCompShareInstance", { Region: "cn-wlcb", Zone: "cn-wlcb-02", UHostId: id })).toMatchObject({
      RetCode: 230,
      Message: "Params [UHostId] not available",
    });
    await terminate(id);
  });

  it("needs Force to stop a Spot instance", async () => {
    const id = await create({ ChargeType: "Spot" });
    await waitState(id, "Running");
    expect(await retCode("StopCompShareInstance", { ...where, UHostId: id })).toMatchObject({ RetCode: 230, Message: "Params [Force] not available" });
    await ok("StopCompShareInstance", { ...where, UHostId: id, Force: "true" });
    await terminate(id);
  });

  it("ends in Install Fail when told to, and terminates from there", async () => {
    emu.compshare.failNextCreate();
    const id = await create();
    await waitState(id, "Install Fail");
    await ok("TerminateCompShareInstance", { ...where, UHostId: id });
    await waitState(id, null);
  });

  it("holds new instances in Initializing until released", async () => {
    emu.compshare.holdNewInstances(true);
    const id = await create();
    await sleep(400);
    expect((await describeOne(id)).State).toBe("Initializing");
    emu.compshare.release();
    await waitState(id, "Running");
    await terminate(id);
  });

  it("lockFor refuses power actions with 8903 even in a stable state", async () => {
    const id = await create();
    await waitState(id, "Running");
    emu.compshare.lockFor(id, 200);
    expect((await retCode("StopCompShareInstance", { ...where, UHostId: id })).RetCode).toBe(8903);
    await sleep(250);
    await ok("StopCompShareInstance", { ...where, UHostId: id });
    await terminate(id);
  });

  it("records the ids each Describe carried", async () => {
    const a = await create();
    const b = await create();
    const before = emu.compshare.describeCalls.length;
    await ok("DescribeCompShareInstance", { Region: "cn-wlcb", "UHostIds.0": a, "UHostIds.1": b, Limit: "100" });
    expect(emu.compshare.describeCalls.slice(before)).toEqual([[a, b]]);
    await Promise.all([terminate(a), terminate(b)]);
  });
});

describe("Describe paging", () => {
  it("pages with Limit and Offset, refuses Limit > 100, more than 100 ids, and an Offset past the end", async () => {
    const ids = [await create(), await create(), await create()];
    const all = await ok("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: "100" });
    const page = await ok("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: "2", Offset: "1" });
    expect(page.TotalCount).toBe(all.TotalCount);
    expect(page.UHostSet.map((h: { UHostId: string }) => h.UHostId)).toEqual(all.UHostSet.slice(1, 3).map((h: { UHostId: string }) => h.UHostId));
    expect((await retCode("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: "101" })).RetCode).toBe(230);
    const many: Flat = { Region: "cn-wlcb" };
    for (let i = 0; i <= 100; i++) many[`UHostIds.${i}`] = `uhost-${String(i).padStart(12, "0")}`;
    expect(await retCode("DescribeCompShareInstance", many)).toMatchObject({ RetCode: 230, Message: "Params [UHostIds] not available" });
    expect((await retCode("DescribeCompShareInstance", { Region: "cn-wlcb", Offset: String(all.TotalCount + 1) })).RetCode).toBe(230);
    await Promise.all(ids.map(terminate));
  });
});

describe("stock, quota, catalogue", () => {
  it("sold out: 8357 on Create, ResourceEnough false, Soldout in the catalogue, 8357 on Start", async () => {
    const id = await create({ GpuType: "3090", MinimalCpuPlatform: "Amd/Auto" });
    await waitState(id, "Running");
    await ok("StopCompShareInstance", { ...where, UHostId: id });
    await waitState(id, "Stopped");
    emu.compshare.setStock("3090", 0);
    try {
      const before = emu.compshare.createdCount;
      expect(await retCode("CreateCompShareInstance", { ...shape, GpuType: "3090" })).toMatchObject({ RetCode: 8357 });
      expect(emu.compshare.createdCount).toBe(before);
      const check = await ok("CheckCompShareResourceCapacity", { ...where, GpuType: "3090", MachineType: "G" });
      expect(check.Specs.length).toBeGreaterThan(0);
      expect(check.Specs.every((s: { ResourceEnough: boolean }) => !s.ResourceEnough)).toBe(true);
      const types = await ok("DescribeAvailableCompShareInstanceTypes", { Region: "cn-wlcb", "MachineTypes.0": "3090" });
      expect(types.AvailableInstanceTypes).toEqual([expect.objectContaining({ Name: "3090", Zone: "cn-wlcb-01", Status: "Soldout" })]);
      expect((await retCode("StartCompShareInstance", { ...where, UHostId: id })).RetCode).toBe(8357);
    } finally {
      emu.compshare.setStock("3090", 1000);
    }
    await terminate(id);
  });

  it("stock counts cards: two 1-GPU creates against a stock of one", async () => {
    emu.compshare.setStock("V100S", 1);
    const id = await create({ GpuType: "V100S" });
    expect((await retCode("CreateCompShareInstance", { ...shape, GpuType: "V100S" })).RetCode).toBe(8357);
    await terminate(id);
    emu.compshare.setStock("V100S", 1000);
  });

  it("quota on live instances → 8095", async () => {
    const live = emu.compshare.instances().length;
    emu.compshare.setQuota(live + 1);
    try {
      const id = await create();
      expect((await retCode("CreateCompShareInstance", shape)).RetCode).toBe(8095);
      await terminate(id);
    } finally {
      emu.compshare.setQuota(20);
    }
  });

  it("describes the GPU table with sizes in GB", async () => {
    const body = await ok("DescribeAvailableCompShareInstanceTypes", { Region: "cn-wlcb" });
    const a800 = body.AvailableInstanceTypes.find((t: { Name: string }) => t.Name === "A800");
    expect(a800).toMatchObject({ GraphicsMemory: { Value: 80 }, CpuPlatforms: { Intel: ["Intel/Auto"], Amd: [] } });
    expect(a800.MachineSizes).toHaveLength(8);
    expect(body.AvailableInstanceTypes.map((t: { Name: string }) => t.Name)).toContain("4090_48G");
  });

  it("quotes a price per charge type", async () => {
    const body = await ok("GetCompShareInstancePrice", { ...where, GpuType: "4090", Gpu: "1", Cpu: "16", Memory: "65536", ChargeType: "Dynamic" });
    expect(body.PriceDetail).toEqual([expect.objectContaining({ ChargeType: "Dynamic", Instance: 2.05 })]);
    expect(body.PriceDetails).toEqual(body.PriceDetail);
    const all = await ok("GetCompShareInstancePrice", { ...where, GpuType: "4090", Gpu: "2", Cpu: "32", Memory: "131072" });
    expect(all.PriceDetails.map((d: { ChargeType: string }) => d.ChargeType)).toEqual(["Dynamic", "Month", "Day"]);
  });
});

describe("fault injection", () => {
  it("a RetCode fault answers HTTP 200 with the action's envelope", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 153 });
    const res = await call("DescribeCompShareInstance", { Region: "cn-wlcb" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ Action: "DescribeCompShareInstanceResponse", RetCode: 153, Message: expect.any(String) });
    expect(res.headers.get("x-ucloud-request-uuid")).toBeTruthy();
    expect((await call("DescribeCompShareInstance", { Region: "cn-wlcb" })).body.RetCode).toBe(0);
  });

  it("a fault for one action leaves others alone, and an HTTP status fault sends that status", async () => {
    emu.faults.add({ cloud: "compshare", action: "StopCompShareInstance", status: 503 });
    expect((await call("DescribeCompShareInstance", { Region: "cn-wlcb" })).body.RetCode).toBe(0);
    const res = await call("StopCompShareInstance", { ...where, UHostId: "uhost-x" });
    expect(res.status).toBe(503);
    expect(emu.requests.at(-1)).toMatchObject({ cloud: "compshare", action: "StopCompShareInstance", fault: "status=503" });
  });
});

describe("the Go SDK's forms", () => {
  it("Describe words charge types in the SDK's enum: Spot reads Postpay, Day reads Dynamic", async () => {
    const spot = await create({ ChargeType: "Spot" });
    const day = await create({ ChargeType: "Day" });
    expect((await describeOne(spot)).ChargeType).toBe("Postpay");
    const d = await describeOne(day);
    expect(d.ChargeType).toBe("Dynamic");
    expect(d.ExpireTime - d.CreateTime).toBe(86400);
    await Promise.all([terminate(spot), terminate(day)]);
  });

  it("carries the SDK's fields: UpdateTime moves with the state, ReleaseTime only while a pay-as-you-go instance is stopped", async () => {
    const id = await create();
    await waitState(id, "Running");
    const running = await describeOne(id);
    expect(running).toMatchObject({ ReleaseTime: 0, StopSchedulerTime: 0, StopTime: 0, AutoRenew: "No", IsExpire: "No", InstancePrice: 2.05 });
    expect(running.IPSet[1]).toMatchObject({ Type: "Private", Mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/), SubnetId: expect.any(String), VPCId: expect.any(String) });
    expect(running.DiskSet).toEqual([expect.objectContaining({ IsBoot: "True", Size: 200, DiskType: "CLOUD_SSD" })]);
    expect(running.UpdateTime).toBeGreaterThanOrEqual(running.CreateTime);
    await ok("StopCompShareInstance", { ...where, UHostId: id });
    await waitState(id, "Stopped");
    const stopped = await describeOne(id);
    expect(stopped.ReleaseTime).toBeGreaterThan(stopped.UpdateTime);
    await terminate(id);
  });

  it("Quantity 0 is for Month only; Ampere platforms have no GPU type", async () => {
    expect(await retCode("CreateCompShareInstance", { ...shape, ChargeType: "Day", Quantity: "0" })).toMatchObject({ RetCode: 230, Message: "Params [Quantity] not available" });
    expect(await retCode("CreateCompShareInstance", { ...shape, MinimalCpuPlatform: "Ampere/Altra" })).toMatchObject({
      RetCode: 230,
      Message: "Params [MinimalCpuPlatform] not available",
    });
    expect(await retCode("CreateCompShareInstance", { ...shape, MinimalCpuPlatform: "Intel/Sandybridge" })).toMatchObject({ RetCode: 230 });
  });

  it("MaxCount makes that many instances in one call", async () => {
    const body = await ok("CreateCompShareInstance", { ...shape, MaxCount: "2" });
    expect(body.UHostIds).toHaveLength(2);
    await Promise.all(body.UHostIds.map(terminate));
  });

  it("reads a list with a gap, as the SDK sends it after skipping an empty value", async () => {
    const a = await create();
    const b = await create();
    const body = await ok("DescribeCompShareInstance", { Region: "cn-wlcb", "UHostIds.0": a, "UHostIds.2": b });
    expect(body.UHostSet.map((h: { UHostId: string }) => h.UHostId)).toEqual([a, b]);
    await Promise.all([terminate(a), terminate(b)]);
  });

  it("grows a disk of a stopped instance with the disk form of Resize, never shrinks it", async () => {
    const id = await create();
    await waitState(id, "Running");
    await ok("StopCompShareInstance", { ...where, UHostId: id });
    await waitState(id, "Stopped");
    const disk = (await describeOne(id)).DiskSet[0].DiskId;
    expect(await retCode("ResizeCompShareInstance", { ...where, UHostId: id, DiskId: disk, DiskSpace: "100" })).toMatchObject({ RetCode: 230, Message: "Params [DiskSpace] not available" });
    expect(await retCode("ResizeCompShareInstance", { ...where, UHostId: id, DiskId: "bsi-nope", DiskSpace: "400" })).toMatchObject({ Message: "Params [DiskId] not available" });
    expect(await retCode("ResizeCompShareInstance", { ...where, UHostId: id, Cpu: "32", DiskId: disk, DiskSpace: "400" })).toMatchObject({ RetCode: 230 });
    await ok("ResizeCompShareInstance", { ...where, UHostId: id, DiskId: disk, DiskSpace: "400" });
    await waitState(id, "Stopped");
    expect((await describeOne(id)).DiskSet[0].Size).toBe(400);
    await terminate(id);
  });

  it("a scheduled stop needs five minutes' notice and can be cancelled", async () => {
    const id = await create();
    expect(await retCode("UpdateCompShareStopScheduler", { ...where, UHostId: id, StopTime: String(Math.floor(Date.now() / 1000) + 60) })).toMatchObject({
      RetCode: 230,
      Message: "Params [StopTime] not available",
    });
    const at = Math.floor(Date.now() / 1000) + 3600;
    await ok("UpdateCompShareStopScheduler", { ...where, UHostId: id, StopTime: String(at) });
    expect(await describeOne(id)).toMatchObject({ StopSchedulerTime: at, StopTime: at });
    await ok("DeleteCompShareStopScheduler", { ...where, UHostId: id });
    expect((await describeOne(id)).StopSchedulerTime).toBe(0);
    await terminate(id);
  });
});

describe("CompShareModel on its own clock", () => {
  it("stops a running instance when its scheduled stop comes", async () => {
    const { CompShareModel } = await import("../../src/emulator/compshare");
    const { createSchema, unflatten } = await import("../../src/emulator/compshare/schemas");
    let now = 1_800_000_000_000;
    const timings = { provisionMs: 100, startMs: 100, stopMs: 100, rebootMs: 100, resizeMs: 100, terminateMs: 100 };
    const model = new CompShareModel(timings, () => now);
    const id = model.create(createSchema.parse(unflatten(new Map(Object.entries(shape)))));
    now += 200;
    expect(model.get(id)!.State).toBe("Running");
    model.scheduleStop(id, {}, now / 1000 + 600);
    now += 599_000;
    expect(model.get(id)!.State).toBe("Running");
    now += 1_050;
    expect(model.get(id)!.State).toBe("Stopping");
    now += 100;
    expect(model.get(id)).toMatchObject({ State: "Stopped", StopSchedulerTime: 0 });
  });
});

describe("catalogue: images, zones, regions (the SDK's CompShareImage, SupportZone; uaccount RegionInfo)", () => {
  it("DescribeCompShareImages lists platform System images by default, App on request, with the SDK's fields", async () => {
    const system = await ok("DescribeCompShareImages", { Region: "cn-wlcb" });
    expect(system.TotalCount).toBe(system.ImageSet.length);
    expect(system.ImageSet.length).toBeGreaterThanOrEqual(4);
    expect(system.ImageSet.every((i: { ImageType: string }) => i.ImageType === "System")).toBe(true);
    const ubuntu = system.ImageSet.find((i: { CompShareImageId: string }) => i.CompShareImageId === "compshareImage-165jmhx19ik7");
    expect(ubuntu).toMatchObject({
      Name: "Ubuntu 22.04 CUDA 12.4",
      ImageOwnerAlias: "Official",
      Status: "Available",
      Container: "False",
      Size: expect.any(Number),
      Tags: expect.any(Array),
      Softwares: { CUDAVersion: "12.4", Framework: "", FrameworkVersion: "", Applications: [] },
      Owner: expect.objectContaining({ AccountId: expect.any(String) }),
    });
    expect(ubuntu.Readme).toBeUndefined();
    expect(ubuntu.zones).toBeUndefined();
    const app = await ok("DescribeCompShareImages", { Region: "cn-wlcb", ImageType: "App" });
    expect(app.ImageSet.map((i: { CompShareImageId: string }) => i.CompShareImageId)).toContain("compshareImage-1c8w7rfxn2qd");
    expect(app.ImageSet.every((i: { ImageType: string }) => i.ImageType === "App")).toBe(true);
    expect((await retCode("DescribeCompShareImages", { Region: "cn-wlcb", ImageType: "Custom" })).RetCode).toBe(230);
  });

  it("filters by Name (fuzzy), CompShareImageId (with Readme) and pages with Offset/Limit", async () => {
    const named = await ok("DescribeCompShareImages", { Region: "cn-wlcb", Name: "pytorch" });
    expect(named.ImageSet.map((i: { Name: string }) => i.Name)).toEqual(["Ubuntu 22.04 PyTorch 2.4 CUDA 12.1"]);
    const byId = await ok("DescribeCompShareImages", { Region: "cn-wlcb", CompShareImageId: "compshareImage-1c8w7rfxn2qd" });
    expect(byId.ImageSet).toEqual([expect.objectContaining({ ImageType: "App", Readme: expect.stringContaining("PyTorch") })]);
    const all = await ok("DescribeCompShareImages", { Region: "cn-wlcb" });
    const page = await ok("DescribeCompShareImages", { Region: "cn-wlcb", Offset: "1", Limit: "2" });
    expect(page.TotalCount).toBe(all.TotalCount);
    expect(page.ImageSet.map((i: { CompShareImageId: string }) => i.CompShareImageId)).toEqual(
      all.ImageSet.slice(1, 3).map((i: { CompShareImageId: string }) => i.CompShareImageId),
    );
    expect((await retCode("DescribeCompShareImages", { Region: "cn-wlcb", Limit: "101" })).RetCode).toBe(230);
  });

  it("custom and community images need Zone and are listed per zone", async () => {
    expect(await retCode("DescribeCompShareCustomImages", { Region: "cn-wlcb" })).toMatchObject({ RetCode: 230, Message: "Params [Zone] not available" });
    expect(await retCode("DescribeCommunityImages", { Region: "cn-wlcb" })).toMatchObject({ RetCode: 230, Message: "Params [Zone] not available" });
    const custom = await ok("DescribeCompShareCustomImages", where);
    expect(custom.ImageSet.map((i: { ImageType: string }) => i.ImageType)).toEqual(["Custom", "Custom"]);
    expect(custom.ImageSet.map((i: { Status: string }) => i.Status)).toEqual(["Available", "Making"]);
    const community = await ok("DescribeCommunityImages", where);
    expect(community.TotalCount).toBe(3);
    expect(community.ImageSet.every((i: { ImageOwnerAlias: string }) => i.ImageOwnerAlias === "Community")).toBe(true);
    const fooocus = await ok("DescribeCommunityImages", { ...where, Name: "fooo" });
    expect(fooocus.ImageSet).toEqual([expect.objectContaining({ CompShareImageId: "compshareImage-1g2ns8ce4r5b", Price: 0.5 })]);
    const elsewhere = await ok("DescribeCommunityImages", { Region: "cn-sh2", Zone: "cn-sh2-02" });
    expect(elsewhere.ImageSet.map((i: { CompShareImageId: string }) => i.CompShareImageId)).toEqual(["compshareImage-1f6kx2hv9q0a"]);
    expect((await ok("DescribeCompShareCustomImages", { Region: "cn-sh2", Zone: "cn-sh2-02" })).ImageSet).toEqual([]);
  });

  it("DescribeCompShareSupportZone answers the SDK's SupportZone; GetRegion lists the account's zones, one outside CompShare", async () => {
    const zones = await ok("DescribeCompShareSupportZone", { Region: "cn-wlcb" });
    expect(zones.ZoneInfo).toEqual([{ Region: "cn-wlcb", Zone: "cn-wlcb-01", Describe: "乌兰察布A", RegionId: expect.any(Number), ZoneId: expect.any(Number) }]);
    expect((await retCode("DescribeCompShareSupportZone", {})).RetCode).toBe(230);
    const regions = await ok("GetRegion");
    expect(regions.Regions.map((r: { Zone: string }) => r.Zone)).toEqual(["cn-wlcb-01", "cn-sh2-02", "cn-sh2-03", "cn-bj2-02", "hk-02"]);
    expect(regions.Regions[0]).toMatchObject({ Region: "cn-wlcb", RegionId: expect.any(Number), RegionName: expect.any(String), IsDefault: true, BitMaps: expect.any(String) });
    expect((await retCode("DescribeCompShareSupportZone", { Region: "hk" })).RetCode).toBe(230);
  });

  it("stock per zone: sold out in one zone shows Soldout and ResourceEnough false there, and refuses Create there only", async () => {
    emu.compshare.setStock("5090", 0, "cn-sh2-02");
    try {
      const sh = { Region: "cn-sh2", Zone: "cn-sh2-02" };
      const types = await ok("DescribeAvailableCompShareInstanceTypes", { Region: "cn-sh2", "MachineTypes.0": "5090" });
      expect(types.AvailableInstanceTypes.map((t: { Zone: string; Status: string }) => [t.Zone, t.Status])).toEqual([
        ["cn-sh2-02", "Soldout"],
        ["cn-sh2-03", "Normal"],
      ]);
      const check = await ok("CheckCompShareResourceCapacity", { ...sh, GpuType: "5090", MachineType: "G" });
      expect(check.Specs.every((s: { ResourceEnough: boolean }) => !s.ResourceEnough)).toBe(true);
      const other = await ok("CheckCompShareResourceCapacity", { Region: "cn-sh2", Zone: "cn-sh2-03", GpuType: "5090", MachineType: "G" });
      expect(other.Specs.some((s: { ResourceEnough: boolean }) => s.ResourceEnough)).toBe(true);
      const before = emu.compshare.createdCount;
      expect((await retCode("CreateCompShareInstance", { ...shape, ...sh, GpuType: "5090" })).RetCode).toBe(8357);
      expect(emu.compshare.createdCount).toBe(before);
      const id = await create({ Region: "cn-sh2", Zone: "cn-sh2-03", GpuType: "5090" });
      expect(emu.compshare.stock("5090", "cn-sh2-02")).toBe(0);
      emu.compshare.deleteBehindBack(id);
    } finally {
      emu.compshare.setStock("5090", 1000, "cn-sh2-02");
    }
  });
});

/**
 * The CompShare wire corpus (test/wire/compshare/): every request example, signed by our
 * client, is accepted by the emulator; every response example, served as the gateway's
 * answer, is read by the client's parsers with the values it carries.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CompShareClient } from "../../src/compshare/client";
import { toOutputs } from "../../src/compshare/instance";
import type { Params } from "../../src/compshare/signature";
import { type Emulator, startEmulator } from "../../src/emulator/server";

const DIR = join(__dirname, "..", "wire", "compshare");
const files = (suffix: string) =>
  readdirSync(DIR)
    .filter((f) => f.endsWith(suffix))
    .sort();
const load = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(DIR, file), "utf8"));

let emu: Emulator;
let client: CompShareClient;

beforeAll(async () => {
  emu = await startEmulator();
  client = new CompShareClient({ publicKey: emu.compsharePublicKey, privateKey: emu.compsharePrivateKey, baseUrl: emu.url, retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await client.close();
  await emu?.close();
});
afterEach(() => emu.faults.clear());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitState(id: string, want: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await client.findInstance(id, "cn-wlcb"))?.State !== want) {
    if (Date.now() > deadline) throw new Error(`${id} never reached ${want}`);
    await sleep(20);
  }
}

/**
 * An example's parameters with the placeholders `uhost-xxxx` / `bsi-xxxx` bound to a live
 * instance, and `compshareImage-xxxx` (the SDK example's image) to an image of the emulator's catalogue.
 */
function bind(example: Record<string, unknown>, ids: { uhost?: string; disk?: string }): { action: string; params: Params } {
  const { Action, ...rest } = example;
  const text = JSON.stringify(rest)
    .replaceAll('"uhost-xxxx"', JSON.stringify(ids.uhost ?? "uhost-xxxx"))
    .replaceAll('"bsi-xxxx"', JSON.stringify(ids.disk ?? "bsi-xxxx"))
    .replaceAll('"compshareImage-xxxx"', JSON.stringify("compshareImage-165jmhx19ik7"));
  return { action: String(Action), params: JSON.parse(text) as Params };
}

describe("request examples → the emulator", () => {
  it("accepts every one, signed by the client, and acts on it", async () => {
    // The order brings one instance through the states each example needs.
    const plan = [
      "create-instance.request.json",
      "create-instance.month-end.request.json",
      "describe-instance.request.json",
      "describe-available-instance-types.request.json",
      "get-price.request.json",
      "describe-images.request.json",
      "describe-custom-images.request.json",
      "describe-community-images.request.json",
      "describe-support-zone.request.json",
      "update-stop-scheduler.request.json",
      "delete-stop-scheduler.request.json",
      "stop-instance.request.json",
      "resize-disk.request.json",
    ];
    expect([...plan].sort()).toEqual(files(".request.json"));
    const ids: { uhost?: string; disk?: string } = {};
    const answers: Record<string, Record<string, any>> = {};
    let scheduledAt: number | undefined;
    for (const file of plan) {
      if (file === "update-stop-scheduler.request.json") await waitState(ids.uhost!, "Running");
      if (file === "resize-disk.request.json") {
        await waitState(ids.uhost!, "Stopped");
        ids.disk = emu.compshare.get(ids.uhost!)!.DiskSet[0].DiskId;
      }
      const { action, params } = bind(load(file), ids);
      const answer = await client.call(action, params).catch((e) => e);
      expect(answer, `${file}: ${answer?.message}`).toMatchObject({ RetCode: 0, Action: `${action}Response` });
      answers[file] = answer;
      if (file === "create-instance.request.json") ids.uhost = (answer as any).UHostIds[0];
      if (file === "update-stop-scheduler.request.json") scheduledAt = emu.compshare.get(ids.uhost!)!.StopSchedulerTime;
    }

    // the SDK example as sent: one 4090, its boot disk of 200 GB, pay-as-you-go
    expect(emu.compshare.get(ids.uhost!)).toMatchObject({ GpuType: "4090", GPU: 1, CPU: 16, Memory: 65536, ChargeType: "Dynamic", Name: "my-instance" });
    // Quantity 0 with Month: the term ends at the start of next month (China time), no Disks: the default boot disk
    const monthEnd = emu.compshare.get(answers["create-instance.month-end.request.json"].UHostIds[0])!;
    const now = new Date(Date.now() + 8 * 3600_000);
    expect(monthEnd.ExpireTime).toBe(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) / 1000 - 8 * 3600);
    expect(monthEnd).toMatchObject({ ChargeType: "Month", CpuPlatform: "Intel/Cascadelake", DiskSet: [expect.objectContaining({ IsBoot: "True" })] });
    expect(Buffer.from(monthEnd.Password, "base64").toString("utf8")).toBe("Password1");
    expect(answers["describe-instance.request.json"]).toMatchObject({ TotalCount: 1, UHostSet: [expect.objectContaining({ UHostId: ids.uhost })] });
    expect(answers["describe-available-instance-types.request.json"].AvailableInstanceTypes).toEqual([
      expect.objectContaining({ Name: "4090", Zone: "cn-wlcb-01", Features: [expect.objectContaining({ Name: "NetCapability", Modes: expect.any(Array) })] }),
    ]);
    // no Gpu, Cpu, Memory: the SDK's defaults 1, 16, 32768 MB
    const price = answers["get-price.request.json"];
    expect(price.PriceDetail).toEqual([expect.objectContaining({ ChargeType: "Dynamic", Instance: 2.05 })]);
    expect(price.OriginalPriceDetail).toHaveLength(1);
    expect(price.ListPriceDetail).toHaveLength(1);
    expect(price.PriceDetails).toEqual(price.PriceDetail);
    const after = emu.compshare.get(ids.uhost!)!;
    expect(scheduledAt).toBe(4102444800);
    expect(after.StopSchedulerTime).toBe(0);
    // the image look-ups: System images whose name has CUDA; the zone's custom images; one community image by name and tag
    expect(answers["describe-images.request.json"].ImageSet.length).toBeGreaterThanOrEqual(3);
    expect(answers["describe-images.request.json"].ImageSet.every((i: any) => i.ImageType === "System" && /cuda/i.test(i.Name))).toBe(true);
    expect(answers["describe-custom-images.request.json"].ImageSet.map((i: any) => i.ImageType)).toEqual(["Custom", "Custom"]);
    expect(answers["describe-community-images.request.json"].ImageSet).toEqual([expect.objectContaining({ CompShareImageId: "compshareImage-1f6kx2hv9q0a" })]);
    expect(answers["describe-support-zone.request.json"].ZoneInfo.map((z: any) => z.Zone)).toEqual(["cn-sh2-02", "cn-sh2-03"]);
    expect(after.DiskSet[0].Size).toBe(300);

    for (const id of [ids.uhost!, monthEnd.UHostId]) emu.compshare.deleteBehindBack(id);
  });
});

/** Serves `body` as the gateway's answer to the next `action`. */
const serve = (action: string, body: unknown) => emu.faults.add({ cloud: "compshare", action, retCode: 0, body });

describe("response examples → the client's parsers", () => {
  const readers: Record<string, () => Promise<void>> = {
    "create-instance.response.json": async () => {
      serve("CreateCompShareInstance", load("create-instance.response.json"));
      const params = bind(load("create-instance.request.json"), {}).params as never;
      expect(await client.createInstance(params)).toEqual(["uhost-xxxx"]);
    },

    "describe-instance.response.json": async () => {
      serve("DescribeCompShareInstance", load("describe-instance.response.json"));
      const { totalCount, instances } = await client.describeInstances({ Region: "cn-wlcb" });
      expect(totalCount).toBe(1);
      const [i] = instances;
      expect(i).toMatchObject({
        UHostId: "uhost-xxxx",
        State: "Running",
        ChargeType: "Postpay",
        CPU: 16,
        GPU: 1,
        Memory: 65536,
        CreateTime: 1785780950,
        UpdateTime: 1785781010,
        StopSchedulerTime: 1785867350,
        StopTime: 1785867350,
        ReleaseTime: 0,
        AutoRenew: "No",
        IsExpire: "No",
        InstancePrice: 2.05,
        DiskSet: [expect.objectContaining({ DiskId: "bsi-a1b2c3d4", IsBoot: true, Size: 200 })],
      });
      expect(i.IPSet[1]).toMatchObject({ IP: "10.60.1.2", Type: "Private", Mac: "52:54:00:12:34:56", SubnetId: "subnet-xxxx", VPCId: "uvnet-xxxx" });
      const outs = toOutputs({ region: "cn-wlcb", chargeType: "Spot" }, i, i.UHostId);
      expect(outs).toMatchObject({ password: "Password1", ips: ["117.50.1.2", "10.60.1.2"], chargeType: "Spot", state: "Running", createTime: "2026-08-03T18:15:50.000Z" });
    },

    "describe-instance.strings.response.json": async () => {
      serve("DescribeCompShareInstance", load("describe-instance.strings.response.json"));
      const { totalCount, instances } = await client.describeInstances({ Region: "cn-wlcb" });
      expect(totalCount).toBe(2);
      expect(instances[0]).toMatchObject({
        UHostId: "uhost-yyyy",
        CPU: 32,
        Memory: 131072,
        GPU: 2,
        CreateTime: 1785780950,
        ExpireTime: 1788372950,
        InstancePrice: 4.1,
        DiskSet: [{ DiskId: "bsi-e5f6g7h8", IsBoot: true, Size: 300 }],
        IPSet: [expect.objectContaining({ IP: "117.50.3.4" })],
      });
      // an unknown State word passes; one unreadable number reads as absent, not as a failed answer
      expect(instances[1]).toMatchObject({ UHostId: "uhost-zzzz", State: "Hibernating", IPSet: [] });
      expect(instances[1].CPU).toBeUndefined();
    },

    "describe-available-instance-types.response.json": async () => {
      serve("DescribeAvailableCompShareInstanceTypes", load("describe-available-instance-types.response.json"));
      const [t] = await client.describeAvailableInstanceTypes({ Region: "cn-wlcb" });
      expect(t).toMatchObject({
        Name: "G",
        Zone: "cn-wlcb-01",
        Status: "Soldout",
        InstanceType: "uhost",
        GraphicsMemory: { Value: 24 },
        CpuPlatforms: { Intel: ["Intel/Auto"], Amd: ["Amd/Auto"], Ampere: [] },
        MachineSizes: [{ Gpu: 1, Collection: [expect.objectContaining({ Cpu: 16, Memory: [64] })] }],
        Features: [{ Name: "NetCapability", Modes: [expect.objectContaining({ Name: "Normal", MinimalCpuPlatform: [] })] }],
      });
    },

    "get-price.response.json": async () => {
      serve("GetCompShareInstancePrice", load("get-price.response.json"));
      const [d] = await client.getInstancePrice({ Region: "cn-wlcb", Zone: "cn-wlcb-01", GpuType: "4090", ChargeType: "Dynamic" });
      expect(d).toMatchObject({ ChargeType: "Dynamic", Instance: 1.88, Disks: 0, CompShareImage: 0, ListPrice: 1.88, OriginalPrice: 1.88, InstanceDiscountType: 0 });
    },

    "get-price.details.response.json": async () => {
      serve("GetCompShareInstancePrice", load("get-price.details.response.json"));
      const [d] = await client.getInstancePrice({ Region: "cn-wlcb", Zone: "cn-wlcb-01", GpuType: "4090", ChargeType: "Month" });
      expect(d).toMatchObject({ ChargeType: "Month", Instance: 1180.8, CompShareImage: 0.1, ListPrice: 1476, InstanceDiscountType: 1 });
    },

    "describe-images.response.json": async () => {
      serve("DescribeCompShareImages", load("describe-images.response.json"));
      const { totalCount, images } = await client.describeImages({ Region: "cn-wlcb" });
      expect(totalCount).toBe(2);
      expect(images[0]).toMatchObject({ CompShareImageId: "compshareImage-165jmhx19ik7", ImageType: "System", Status: "Available", Container: false, Size: 30720, Tags: ["Ubuntu", "CUDA"] });
      expect(images[0].Softwares).toMatchObject({ CUDAVersion: "12.4", Applications: [] });
      // numbers as strings, Container as a bool, a null Owner, unknown fields: all read
      expect(images[1]).toMatchObject({ CompShareImageId: "compshareImage-yyyy", Container: true, Price: 0.5, Size: 61440, CreateTime: 1727740800, Status: "Reviewing" });
      expect(images[1].Softwares).toMatchObject({ Framework: "PyTorch", Applications: ["vLLM"] });
    },

    "describe-support-zone.response.json": async () => {
      serve("DescribeCompShareSupportZone", load("describe-support-zone.response.json"));
      expect(await client.describeSupportZones({ Region: "cn-sh2" })).toEqual([
        { Describe: "上海二B", Region: "cn-sh2", RegionId: 1000002, Zone: "cn-sh2-02", ZoneId: 4001 },
        { Describe: "上海二C", Region: "cn-sh2", RegionId: 1000002, Zone: "cn-sh2-03", ZoneId: 4002 },
      ]);
    },

    "get-region.response.json": async () => {
      serve("GetRegion", load("get-region.response.json"));
      expect(await client.describeRegions()).toEqual(["cn-wlcb", "cn-sh2"]);
    },

    "check-capacity.response.json": async () => {
      serve("CheckCompShareResourceCapacity", load("check-capacity.response.json"));
      const specs = await client.checkResourceCapacity({ Region: "cn-wlcb", Zone: "cn-wlcb-01", GpuType: "4090", MachineType: "G" });
      expect(specs).toEqual([
        { Gpu: 1, Cpu: 16, Mem: 64, ResourceEnough: true },
        { Gpu: 2, Cpu: 32, Mem: 128, ResourceEnough: false },
      ]);
    },
  };

  it("has a reader for every response example", () => {
    expect(Object.keys(readers).sort()).toEqual(files(".response.json"));
  });

  it.each(Object.keys(readers))("%s", async (file) => {
    await readers[file]();
  });
});

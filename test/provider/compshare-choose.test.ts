/**
 * CompShareInstance against the emulator: fallbacks, the price cap, auto-stop, adoptId, the
 * nearest images for an unknown one, and a killed run's instance found in a fallback's zone.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CompShareClient } from "../../src/compshare/client";
import { compShareInstance } from "../../src/compshare/instance";
import { CapacityError, CostGuardError, NotFoundError, ValidationError } from "../../src/core/errors";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { COMPSHARE_CREATE_PARAMS, COMPSHARE_INSTANCE, fakeConfig, PROVIDER_TEXT } from "../support/fixtures";

let emu: Emulator;
let direct: CompShareClient;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  emu = await startEmulator();
  direct = new CompShareClient({ publicKey: emu.compsharePublicKey, privateKey: emu.compsharePrivateKey, baseUrl: emu.url });
  compShareInstance.configure(
    fakeConfig({ "compshare:publicKey": emu.compsharePublicKey, "compshare:privateKey": emu.compsharePrivateKey, "compshare:baseUrl": emu.url }),
  );
});
afterAll(async () => {
  await direct.close();
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  emu.compshare.release();
});

/** cn-sh2 has two zones, so a fallback can move the instance. */
const base = { ...COMPSHARE_INSTANCE, region: "cn-sh2", zone: "cn-sh2-02" };

async function checked(news: Record<string, unknown>, olds?: Record<string, unknown>) {
  const c = await compShareInstance.check(olds, { ...news, autonamePrefix: "choose", __provider: PROVIDER_TEXT });
  expect(c.failures).toEqual([]);
  return c.inputs;
}

async function up(news: Record<string, unknown>) {
  const inputs = await checked(news);
  return { inputs, ...(await compShareInstance.create(inputs)) };
}

const actions = (since: number) => emu.requests.slice(since).map((r) => r.action);
const count = (since: number, action: string) => actions(since).filter((a) => a === action).length;

/** Runs `fn` with these GPU types sold out in these zones, then restores the stock. */
async function soldOut<T>(spots: [string, string][], fn: () => Promise<T>): Promise<T> {
  for (const [gpu, zone] of spots) emu.compshare.setStock(gpu, 0, zone);
  try {
    return await fn();
  } finally {
    for (const [gpu, zone] of spots) emu.compshare.setStock(gpu, 1000, zone);
  }
}

describe("fallbacks", () => {
  it("preferred sold out → first fallback sold out → second fallback bought; update, refresh and delete work in its zone", async () => {
    const created = emu.compshare.createdCount;
    const live = emu.compshare.instances().length;
    const since = emu.requests.length;
    const news = { ...base, fallbacks: [{ gpuType: "5090" }, { zone: "cn-sh2-03" }] };
    const { id, outs, inputs } = await soldOut(
      [
        ["4090", "cn-sh2-02"],
        ["5090", "cn-sh2-02"],
      ],
      () => up(news),
    );
    expect(emu.compshare.createdCount - created).toBe(1);
    expect(emu.compshare.instances().length - live).toBe(1);
    expect(count(since, "CreateCompShareInstance")).toBe(1);
    expect(count(since, "CheckCompShareResourceCapacity")).toBe(3);
    expect(emu.compshare.get(id)).toMatchObject({ Zone: "cn-sh2-03", GpuType: "4090", State: "Running" });
    expect(outs).toMatchObject({ chosenFallback: 1, chosenShape: { zone: "cn-sh2-03", gpuType: "4090", gpu: 1, cpu: 16, memory: 65536 }, zone: "cn-sh2-02" });
    expect(outs.pricePerHour).toBe(2.05);

    // refresh then diff with the same inputs: the fallback's zone is not drift
    const read = await compShareInstance.read(id, { ...outs, __provider: PROVIDER_TEXT });
    expect(read.props).toMatchObject({ chosenFallback: 1, zone: "cn-sh2-02", state: "Running" });
    const again = await checked(news, inputs);
    expect(await compShareInstance.diff(id, read.props, again)).toEqual({ changes: false, replaces: [] });
    // declaring the zone that was bought is no change either; another zone replaces
    expect(await compShareInstance.diff(id, read.props, { ...again, zone: "cn-sh2-03" })).toEqual({ changes: false, replaces: [] });
    expect(await compShareInstance.diff(id, read.props, { ...again, zone: "cn-bj2-02" })).toMatchObject({ replaces: ["zone"] });

    // an in-place update targets the bought zone (the emulator refuses an id asked for in another zone)
    const renamed = await checked({ ...news, name: "moved-1" }, inputs);
    expect(await compShareInstance.diff(id, read.props, renamed)).toEqual({ changes: true, replaces: [] });
    const { outs: after } = await compShareInstance.update(id, read.props, renamed);
    expect(emu.compshare.get(id)!.Name).toBe("moved-1");
    expect(after).toMatchObject({ chosenFallback: 1, chosenShape: expect.objectContaining({ zone: "cn-sh2-03" }), zone: "cn-sh2-02" });

    await compShareInstance.delete(id, after);
    expect(emu.compshare.get(id)).toBeUndefined();
  });

  it("a resize after a fallback keeps the bought values of the fields not changed", async () => {
    const news = { ...base, fallbacks: [{ zone: "cn-sh2-03", cpu: 32, memory: 131072 }] };
    const { id, outs, inputs } = await soldOut([["4090", "cn-sh2-02"]], () => up(news));
    expect(emu.compshare.get(id)).toMatchObject({ Zone: "cn-sh2-03", GPU: 1, CPU: 32, Memory: 131072 });
    expect(outs).toMatchObject({ cpu: 16, memory: 65536, chosenFallback: 0 });
    const more = await checked({ ...news, gpu: 2 }, inputs);
    expect(await compShareInstance.diff(id, outs, more)).toEqual({ changes: true, replaces: [] });
    const { outs: after } = await compShareInstance.update(id, outs, more);
    expect(emu.compshare.get(id)).toMatchObject({ GPU: 2, CPU: 32, Memory: 131072, State: "Running" });
    expect(after).toMatchObject({ gpu: 2, cpu: 16, chosenShape: expect.objectContaining({ gpu: 2, cpu: 32, memory: 131072, zone: "cn-sh2-03" }) });
    expect(await compShareInstance.diff(id, after, more)).toEqual({ changes: false, replaces: [] });
    await compShareInstance.delete(id, after);
  });

  it("every candidate sold out: a CapacityError listing each, nothing bought", async () => {
    const created = emu.compshare.createdCount;
    const err = await soldOut(
      [
        ["4090", "cn-sh2-02"],
        ["4090", "cn-sh2-03"],
      ],
      () => up({ ...base, fallbacks: [{ zone: "cn-sh2-03" }] }).catch((e) => e),
    );
    expect(err).toBeInstanceOf(CapacityError);
    expect(err.message).toMatch(/preferred shape .*no capacity[\s\S]*fallbacks\[0\] .*no capacity/);
    expect(emu.compshare.createdCount).toBe(created);
  });

  it("with checkCapacity: false, Create's own 8357 moves on to the next fallback", async () => {
    const since = emu.requests.length;
    const { id, outs } = await soldOut([["4090", "cn-sh2-02"]], () => up({ ...base, checkCapacity: false, fallbacks: [{ zone: "cn-sh2-03" }] }));
    expect(count(since, "CheckCompShareResourceCapacity")).toBe(0);
    expect(count(since, "CreateCompShareInstance")).toBe(2);
    expect(outs.chosenFallback).toBe(0);
    await compShareInstance.delete(id, outs);
  });

  it("a change of fallbacks, maxPricePerHour or adoptId alone is no diff", async () => {
    const { id, outs, inputs } = await up(base);
    expect(outs).toMatchObject({ chosenFallback: -1, chosenShape: { zone: "cn-sh2-02", gpuType: "4090" } });
    for (const extra of [{ fallbacks: [{ gpuType: "5090" }] }, { maxPricePerHour: 10 }, { adoptId: "uhost-0123456789ab" }]) {
      expect(await compShareInstance.diff(id, outs, { ...inputs, ...extra })).toEqual({ changes: false, replaces: [] });
    }
    await compShareInstance.delete(id, outs);
  });
});

describe("maxPricePerHour", () => {
  it("a price over the cap buys nothing and sends no create", async () => {
    const created = emu.compshare.createdCount;
    const live = emu.compshare.instances().length;
    const since = emu.requests.length;
    const err = await up({ ...base, maxPricePerHour: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(CostGuardError);
    expect(err.message).toMatch(/2\.05\/h is above maxPricePerHour 1/);
    expect(emu.compshare.createdCount).toBe(created);
    expect(emu.compshare.instances().length).toBe(live);
    expect(count(since, "CreateCompShareInstance")).toBe(0);
  });

  it("skips an expensive fallback and reuses the cap's quote for pricePerHour", async () => {
    const since = emu.requests.length;
    const { id, outs } = await soldOut([["4090", "cn-sh2-02"]], () =>
      up({ ...base, maxPricePerHour: 3, fallbacks: [{ gpuType: "A100" }, { gpuType: "3090" }] }),
    );
    expect(outs).toMatchObject({ chosenFallback: 1, chosenShape: expect.objectContaining({ gpuType: "3090" }), gpuType: "4090", pricePerHour: 1.13 });
    expect(emu.compshare.get(id)!.GpuType).toBe("3090");
    // one quote per candidate (4090 within the cap but sold out, A100 over it, 3090 bought), none after
    expect(count(since, "GetCompShareInstancePrice")).toBe(3);
    expect(count(since, "CreateCompShareInstance")).toBe(1);
    await compShareInstance.delete(id, outs);
  });

  it("a price that cannot be learnt under a cap skips the candidate", async () => {
    const created = emu.compshare.createdCount;
    emu.faults.add({ cloud: "compshare", action: "GetCompShareInstancePrice", retCode: 230, times: 10 });
    const err = await up({ ...base, maxPricePerHour: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(CostGuardError);
    expect(err.message).toMatch(/price unknown/);
    expect(emu.compshare.createdCount).toBe(created);
  });
});

describe("autoStop", () => {
  it("schedules the stop after Running, moves it in place, and removal deletes the scheduler", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { id, outs, inputs } = await up({ ...base, autoStop: { after: "8h" } });
    const afterCreate = Math.ceil(Date.now() / 1000);
    const at = emu.compshare.get(id)!.StopSchedulerTime;
    expect(at).toBeGreaterThanOrEqual(before + 8 * 3600);
    expect(at).toBeLessThanOrEqual(afterCreate + 8 * 3600);
    expect(outs.stopSchedulerTime).toBe(new Date(at * 1000).toISOString());
    expect(outs.state).toBe("Running");

    let since = emu.requests.length;
    const shorter = await checked({ ...base, autoStop: { after: "90m" } }, inputs);
    expect(await compShareInstance.diff(id, outs, shorter)).toEqual({ changes: true, replaces: [] });
    const { outs: moved } = await compShareInstance.update(id, outs, shorter);
    const at2 = emu.compshare.get(id)!.StopSchedulerTime;
    expect(at2).toBeLessThan(at);
    expect(at2).toBeGreaterThanOrEqual(before + 90 * 60);
    expect(moved.stopSchedulerTime).toBe(new Date(at2 * 1000).toISOString());
    expect(count(since, "UpdateCompShareStopScheduler")).toBe(1);
    expect(count(since, "StopCompShareInstance")).toBe(0);

    // moved outside Pulumi: the output shows it; autoStop itself is no diff
    await direct.updateStopScheduler({ Region: "cn-sh2", Zone: "cn-sh2-02", UHostId: id, StopTime: at2 + 600 });
    const read = await compShareInstance.read(id, { ...moved, __provider: PROVIDER_TEXT });
    expect(read.props.stopSchedulerTime).toBe(new Date((at2 + 600) * 1000).toISOString());
    expect(await compShareInstance.diff(id, read.props, shorter)).toEqual({ changes: false, replaces: [] });

    since = emu.requests.length;
    const none = await checked(base, shorter);
    expect(await compShareInstance.diff(id, read.props, none)).toEqual({ changes: true, replaces: [] });
    const { outs: cleared } = await compShareInstance.update(id, read.props, none);
    expect(count(since, "DeleteCompShareStopScheduler")).toBe(1);
    expect(emu.compshare.get(id)!.StopSchedulerTime).toBe(0);
    expect(cleared.stopSchedulerTime).toBeUndefined();
    await compShareInstance.delete(id, cleared);
  });
});

describe("autoStop after the stop fired", () => {
  it("a refresh reads stopped; the next up starts it and schedules a new stop", async () => {
    const { id, outs, inputs } = await up({ ...base, autoStop: { after: "1h" } });
    // what a fired stop leaves: Stopped, no schedule
    await direct.deleteStopScheduler({ Region: "cn-sh2", Zone: "cn-sh2-02", UHostId: id });
    await direct.stopInstance({ Region: "cn-sh2", Zone: "cn-sh2-02", UHostId: id });
    for (let i = 0; i < 200 && emu.compshare.get(id)!.State !== "Stopped"; i++) await new Promise((r) => setTimeout(r, 20));
    const read = await compShareInstance.read(id, { ...outs, __provider: PROVIDER_TEXT });
    expect(read.props).toMatchObject({ powerState: "stopped", state: "Stopped" });
    expect(read.props.stopSchedulerTime).toBeUndefined();
    const again = await checked({ ...base, autoStop: { after: "1h" } }, inputs);
    expect(await compShareInstance.diff(id, read.props, again)).toEqual({ changes: true, replaces: [] });
    const since = emu.requests.length;
    const { outs: after } = await compShareInstance.update(id, read.props, again);
    expect(count(since, "StartCompShareInstance")).toBe(1);
    expect(count(since, "UpdateCompShareStopScheduler")).toBe(1);
    expect(emu.compshare.get(id)).toMatchObject({ State: "Running", StopSchedulerTime: expect.any(Number) });
    expect(emu.compshare.get(id)!.StopSchedulerTime).toBeGreaterThan(Date.now() / 1000);
    expect(after.stopSchedulerTime).toBeDefined();
    await compShareInstance.delete(id, after);
  });
});

describe("adoptId", () => {
  async function existing(over: Record<string, unknown> = {}): Promise<string> {
    const [id] = await direct.createInstance({
      ...COMPSHARE_CREATE_PARAMS,
      Region: "cn-sh2",
      Zone: "cn-sh2-03",
      Name: "made-by-hand",
      ...over,
    });
    for (let i = 0; i < 200 && emu.compshare.get(id)!.State !== "Running"; i++) await new Promise((r) => setTimeout(r, 20));
    return id;
  }

  it("takes the instance over without buying: name and powerState applied, managed like any other", async () => {
    const id = await existing();
    const created = emu.compshare.createdCount;
    const live = emu.compshare.instances().length;
    const since = emu.requests.length;
    const { id: got, outs } = await up({ ...base, zone: "cn-sh2-03", adoptId: id, name: "adopted-1", powerState: "stopped" });
    expect(got).toBe(id);
    expect(emu.compshare.createdCount).toBe(created);
    expect(emu.compshare.instances().length).toBe(live);
    expect(count(since, "CreateCompShareInstance")).toBe(0);
    expect(count(since, "CheckCompShareResourceCapacity")).toBe(0);
    expect(emu.compshare.get(id)).toMatchObject({ Name: "adopted-1", State: "Stopped" });
    expect(outs).toMatchObject({ uhostId: id, name: "adopted-1", powerState: "stopped", chosenFallback: -1, chosenShape: expect.objectContaining({ zone: "cn-sh2-03" }) });
    await compShareInstance.delete(id, outs);
    expect(emu.compshare.get(id)).toBeUndefined();
  });

  it("resizes to the declared shape in place and reads Spot as Postpay", async () => {
    const id = await existing({ ChargeType: "Spot" });
    const { outs } = await up({ ...base, zone: "cn-sh2-03", chargeType: "Spot", adoptId: id, gpu: 2, cpu: 32, memory: 131072 });
    expect(emu.compshare.get(id)).toMatchObject({ GPU: 2, CPU: 32, State: "Running" });
    expect(outs).toMatchObject({ gpu: 2, cpu: 32, memory: 131072, chosenShape: expect.objectContaining({ gpu: 2, cpu: 32 }) });
    await compShareInstance.delete(id, outs);
  });

  it("refuses, naming each field, when replace-only inputs differ; nothing is changed", async () => {
    const id = await existing();
    const err = await up({
      ...base,
      zone: "cn-sh2-02",
      gpuType: "5090",
      compShareImageId: "compshareImage-17b9wn3c8x2d",
      disks: [{ isBoot: true, type: "CLOUD_SSD", size: 300 }],
      chargeType: "Month",
      adoptId: id,
      name: "never",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    for (const f of ["zone", "gpuType", "compShareImageId", "disks", "chargeType"]) expect(err.message).toContain(`${f}: declared`);
    expect(emu.compshare.get(id)!.Name).toBe("made-by-hand");
    emu.compshare.deleteBehindBack(id);
  });

  it("an unknown id is NotFound, and nothing is bought", async () => {
    const created = emu.compshare.createdCount;
    const err = await up({ ...base, adoptId: "uhost-doesnotexist" }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/adoptId: no instance uhost-doesnotexist/);
    expect(emu.compshare.createdCount).toBe(created);
  });
});

describe("an unknown image", () => {
  it("lists the nearest images of the zone, names compShareImageId and the fix; nothing bought", async () => {
    const created = emu.compshare.createdCount;
    for (const checkCapacity of [true, false]) {
      const err = await up({ ...base, region: "cn-wlcb", zone: "cn-wlcb-01", compShareImageId: "compshareImage-165jmhx19ik8", checkCapacity }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(/compShareImageId "compshareImage-165jmhx19ik8"/);
      expect(err.message).toMatch(/nearest: "compshareImage-165jmhx19ik7" \(Ubuntu 22\.04 CUDA 12\.4\)/);
      expect(err.hint).toMatch(/getCompShareImages/);
      expect(err.operation).toBe(checkCapacity ? "CheckCompShareResourceCapacity" : "CreateCompShareInstance");
    }
    expect(emu.compshare.createdCount).toBe(created);
  });

  it("lists community and custom images of the zone too", async () => {
    const err = await up({ ...base, region: "cn-wlcb", zone: "cn-wlcb-01", compShareImageId: "compshareImage-1j4tq9wz2e8x" }).catch((e) => e);
    expect(err.message).toContain('"compshareImage-1j4tq9wz2e8f" (team-base-2025-06)');
    // an image that is not Available is not offered
    expect(err.message).not.toContain("compshareImage-1k8mc5ny7h3g");
  });

  it("if the listing fails too, CompShare's own refusal is the error", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareImages", retCode: 299, times: 5 });
    const err = await up({ ...base, compShareImageId: "compshareImage-zzzzzzzzzzzz" }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/Params \[CompShareImageId\] not available/);
    expect(err.message).not.toMatch(/nearest/);
  });
});

describe("after a killed run", () => {
  it("finds the instance in a fallback's zone by its marker and infers the candidate", async () => {
    const marker = "0123456789abcdef";
    const [id] = await direct.createInstance({
      ...COMPSHARE_CREATE_PARAMS,
      Region: "cn-sh2",
      Zone: "cn-sh2-03",
      GpuType: "5090",
      Name: "killed-1",
      Remark: `[pulumi-gpu-cloud ${marker}]`,
    });
    const created = emu.compshare.createdCount;
    const since = emu.requests.length;
    const inputs = { ...base, name: "killed-1", marker, fallbacks: [{ zone: "cn-sh2-03" }, { zone: "cn-sh2-03", gpuType: "5090" }], __provider: PROVIDER_TEXT };
    const { id: got, outs } = await compShareInstance.create(inputs);
    expect(got).toBe(id);
    expect(emu.compshare.createdCount).toBe(created);
    expect(count(since, "CreateCompShareInstance")).toBe(0);
    expect(outs).toMatchObject({ chosenFallback: 1, chosenShape: expect.objectContaining({ zone: "cn-sh2-03", gpuType: "5090" }), gpuType: "4090" });
    await compShareInstance.delete(id, outs);
    expect(emu.compshare.get(id)).toBeUndefined();
  });
});

/**
 * The CompShareInstance runtime provider driven as the engine drives it (check → create →
 * diff → update → read → delete, with `__provider` in the properties) against the emulator
 * over real HTTP.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CompShareClient } from "../../src/compshare/client";
import { compShareInstance } from "../../src/compshare/instance";
import { AuthenticationError, CapacityError, CredentialsError, NotFoundError, QuotaError } from "../../src/core/errors";
import { PartialFailureError } from "../../src/core/provider";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { captureStderr, COMPSHARE_INSTANCE, fakeConfig, isPlainJson, PROVIDER_TEXT } from "../support/fixtures";
import { identityOf } from "../../src/core/identity";

let emu: Emulator;
let direct: CompShareClient;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  emu = await startEmulator();
  direct = new CompShareClient({ publicKey: emu.compsharePublicKey, privateKey: emu.compsharePrivateKey, baseUrl: emu.url });
  useEmulator();
});
afterAll(async () => {
  await direct.close();
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  emu.compshare.release();
  useEmulator();
});

function useEmulator(overrides: Record<string, string | undefined> = {}) {
  compShareInstance.configure(
    fakeConfig({
      "compshare:publicKey": emu.compsharePublicKey,
      "compshare:privateKey": emu.compsharePrivateKey,
      "compshare:baseUrl": emu.url,
      ...overrides,
    }),
  );
}

const base = COMPSHARE_INSTANCE;

/** check then create, exactly as the engine does on `pulumi up`. */
async function up(news: Record<string, unknown>, prefix = "test") {
  const checked = await compShareInstance.check(undefined, { ...news, autonamePrefix: prefix, __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  const created = await compShareInstance.create(checked.inputs);
  return { inputs: checked.inputs, ...created };
}

async function upFails(news: Record<string, unknown>) {
  const checked = await compShareInstance.check(undefined, { ...news, autonamePrefix: "t", __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  return compShareInstance.create(checked.inputs).catch((e) => e);
}

/** check → diff → update, as the engine does when inputs change. */
async function change(id: string, olds: Record<string, unknown>, oldInputs: Record<string, unknown>, news: Record<string, unknown>) {
  const checked = await compShareInstance.check(oldInputs, { ...news, autonamePrefix: "test", __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  const diff = await compShareInstance.diff(id, olds, checked.inputs);
  const updated = diff.changes && diff.replaces.length === 0 ? await compShareInstance.update(id, olds, checked.inputs) : undefined;
  return { diff, inputs: checked.inputs, outs: updated?.outs };
}

const actions = (since: number) => emu.requests.slice(since).map((r) => r.action);
const count = (since: number, action: string) => actions(since).filter((a) => a === action).length;

describe("CompShareInstance lifecycle", () => {
  it("checks capacity, creates, renames, resizes, stops, refreshes and deletes", async () => {
    const mark = emu.requests.length;
    const { text, result } = await captureStderr(() => up({ ...base, remark: "team a" }));
    const { id, outs, inputs } = result!;
    expect(id).toMatch(/^uhost-[a-z0-9]{12}$/);
    const live = emu.compshare.get(id)!;
    expect(outs).toMatchObject({
      uhostId: id,
      state: "Running",
      powerState: "running",
      gpu: 1,
      remark: "team a",
      sshLoginCommand: expect.stringMatching(/^ssh -p \d+ root@/),
      password: Buffer.from(live.Password, "base64").toString("utf8"),
      ips: [expect.any(String), expect.any(String)],
      createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      pricePerHour: 2.05,
    });
    expect(outs.expireTime).toBeUndefined();
    expect(outs.name).toMatch(/^test-[0-9a-f]{7}$/);
    expect(live.Remark).toMatch(/^team a \[pulumi-gpu-cloud [0-9a-f]{16}\]$/);
    expect(isPlainJson(outs)).toBe(true);
    const order = actions(mark);
    expect(order.indexOf("CheckCompShareResourceCapacity")).toBeGreaterThan(-1);
    expect(order.indexOf("CheckCompShareResourceCapacity")).toBeLessThan(order.indexOf("CreateCompShareInstance"));
    expect(text).toMatch(new RegExp(`compshare instance ${id} (Initializing|Starting) \\(\\d+s\\)`));
    expect(text).toMatch(/Running \(\d+s\)/);

    // name: in place, no power cycle
    let since = emu.requests.length;
    const renamed = await change(id, outs, inputs, { ...base, remark: "team a", name: "renamed-1" });
    expect(renamed.diff).toEqual({ changes: true, replaces: [] });
    expect(renamed.outs).toMatchObject({ uhostId: id, name: "renamed-1", state: "Running" });
    expect(emu.compshare.get(id)!.Name).toBe("renamed-1");
    expect(count(since, "ModifyCompShareInstanceName")).toBe(1);
    expect(count(since, "StopCompShareInstance")).toBe(0);

    // gpu/cpu/memory: stop → resize → start again
    since = emu.requests.length;
    const resized = await change(id, renamed.outs!, renamed.inputs, { ...base, remark: "team a", name: "renamed-1", gpu: 2, cpu: 32, memory: 131072 });
    expect(resized.diff).toEqual({ changes: true, replaces: [] });
    expect(resized.outs).toMatchObject({ uhostId: id, gpu: 2, cpu: 32, memory: 131072, state: "Running", pricePerHour: 4.1 });
    expect(emu.compshare.get(id)).toMatchObject({ GPU: 2, CPU: 32, Memory: 131072, State: "Running" });
    const steps = actions(since).filter((a) => a !== "DescribeCompShareInstance" && a !== "GetCompShareInstancePrice");
    expect(steps).toEqual(["StopCompShareInstance", "ResizeCompShareInstance", "StartCompShareInstance"]);

    // power
    const stopped = await change(id, resized.outs!, resized.inputs, { ...base, remark: "team a", name: "renamed-1", gpu: 2, cpu: 32, memory: 131072, powerState: "stopped" });
    expect(stopped.diff).toEqual({ changes: true, replaces: [] });
    expect(stopped.outs).toMatchObject({ powerState: "stopped", state: "Stopped" });
    expect(stopped.outs!.sshLoginCommand).toBeUndefined();

    // refresh: live state, no drift
    const read = await compShareInstance.read(id, { ...stopped.outs!, __provider: PROVIDER_TEXT });
    expect(read.id).toBe(id);
    expect(read.props).toMatchObject({ state: "Stopped", remark: "team a", pricePerHour: 4.1 });
    expect(await compShareInstance.diff(id, read.props, stopped.inputs)).toEqual({ changes: false, replaces: [] });

    // replacing changes are reported as such
    expect(await compShareInstance.diff(id, read.props, { ...stopped.inputs, zone: "cn-wlcb-02" })).toEqual({ changes: true, replaces: ["zone"] });

    // delete from Stopped: no stop needed
    since = emu.requests.length;
    await compShareInstance.delete(id, read.props);
    expect(emu.compshare.get(id)).toBeUndefined();
    expect(count(since, "StopCompShareInstance")).toBe(0);
    expect(count(since, "TerminateCompShareInstance")).toBe(1);
  });

  it("creates straight into the stopped state, resizes it without starting, and starts it", async () => {
    const { id, outs, inputs } = await up({ ...base, powerState: "stopped", chargeType: "Month" });
    expect(outs).toMatchObject({ powerState: "stopped", state: "Stopped", expireTime: expect.stringMatching(/^\d{4}-/) });
    expect(outs.pricePerHour).toBeCloseTo((2.05 * 720 * 0.8) / 720, 2);

    let since = emu.requests.length;
    const resized = await change(id, outs, inputs, { ...base, powerState: "stopped", chargeType: "Month", memory: 98304 });
    expect(resized.outs).toMatchObject({ memory: 98304, state: "Stopped" });
    expect(count(since, "StopCompShareInstance")).toBe(0);
    expect(count(since, "StartCompShareInstance")).toBe(0);
    expect(count(since, "ResizeCompShareInstance")).toBe(1);

    since = emu.requests.length;
    const started = await change(id, resized.outs!, resized.inputs, { ...base, chargeType: "Month", memory: 98304 });
    expect(started.outs).toMatchObject({ state: "Running", powerState: "running" });
    expect(count(since, "StartCompShareInstance")).toBe(1);
    await compShareInstance.delete(id, started.outs!);
  });

  it("prices from the PriceDetails key CompShare's CLI reads, the image per GPU per hour", async () => {
    // Month 1180.8 for instance and disks, image 0.1 per GPU-hour: 1180.8 / 720 + 0.1 × 2
    const body = JSON.parse(readFileSync(join(__dirname, "..", "wire", "compshare", "get-price.details.response.json"), "utf8"));
    emu.faults.add({ cloud: "compshare", action: "GetCompShareInstancePrice", retCode: 0, body });
    const { id, outs } = await up({ ...base, chargeType: "Month", quantity: 0, gpu: 2, cpu: 32, memory: 131072 });
    expect(outs.pricePerHour).toBe(1.84);
    expect(emu.compshare.get(id)!.ExpireTime).toBeGreaterThan(Date.now() / 1000);
    await compShareInstance.delete(id, outs);
  });

  it("deletes a running instance: stop, wait, terminate, wait until gone", async () => {
    const { id, outs } = await up(base);
    const since = emu.requests.length;
    await compShareInstance.delete(id, outs);
    expect(emu.compshare.get(id)).toBeUndefined();
    const steps = actions(since).filter((a) => a !== "DescribeCompShareInstance");
    expect(steps).toEqual(["StopCompShareInstance", "TerminateCompShareInstance"]);
  });

  it("stops a Spot instance with Force on delete", async () => {
    const { id, outs } = await up({ ...base, chargeType: "Spot" });
    // the emulator refuses a Spot stop without Force, so success proves it was sent
    await compShareInstance.delete(id, outs);
    expect(emu.compshare.get(id)).toBeUndefined();
  });

  it("waits for a stable state before deleting an instance that is mid-operation", async () => {
    const { id, outs } = await up(base);
    await direct.rebootInstance({ Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id });
    expect(emu.compshare.get(id)!.State).toBe("Rebooting");
    await compShareInstance.delete(id, outs);
    expect(emu.compshare.get(id)).toBeUndefined();
  });

  it("reports an instance deleted outside Pulumi as gone on refresh", async () => {
    const { id, outs } = await up(base);
    emu.compshare.deleteBehindBack(id);
    expect(await compShareInstance.read(id, outs)).toEqual({ id: "", props: {} });
  });

  it("treats deleting an instance that is already gone as done", async () => {
    const { id, outs } = await up(base);
    emu.compshare.deleteBehindBack(id);
    await expect(compShareInstance.delete(id, outs)).resolves.toBeUndefined();
  });

  it("says how to recover when updating an instance deleted outside Pulumi", async () => {
    const { id, outs, inputs } = await up(base);
    emu.compshare.deleteBehindBack(id);
    const err = await change(id, outs, inputs, { ...base, name: "gone-1" }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/pulumi refresh/);
  });

  it("leaves pricePerHour out when the price call fails, without failing the create", async () => {
    emu.faults.add({ cloud: "compshare", action: "GetCompShareInstancePrice", retCode: 230, message: "Params [Gpu] not available" });
    const { id, outs } = await up(base);
    expect(outs.state).toBe("Running");
    expect(outs).not.toHaveProperty("pricePerHour");
    await compShareInstance.delete(id, outs);
  });
});

describe("CompShareInstance never loses an instance", () => {
  it("adopts the instance when the create response is lost, making exactly one", async () => {
    const before = emu.compshare.createdCount;
    const describes = emu.compshare.describeCalls.length;
    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", dropConnection: "after" });
    const { id, outs } = await up(base);
    expect(emu.compshare.createdCount - before).toBe(1);
    expect(emu.compshare.get(id)).toBeDefined();
    // the lookup listed instances (no ids) before anything else
    expect(emu.compshare.describeCalls.slice(describes)[0]).toEqual([]);
    await compShareInstance.delete(id, outs);
  });

  it("does not adopt another instance that merely shares the name", async () => {
    const first = await up({ ...base, name: "same-name" });
    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", dropConnection: "after" });
    const second = await up({ ...base, name: "same-name" });
    expect(second.id).not.toBe(first.id);
    expect(emu.compshare.get(second.id)!.Name).toBe("same-name");
    await Promise.all([compShareInstance.delete(first.id, first.outs), compShareInstance.delete(second.id, second.outs)]);
  });

  it("sends the create again only after a lookup proved nothing was made", async () => {
    const before = emu.compshare.createdCount;
    const since = emu.requests.length;
    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", dropConnection: "before" });
    const { id, outs } = await up(base);
    expect(emu.compshare.createdCount - before).toBe(1);
    const order = actions(since);
    const lookup = order.indexOf("DescribeCompShareInstance", order.indexOf("CreateCompShareInstance"));
    expect(lookup).toBeGreaterThan(-1);
    expect(order.lastIndexOf("CreateCompShareInstance")).toBeGreaterThan(lookup);
    await compShareInstance.delete(id, outs);
  });

  it("waits out RetCode 153 on the create and creates once", async () => {
    const before = emu.compshare.createdCount;
    const since = emu.requests.length;
    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", retCode: 153, times: 2 });
    const { id, outs } = await up(base);
    expect(emu.compshare.createdCount - before).toBe(1);
    expect(count(since, "CreateCompShareInstance")).toBe(3);
    await compShareInstance.delete(id, outs);
  });

  it("rides out throttling and 5xx answers while waiting", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 153 });
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", status: 503 });
    const { id, outs } = await up(base);
    expect(outs.state).toBe("Running");
    await compShareInstance.delete(id, outs);
  });

  it("hands the id to the engine on Install Fail, replaces it on the next up, and terminates it directly", async () => {
    emu.compshare.failNextCreate();
    const checked = await compShareInstance.check(undefined, { ...base, autonamePrefix: "t", __provider: PROVIDER_TEXT });
    const err = await compShareInstance.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.id).toMatch(/^uhost-/);
    expect(err.properties.__provider).toBe(PROVIDER_TEXT);
    expect(err.properties).toMatchObject({ uhostId: err.id, state: "Install Fail" });
    expect(isPlainJson(err.properties)).toBe(true);
    expect(err.reasons.join(" ")).toMatch(/Install Fail/);
    expect(emu.compshare.get(err.id)).toBeDefined();

    expect(await compShareInstance.diff(err.id, err.properties, checked.inputs)).toEqual({ changes: true, replaces: ["state"] });
    const since = emu.requests.length;
    await compShareInstance.delete(err.id, err.properties);
    expect(emu.compshare.get(err.id)).toBeUndefined();
    expect(count(since, "StopCompShareInstance")).toBe(0);
    expect(count(since, "TerminateCompShareInstance")).toBe(1);
  });

  it("hands the id to the engine when the create deadline passes", async () => {
    emu.compshare.holdNewInstances(true);
    const err = await upFails({ ...base, timeouts: { create: "1s" } });
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toMatch(/timeouts\.create/);
    expect(err.properties).toMatchObject({ state: "Initializing", __provider: PROVIDER_TEXT });
    emu.compshare.release();
    await compShareInstance.delete(err.id, err.properties);
    expect(emu.compshare.get(err.id)).toBeUndefined();
  });
});

describe("CompShareInstance and the operation lock", () => {
  it("retries an action refused with 8903 once the instance is stable", async () => {
    const { id, outs, inputs } = await up(base);
    emu.faults.add({ cloud: "compshare", action: "StopCompShareInstance", retCode: 8903, message: "InstanceOperationInProgress" });
    const since = emu.requests.length;
    const stopped = await change(id, outs, inputs, { ...base, powerState: "stopped" });
    expect(stopped.outs).toMatchObject({ state: "Stopped" });
    expect(count(since, "StopCompShareInstance")).toBe(2);
    await compShareInstance.delete(id, stopped.outs!);
  });

  it("deletes through a lock that outlives the transition", async () => {
    const { id, outs } = await up(base);
    emu.compshare.lockFor(id, 700);
    const { text } = await captureStderr(() => compShareInstance.delete(id, outs));
    expect(text).toMatch(/another operation is in progress/);
    expect(emu.compshare.get(id)).toBeUndefined();
  });
});

describe("CompShareInstance shares one Describe per tick", () => {
  it("five parallel creates are polled together, several UHostIds per Describe", async () => {
    const before = emu.compshare.describeCalls.length;
    const made = await Promise.all([1, 2, 3, 4, 5].map((i) => up(base, `many${i}`)));
    const carried = emu.compshare.describeCalls.slice(before).map((ids) => ids.length);
    expect(Math.max(...carried)).toBeGreaterThanOrEqual(3);
    // far fewer Describe calls than one per waiter per tick
    expect(carried.filter((n) => n > 0).reduce((a, b) => a + b, 0) / carried.filter((n) => n > 0).length).toBeGreaterThan(1.5);
    await Promise.all(made.map((m) => compShareInstance.delete(m.id, m.outs)));
    for (const m of made) expect(emu.compshare.get(m.id)).toBeUndefined();
  });
});

describe("CompShareInstance looks for a killed run's instance once per fleet", () => {
  it("ten creates arriving together share one listing of the region, and each still finds only its own", async () => {
    const marked = (name: string) => ({
      ...base,
      identity: identityOf({ organization: "o", project: "p", stack: "fleet", type: "pulumi-nodejs:dynamic/compshare:Instance", name, parents: [] }),
    });
    // one resource of the fleet was bought by a killed run: its instance carries its marker
    const survivor = await up(marked("fleet0"), "fleet0");
    const listings = () => emu.compshare.describeCalls.filter((ids) => ids.length === 0).length;
    const before = listings();
    const created = emu.compshare.createdCount;
    const fleet = await Promise.all(Array.from({ length: 10 }, (_, i) => up(marked(`fleet${i}`), `fleet${i}`)));
    // one listing (a single page) served all ten lookups, where each used to list the region itself
    expect(listings() - before).toBe(1);
    // fleet0 adopted the instance its marker names; the nine others were bought
    expect(fleet[0].id).toBe(survivor.id);
    expect(emu.compshare.createdCount - created).toBe(9);
    await Promise.all(fleet.map((m) => compShareInstance.delete(m.id, m.outs)));
    for (const m of fleet) expect(emu.compshare.get(m.id)).toBeUndefined();
  });
});

describe("CompShareInstance errors", () => {
  it("fails fast on a sold-out shape at the capacity pre-check, buying nothing", async () => {
    emu.compshare.setStock("4090_48G", 0);
    try {
      const before = emu.compshare.createdCount;
      const since = emu.requests.length;
      const err = await upFails({ ...base, gpuType: "4090_48G", chargeType: "Dynamic" });
      expect(err).toBeInstanceOf(CapacityError);
      expect(err).not.toBeInstanceOf(PartialFailureError);
      expect(err.message).toMatch(/4090_48G/);
      expect(err.message).toMatch(/cn-wlcb-01/);
      expect(err.message).toMatch(/Nothing was bought/);
      expect(count(since, "CreateCompShareInstance")).toBe(0);
      expect(emu.compshare.createdCount).toBe(before);

      // without the pre-check the create itself is refused: still nothing made
      const direct8357 = await upFails({ ...base, gpuType: "4090_48G", checkCapacity: false });
      expect(direct8357).toBeInstanceOf(CapacityError);
      expect(direct8357.code).toBe("8357");
      expect(emu.compshare.createdCount).toBe(before);
    } finally {
      emu.compshare.setStock("4090_48G", 1000);
    }
  });

  it("maps the quota RetCode 8095 to a QuotaError", async () => {
    emu.compshare.setQuota(emu.compshare.instances().length);
    try {
      const before = emu.compshare.createdCount;
      const err = await upFails(base);
      expect(err).toBeInstanceOf(QuotaError);
      expect(err.code).toBe("8095");
      expect(emu.compshare.createdCount).toBe(before);
    } finally {
      emu.compshare.setQuota(20);
    }
  });

  it("names the config keys and the environment variables when no key is set", async () => {
    const saved = { pub: process.env.COMPSHARE_PUBLIC_KEY, priv: process.env.COMPSHARE_PRIVATE_KEY };
    delete process.env.COMPSHARE_PUBLIC_KEY;
    delete process.env.COMPSHARE_PRIVATE_KEY;
    useEmulator({ "compshare:privateKey": undefined });
    try {
      const err = await compShareInstance.read("uhost-x", {}).catch((e) => e);
      expect(err).toBeInstanceOf(CredentialsError);
      expect(err.message).toMatch(/compshare:privateKey/);
      expect(err.message).toMatch(/COMPSHARE_PRIVATE_KEY/);
    } finally {
      if (saved.pub !== undefined) process.env.COMPSHARE_PUBLIC_KEY = saved.pub;
      if (saved.priv !== undefined) process.env.COMPSHARE_PRIVATE_KEY = saved.priv;
    }
  });

  it("reports a wrong key as an authentication error without echoing either key", async () => {
    const wrong = "wrong-private-key-0123456789";
    useEmulator({ "compshare:privateKey": wrong });
    const before = emu.compshare.createdCount;
    const err = await upFails(base);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toMatch(/compshare:privateKey/);
    expect(`${err.message}\n${err.stack}`).not.toContain(wrong);
    expect(`${err.message}\n${err.stack}`).not.toContain(emu.compsharePublicKey);
    expect(emu.compshare.createdCount).toBe(before);
    const readErr = await compShareInstance.read("uhost-x", { region: "cn-wlcb" }).catch((e) => e);
    expect(readErr).toBeInstanceOf(AuthenticationError);
    expect(String(readErr)).not.toContain(wrong);
  });

  it("uses the environment when stack config has no keys", async () => {
    process.env.COMPSHARE_PUBLIC_KEY = emu.compsharePublicKey;
    process.env.COMPSHARE_PRIVATE_KEY = emu.compsharePrivateKey;
    process.env.COMPSHARE_BASE_URL = emu.url;
    compShareInstance.configure(fakeConfig({}));
    try {
      expect((await compShareInstance.read("uhost-000000000000", { region: "cn-wlcb" })).id).toBe("");
    } finally {
      delete process.env.COMPSHARE_PUBLIC_KEY;
      delete process.env.COMPSHARE_PRIVATE_KEY;
      delete process.env.COMPSHARE_BASE_URL;
    }
  });
});

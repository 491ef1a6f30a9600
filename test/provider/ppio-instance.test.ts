/**
 * The PpioInstance runtime provider driven as the engine drives it (check → create → diff
 * → update → read → delete, with `__provider` in the properties) against the emulator
 * over real HTTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  CapacityError,
  CredentialsError,
  NotFoundError,
  QuotaError,
} from "../../src/core/errors";
import { PartialFailureError } from "../../src/core/provider";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { ppioInstance } from "../../src/ppio/instance";
import { captureStderr, fakeConfig, isPlainJson, PROVIDER_TEXT } from "../support/fixtures";

let emu: Emulator;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  emu.ppio.release();
  useEmulator();
});

function useEmulator(overrides: Record<string, string | undefined> = {}) {
  ppioInstance.configure(fakeConfig({ "ppio:apiKey": emu.apiKey, "ppio:baseUrl": emu.url, ...overrides }));
}

const base = {
  productId: "4090.24g",
  image: "nginx:1.27",
  resource: { gpuNum: 1, rootfsSizeGb: 30 },
};

/** check then create, exactly as the engine does on `pulumi up`. */
async function up(news: Record<string, unknown>, prefix = "test") {
  const checked = await ppioInstance.check(undefined, { ...news, autonamePrefix: prefix, __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  const created = await ppioInstance.create(checked.inputs);
  return { inputs: checked.inputs, ...created };
}

/** check → diff → update, as the engine does when inputs change. */
async function change(id: string, olds: Record<string, unknown>, oldInputs: Record<string, unknown>, news: Record<string, unknown>) {
  const checked = await ppioInstance.check(oldInputs, { ...news, autonamePrefix: "test", __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  const diff = await ppioInstance.diff(id, olds, checked.inputs);
  const updated = diff.changes && diff.replaces.length === 0 ? await ppioInstance.update(id, olds, checked.inputs) : undefined;
  return { diff, inputs: checked.inputs, outs: updated?.outs };
}

/** Resolves once a read of the instances (list or Get) was answered while the newest instance sat held at "pulling". */
async function readWhilePulling(): Promise<void> {
  let mark = -1;
  for (let i = 0; i < 1000; i++) {
    if (mark < 0 && emu.ppio.instances().at(-1)?.status.status === "pulling") mark = emu.requests.length;
    if (mark >= 0 && emu.requests.slice(mark).some((r) => r.method === "GET" && r.path.startsWith("/gpus/v2/instance") && r.status === 200)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the provider never read the instance while it was pulling");
}

describe("PpioInstance lifecycle", () => {
  it("creates, updates in place, stops, refreshes and deletes", async () => {
    useEmulator();
    // held at "pulling" until the provider has read it once, so the progress line below never depends on timing
    emu.ppio.holdNewInstances(true);
    const creating = captureStderr(() => up({ ...base, envs: { MODE: "train" }, ports: [{ port: 8888, protocol: "http" }] }));
    await readWhilePulling();
    emu.ppio.release();
    const { text, result } = await creating;
    const { id, outs, inputs } = result!;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(outs).toMatchObject({
      instanceId: id,
      status: "running",
      powerState: "running",
      image: "nginx:1.27",
      envs: { MODE: "train" },
      sshCommand: expect.stringMatching(/^ssh -p \d+ root@/),
      sshPassword: expect.any(String),
      region: expect.any(String),
      portEndpoints: [expect.objectContaining({ port: 8888, protocol: "http", endpoint: expect.stringMatching(/^https?:\/\//) })],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(outs.name).toMatch(/^test-[0-9a-f]{7}$/);
    expect(isPlainJson(outs)).toBe(true);
    expect(text).toMatch(new RegExp(`ppio instance ${id.slice(0, 8)}… (creating|pulling) \\(\\d+s\\)`));
    expect(text).toMatch(/running \(\d+s\)/);

    // image + env change: one upgrade, same id
    const upgraded = await change(id, outs, inputs, { ...base, image: "nginx:1.28", envs: { MODE: "serve" }, ports: [{ port: 8888, protocol: "http" }] });
    expect(upgraded.diff).toEqual({ changes: true, replaces: [] });
    expect(upgraded.outs).toMatchObject({ instanceId: id, image: "nginx:1.28", envs: { MODE: "serve" }, status: "running" });
    expect(upgraded.inputs.name).toBe(outs.name);
    expect(emu.ppio.get(id)).toMatchObject({ image: "nginx:1.28" });
    expect(emu.requests.filter((r) => r.route === "PUT /gpus/v2/instances/{id}/upgrade")).toHaveLength(1);

    // ports: replaced in place
    const ported = await change(id, upgraded.outs!, upgraded.inputs, {
      ...base,
      image: "nginx:1.28",
      envs: { MODE: "serve" },
      ports: [{ port: 9000, protocol: "tcp" }],
    });
    expect(ported.outs!.ports).toEqual([{ port: 9000, protocol: "tcp" }]);
    expect(emu.ppio.get(id)!.ports.map((p: { port: number }) => p.port)).toEqual([9000]);

    // stop
    const stopped = await change(id, ported.outs!, ported.inputs, {
      ...base,
      image: "nginx:1.28",
      envs: { MODE: "serve" },
      ports: [{ port: 9000, protocol: "tcp" }],
      powerState: "stopped",
    });
    expect(stopped.outs).toMatchObject({ powerState: "stopped", status: "exited" });
    expect(emu.ppio.get(id)!.status.status).toBe("exited");

    // refresh: live state, platform env keys hidden, no drift
    const read = await ppioInstance.read(id, { ...stopped.outs!, __provider: PROVIDER_TEXT });
    expect(read.id).toBe(id);
    expect(read.props.envs).toEqual({ MODE: "serve" });
    const again = await ppioInstance.diff(id, read.props, stopped.inputs);
    expect(again.changes).toBe(false);

    // a replacing change is reported as such
    const replacing = await ppioInstance.diff(id, read.props, { ...stopped.inputs, resource: { gpuNum: 2, rootfsSizeGb: 30 } });
    expect(replacing).toEqual({ changes: true, replaces: ["resource"] });

    await ppioInstance.delete(id, read.props);
    expect(emu.ppio.get(id)).toBeUndefined();
  });

  it("creates straight into the stopped state when asked", async () => {
    const { id, outs } = await up({ ...base, powerState: "stopped" });
    expect(outs).toMatchObject({ powerState: "stopped", status: "exited" });
    await ppioInstance.delete(id, outs);
  });

  it("starts a stopped instance again", async () => {
    const { id, outs, inputs } = await up({ ...base, powerState: "stopped" });
    const started = await change(id, outs, inputs, { ...base, powerState: "running" });
    expect(started.outs).toMatchObject({ status: "running", powerState: "running" });
    await ppioInstance.delete(id, started.outs!);
  });

  it("reports an instance deleted outside Pulumi as gone on refresh", async () => {
    const { id, outs } = await up(base);
    emu.ppio.deleteBehindBack(id);
    expect((await ppioInstance.read(id, outs)).id).toBe("");
  });

  it("treats deleting an instance that is already gone as done", async () => {
    const { id, outs } = await up(base);
    emu.ppio.deleteBehindBack(id);
    await expect(ppioInstance.delete(id, outs)).resolves.toBeUndefined();
  });

  it("says how to recover when updating an instance deleted outside Pulumi", async () => {
    const { id, outs, inputs } = await up(base);
    emu.ppio.deleteBehindBack(id);
    const err = await change(id, outs, inputs, { ...base, image: "nginx:2" }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/pulumi refresh/);
  });
});

describe("PpioInstance never loses an instance", () => {
  it("adopts the instance when the create response is lost", async () => {
    const before = emu.ppio.createdCount;
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", dropConnection: "after" });
    const { id, outs } = await up(base);
    expect(emu.ppio.createdCount - before).toBe(1);
    expect(emu.ppio.get(id)).toBeDefined();
    await ppioInstance.delete(id, outs);
  });

  it("sends the create again only after a lookup proved nothing was made", async () => {
    const before = emu.ppio.createdCount;
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", dropConnection: "before" });
    const { id, outs } = await up(base);
    expect(emu.ppio.createdCount - before).toBe(1);
    const routes = emu.requests.slice(-20).map((r) => r.route);
    const lookup = routes.lastIndexOf("GET /gpus/v2/instances");
    expect(lookup).toBeGreaterThan(-1);
    expect(routes.lastIndexOf("POST /gpus/v2/instances")).toBeGreaterThan(lookup);
    await ppioInstance.delete(id, outs);
  });

  it("waits out a 429 on the create and creates once", async () => {
    const before = emu.ppio.createdCount;
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", status: 429, retryAfter: 1 });
    const { id, outs } = await up(base);
    expect(emu.ppio.createdCount - before).toBe(1);
    await ppioInstance.delete(id, outs);
  });

  it("rides out 5xx answers while waiting", async () => {
    emu.faults.add({ method: "GET", path: /^\/gpus\/v2\/instances\/[0-9a-f]+$/, status: 503, times: 3 });
    const { id, outs } = await up(base);
    expect(outs.status).toBe("running");
    await ppioInstance.delete(id, outs);
  });

  it("hands the id to the engine when provisioning fails, and replaces it on the next up", async () => {
    emu.ppio.failNextProvisioning({ error: "IMAGE_PULL_FAILED", message: "manifest unknown" });
    const checked = await ppioInstance.check(undefined, { ...base, autonamePrefix: "t", __provider: PROVIDER_TEXT });
    const err = await ppioInstance.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.id).toMatch(/^[0-9a-f]{16}$/);
    expect(err.properties.__provider).toBe(PROVIDER_TEXT);
    expect(err.properties.instanceId).toBe(err.id);
    // no failed state: the platform error is set while the instance stays pulling
    expect(err.properties.status).toBe("pulling");
    expect(err.properties.statusError).toBe("IMAGE_PULL_FAILED");
    expect(err.reasons.join(" ")).not.toMatch(/timeouts\.create/);
    expect(isPlainJson(err.properties)).toBe(true);
    expect(err.reasons.join(" ")).toMatch(/IMAGE_PULL_FAILED|manifest unknown/);
    expect(emu.ppio.get(err.id)).toBeDefined();

    // the next `pulumi up` diffs the recorded instance against unchanged inputs: replace
    expect(await ppioInstance.diff(err.id, err.properties, checked.inputs)).toEqual({ changes: true, replaces: ["status"] });
    await ppioInstance.delete(err.id, err.properties);
    expect(emu.ppio.get(err.id)).toBeUndefined();
  });

  it("hands the id to the engine when the create deadline passes", async () => {
    emu.ppio.holdNewInstances(true);
    const checked = await ppioInstance.check(undefined, { ...base, timeouts: { create: "1s" }, __provider: PROVIDER_TEXT });
    const err = await ppioInstance.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toMatch(/timeouts\.create/);
    emu.ppio.release();
    await ppioInstance.delete(err.id, err.properties);
    expect(emu.ppio.get(err.id)).toBeUndefined();
  });
});

describe("PpioInstance wire forms", () => {
  it("grows the root filesystem in place with one rootfs-expand, and never twice", async () => {
    const { id, outs, inputs } = await up(base);
    emu.resetRequests();
    const grown = await change(id, outs, inputs, { ...base, resource: { gpuNum: 1, rootfsSizeGb: 50 } });
    expect(grown.diff).toEqual({ changes: true, replaces: [] });
    expect(grown.outs).toMatchObject({ instanceId: id, resource: { rootfsSizeGb: 50 }, status: "running" });
    expect(emu.ppio.get(id)!.resource_specs.rootfs_size_gb).toBe(50);
    expect(emu.requests.filter((r) => r.route === "PUT /gpus/v2/instances/{id}/rootfs-expand")).toHaveLength(1);
    // an update that runs again (say, after an interrupted run) adds nothing more
    await ppioInstance.update(id, outs, grown.inputs);
    expect(emu.ppio.get(id)!.resource_specs.rootfs_size_gb).toBe(50);
    const shrink = await ppioInstance.diff(id, grown.outs!, { ...grown.inputs, resource: { gpuNum: 1, rootfsSizeGb: 40 } });
    expect(shrink).toEqual({ changes: true, replaces: ["resource.rootfsSizeGb"] });
    await ppioInstance.delete(id, grown.outs!);
  });

  it("creates a cpu instance from the top-level type", async () => {
    const { id, outs } = await up({ ...base, type: "cpu", resource: { gpuNum: 0, rootfsSizeGb: 20, minCudaVersion: "" } });
    expect(emu.ppio.get(id)!.type).toBe("cpu");
    expect(outs).toMatchObject({ type: "cpu", webTerminalUrl: expect.stringMatching(/^wss:\/\//), instanceLogUrl: expect.any(String), systemLogUrl: expect.any(String) });
    await ppioInstance.delete(id, outs);
  });

  it("fails a create at once when the instance exits with a platform error", async () => {
    emu.ppio.failNextProvisioning({ error: "CONTAINER_START_FAILED", message: "exec format error", state: "exited" });
    const checked = await ppioInstance.check(undefined, { ...base, autonamePrefix: "t", __provider: PROVIDER_TEXT });
    const err = await ppioInstance.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.properties).toMatchObject({ status: "exited", statusError: "CONTAINER_START_FAILED" });
    expect(await ppioInstance.diff(err.id, err.properties, checked.inputs)).toEqual({ changes: true, replaces: ["status"] });
    await ppioInstance.delete(err.id, err.properties);
  });

  it("takes a removed instance for gone: delete finishes and refresh drops it while it is still listed", async () => {
    emu.ppio.setTimings({ removedMs: 60_000 });
    try {
      const { id, outs } = await up(base);
      await ppioInstance.delete(id, { ...outs, timeouts: { delete: "5s" } });
      const listed = await fetch(`${emu.url}/gpus/v2/instances/${id}`, { headers: { authorization: `Bearer ${emu.apiKey}` } });
      expect(((await listed.json()) as { status: { status: string } }).status.status).toBe("removed");
      expect(await ppioInstance.read(id, outs)).toEqual({ id: "", props: {} });
    } finally {
      emu.ppio.setTimings({ removedMs: 160 });
    }
  });
});

describe("PpioInstance errors", () => {
  it("fails fast with a capacity error and creates nothing", async () => {
    const before = emu.ppio.createdCount;
    emu.faults.add({
      method: "POST",
      path: "/gpus/v2/instances",
      status: 400,
      body: { code: 400, reason: "INSUFFICIENT_RESOURCE", message: "no GPUs available" },
    });
    const checked = await ppioInstance.check(undefined, { ...base, __provider: PROVIDER_TEXT });
    const err = await ppioInstance.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect(err).not.toBeInstanceOf(PartialFailureError);
    expect(err.message).toMatch(/productId|candidateRegions/);
    expect(emu.ppio.createdCount).toBe(before);
  });

  it("maps a balance error to a quota error", async () => {
    emu.faults.add({
      method: "POST",
      path: "/gpus/v2/instances",
      status: 400,
      body: { code: 400, reason: "BALANCE_NOT_ENOUGH", message: "balance not enough" },
    });
    const checked = await ppioInstance.check(undefined, { ...base, __provider: PROVIDER_TEXT });
    await expect(ppioInstance.create(checked.inputs)).rejects.toBeInstanceOf(QuotaError);
  });

  it("names the config key and the environment variable when no key is set", async () => {
    const saved = process.env.PPIO_API_KEY;
    delete process.env.PPIO_API_KEY;
    useEmulator({ "ppio:apiKey": undefined });
    try {
      const err = await ppioInstance.read("x", {}).catch((e) => e);
      expect(err).toBeInstanceOf(CredentialsError);
      expect(err.message).toMatch(/ppio:apiKey/);
      expect(err.message).toMatch(/PPIO_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.PPIO_API_KEY = saved;
    }
  });

  it("reports a wrong key as an authentication error without echoing it", async () => {
    const wrong = "wrong-key-0123456789";
    useEmulator({ "ppio:apiKey": wrong });
    const err = await ppioInstance.read("abc", {}).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toMatch(/ppio:apiKey/);
    expect(err.message).not.toContain(wrong);
  });

  it("uses the environment when stack config has no key", async () => {
    process.env.PPIO_API_KEY = emu.apiKey;
    process.env.PPIO_BASE_URL = emu.url;
    ppioInstance.configure(fakeConfig({}));
    try {
      expect((await ppioInstance.read("0000000000000000", {})).id).toBe("");
    } finally {
      delete process.env.PPIO_API_KEY;
      delete process.env.PPIO_BASE_URL;
    }
  });
});

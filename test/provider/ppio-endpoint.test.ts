/**
 * The PpioEndpoint runtime provider driven as the engine drives it (check → create → diff
 * → update → read → delete, with `__provider` in the properties) against the emulator over
 * real HTTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError } from "../../src/core/errors";
import { PartialFailureError } from "../../src/core/provider";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { PpioClient } from "../../src/ppio/client";
import { ppioEndpoint } from "../../src/ppio/endpoint";
import { captureStderr, fakeConfig, isPlainJson, PROVIDER_TEXT } from "../support/fixtures";

let emu: Emulator;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  emu = await startEmulator();
  useEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  emu.ppio.release();
  useEmulator();
});

function useEmulator() {
  ppioEndpoint.configure(fakeConfig({ "ppio:apiKey": emu.apiKey, "ppio:baseUrl": emu.url }));
}

const base = {
  type: "sync",
  productId: "4090.24g.serverless",
  image: "vllm/vllm-openai:v0.6.0",
  workerConfig: { minReplicas: 1, maxReplicas: 3 },
};

type Props = Record<string, unknown>;

/** check then create, exactly as the engine does on `pulumi up`. */
async function up(news: Props, prefix = "llm") {
  const checked = await ppioEndpoint.check(undefined, { ...news, autonamePrefix: prefix, __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  const created = await ppioEndpoint.create(checked.inputs);
  return { inputs: checked.inputs, ...created };
}

/** check → diff → update, as the engine does when inputs change. */
async function change(id: string, olds: Props, oldInputs: Props, news: Props) {
  const checked = await ppioEndpoint.check(oldInputs, { ...news, autonamePrefix: "llm", __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  const diff = await ppioEndpoint.diff(id, olds, checked.inputs);
  const updated = diff.changes && diff.replaces.length === 0 ? await ppioEndpoint.update(id, olds, checked.inputs) : undefined;
  return { diff, inputs: checked.inputs, outs: updated?.outs };
}

const puts = () => emu.requests.filter((r) => r.route === "PUT /gpus/v2/endpoints/{id}").length;

/** Resolves once a read of the endpoints (list or Get) was answered after the latest request to `route`. */
async function polledAfter(route: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const sent = emu.requests.map((r) => r.route).lastIndexOf(route);
    if (sent >= 0 && emu.requests.slice(sent + 1).some((r) => r.method === "GET" && r.path.startsWith("/gpus/v2/endpoints") && r.status === 200)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the provider never read the endpoint after ${route}`);
}

describe("PpioEndpoint lifecycle", () => {
  it("creates, updates in place, refreshes and deletes", async () => {
    // held at "creating" until the provider has polled it once, so the line below never depends on timing
    emu.ppio.holdNewEndpoints(true);
    const creating = captureStderr(() => up({ ...base, envs: { MODEL: "qwen" }, ports: [8000] }));
    await polledAfter("POST /gpus/v2/endpoints");
    emu.ppio.release();
    const { text, result } = await creating;
    const { id, outs, inputs } = result!;
    expect(id).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(outs).toMatchObject({
      endpointId: id,
      type: "sync",
      status: "running",
      image: "vllm/vllm-openai:v0.6.0",
      workerConfig: { minReplicas: 1, maxReplicas: 3 },
      envs: { MODEL: "qwen" },
      ports: [8000],
      url: expect.stringMatching(/^https:\/\//),
      workers: { ready: 1, total: 1 },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(outs.name).toMatch(/^llm-[0-9a-f]{7}$/);
    expect(outs).not.toHaveProperty("__provider");
    expect(isPlainJson(outs)).toBe(true);
    expect(text).toMatch(new RegExp(`ppio endpoint ${id} creating \\(\\d+s\\)`));
    expect(text).toMatch(new RegExp(`ppio endpoint ${id} running \\(\\d+s\\)`));

    // image, scaling and env change: one PUT with the whole spec, same id
    const before = puts();
    const next = { ...base, image: "vllm/vllm-openai:v0.7.0", workerConfig: { minReplicas: 2, maxReplicas: 4 }, envs: { MODEL: "llama" }, ports: [8000] };
    // held at "updating" until the provider has polled it once
    emu.ppio.holdEndpoint(id);
    const updating = captureStderr(() => change(id, outs, inputs, next));
    await polledAfter("PUT /gpus/v2/endpoints/{id}");
    emu.ppio.release();
    const updated = await updating;
    const { diff, outs: after, inputs: afterInputs } = updated.result!;
    expect(diff).toEqual({ changes: true, replaces: [] });
    expect(after).toMatchObject({ endpointId: id, status: "running", image: "vllm/vllm-openai:v0.7.0", workers: { ready: 2, total: 2 } });
    expect(afterInputs.name).toBe(outs.name);
    expect(updated.text).toMatch(new RegExp(`ppio endpoint ${id} updating \\(\\d+s\\)`));
    expect(puts() - before).toBe(1);
    expect(emu.ppio.endpointUpdates(id)).toEqual([
      {
        name: outs.name,
        product_id: "4090.24g.serverless",
        image: "vllm/vllm-openai:v0.7.0",
        worker_config: { min_replicas: 2, max_replicas: 4 },
        registry_auth_id: "",
        entrypoint: "",
        command: "",
        volumes: [],
        envs: [{ key: "MODEL", value: "llama" }],
        ports: [8000],
      },
    ]);

    // refresh: live state, platform env keys and worker-config defaults hidden, no drift
    const read = await ppioEndpoint.read(id, { ...after!, __provider: PROVIDER_TEXT });
    expect(read.id).toBe(id);
    expect(read.props.envs).toEqual({ MODEL: "llama" });
    expect(read.props.workerConfig).toEqual({ minReplicas: 2, maxReplicas: 4 });
    expect(emu.ppio.getEndpoint(id)!.envs.map((e) => e.key)).toContain("PPIO_ENDPOINT_ID");
    expect(await ppioEndpoint.diff(id, read.props, afterInputs)).toEqual({ changes: false, replaces: [] });

    // a change made outside Pulumi shows as drift after refresh
    emu.ppio.updateEndpoint(id, { image: "someone/else:1" }, {});
    const drifted = await ppioEndpoint.read(id, read.props);
    expect(drifted.props.image).toBe("someone/else:1");
    expect(await ppioEndpoint.diff(id, drifted.props, afterInputs)).toEqual({ changes: true, replaces: [] });

    const { text: deleting } = await captureStderr(() => ppioEndpoint.delete(id, read.props));
    expect(deleting).toMatch(new RegExp(`ppio endpoint ${id} (deleting|gone) \\(\\d+s\\)`));
    expect(emu.ppio.getEndpoint(id)).toBeUndefined();
  });

  it("gives a sync endpoint a url and an async one none", async () => {
    const sync = await up(base);
    const asyncEp = await up({ ...base, type: "async", appName: `app-${Date.now()}` });
    expect(sync.outs.url).toMatch(/^https:\/\//);
    expect(asyncEp.outs).not.toHaveProperty("url");
    expect(asyncEp.outs.appName).toBe(asyncEp.inputs.appName);
    await Promise.all([ppioEndpoint.delete(sync.id, sync.outs), ppioEndpoint.delete(asyncEp.id, asyncEp.outs)]);
  });

  it("reports an endpoint deleted outside Pulumi as gone on refresh", async () => {
    const { id, outs } = await up(base);
    emu.ppio.deleteEndpointBehindBack(id);
    expect(await ppioEndpoint.read(id, outs)).toEqual({ id: "", props: {} });
  });

  it("treats deleting an endpoint that is already gone as done", async () => {
    const { id, outs } = await up(base);
    emu.ppio.deleteEndpointBehindBack(id);
    await expect(ppioEndpoint.delete(id, outs)).resolves.toBeUndefined();
  });

  it("says how to recover when updating an endpoint deleted outside Pulumi", async () => {
    const { id, outs, inputs } = await up(base);
    emu.ppio.deleteEndpointBehindBack(id);
    const err = await change(id, outs, inputs, { ...base, image: "x:2" }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/pulumi refresh/);
  });
});

describe("PpioEndpoint diff rules against the cloud", () => {
  it("replaces on type and appName, and makes no call for them", async () => {
    const { id, outs, inputs } = await up({ ...base, appName: `keep-${Date.now()}` });
    const before = puts();
    const retyped = await change(id, outs, inputs, { ...base, type: "async", appName: inputs.appName });
    expect(retyped.diff).toEqual({ changes: true, replaces: ["type"] });
    const renamed = await change(id, outs, inputs, { ...base, appName: "other-app" });
    expect(renamed.diff).toEqual({ changes: true, replaces: ["appName"] });
    expect(puts()).toBe(before);
    await ppioEndpoint.delete(id, outs);
  });

  it("updates every other input in place with one PUT carrying the whole spec, never type or app_name", async () => {
    const appName = `inplace-${Date.now()}`;
    const start = { ...base, appName, command: "serve", envs: { A: "1" } };
    let { id, outs, inputs } = await up(start);
    let current: Props = start;
    const steps: [string, Props, (o: Props) => void][] = [
      ["name", { name: `renamed-${Date.now()}` }, (o) => expect(o.name).toMatch(/^renamed-/)],
      ["productId", { productId: "h100.80g.serverless" }, (o) => expect(o.productId).toBe("h100.80g.serverless")],
      ["workerConfig", { workerConfig: { minReplicas: 0, maxReplicas: 2, idleTimeout: 30 } }, (o) => expect(o.workers).toEqual({ ready: 0, total: 0 })],
      ["policy", { policy: { type: "concurrency", value: 2 } }, (o) => expect(o.policy).toEqual({ type: "concurrency", value: 2 })],
      ["ports", { ports: [8000, 9000] }, (o) => expect(o.ports).toEqual([8000, 9000])],
      ["healthCheck", { healthCheck: { path: "/health", port: 8000 } }, (o) => expect(o.healthCheck).toEqual({ path: "/health", port: 8000 })],
      ["volumes", { volumes: [{ id: "vol-1", type: "network", size: 20, mountPoint: "/models" }] }, (o) => expect(o.volumes).toHaveLength(1)],
      ["regionId", { regionId: "us-ca-6" }, (o) => expect(o.regionId).toBe("us-ca-6")],
      ["registryAuthId", { registryAuthId: "auth-1" }, (o) => expect(o.registryAuthId).toBe("auth-1")],
      ["entrypoint", { entrypoint: "/bin/sh -c" }, (o) => expect(o.entrypoint).toBe("/bin/sh -c")],
      // removing an input sends its cleared form
      ["command (removed)", { command: undefined }, (o) => expect(o.command).toBeUndefined()],
      ["envs (removed)", { envs: undefined }, (o) => expect(o.envs).toBeUndefined()],
    ];
    for (const [label, delta, verify] of steps) {
      const news = { ...current, ...delta };
      const before = emu.ppio.endpointUpdates(id).length;
      const r = await change(id, outs, inputs, news);
      expect(r.diff, label).toEqual({ changes: true, replaces: [] });
      expect(r.outs!.endpointId, label).toBe(id);
      const sentBodies = emu.ppio.endpointUpdates(id).slice(before);
      expect(sentBodies, label).toHaveLength(1);
      expect(Object.keys(sentBodies[0]), label).not.toContain("type");
      expect(Object.keys(sentBodies[0]), label).not.toContain("app_name");
      expect(sentBodies[0], label).toMatchObject({ name: r.inputs.name, image: base.image, worker_config: expect.objectContaining({ max_replicas: expect.any(Number) }) });
      verify(r.outs!);
      current = news;
      outs = r.outs!;
      inputs = r.inputs;
    }
    const live = emu.ppio.getEndpoint(id)!;
    expect(live).toMatchObject({ app_name: appName, type: "sync", command: "", region_id: "us-ca-6" });
    expect(live.envs.map((e) => e.key)).not.toContain("A");
    expect(emu.ppio.endpointCreatedCount).toBeGreaterThan(0);
    await ppioEndpoint.delete(id, outs);
  });

  it("never diffs on timeouts", async () => {
    const { id, outs, inputs } = await up(base);
    const r = await change(id, outs, inputs, { ...base, timeouts: { create: "2h", update: "1h" } });
    expect(r.diff).toEqual({ changes: false, replaces: [] });
    await ppioEndpoint.delete(id, outs);
  });
});

describe("PpioEndpoint never loses an endpoint", () => {
  it("adopts the endpoint when the create response is lost", async () => {
    const before = emu.ppio.endpointCreatedCount;
    emu.faults.add({ method: "POST", path: "/gpus/v2/endpoints", dropConnection: "after" });
    const { text, result } = await captureStderr(() => up({ ...base, appName: `lost-${Date.now()}` }));
    const { id, outs } = result!;
    expect(emu.ppio.endpointCreatedCount - before).toBe(1);
    expect(emu.ppio.getEndpoint(id)).toBeDefined();
    expect(text).toMatch(/looking it up by name/);
    expect(text).toMatch(new RegExp(`found ${id}; adopting it`));
    await ppioEndpoint.delete(id, outs);
  });

  it("sends the create again only after a lookup proved nothing was made", async () => {
    const before = emu.ppio.endpointCreatedCount;
    emu.resetRequests();
    emu.faults.add({ method: "POST", path: "/gpus/v2/endpoints", dropConnection: "before" });
    const { id, outs } = await up(base);
    expect(emu.ppio.endpointCreatedCount - before).toBe(1);
    const routes = emu.requests.map((r) => r.route);
    const lookup = routes.indexOf("GET /gpus/v2/endpoints");
    expect(lookup).toBeGreaterThan(routes.indexOf("POST /gpus/v2/endpoints"));
    expect(routes.lastIndexOf("POST /gpus/v2/endpoints")).toBeGreaterThan(lookup);
    await ppioEndpoint.delete(id, outs);
  });

  it("waits out a 429 on the create and creates once", async () => {
    const before = emu.ppio.endpointCreatedCount;
    emu.faults.add({ method: "POST", path: "/gpus/v2/endpoints", status: 429, retryAfter: 1 });
    const { id, outs } = await up(base);
    expect(emu.ppio.endpointCreatedCount - before).toBe(1);
    await ppioEndpoint.delete(id, outs);
  });

  it("rides out 5xx answers while waiting", async () => {
    emu.faults.add({ method: "GET", path: /^\/gpus\/v2\/endpoints\/[A-Za-z0-9]+$/, status: 503, times: 3 });
    const { id, outs } = await up(base);
    expect(outs.status).toBe("running");
    await ppioEndpoint.delete(id, outs);
  });

  it("hands the id to the engine when provisioning fails, and replaces it on the next up", async () => {
    emu.ppio.failNextEndpoint({ error: "IMAGE_PULL_FAILED", message: "manifest unknown" });
    const checked = await ppioEndpoint.check(undefined, { ...base, autonamePrefix: "t", __provider: PROVIDER_TEXT });
    const err = await ppioEndpoint.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.id).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(err.properties.__provider).toBe(PROVIDER_TEXT);
    expect(err.properties.endpointId).toBe(err.id);
    expect(err.properties.status).toBe("failed");
    expect(err.properties.statusMessage).toMatch(/IMAGE_PULL_FAILED/);
    expect(isPlainJson(err.properties)).toBe(true);
    expect(err.reasons.join(" ")).toMatch(/IMAGE_PULL_FAILED|manifest unknown/);
    expect(emu.ppio.getEndpoint(err.id)).toBeDefined();

    expect(await ppioEndpoint.diff(err.id, err.properties, checked.inputs)).toEqual({ changes: true, replaces: ["status"] });
    await ppioEndpoint.delete(err.id, err.properties);
    expect(emu.ppio.getEndpoint(err.id)).toBeUndefined();
  });

  it("fails a create on the first poll whose status carries an error, whatever the status string", async () => {
    emu.faults.add({
      method: "GET",
      path: /^\/gpus\/v2\/endpoints\/[A-Za-z0-9]+$/,
      status: 200,
      body: { id: "x", status: { status: "deploying", error: "WORKER_OOM", message: "out of memory" }, worker_config: { max_replicas: "2" } },
      times: Infinity,
    });
    const checked = await ppioEndpoint.check(undefined, { ...base, autonamePrefix: "t", __provider: PROVIDER_TEXT });
    const err = await ppioEndpoint.create(checked.inputs).catch((e) => e);
    emu.faults.clear();
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.reasons.join(" ")).toMatch(/is deploying \(WORKER_OOM: out of memory\)/);
    await ppioEndpoint.delete(err.id, err.properties);
  });

  it("hands the id to the engine when the create deadline passes, and the next up resumes it", async () => {
    emu.ppio.holdNewEndpoints(true);
    const checked = await ppioEndpoint.check(undefined, { ...base, timeouts: { create: "1s" }, __provider: PROVIDER_TEXT });
    const err = await ppioEndpoint.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toMatch(/timeouts\.create/);
    expect(err.properties).toMatchObject({ endpointId: err.id, status: "creating", __provider: PROVIDER_TEXT });
    emu.ppio.release();
    // the engine retries with an update: it waits for the create to finish, then applies the spec
    const resumed = await ppioEndpoint.update(err.id, err.properties, checked.inputs);
    expect(resumed.outs).toMatchObject({ endpointId: err.id, status: "running" });
    await ppioEndpoint.delete(err.id, resumed.outs);
    expect(emu.ppio.getEndpoint(err.id)).toBeUndefined();
  });

  it("hands the id to the engine when an update does not finish in time", async () => {
    const { id, outs, inputs } = await up(base);
    emu.ppio.holdEndpoint(id);
    const err = await change(id, outs, inputs, { ...base, image: "x:2", timeouts: { update: "1s" } }).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.id).toBe(id);
    expect(err.message).toMatch(/timeouts\.update/);
    expect(err.properties).toMatchObject({ status: "updating", image: "x:2", __provider: PROVIDER_TEXT });
    emu.ppio.release(id);
    await ppioEndpoint.delete(id, err.properties);
  });
});

describe("PpioEndpoint errors", () => {
  it("refuses a duplicate appName with a conflict error that says what to do, creating nothing", async () => {
    const appName = `dup-${Date.now()}`;
    const first = await up({ ...base, appName });
    const before = emu.ppio.endpointCreatedCount;
    const checked = await ppioEndpoint.check(undefined, { ...base, appName, __provider: PROVIDER_TEXT });
    const err = await ppioEndpoint.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).not.toBeInstanceOf(PartialFailureError);
    expect(err.code).toBe("SERVERLESS_APP_NAME_IS_EXIST");
    expect(err.message).toContain(appName);
    expect(err.message).toMatch(/appName must be unique/);
    expect(emu.ppio.endpointCreatedCount).toBe(before);
    await ppioEndpoint.delete(first.id, first.outs);
  });
});

describe("PpioClient endpoints", () => {
  it("lists by keyword, following next_cursor to the end", async () => {
    const client = new PpioClient({ apiKey: emu.apiKey, baseUrl: emu.url });
    const tag = `paged-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await client.createEndpoint({ type: "async", name: `${tag}-${i}`, product_id: "4090.24g.serverless", image: "i", worker_config: { max_replicas: 1 } }));
    }
    emu.resetRequests();
    const all = await client.listEndpoints({ keyword: tag, pageSize: 2 });
    expect(all.map((e) => e.id)).toEqual(ids);
    expect(emu.requests.filter((r) => r.route === "GET /gpus/v2/endpoints")).toHaveLength(3);
    expect(await client.findEndpoint("nosuchendpoint")).toBeNull();
    await Promise.all(ids.map((id) => client.deleteEndpoint(id)));
    await client.close();
  });
});

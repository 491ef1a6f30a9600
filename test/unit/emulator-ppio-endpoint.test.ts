// Exercises the emulator's serverless endpoints over real HTTP with plain fetch, deliberately
// without our client: these tests pin the wire contract the client is tested against.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/server";

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu?.close();
});

beforeEach(() => {
  emu.faults.clear();
  emu.ppio.release();
});

interface Res {
  status: number;
  body: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = { authorization: `Bearer ${emu.apiKey}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(emu.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let counter = 0;
function spec(over: Record<string, unknown> = {}) {
  counter += 1;
  return {
    type: "sync",
    name: `ep-${counter}`,
    product_id: "4090.24g.serverless",
    image: "vllm/vllm-openai:v0.6.0",
    worker_config: { min_replicas: 2, max_replicas: 4 },
    ...over,
  };
}

async function create(over: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/gpus/v2/endpoints", spec(over));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.id;
}

const get = async (id: string) => (await call("GET", `/gpus/v2/endpoints/${id}`)).body;
const statusOf = async (id: string) => (await get(id)).status.status as string;

async function waitFor(id: string, want: string, timeoutMs = 3000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await statusOf(id);
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (s === want) return seen;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${want}; saw ${seen.join(" → ")}`);
    await sleep(15);
  }
}

async function waitGone(id: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await call("GET", `/gpus/v2/endpoints/${id}`)).status === 200) {
    if (Date.now() > deadline) throw new Error(`endpoint ${id} never went away`);
    await sleep(15);
  }
}

describe("endpoint create validation", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["bad type", { type: "batch" }, "type: must be one of sync, async"],
    ["missing name", { name: undefined }, "name: is required"],
    ["name too long", { name: "x".repeat(256) }, "name: length must be between 1 and 255"],
    ["missing worker_config", { worker_config: undefined }, "worker_config: is required"],
    ["missing max_replicas", { worker_config: { min_replicas: 1 } }, "worker_config.max_replicas: is required"],
    ["max_replicas over 1000", { worker_config: { max_replicas: 1001 } }, "worker_config.max_replicas: must be an integer between 0 and 1000"],
    ["min above max", { worker_config: { min_replicas: 3, max_replicas: 2 } }, "worker_config.min_replicas: must not exceed max_replicas (2)"],
    ["port 0", { ports: [0] }, "ports[0]: must be an integer between 1 and 65535"],
    ["port 65536", { ports: [8000, 65536] }, "ports[1]"],
    ["bad policy type", { policy: { type: "latency", value: 5 } }, "policy.type: must be one of queue, concurrency"],
    ["app_name too long", { app_name: "a".repeat(256) }, "app_name"],
    ["network volume without id", { volumes: [{ type: "network", size: 10, mount_point: "/data" }] }, "volumes[0].id: is required"],
    ["local volume without size", { volumes: [{ type: "local", mount_point: "/data" }] }, "volumes[0].size: is required"],
    ["integer sent as a string", { worker_config: { max_replicas: "2" } }, "worker_config.max_replicas: must be an integer between 0 and 1000"],
  ];

  it.each(cases)("%s → 400 VALIDATOR_PARAM naming the field", async (_label, over, expected) => {
    const before = emu.ppio.endpointCreatedCount;
    const res = await call("POST", "/gpus/v2/endpoints", spec(over));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 400, reason: "VALIDATOR_PARAM" });
    expect(res.body.message).toContain(expected);
    expect(emu.ppio.endpointCreatedCount).toBe(before);
  });

  it("refuses a duplicate app_name with SERVERLESS_APP_NAME_IS_EXIST, and frees it once the endpoint is gone", async () => {
    const appName = `app-${Date.now()}`;
    const first = await create({ app_name: appName, type: "async" });
    const dup = await call("POST", "/gpus/v2/endpoints", spec({ app_name: appName }));
    expect(dup.status).toBe(400);
    expect(dup.body).toMatchObject({ code: 400, reason: "SERVERLESS_APP_NAME_IS_EXIST" });
    expect(dup.body.message).toContain(appName);
    // two endpoints without an app name do not collide
    await create();
    await create();
    await call("DELETE", `/gpus/v2/endpoints/${first}`);
    await waitGone(first);
    await create({ app_name: appName });
  });
});

describe("endpoint lifecycle", () => {
  it("creates → running with workers for min_replicas, a url for sync only, and platform env keys", async () => {
    emu.ppio.holdNewEndpoints(true);
    const id = await create({
      envs: [{ key: "MODEL", value: "qwen" }],
      ports: [8000],
      policy: { type: "concurrency", value: 4 },
      health_check: { path: "/health", port: 8000 },
      volumes: [{ type: "network", id: "vol-1", size: 50, mount_point: "/models" }],
      region_id: "us-ca-6",
    });
    expect(id).toMatch(/^[A-Za-z0-9]{12}$/);
    const early = await get(id);
    expect(early.status.status).toBe("creating");
    expect(early.workers).toHaveLength(2);
    expect(early.workers.every((w: any) => w.status.status === "pending")).toBe(true);
    emu.ppio.release();
    expect(await waitFor(id, "running")).toEqual(["creating", "running"]);

    const body = await get(id);
    expect(body).toMatchObject({
      id,
      type: "sync",
      app_name: "",
      status: { status: "running", error: "", message: "" },
      url: `https://${id}.us-ca-6.serverless.emulator.local`,
      // 64-bit integers as strings (protobuf-JSON); a network volume without its size
      worker_config: { min_replicas: "2", max_replicas: "4", gpu_num: "1" },
      policy: { type: "concurrency", value: "4" },
      ports: [8000],
      health_check: { path: "/health", port: 8000 },
      volumes: [{ type: "network", id: "vol-1", mount_point: "/models" }],
      region_id: "us-ca-6",
    });
    expect(body.created_at).toMatch(/^\d+$/);
    expect(body.workers.map((w: any) => w.status.status)).toEqual(["ready", "ready"]);
    expect(body.envs.map((e: any) => e.key)).toEqual(["MODEL", "PPIO_ENDPOINT_ID", "PPIO_ENDPOINT_TYPE"]);

    const local = await get(await create({ volumes: [{ type: "local", size: 30, mount_point: "/w" }, { type: "network", id: "n", mount_point: "/n" }] }));
    expect(local.volumes).toEqual([
      { id: "", type: "local", size: "30", mount_point: "/w" },
      { id: "n", type: "network", mount_point: "/n" },
    ]);

    const asyncId = await create({ type: "async", worker_config: { max_replicas: 1 } });
    const asyncBody = await get(asyncId);
    expect(asyncBody.url).toBe("");
    expect(asyncBody.workers).toEqual([]);
    expect(asyncBody.policy).toEqual({ type: "queue", value: "60" });
  });

  it("updates through PUT: updating → running, kept workers serve, omitted fields are kept", async () => {
    const id = await create({ command: "serve", envs: [{ key: "A", value: "1" }] });
    await waitFor(id, "running");
    emu.ppio.holdEndpoint(id);
    const put = await call("PUT", `/gpus/v2/endpoints/${id}`, { image: "vllm/vllm-openai:v0.7.0", worker_config: { min_replicas: 3, max_replicas: 5 } });
    expect(put).toEqual({ status: 200, body: {} });
    const during = await get(id);
    expect(during.status.status).toBe("updating");
    expect(during.workers.map((w: any) => w.status.status)).toEqual(["ready", "ready", "pending"]);
    emu.ppio.release(id);
    expect(await waitFor(id, "running")).toEqual(["updating", "running"]);
    const after = await get(id);
    expect(after).toMatchObject({ image: "vllm/vllm-openai:v0.7.0", command: "serve", worker_config: { min_replicas: "3", max_replicas: "5" } });
    // worker_config is replaced whole: what the PUT left out is back at the default
    expect(after.worker_config.idle_timeout).toBe("60");
    expect(after.envs[0]).toEqual({ key: "A", value: "1" });
    expect(emu.ppio.endpointUpdates(id)).toEqual([
      { image: "vllm/vllm-openai:v0.7.0", worker_config: { min_replicas: 3, max_replicas: 5 } },
    ]);
  });

  it("refuses type and app_name on update, worker_config without max_replicas, and updates while creating", async () => {
    emu.ppio.holdNewEndpoints(true);
    const id = await create();
    const early = await call("PUT", `/gpus/v2/endpoints/${id}`, { image: "x:1" });
    expect(early.body.reason).toBe("OPERATION_LIMIT");
    emu.ppio.release();
    await waitFor(id, "running");
    const fixed = await call("PUT", `/gpus/v2/endpoints/${id}`, { type: "async", app_name: "other" });
    expect(fixed.status).toBe(400);
    expect(fixed.body.reason).toBe("VALIDATOR_PARAM");
    expect(fixed.body.message).toContain("type: cannot be changed after creation");
    expect(fixed.body.message).toContain("app_name: cannot be changed after creation");
    const noMax = await call("PUT", `/gpus/v2/endpoints/${id}`, { worker_config: { min_replicas: 1 } });
    expect(noMax.body.message).toContain("worker_config.max_replicas: is required");
    expect(await statusOf(id)).toBe("running");
  });

  it("deletes: deleting → gone; afterwards every call gives SERVERLESS_ENDPOINT_NOT_FOUND", async () => {
    const id = await create();
    emu.ppio.holdEndpoint(id);
    expect(await call("DELETE", `/gpus/v2/endpoints/${id}`)).toEqual({ status: 200, body: {} });
    expect(await statusOf(id)).toBe("deleting");
    expect((await call("DELETE", `/gpus/v2/endpoints/${id}`)).status).toBe(200);
    expect((await call("PUT", `/gpus/v2/endpoints/${id}`, { image: "x:1" })).body.reason).toBe("OPERATION_LIMIT");
    emu.ppio.release(id);
    await waitGone(id);
    for (const [method, body] of [["GET"], ["DELETE"], ["PUT", { image: "x:1" }]] as const) {
      const res = await call(method, `/gpus/v2/endpoints/${id}`, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 400, reason: "SERVERLESS_ENDPOINT_NOT_FOUND" });
    }
    expect(emu.ppio.getEndpoint(id)).toBeUndefined();
  });

  it("lists by keyword with cursor paging", async () => {
    const tag = `kw-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create({ name: `${tag}-${i}` }));
    const got: string[] = [];
    let cursor = "";
    let pages = 0;
    for (;;) {
      const q = new URLSearchParams({ limit: "2", keyword: tag });
      if (cursor) q.set("cursor", cursor);
      const res = await call("GET", `/gpus/v2/endpoints?${q}`);
      expect(res.status).toBe(200);
      pages += 1;
      got.push(...res.body.data.map((e: any) => e.id));
      if (!res.body.has_more) {
        expect(res.body.next_cursor).toBe("");
        break;
      }
      cursor = res.body.next_cursor;
    }
    expect(pages).toBe(3);
    expect(got).toEqual(ids);
    const bad = await call("GET", "/gpus/v2/endpoints?cursor=nope!");
    expect(bad.body.reason).toBe("VALIDATOR_PARAM");
  });
});

describe("endpoint test controls and faults", () => {
  it("failNextEndpoint ends in failed with the error; the endpoint can still be deleted; one-shot", async () => {
    emu.ppio.failNextEndpoint({ error: "IMAGE_PULL_FAILED", message: "manifest unknown" });
    const id = await create();
    expect(await waitFor(id, "failed")).toEqual(["creating", "failed"]);
    const body = await get(id);
    expect(body.status).toEqual({ status: "failed", error: "IMAGE_PULL_FAILED", message: "manifest unknown" });
    expect(body.workers.every((w: any) => w.status.status === "failed")).toBe(true);
    expect((await call("DELETE", `/gpus/v2/endpoints/${id}`)).status).toBe(200);
    await waitGone(id);
    await waitFor(await create(), "running");
  });

  it("deleteEndpointBehindBack makes it vanish at once", async () => {
    const id = await create();
    emu.ppio.deleteEndpointBehindBack(id);
    expect((await call("GET", `/gpus/v2/endpoints/${id}`)).body.reason).toBe("SERVERLESS_ENDPOINT_NOT_FOUND");
    expect(emu.ppio.endpoints().map((e) => e.id)).not.toContain(id);
  });

  it("a create whose response is dropped still made the endpoint, findable by keyword", async () => {
    emu.faults.add({ method: "POST", path: "/gpus/v2/endpoints", dropConnection: "after" });
    const before = emu.ppio.endpointCreatedCount;
    const body = spec();
    await expect(call("POST", "/gpus/v2/endpoints", body)).rejects.toThrow();
    expect(emu.ppio.endpointCreatedCount).toBe(before + 1);
    const found = await call("GET", `/gpus/v2/endpoints?keyword=${body.name}`);
    expect(found.body.data.map((e: any) => e.name)).toContain(body.name);
  });

  it("setTimings reaches endpoint transitions", async () => {
    emu.ppio.setTimings({ endpointCreateMs: 0 });
    try {
      expect(await statusOf(await create())).toBe("running");
    } finally {
      emu.ppio.setTimings({ endpointCreateMs: 240 });
    }
  });
});

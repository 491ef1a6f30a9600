// Exercises the PPIO emulator over real HTTP with plain fetch, deliberately without our client:
// these tests pin the wire contract the client is later tested against.
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
  headers: Headers;
}

async function call(method: string, path: string, body?: unknown, auth: string | null = emu.apiKey): Promise<Res> {
  const headers: Record<string, string> = {};
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(emu.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let counter = 0;
function spec(over: Record<string, unknown> = {}) {
  counter += 1;
  return {
    name: `unit-${counter}`,
    product_id: "4090.24g",
    image: "nginx:latest",
    billing: { mode: "postpaid" },
    resource: { gpu_num: 1, rootfs_size_gb: 50 },
    ...over,
  };
}

async function create(over: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/gpus/v2/instances", spec(over));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.id;
}

async function statusOf(id: string): Promise<string> {
  const res = await call("GET", `/gpus/v2/instances/${id}`);
  expect(res.status).toBe(200);
  return res.body.status.status;
}

/** Polls until the status is reached; returns every distinct status seen on the way. */
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
  while ((await call("GET", `/gpus/v2/instances/${id}`)).status === 200) {
    if (Date.now() > deadline) throw new Error(`instance ${id} never went away`);
    await sleep(15);
  }
}

describe("wire basics", () => {
  it("rejects missing or wrong bearer keys with 401 UNAUTHORIZED", async () => {
    for (const auth of [null, "wrong-key"]) {
      const res = await call("GET", "/gpus/v2/instances", undefined, auth);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 401, reason: "UNAUTHORIZED", metadata: {} });
      expect(JSON.stringify(res.body)).not.toContain("wrong-key");
    }
  });

  it("answers JSON with an x-request-id, and 404 NOT_FOUND for unknown routes", async () => {
    const ok = await call("GET", "/gpus/v2/instances");
    expect(ok.headers.get("content-type")).toMatch(/application\/json/);
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await call("GET", "/gpus/v2/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 404, reason: "NOT_FOUND" });
    expect(missing.body.message).toContain("no route");
  });

  it("answers an unknown CompShare action on POST / with RetCode 161", async () => {
    const res = await fetch(`${emu.url}/?Action=DescribeThing`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ RetCode: 161 });
  });

  it("records requests with templated routes", async () => {
    emu.resetRequests();
    await call("GET", "/gpus/v2/instances/abc");
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]).toMatchObject({
      cloud: "ppio",
      method: "GET",
      path: "/gpus/v2/instances/abc",
      route: "GET /gpus/v2/instances/{id}",
      status: 400,
    });
  });
});

describe("create validation", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["missing name", { name: undefined }, "name: is required"],
    ["bad billing mode", { billing: { mode: "hourly" } }, "billing.mode: must be one of postpaid, prepaid, spot"],
    ["gpu instance without gpus", { resource: { gpu_num: 0, rootfs_size_gb: 50 } }, "resource.gpu_num"],
    ["rootfs too small", { resource: { gpu_num: 1, rootfs_size_gb: 5 } }, "resource.rootfs_size_gb"],
    ["reserved port", { ports: [{ port: 2222, protocol: "tcp" }] }, "ports[0].port"],
    ["duplicate port", { ports: [{ port: 80, protocol: "http" }, { port: 80, protocol: "tcp" }] }, "ports[1].port: duplicate port 80"],
    ["bad protocol", { ports: [{ port: 80, protocol: "udp" }] }, "ports[0].protocol"],
    ["empty env key", { envs: [{ key: "", value: "x" }] }, "envs[0].key"],
    ["too many ports with jupyter", {
      ports: Array.from({ length: 15 }, (_, i) => ({ port: 8000 + i, protocol: "http" })),
      tools: { jupyter: { enabled: true, port: 8888, protocol: "http" } },
    }, "ports: at most 15"],
  ];

  it.each(cases)("%s → 400 VALIDATOR_PARAM naming the field", async (_label, over, expected) => {
    const before = emu.ppio.createdCount;
    const res = await call("POST", "/gpus/v2/instances", spec(over));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 400, reason: "VALIDATOR_PARAM" });
    expect(res.body.message).toContain(expected);
    expect(emu.ppio.createdCount).toBe(before);
  });

  it("rejects malformed JSON and accepts a cpu instance with no gpus (type is top level)", async () => {
    const bad = await call("POST", "/gpus/v2/instances", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe("VALIDATOR_PARAM");
    const id = await create({ type: "cpu", resource: { gpu_num: 0, rootfs_size_gb: 20 }, unknown_key: 1 });
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(emu.ppio.get(id)?.type).toBe("cpu");
    expect((await call("GET", `/gpus/v2/instances/${id}`)).body.type).toBe("cpu");
    // inside `resource` the field is unknown and dropped: the instance would be a gpu one
    const nested = await call("POST", "/gpus/v2/instances", spec({ resource: { type: "cpu", gpu_num: 0, rootfs_size_gb: 20 } }));
    expect(nested.status).toBe(400);
    expect(nested.body.message).toContain("resource.gpu_num");
  });

  it("accepts the seed's example values and reads resource.min_cuda_version", async () => {
    const id = await create({
      billing: { mode: "prepaid" },
      resource: { gpu_num: 1, rootfs_size_gb: 20, min_cuda_version: "12.4" },
      tools: { jupyter: { enabled: true, port: 8888, protocol: "http" } },
    });
    expect(emu.ppio.get(id)).toMatchObject({ min_cuda_version: "12.4", billing: { mode: "prepaid", prepaid: { months: 1 } } });
    const none = await create({ resource: { gpu_num: 1, rootfs_size_gb: 20, min_cuda_version: "" } });
    expect(emu.ppio.get(none)?.min_cuda_version).toBe("");
  });
});

describe("instance lifecycle", () => {
  // Transitional states are asserted under a hold, so a slow CI machine cannot race past them.
  it("provisions toCreate → … → running and returns the full object", async () => {
    emu.ppio.holdNewInstances(true);
    const id = await create({
      envs: [{ key: "FOO", value: "bar" }],
      ports: [
        { port: 8080, protocol: "http" },
        { port: 9000, protocol: "tcp" },
      ],
      tools: { jupyter: { enabled: true, port: 8888, protocol: "http" } },
      candidate_regions: ["us-ca-6"],
    });
    const first = await call("GET", `/gpus/v2/instances/${id}`);
    expect(["toCreate", "creating", "pulling"]).toContain(first.body.status.status);
    expect(first.body.last_started_at).toBe("0");
    emu.ppio.release();

    const seen = await waitFor(id, "running");
    const order = ["toCreate", "creating", "pulling", "running"];
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
    expect(seen).toContain("running");

    const { body } = await call("GET", `/gpus/v2/instances/${id}`);
    expect(body).toMatchObject({
      id,
      type: "gpu",
      product_id: "4090.24g",
      image: "nginx:latest",
      billing: { mode: "postpaid" },
      region: "us-ca-6",
      status: { status: "running", error: "", message: "" },
      // protobuf-JSON, as in the real capture: 64-bit integers are strings, 32-bit ones numbers
      resource_specs: { gpu_num: 1, rootfs_size_gb: "50", cpu_num: 8, memory_gb: "64", gpu_ids: [0] },
      region_version: "v2",
    });
    expect(body.created_at).toMatch(/^\d+$/);
    expect(Number(body.last_started_at)).toBeGreaterThan(0);
    expect(body.envs[0]).toEqual({ key: "FOO", value: "bar" });
    const keys = body.envs.map((e: { key: string }) => e.key);
    expect(keys).toEqual(["FOO", "PPIO_INSTANCE_ID", "PUBLIC_KEY"]);
    expect(body.ports[0].endpoint).toBe(`https://${id}-8080.us-ca-6.gpu-instance.emulator.local`);
    expect(body.ports[1].endpoint).toMatch(/^tcp:\/\/proxy\.us-ca-6\.gpu-instance\.emulator\.local:\d+$/);
    expect(body.tools.ssh.command).toMatch(/^ssh -p \d+ root@proxy\.us-ca-6\.gpu-instance\.emulator\.local$/);
    expect(body.tools.ssh.password).toBeTruthy();
    expect(body.tools.jupyter).toMatchObject({ enabled: true, port: 8888 });
    // stable per instance
    expect((await call("GET", `/gpus/v2/instances/${id}`)).body.tools.ssh).toEqual(body.tools.ssh);
  });

  it("pages the list with a cursor and filters by name, id and status", async () => {
    const tag = `pager-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create({ name: `${tag}-${i}` }));

    const got: string[] = [];
    let cursor = "";
    let pages = 0;
    for (;;) {
      const q = new URLSearchParams({ limit: "2", name: tag });
      if (cursor) q.set("cursor", cursor);
      const res = await call("GET", `/gpus/v2/instances?${q}`);
      expect(res.status).toBe(200);
      pages += 1;
      for (const item of res.body.data) {
        expect(item.tools).toBeUndefined();
        got.push(item.id);
      }
      if (!res.body.has_more) {
        expect(res.body.next_cursor).toBe("");
        break;
      }
      cursor = res.body.next_cursor;
    }
    expect(pages).toBe(3);
    expect(got).toEqual(ids);

    const byId = await call("GET", `/gpus/v2/instances?name=${ids[3]}`);
    expect(byId.body.data.map((i: { id: string }) => i.id)).toEqual([ids[3]]);

    const creating = await call("GET", `/gpus/v2/instances?limit=100&status=running&name=${tag}`);
    for (const item of creating.body.data) expect(item.status.status).toBe("running");

    const bad = await call("GET", "/gpus/v2/instances?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe("VALIDATOR_PARAM");
  });

  it("stops, starts and restarts only from the right states", async () => {
    emu.ppio.holdNewInstances(true);
    const id = await create();
    const early = await call("PUT", `/gpus/v2/instances/${id}/stop`);
    expect(early.status).toBe(400);
    expect(early.body.reason).toBe("OPERATION_LIMIT");
    emu.ppio.release();
    await waitFor(id, "running");

    const startRunning = await call("PUT", `/gpus/v2/instances/${id}/start`);
    expect(startRunning.status).toBe(400);
    expect(startRunning.body).toMatchObject({ code: 400, reason: "OPERATION_LIMIT" });
    expect(startRunning.body.message).toContain("running");

    emu.ppio.hold(id);
    expect((await call("PUT", `/gpus/v2/instances/${id}/stop`, {})).body).toEqual({});
    expect(await statusOf(id)).toBe("toStop");
    emu.ppio.release(id);
    await waitFor(id, "exited");
    expect(Number((await call("GET", `/gpus/v2/instances/${id}`)).body.last_stopped_at)).toBeGreaterThan(0);

    for (const op of ["stop", "restart"]) {
      const res = await call("PUT", `/gpus/v2/instances/${id}/${op}`);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain("exited");
    }
    expect((await call("PUT", `/gpus/v2/instances/${id}/start`)).status).toBe(200);
    await waitFor(id, "running");
    emu.ppio.hold(id);
    expect((await call("PUT", `/gpus/v2/instances/${id}/restart`)).status).toBe(200);
    expect(await statusOf(id)).toBe("toRestart");
    emu.ppio.release(id);
    await waitFor(id, "running");
  });

  it("upgrades image/envs and replaces ports", async () => {
    emu.ppio.holdNewInstances(true);
    const id = await create({ envs: [{ key: "A", value: "1" }], ports: [{ port: 80, protocol: "http" }] });
    const tooEarly = await call("PUT", `/gpus/v2/instances/${id}/upgrade`, { image: "nginx:2" });
    expect(tooEarly.body.reason).toBe("OPERATION_LIMIT");
    emu.ppio.release();
    await waitFor(id, "running");

    const missingImage = await call("PUT", `/gpus/v2/instances/${id}/upgrade`, { envs: [] });
    expect(missingImage.status).toBe(400);
    expect(missingImage.body.message).toContain("image: is required");

    emu.ppio.hold(id);
    const up = await call("PUT", `/gpus/v2/instances/${id}/upgrade`, {
      image: "nginx:2",
      envs: [{ key: "B", value: "2" }],
      command: "serve",
      save_data: true,
    });
    expect(up.status).toBe(200);
    expect(await statusOf(id)).toBe("toReset");
    const busy = await call("PUT", `/gpus/v2/instances/${id}/upgrade`, { image: "nginx:3" });
    expect(busy.body.reason).toBe("OPERATION_LIMIT");
    emu.ppio.release(id);
    const seen = await waitFor(id, "running");
    expect(seen.every((s) => ["toReset", "resetting", "pulling", "running"].includes(s))).toBe(true);
    const after = (await call("GET", `/gpus/v2/instances/${id}`)).body;
    expect(after.image).toBe("nginx:2");
    expect(after.command).toBe("serve");
    expect(after.envs.map((e: { key: string }) => e.key)).toEqual(["B", "PPIO_INSTANCE_ID", "PUBLIC_KEY"]);

    const ports = await call("PUT", `/gpus/v2/instances/${id}/ports`, {
      ports: [
        { port: 80, protocol: "http" },
        { port: 22000, protocol: "tcp" },
      ],
    });
    expect(ports.status).toBe(200);
    expect(emu.ppio.get(id)?.ports.map((p) => p.port)).toEqual([80, 22000]);
    const reserved = await call("PUT", `/gpus/v2/instances/${id}/ports`, { ports: [{ port: 2223, protocol: "tcp" }] });
    expect(reserved.status).toBe(400);
    expect(reserved.body.message).toContain("ports[0].port");
    const missing = await call("PUT", `/gpus/v2/instances/${id}/ports`, {});
    expect(missing.body.message).toContain("ports: is required");
  });

  it("deletes from any state; afterwards GET gives RESOURCE_NOT_FOUND and list omits it", async () => {
    const id = await create();
    emu.ppio.hold(id);
    expect((await call("DELETE", `/gpus/v2/instances/${id}`)).body).toEqual({});
    expect(await statusOf(id)).toBe("toRemove");
    expect((await call("DELETE", `/gpus/v2/instances/${id}`)).status).toBe(200);
    const ports = await call("PUT", `/gpus/v2/instances/${id}/ports`, { ports: [] });
    expect(ports.body.reason).toBe("OPERATION_LIMIT");
    emu.ppio.release(id);
    await waitGone(id);
    const gone = await call("GET", `/gpus/v2/instances/${id}`);
    expect(gone.status).toBe(400);
    expect(gone.body).toMatchObject({ code: 400, reason: "RESOURCE_NOT_FOUND" });
    expect((await call("DELETE", `/gpus/v2/instances/${id}`)).body.reason).toBe("RESOURCE_NOT_FOUND");
    const list = await call("GET", `/gpus/v2/instances?name=${id}`);
    expect(list.body.data).toEqual([]);
    expect(emu.ppio.get(id)).toBeUndefined();
  });
});

describe("fault injection", () => {
  it("injects a status with Retry-After, counting `times`", async () => {
    const handle = emu.faults.add({ cloud: "ppio", method: "GET", path: "/gpus/v2/instances", status: 429, retryAfter: 2, times: 2 });
    emu.resetRequests();
    for (let i = 0; i < 2; i++) {
      const res = await call("GET", "/gpus/v2/instances");
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("2");
      expect(res.headers.get("x-request-id")).toBeTruthy();
      expect(res.body).toEqual({ code: 429, reason: "RATE_LIMIT_EXCEEDED", message: "injected fault", metadata: {} });
    }
    expect(handle.remaining).toBe(0);
    expect((await call("GET", "/gpus/v2/instances")).status).toBe(200);
    expect(emu.requests.map((r) => r.fault)).toEqual(["status=429", "status=429", undefined]);
  });

  it("matches by method and RegExp path, defaults 5xx to UNKNOWN, and can be cancelled", async () => {
    const handle = emu.faults.add({ method: "PUT", path: /\/stop$/, status: 503, times: Infinity });
    expect((await call("GET", "/gpus/v2/instances")).status).toBe(200);
    const res = await call("PUT", "/gpus/v2/instances/whatever/stop");
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe("UNKNOWN");
    expect(handle.remaining).toBe(Infinity);
    handle.cancel();
    expect((await call("PUT", "/gpus/v2/instances/whatever/stop")).body.reason).toBe("RESOURCE_NOT_FOUND");
  });

  it("delays a request and then handles it normally", async () => {
    emu.faults.add({ path: "/gpus/v2/instances", method: "GET", delayMs: 200 });
    const t0 = Date.now();
    const res = await call("GET", "/gpus/v2/instances");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(200);
  });

  it("drops the connection before handling: nothing is created", async () => {
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", dropConnection: "before" });
    const before = emu.ppio.createdCount;
    await expect(call("POST", "/gpus/v2/instances", spec())).rejects.toThrow();
    expect(emu.ppio.createdCount).toBe(before);
    expect(emu.requests[emu.requests.length - 1]).toMatchObject({ fault: "drop=before", status: 0 });
  });

  it("drops the connection after handling: the instance exists but the client never hears", async () => {
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", dropConnection: "after" });
    const before = emu.ppio.createdCount;
    const body = spec();
    await expect(call("POST", "/gpus/v2/instances", body)).rejects.toThrow();
    expect(emu.ppio.createdCount).toBe(before + 1);
    const made = emu.ppio.instances().filter((i) => i.name === body.name);
    expect(made).toHaveLength(1);
    const found = await call("GET", `/gpus/v2/instances?name=${body.name}`);
    expect(found.body.data.map((i: { id: string }) => i.id)).toEqual([made[0].id]);
  });
});

describe("test controls", () => {
  it("failNextProvisioning stays pulling with status.error set (no failed state), and the instance can still be deleted", async () => {
    emu.ppio.failNextProvisioning();
    const id = await create({ image: "no/such:image" });
    const deadline = Date.now() + 3000;
    let body: any;
    do {
      await sleep(15);
      body = (await call("GET", `/gpus/v2/instances/${id}`)).body;
      expect(body.status.status).not.toBe("running");
    } while (!body.status.error && Date.now() < deadline);
    expect(body.status).toMatchObject({ status: "pulling", error: "IMAGE_PULL_FAILED" });
    expect(body.status.message).toContain("no/such:image");
    await sleep(50);
    expect(await statusOf(id)).toBe("pulling");
    expect((await call("PUT", `/gpus/v2/instances/${id}/start`)).body.reason).toBe("OPERATION_LIMIT");
    expect((await call("DELETE", `/gpus/v2/instances/${id}`)).status).toBe(200);
    await waitGone(id);
    // one-shot
    const next = await create();
    await waitFor(next, "running");
  });

  it("holdNewInstances stops at pulling until release, and held time does not count", async () => {
    emu.ppio.holdNewInstances(true);
    const id = await create();
    await waitFor(id, "pulling");
    await sleep(350);
    expect(await statusOf(id)).toBe("pulling");
    emu.ppio.release();
    expect(await statusOf(id)).toBe("pulling");
    await waitFor(id, "running");
    // release() also stopped holding new instances
    await waitFor(await create(), "running");
  });

  it("hold(id) freezes an instance, including transitions started while held", async () => {
    const id = await create();
    await waitFor(id, "running");
    emu.ppio.hold(id);
    expect((await call("PUT", `/gpus/v2/instances/${id}/stop`)).status).toBe(200);
    await sleep(300);
    expect(await statusOf(id)).toBe("toStop");
    emu.ppio.release(id);
    await waitFor(id, "exited");
  });

  it("deleteBehindBack makes the instance vanish at once", async () => {
    const id = await create();
    emu.ppio.deleteBehindBack(id);
    const res = await call("GET", `/gpus/v2/instances/${id}`);
    expect(res.body.reason).toBe("RESOURCE_NOT_FOUND");
    expect(emu.ppio.get(id)).toBeUndefined();
  });

  it("setTimings changes later transitions", async () => {
    emu.ppio.setTimings({ provisionMs: 0 });
    try {
      const id = await create();
      expect(await statusOf(id)).toBe("running");
    } finally {
      emu.ppio.setTimings({ provisionMs: 240 });
    }
  });
});

describe("startEmulator options and close", () => {
  it("uses the given api key, logs requests and closes promptly with a keep-alive connection open", async () => {
    const lines: string[] = [];
    const other = await startEmulator({ apiKey: "k2", log: (l) => lines.push(l), timings: { ppio: { provisionMs: 30 } } });
    const res = await fetch(`${other.url}/gpus/v2/instances`, {
      method: "POST",
      headers: { authorization: "Bearer k2", "content-type": "application/json", connection: "keep-alive" },
      body: JSON.stringify(spec()),
    });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    await sleep(60);
    expect(other.ppio.get(id)?.status.status).toBe("running");
    expect(lines.join("\n")).toContain("POST /gpus/v2/instances");
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(fetch(`${other.url}/gpus/v2/instances`)).rejects.toThrow();
  });
});

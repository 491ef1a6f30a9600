// The PPIO wire corpus (test/wire/ppio/) against both sides: every request example is sent to
// the emulator, which must accept it; every response example is served to the client, whose
// parsers must accept it and read its values right (string integers become numbers).
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CapacityError } from "../../src/core/errors";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { PpioClient } from "../../src/ppio/client";
import { toOutputs as endpointOutputs } from "../../src/ppio/endpoint";
import { toOutputs as instanceOutputs } from "../../src/ppio/instance";
import { toPpioProduct } from "../../src/ppio/products";
import { type ApiProduct, apiInstanceSchema, listSchema } from "../../src/ppio/schemas";
import { ppioCall } from "../support/fixtures";

const toProducts = (ps: ApiProduct[]) => ps.map(toPpioProduct);

const dir = join(process.cwd(), "test/wire/ppio");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
const example = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ timings: { ppio: { provisionMs: 30, startMs: 30, stopMs: 30, upgradeMs: 30, endpointCreateMs: 30, endpointUpdateMs: 30 } } });
});
afterAll(async () => {
  await emu?.close();
});

const call = (method: string, path: string, body?: unknown) => ppioCall(emu, method, path, body);

async function until(path: string, status: string) {
  for (let i = 0; i < 200; i++) {
    if ((await call("GET", path)).body.status?.status === status) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} never reached ${status}`);
}

async function runningInstance(): Promise<string> {
  const { body } = await call("POST", "/gpus/v2/instances", {
    name: `wire-${Math.random()}`,
    product_id: "4090.24g",
    image: "nginx",
    billing: { mode: "postpaid" },
    resource: { gpu_num: 1, rootfs_size_gb: 20 },
  });
  await until(`/gpus/v2/instances/${body.id}`, "running");
  return body.id;
}

/**
 * The docs' examples name the placeholder product "product-id"; the emulator refuses product
 * ids its catalogue does not have, so the examples reach it with a catalogue id instead.
 */
const inCatalogue = (b: unknown, productId: string) => ({ ...(b as object), product_id: productId });

/** How each request example reaches the emulator: the route and the state it needs. */
const requests: Record<string, (b: unknown) => Promise<{ status: number; body: any }>> = {
  "create-instance.request.json": (b) => call("POST", "/gpus/v2/instances", inCatalogue(b, "4090.24g")),
  "create-endpoint.request.json": (b) => call("POST", "/gpus/v2/endpoints", inCatalogue(b, "4090.24g.serverless")),
  "stop-instance.request.json": async (b) => call("PUT", `/gpus/v2/instances/${await runningInstance()}/stop`, b),
  "start-instance.request.json": async (b) => {
    const id = await runningInstance();
    await call("PUT", `/gpus/v2/instances/${id}/stop`, {});
    await until(`/gpus/v2/instances/${id}`, "exited");
    return call("PUT", `/gpus/v2/instances/${id}/start`, b);
  },
  "rootfs-expand.request.json": async (b) => call("PUT", `/gpus/v2/instances/${await runningInstance()}/rootfs-expand`, b),
  "upgrade-instance.request.json": async (b) => call("PUT", `/gpus/v2/instances/${await runningInstance()}/upgrade`, b),
  "ports.request.json": async (b) => call("PUT", `/gpus/v2/instances/${await runningInstance()}/ports`, b),
  "update-endpoint.request.json": async (b) => {
    const created = await call("POST", "/gpus/v2/endpoints", { ...inCatalogue(example("create-endpoint.request.json"), "4090.24g.serverless"), app_name: "" });
    await until(`/gpus/v2/endpoints/${created.body.id}`, "running");
    return call("PUT", `/gpus/v2/endpoints/${created.body.id}`, inCatalogue(b, "h100.80g.serverless"));
  },
};

describe("PPIO request examples", () => {
  it("has a route for every request example", () => {
    expect(files.filter((f) => f.endsWith(".request.json")).sort()).toEqual(Object.keys(requests).sort());
  });

  it.each(Object.keys(requests))("the emulator accepts %s", async (file) => {
    const res = await requests[file](example(file));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it("keeps what the create examples say: type top level, min_cuda_version in resource, prepaid without a term", async () => {
    const { body } = await call("POST", "/gpus/v2/instances", { ...inCatalogue(example("create-instance.request.json"), "cpu.4c16g"), type: "cpu", resource: { rootfs_size_gb: 20, gpu_num: 0, min_cuda_version: "12.1" } });
    const got = emu.ppio.get(body.id)!;
    expect(got).toMatchObject({ type: "cpu", min_cuda_version: "12.1", billing: { mode: "prepaid" } });
    expect(got.tools?.jupyter).toMatchObject({ enabled: true, port: 8888 });
  });

  it("applies rootfs-expand as an increment", async () => {
    const id = await runningInstance();
    expect((await call("PUT", `/gpus/v2/instances/${id}/rootfs-expand`, example("rootfs-expand.request.json"))).status).toBe(200);
    expect((await call("GET", `/gpus/v2/instances/${id}`)).body.resource_specs.rootfs_size_gb).toBe("30");
    const bad = await call("PUT", `/gpus/v2/instances/${id}/rootfs-expand`, { rootfs_size_expand_gb: "10" });
    expect(bad.body).toMatchObject({ code: 400, reason: "VALIDATOR_PARAM" });
    expect(bad.body.message).toContain("rootfs_size_expand_gb");
  });

  it("rejects what the docs make invalid, in the documented error shape", async () => {
    const bad = await call("POST", "/gpus/v2/instances", { ...example("create-instance.request.json"), billing: { mode: "monthly" } });
    expect(Object.keys(bad.body).sort()).toEqual(Object.keys(example("error.response.json")).sort());
    expect(bad.body).toMatchObject({ code: 400, reason: "VALIDATOR_PARAM" });
  });

  it("keeps a deleted instance listed as removed for a while, then forgets it", async () => {
    emu.ppio.setTimings({ removedMs: 60_000 });
    const id = await runningInstance();
    await call("DELETE", `/gpus/v2/instances/${id}`);
    await until(`/gpus/v2/instances/${id}`, "removed");
    const listed = await call("GET", `/gpus/v2/instances?name=${id}`);
    expect(listed.body).toMatchObject({ data: [{ id, status: { status: "removed" } }], total: 1 });
    expect(emu.ppio.get(id)).toBeUndefined();
    expect((await call("PUT", `/gpus/v2/instances/${id}/start`, {})).body.reason).toBe("RESOURCE_NOT_FOUND");
    emu.ppio.setTimings({ removedMs: 0 });
    expect((await call("GET", `/gpus/v2/instances/${id}`)).body.reason).toBe("RESOURCE_NOT_FOUND");
    expect((await call("GET", `/gpus/v2/instances?name=${id}`)).body).toMatchObject({ data: [], total: 0 });
  });
});

// ---- responses --------------------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let client: PpioClient;
const seen: Seen[] = [];
/** What the corpus server answers: method + path → [status, example file]. */
let answers: Record<string, [number, string]> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const [status, file] = answers[`${req.method} ${req.url!.split("?")[0]}`] ?? [200, ""];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(file ? readFileSync(join(dir, file)) : "{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  client = new PpioClient({ apiKey: "k", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await client?.close();
  server?.close();
});

describe("PPIO response examples", () => {
  it("covers every response example", () => {
    const used = new Set([
      "create.response.json",
      "error.response.json",
      "get-instance.response.json",
      "list-instances.response.json",
      "list-instances-removed.response.json",
      "get-endpoint.response.json",
      "list-endpoints.response.json",
      "list-products.response.json",
      "list-regions.response.json",
    ]);
    expect(files.filter((f) => f.endsWith(".response.json")).sort()).toEqual([...used].sort());
  });

  it("reads the create answer and the error shape", async () => {
    answers = { "POST /gpus/v2/instances": [200, "create.response.json"] };
    expect(await client.createInstance(example("create-instance.request.json"))).toBe("ca338f12f3");
    answers = { "POST /gpus/v2/instances": [400, "error.response.json"] };
    const err = await client.createInstance(example("create-instance.request.json")).catch((e) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect(err).toMatchObject({ code: "INSUFFICIENT_RESOURCE", status: 400 });
  });

  it("reads the real list capture: string integers become numbers", async () => {
    answers = { "GET /gpus/v2/instances": [200, "list-instances.response.json"] };
    const [item] = await client.listInstances();
    expect(item).toMatchObject({
      id: "e70d0a62c99c2402",
      type: "gpu",
      created_at: 1785780950,
      resource_specs: { rootfs_size_gb: 50, gpu_num: 1, cpu_num: 16, memory_gb: 62 },
      ports: [{ port: 8888, protocol: "http" }],
      status: { status: "running", error: "", message: "" },
    });
    expect(instanceOutputs({ image: "x" }, item, item.id)).toMatchObject({ createdAt: "2026-08-03T18:15:50.000Z", status: "running" });
  });

  it("reads a sparse page with removed and failed items, a string total and a cursor", async () => {
    answers = { "GET /gpus/v2/instances": [200, "list-instances-removed.response.json"] };
    const page = await client.call("GET", "/gpus/v2/instances", listSchema(apiInstanceSchema));
    expect(page).toMatchObject({ has_more: true, next_cursor: "eyJhZnRlciI6Mn0=", total: 3 });
    expect(page.data.map((i) => [i.status.status, i.status.error, i.created_at])).toEqual([
      ["removed", "", 1785780950],
      ["pulling", "IMAGE_PULL_FAILED", 1785780950],
    ]);
  });

  it("reads Get with tools: web terminal and log URLs become outputs", async () => {
    answers = { "GET /gpus/v2/instances/e70d0a62c99c2402": [200, "get-instance.response.json"] };
    const live = await client.getInstance("e70d0a62c99c2402");
    const outs = instanceOutputs({ image: "x" }, live, live.id);
    expect(outs).toMatchObject({
      sshCommand: "ssh -p 32787 root@proxy.us-ca-6.gpu-instance.novita.ai",
      jupyterUrl: "https://e70d0a62c99c2402-8888.us-ca-6.gpu-instance.novita.ai",
      webTerminalUrl: "wss://e70d0a62c99c2402-terminal.us-ca-6.gpu-instance.novita.ai/ws",
      instanceLogUrl: "wss://log.us-ca-6.gpu-instance.novita.ai/instances/e70d0a62c99c2402",
      systemLogUrl: "wss://log.us-ca-6.gpu-instance.novita.ai/instances/e70d0a62c99c2402/system",
      status: "pulling",
    });
    expect(live.resource_specs?.rootfs_size_gb).toBe(50);
  });

  it("reads the Get-endpoint example: string integers, a network volume without size", async () => {
    answers = { "GET /gpus/v2/endpoints/endpoint-id": [200, "get-endpoint.response.json"] };
    const live = await client.getEndpoint("endpoint-id");
    expect(live.worker_config).toMatchObject({ max_replicas: 2, min_replicas: 0, idle_timeout: 300, max_concurrent_per_worker: 10, request_timeout: 60 });
    expect(live.policy).toEqual({ type: "queue", value: 100 });
    expect(live.created_at).toBe(1785780950);
    const declared = {
      type: "sync",
      workerConfig: { maxReplicas: 2, idleTimeout: 300 },
      policy: { type: "queue", value: 100 },
      volumes: [{ id: "storage-id", type: "network", size: 123, mountPoint: "/data" }],
    };
    expect(endpointOutputs(declared, live, live.id)).toMatchObject({
      workerConfig: { maxReplicas: 2, idleTimeout: 300 },
      policy: { type: "queue", value: 100 },
      // the size the API leaves out is the declared one, so it never shows as drift
      volumes: [{ id: "storage-id", type: "network", size: 123, mountPoint: "/data" }],
      createdAt: "2026-08-03T18:15:50.000Z",
    });
  });

  it("reads the List-endpoints example, whose items have no type", async () => {
    answers = { "GET /gpus/v2/endpoints": [200, "list-endpoints.response.json"] };
    const [item] = await client.listEndpoints();
    expect(item).toMatchObject({ id: "o8UJWkag5WTn", worker_config: { idle_timeout: 300 }, volumes: [{ size: 30 }] });
    expect(item.type).toBeUndefined();
    expect(endpointOutputs({ type: "sync" }, item, item.id)).toMatchObject({ type: "sync", workers: { ready: 1, total: 1 } });
  });

  it("reads the products page: string integers, a missing spot price, unknown fields, and follows next_cursor", async () => {
    seen.length = 0;
    answers = { "GET /gpus/v2/products": [200, "list-products.response.json"] };
    const products = await client.listProducts({ type: "gpu", category: "instance", regionIds: ["cn-east-1", "cn-north-1"] });
    // the example always says has_more with the same cursor: the client stops at a cursor seen twice
    expect(products).toHaveLength(4);
    expect(seen.map((s) => s.url)).toEqual([
      "/gpus/v2/products?type=gpu&category=instance&region_ids=cn-east-1%2Ccn-north-1",
      "/gpus/v2/products?type=gpu&category=instance&region_ids=cn-east-1%2Ccn-north-1&cursor=eyJhZnRlciI6Mn0%3D",
    ]);
    const [p4090, h100] = toProducts(products.slice(0, 2));
    expect(p4090).toMatchObject({
      id: "4090.24g",
      gpu: "RTX 4090",
      gpuMemoryGb: 24,
      cpu: 16,
      memoryGb: 62,
      pricePerHour: 1.98,
      price: { value: 198000, baseValue: 220000, precision: 5, unit: "per_hour" },
      spotPricePerHour: 0.99,
      gpuNum: { min: 1, max: 8 },
      rootfsGb: { min: 10, max: 6144, free: 60 },
      inventoryState: "normal",
      available: true,
    });
    expect(h100).toMatchObject({ id: "h100.80g", pricePerHour: 15.8, spotPricePerHour: undefined, available: false, rootfsGb: undefined });
  });

  it("reads the regions page", async () => {
    answers = { "GET /gpus/v2/regions": [200, "list-regions.response.json"] };
    expect(await client.listRegions()).toMatchObject([
      { id: "cn-east-1", gpus: ["RTX 4090", "RTX 3090"], feature: { network_volume: true, instance_vpc_network: true } },
      { id: "cn-south-1", gpus: [] },
    ]);
  });

  it("never rejects a whole answer over one unreadable field", async () => {
    const odd = { ...example("get-instance.response.json"), created_at: "soon", ports: [{ port: "x" }, { port: "22", protocol: "tcp" }], tools: 7, extra: { new: true } };
    const parsed = apiInstanceSchema.parse(odd);
    expect(parsed).toMatchObject({ id: "e70d0a62c99c2402", created_at: undefined, tools: undefined, ports: [{ port: 22, protocol: "tcp" }] });
  });
});

describe("PPIO requests as sent", () => {
  it("sends start and stop as PUT with a {} JSON body", async () => {
    seen.length = 0;
    answers = {};
    await client.startInstance("i-1");
    await client.stopInstance("i-1");
    expect(seen.map((s) => [s.method, s.url, s.body, s.headers["content-type"]])).toEqual([
      ["PUT", "/gpus/v2/instances/i-1/start", "{}", "application/json"],
      ["PUT", "/gpus/v2/instances/i-1/stop", "{}", "application/json"],
    ]);
  });

  it("sends rootfs-expand with the increment, once even when the answer is lost", async () => {
    seen.length = 0;
    answers = { "PUT /gpus/v2/instances/i-1/rootfs-expand": [503, "error.response.json"] };
    const retrying = new PpioClient({ apiKey: "k", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retry: { maxAttempts: 3, baseDelayMs: 1 } });
    const err = await retrying.expandRootfs("i-1", 30).catch((e) => e);
    await retrying.close();
    expect(err.mayHaveSucceeded).toBe(true);
    expect(seen.map((s) => [s.method, s.url, JSON.parse(s.body)])).toEqual([
      ["PUT", "/gpus/v2/instances/i-1/rootfs-expand", { rootfs_size_expand_gb: 30 }],
    ]);
  });
});

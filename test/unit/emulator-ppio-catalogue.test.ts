// The emulated PPIO catalogue over HTTP: GET /gpus/v2/products and /gpus/v2/regions, stock,
// and creates refused for sold-out or unknown products.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { ppioCall } from "../support/fixtures";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ timings: { ppio: { provisionMs: 20, deleteMs: 20, endpointCreateMs: 20, endpointUpdateMs: 20 } } });
});
afterAll(async () => {
  await emu?.close();
});

const call = (method: string, path: string, body?: unknown) => ppioCall(emu, method, path, body);

const instance = (productId: string, gpuNum = 1) => ({
  name: `cat-${Math.random()}`,
  product_id: productId,
  image: "nginx",
  billing: { mode: "postpaid" },
  resource: { gpu_num: gpuNum, rootfs_size_gb: 20 },
});

describe("GET /gpus/v2/products", () => {
  it("requires type and category; an empty type is gpu", async () => {
    const missing = await call("GET", "/gpus/v2/products?type=gpu");
    expect(missing).toMatchObject({ status: 400, body: { code: 400, reason: "VALIDATOR_PARAM" } });
    expect(missing.body.message).toContain("category");
    expect((await call("GET", "/gpus/v2/products?category=instance")).status).toBe(400);
    const empty = await call("GET", "/gpus/v2/products?type=&category=instance");
    expect(empty.status).toBe(200);
    expect(empty.body.data.every((p: any) => p.type === "gpu")).toBe(true);
    expect((await call("GET", "/gpus/v2/products?type=tpu&category=instance")).status).toBe(400);
  });

  it("answers the documented item fields, 64-bit integers as strings", async () => {
    const { body } = await call("GET", "/gpus/v2/products?type=gpu&category=instance");
    const p = body.data.find((x: any) => x.id === "4090.24g");
    expect(p).toMatchObject({
      name: "RTX 4090 24GB",
      type: "gpu",
      category: "instance",
      region_ids: expect.arrayContaining(["cn-east-1"]),
      resource_spec: {
        gpu: { spec_id: expect.any(String), name: "RTX 4090", memory_gb: 24, min: 1, max: 8, available: expect.any(Number), max_available: expect.any(Number) },
        cpu: expect.any(Number),
        memory_gb: expect.stringMatching(/^\d+$/),
        rootfs: { min_gb: 10, max_gb: expect.stringMatching(/^\d+$/), free_gb: expect.any(Number) },
      },
      pricing: {
        precision: 4,
        postpaid: { base_price: "22000", final_price: "19800", unit: "per_hour" },
        spot: { final_price: "9900", unit: "per_hour" },
        prepaid: expect.arrayContaining([expect.objectContaining({ spec_id: expect.any(String), duration_months: 1, final_price: expect.stringMatching(/^\d+$/) })]),
        storage_price_per_gb: expect.stringMatching(/^\d+$/),
      },
      billing_methods: ["postpaid", "spot", "prepaid"],
      inventory_state: "high",
      deployable: true,
      activity: { is_activity_product: false, active: false, purchasable: true },
    });
  });

  it("filters by category, type, region_ids and billing_method", async () => {
    const ids = async (q: string) => (await call("GET", `/gpus/v2/products?${q}`)).body.data.map((p: any) => p.id);
    expect(await ids("type=gpu&category=serverless")).toEqual(["4090.24g.serverless", "l40s.48g.serverless", "h100.80g.serverless"]);
    expect(await ids("type=cpu&category=instance")).toEqual(["cpu.4c16g"]);
    expect(await ids("type=gpu&category=instance&region_ids=cn-east-1")).toEqual(["4090.24g", "3090.24g"]);
    expect(await ids("type=gpu&category=instance&region_ids=cn-east-1,cn-south-1")).toEqual(["4090.24g", "3090.24g", "l40s.48g", "h100.80g"]);
    expect(await ids("type=gpu&category=instance&billing_method=spot")).not.toContain("a100.80g");
  });

  it("pages with limit and cursor when asked", async () => {
    const first = await call("GET", "/gpus/v2/products?type=gpu&category=instance&limit=2");
    expect(first.body).toMatchObject({ has_more: true, data: [{ id: "4090.24g" }, { id: "3090.24g" }] });
    const next = await call("GET", `/gpus/v2/products?type=gpu&category=instance&limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(next.body.data.map((p: any) => p.id)).toEqual(["l40s.48g", "a100.80g"]);
  });
});

describe("GET /gpus/v2/regions", () => {
  it("lists regions with their GPUs and features", async () => {
    const { status, body } = await call("GET", "/gpus/v2/regions");
    expect(status).toBe(200);
    expect(body.data.map((r: any) => r.id)).toEqual(["cn-east-1", "cn-north-1", "cn-south-1"]);
    expect(body.data[0]).toEqual({
      id: "cn-east-1",
      name: expect.any(String),
      gpus: ["RTX 4090", "RTX 3090"],
      feature: { network_volume: true, instance_vpc_network: true },
    });
  });
});

describe("stock and unknown products", () => {
  it("refuses an instance of a sold-out product with INSUFFICIENT_RESOURCE and shows it in the listing", async () => {
    const before = emu.ppio.createdCount;
    emu.ppio.setStock("h100.80g", 0);
    const refused = await call("POST", "/gpus/v2/instances", instance("h100.80g"));
    expect(refused).toMatchObject({ status: 400, body: { reason: "INSUFFICIENT_RESOURCE" } });
    expect(emu.ppio.createdCount).toBe(before);
    const listed = (await call("GET", "/gpus/v2/products?type=gpu&category=instance")).body.data.find((p: any) => p.id === "h100.80g");
    expect(listed).toMatchObject({ inventory_state: "none", deployable: false, resource_spec: { gpu: { available: 0 } } });
  });

  it("takes GPUs from the stock and gives them back on delete", async () => {
    emu.ppio.setStock("a100.80g", 2);
    const made = await call("POST", "/gpus/v2/instances", instance("a100.80g", 2));
    expect(made.status).toBe(200);
    expect(emu.ppio.catalogue.stockOf("a100.80g")).toBe(0);
    expect((await call("POST", "/gpus/v2/instances", instance("a100.80g", 1))).body.reason).toBe("INSUFFICIENT_RESOURCE");
    await call("DELETE", `/gpus/v2/instances/${made.body.id}`);
    expect(emu.ppio.catalogue.stockOf("a100.80g")).toBe(2);
  });

  it("refuses unknown products: instances with VALIDATOR_PARAM (inferred), endpoints with SERVERLESS_PRODUCT_NOT_FOUND", async () => {
    const bad = await call("POST", "/gpus/v2/instances", instance("4090.24g.serverless"));
    expect(bad).toMatchObject({ status: 400, body: { reason: "VALIDATOR_PARAM" } });
    expect(bad.body.message).toContain("product_id");
    const endpoint = { type: "sync", name: "cat-ep", product_id: "4090.24g", image: "i", worker_config: { max_replicas: 1 } };
    expect((await call("POST", "/gpus/v2/endpoints", endpoint)).body.reason).toBe("SERVERLESS_PRODUCT_NOT_FOUND");
    const ok = await call("POST", "/gpus/v2/endpoints", { ...endpoint, product_id: "4090.24g.serverless" });
    expect(ok.status).toBe(200);
    for (let i = 0; i < 100 && emu.ppio.getEndpoint(ok.body.id)?.status.status !== "running"; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await call("PUT", `/gpus/v2/endpoints/${ok.body.id}`, { product_id: "nope" })).body.reason).toBe("SERVERLESS_PRODUCT_NOT_FOUND");
  });
});

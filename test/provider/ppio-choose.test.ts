/**
 * Choosing what to buy on PPIO, driven as the engine drives the runtime providers, against
 * the emulator's catalogue: fallbacks on sold-out products, the price cap, the bought shape
 * in outputs and diffs, adoption of existing objects, and unknown product ids.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CapacityError, CostGuardError, NotFoundError, ValidationError } from "../../src/core/errors";
import { identityOf } from "../../src/core/identity";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { PpioClient } from "../../src/ppio/client";
import { ppioEndpoint } from "../../src/ppio/endpoint";
import { ppioInstance } from "../../src/ppio/instance";
import { fakeConfig, PROVIDER_TEXT } from "../support/fixtures";

type Props = Record<string, unknown>;

let emu: Emulator;
let client: PpioClient;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  emu = await startEmulator();
  client = new PpioClient({ apiKey: emu.apiKey, baseUrl: emu.url });
  const config = fakeConfig({ "ppio:apiKey": emu.apiKey, "ppio:baseUrl": emu.url });
  ppioInstance.configure(config);
  ppioEndpoint.configure(config);
});
afterAll(async () => {
  await client.close();
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  for (const id of ["4090.24g", "3090.24g", "l40s.48g", "h100.80g"]) emu.ppio.setStock(id, 100);
});

const base = { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 } };
const endpointBase = { type: "sync", productId: "4090.24g.serverless", image: "vllm/vllm-openai:v0.6.0", workerConfig: { maxReplicas: 1 } };

const posts = () => emu.requests.filter((r) => r.route === "POST /gpus/v2/instances").length;
const productListings = () => emu.requests.filter((r) => r.route === "GET /gpus/v2/products").length;
const liveInstances = () => emu.ppio.instances().length;

async function check(news: Props, olds?: Props, provider: typeof ppioInstance | typeof ppioEndpoint = ppioInstance) {
  const checked = await provider.check(olds, { ...news, autonamePrefix: "choose", __provider: PROVIDER_TEXT });
  expect(checked.failures).toEqual([]);
  return checked.inputs;
}

async function up(news: Props) {
  const inputs = await check(news);
  return { inputs, ...(await ppioInstance.create(inputs)) };
}

describe("PpioInstance fallbacks", () => {
  it("buys the second fallback when the preferred product and the first fallback are sold out: one instance, chosenFallback 1", async () => {
    emu.ppio.setStock("4090.24g", 0);
    emu.ppio.setStock("3090.24g", 0);
    const before = liveInstances();
    const postsBefore = posts();
    const { id, outs, inputs } = await up({
      ...base,
      fallbacks: [{ productId: "3090.24g" }, { productId: "l40s.48g", resource: { gpuNum: 1, rootfsSizeGb: 40 } }],
    });
    expect(liveInstances()).toBe(before + 1);
    expect(posts() - postsBefore).toBe(3);
    expect(emu.ppio.get(id)).toMatchObject({ product_id: "l40s.48g", resource_specs: { rootfs_size_gb: 40 } });
    expect(outs).toMatchObject({
      chosenFallback: 1,
      chosenShape: { productId: "l40s.48g", resource: { gpuNum: 1, rootfsSizeGb: 40 } },
      productId: "4090.24g",
      status: "running",
    });

    // refresh, then the next `pulumi up` with the same program: no changes
    const read = await ppioInstance.read(id, { ...outs, __provider: PROVIDER_TEXT });
    expect(read.props).toMatchObject({ chosenFallback: 1, chosenShape: outs.chosenShape });
    const again = await check({ ...base, fallbacks: inputs.fallbacks }, inputs);
    expect(await ppioInstance.diff(id, read.props, again)).toEqual({ changes: false, replaces: [] });
    // declaring the shape that was bought is no change either
    const declared = await check({ ...base, productId: "l40s.48g", resource: { gpuNum: 1, rootfsSizeGb: 40 } }, inputs);
    expect(await ppioInstance.diff(id, read.props, declared)).toEqual({ changes: false, replaces: [] });

    // an in-place update keeps the record of what was bought
    const changed = await check({ ...base, fallbacks: inputs.fallbacks, envs: { A: "1" } }, inputs);
    expect(await ppioInstance.diff(id, read.props, changed)).toEqual({ changes: true, replaces: [] });
    const updated = await ppioInstance.update(id, read.props, changed);
    expect(updated.outs).toMatchObject({ chosenFallback: 1, chosenShape: outs.chosenShape, envs: { A: "1" } });
    await ppioInstance.delete(id, updated.outs);
  });

  it("says every candidate was refused when all are sold out, and buys nothing", async () => {
    emu.ppio.setStock("4090.24g", 0);
    emu.ppio.setStock("3090.24g", 0);
    const before = liveInstances();
    const inputs = await check({ ...base, fallbacks: [{ productId: "3090.24g" }] });
    const err = await ppioInstance.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect(err.message).toMatch(/preferred shape \(productId 4090\.24g × 1 GPU, postpaid\): no capacity/);
    expect(err.message).toMatch(/fallbacks\[0\] \(productId 3090\.24g × 1 GPU, postpaid\): no capacity/);
    expect(liveInstances()).toBe(before);
  });

  it("does not move on after a refusal that is not about capacity", async () => {
    emu.ppio.setStock("4090.24g", 0);
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", status: 400, body: { code: 400, reason: "BALANCE_NOT_ENOUGH", message: "no money" }, times: 1 });
    const before = posts();
    const err = await ppioInstance.create(await check({ ...base, fallbacks: [{ productId: "3090.24g" }] })).catch((e) => e);
    expect(err.code).toBe("BALANCE_NOT_ENOUGH");
    expect(posts() - before).toBe(1);
  });

  it("a change of fallbacks alone is no diff", async () => {
    const { id, outs, inputs } = await up({ ...base, fallbacks: [{ productId: "3090.24g" }] });
    expect(outs).toMatchObject({ chosenFallback: -1, chosenShape: { productId: "4090.24g", resource: base.resource } });
    const news = await check({ ...base, fallbacks: [{ productId: "h100.80g" }, { billing: { mode: "spot" } }], maxPricePerHour: 5 }, inputs);
    expect(await ppioInstance.diff(id, outs, news)).toEqual({ changes: false, replaces: [] });
    const without = await check(base, inputs);
    expect(await ppioInstance.diff(id, outs, without)).toEqual({ changes: false, replaces: [] });
    await ppioInstance.delete(id, outs);
  });

  it("adopts the instance a killed run bought with a fallback and says which fallback it was", async () => {
    emu.ppio.setStock("4090.24g", 0);
    const identity = identityOf({ organization: "o", project: "p", stack: "dev", type: "pulumi-nodejs:dynamic/ppio:Instance", name: "killed", parents: [] });
    const inputs = await check({ ...base, identity, fallbacks: [{ productId: "3090.24g" }, { productId: "l40s.48g" }] });
    expect(inputs.marker).toEqual(expect.any(String));
    // the killed run: it bought fallbacks[1] and died before recording it
    const body = {
      name: inputs.name,
      product_id: "l40s.48g",
      image: base.image,
      billing: { mode: "postpaid" },
      resource: { gpu_num: 1, rootfs_size_gb: 30 },
      envs: [{ key: "PULUMI_GPU_CLOUD_MARKER", value: inputs.marker }],
    };
    const made = await client.createInstance(body as never);
    const before = liveInstances();
    const postsBefore = posts();
    const { id, outs } = await ppioInstance.create(inputs);
    expect(id).toBe(made);
    expect(liveInstances()).toBe(before);
    expect(posts()).toBe(postsBefore);
    expect(outs).toMatchObject({ chosenFallback: 1, chosenShape: { productId: "l40s.48g" } });
    await ppioInstance.delete(id, outs);
  });
});

describe("PpioInstance maxPricePerHour", () => {
  it("buys nothing when the price is over the cap: no POST, no instance, price and cap named", async () => {
    const before = liveInstances();
    const postsBefore = posts();
    const inputs = await check({ ...base, resource: { gpuNum: 2, rootfsSizeGb: 30 }, maxPricePerHour: 3 });
    const err = await ppioInstance.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(CostGuardError);
    // 4090.24g costs 1.98 per GPU and hour in the emulator's catalogue: 2 GPUs are 3.96
    expect(err.message).toMatch(/3\.96\/h is above maxPricePerHour 3/);
    expect(posts()).toBe(postsBefore);
    expect(liveInstances()).toBe(before);
  });

  it("skips the candidates over the cap and buys the first within it, with one products listing", async () => {
    const listings = productListings();
    const { id, outs } = await up({
      ...base,
      productId: "h100.80g",
      maxPricePerHour: 1.5,
      fallbacks: [{ productId: "a100.80g" }, { productId: "3090.24g" }, { productId: "4090.24g", billing: { mode: "spot" } }],
    });
    expect(outs).toMatchObject({ chosenFallback: 1, chosenShape: { productId: "3090.24g" } });
    expect(emu.ppio.get(id)!.product_id).toBe("3090.24g");
    expect(productListings() - listings).toBe(1);
    await ppioInstance.delete(id, outs);
  });

  it("prices spot from the product's spot price", async () => {
    const { id, outs } = await up({ ...base, billing: { mode: "postpaid" }, maxPricePerHour: 1, fallbacks: [{ billing: { mode: "spot" } }] });
    // postpaid 1.98 is over 1; spot 0.99 is within it
    expect(outs).toMatchObject({ chosenFallback: 0, chosenShape: { billing: { mode: "spot" } } });
    expect(emu.ppio.get(id)!.billing.mode).toBe("spot");
    await ppioInstance.delete(id, outs);
  });

  it("never buys a prepaid term blind under a cap: its hourly price is unknown", async () => {
    const postsBefore = posts();
    const err = await ppioInstance.create(await check({ ...base, billing: { mode: "prepaid" }, maxPricePerHour: 100 })).catch((e) => e);
    expect(err).toBeInstanceOf(CostGuardError);
    expect(err.message).toMatch(/price unknown/);
    expect(posts()).toBe(postsBefore);
  });

  it("makes no products call on the happy path without a cap", async () => {
    const listings = productListings();
    const { id, outs } = await up(base);
    expect(productListings()).toBe(listings);
    await ppioInstance.delete(id, outs);
  });
});

describe("unknown product ids", () => {
  it("names productId and lists the nearest catalogue products when an instance create is refused", async () => {
    const before = liveInstances();
    const err = await ppioInstance.create(await check({ ...base, productId: "4090.42g" })).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/unknown productId "4090\.42g"; nearest: "4090\.24g" \(RTX 4090 24GB\)/);
    expect(err.message).toMatch(/getPpioProducts/);
    expect(liveInstances()).toBe(before);
  });

  it("names the fallback whose productId is unknown", async () => {
    emu.ppio.setStock("4090.24g", 0);
    const err = await ppioInstance.create(await check({ ...base, fallbacks: [{ productId: "3090.24" }] })).catch((e) => e);
    expect(err.message).toMatch(/unknown fallbacks\[0\]\.productId "3090\.24"; nearest: "3090\.24g"/);
  });

  it("keeps the cloud's error when the product exists, or when the catalogue cannot be read", async () => {
    emu.faults.add({ method: "POST", path: "/gpus/v2/instances", status: 400, body: { code: 400, reason: "VALIDATOR_PARAM", message: "image: bad" }, times: 1 });
    const exists = await ppioInstance.create(await check(base)).catch((e) => e);
    expect(exists.message).toMatch(/image: bad/);
    expect(exists.message).not.toMatch(/nearest/);
    emu.faults.add({ method: "GET", path: "/gpus/v2/products", status: 403, times: Infinity });
    const unread = await ppioInstance.create(await check({ ...base, productId: "nope" })).catch((e) => e);
    expect(unread.code).toBe("VALIDATOR_PARAM");
    expect(unread.message).toMatch(/product nope not found/);
  });

  it("names productId and lists the nearest serverless products when an endpoint create is refused", async () => {
    const before = emu.ppio.endpoints().length;
    const inputs = await check({ ...endpointBase, productId: "h100.80g" }, undefined, ppioEndpoint);
    const err = await ppioEndpoint.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.code).toBe("SERVERLESS_PRODUCT_NOT_FOUND");
    expect(err.message).toMatch(/unknown productId "h100\.80g"; nearest: "h100\.80g\.serverless"/);
    expect(emu.ppio.endpoints().length).toBe(before);
  });
});

describe("adoptId", () => {
  async function outside(over: Props = {}) {
    const id = await client.createInstance({
      name: "made-in-console",
      product_id: "4090.24g",
      image: "nginx:1.27",
      billing: { mode: "postpaid" },
      resource: { gpu_num: 1, rootfs_size_gb: 30 },
      ...over,
    } as never);
    for (let i = 0; i < 200 && emu.ppio.get(id)?.status.status !== "running"; i++) await new Promise((r) => setTimeout(r, 20));
    return id;
  }

  it("takes over an existing instance without buying, applies the in-place inputs, and manages it from then on", async () => {
    const existing = await outside();
    const before = liveInstances();
    const postsBefore = posts();
    const inputs = await check({ ...base, resource: { gpuNum: 1, rootfsSizeGb: 40 }, image: "nginx:1.28", envs: { MODE: "serve" }, adoptId: existing });
    const { id, outs } = await ppioInstance.create(inputs);
    expect(id).toBe(existing);
    expect(liveInstances()).toBe(before);
    expect(posts()).toBe(postsBefore);
    expect(emu.ppio.get(id)).toMatchObject({ image: "nginx:1.28", resource_specs: { rootfs_size_gb: 40 } });
    expect(emu.ppio.get(id)!.envs).toEqual(expect.arrayContaining([{ key: "MODE", value: "serve" }]));
    expect(outs).toMatchObject({ instanceId: id, name: "made-in-console", chosenFallback: -1, chosenShape: { productId: "4090.24g" }, status: "running" });

    // refresh and the same program: no changes; removing adoptId: no changes
    const read = await ppioInstance.read(id, { ...outs, __provider: PROVIDER_TEXT });
    expect(await ppioInstance.diff(id, read.props, await check({ ...base, resource: { gpuNum: 1, rootfsSizeGb: 40 }, image: "nginx:1.28", envs: { MODE: "serve" }, adoptId: existing }, inputs))).toEqual({ changes: false, replaces: [] });
    const dropped = await check({ ...base, resource: { gpuNum: 1, rootfsSizeGb: 40 }, image: "nginx:1.28", envs: { MODE: "serve" } }, inputs);
    expect(await ppioInstance.diff(id, read.props, dropped)).toEqual({ changes: false, replaces: [] });

    await ppioInstance.delete(id, read.props);
    expect(emu.ppio.get(id)).toBeUndefined();
  });

  it("refuses an instance whose replace-only inputs differ, naming each field, and changes nothing", async () => {
    const existing = await outside({ resource: { gpu_num: 2, rootfs_size_gb: 50 } });
    const before = liveInstances();
    const requests = emu.requests.length;
    const inputs = await check({ ...base, productId: "3090.24g", billing: { mode: "spot" }, adoptId: existing });
    const err = await ppioInstance.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/cannot adopt instance/);
    expect(err.message).toMatch(/productId: declared "3090\.24g", the instance has "4090\.24g"/);
    expect(err.message).toMatch(/billing: declared \{"mode":"spot"\}/);
    expect(err.message).toMatch(/resource: declared/);
    expect(liveInstances()).toBe(before);
    // one GET of the instance, nothing else
    expect(emu.requests.slice(requests).map((r) => r.route)).toEqual(["GET /gpus/v2/instances/{id}"]);
    expect(emu.ppio.get(existing)).toMatchObject({ image: "nginx:1.27" });
  });

  it("says an unknown adoptId does not exist, and buys nothing", async () => {
    const postsBefore = posts();
    const err = await ppioInstance.create(await check({ ...base, adoptId: "0000000000000000" })).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/adoptId: no instance 0000000000000000 exists/);
    expect(posts()).toBe(postsBefore);
  });

  it("adopts an endpoint: no create, the spec applied by the update's PUT; a type mismatch or an unknown id is refused", async () => {
    const existing = await client.createEndpoint({ type: "sync", name: "console-ep", product_id: "4090.24g.serverless", image: "old:1", worker_config: { max_replicas: 1 } });
    for (let i = 0; i < 200 && emu.ppio.getEndpoint(existing)?.status.status !== "running"; i++) await new Promise((r) => setTimeout(r, 20));
    const created = emu.ppio.endpointCreatedCount;
    const mismatch = await ppioEndpoint.create(await check({ ...endpointBase, type: "async", adoptId: existing }, undefined, ppioEndpoint)).catch((e) => e);
    expect(mismatch.message).toMatch(/type: declared "async", the endpoint has "sync"/);
    expect(emu.ppio.endpointUpdates(existing)).toHaveLength(0);

    const inputs = await check({ ...endpointBase, adoptId: existing }, undefined, ppioEndpoint);
    const { id, outs } = await ppioEndpoint.create(inputs);
    expect(id).toBe(existing);
    expect(emu.ppio.endpointCreatedCount).toBe(created);
    expect(emu.ppio.getEndpoint(id)).toMatchObject({ image: endpointBase.image });
    expect(outs).toMatchObject({ endpointId: id, status: "running", adoptId: existing });
    const dropped = await check(endpointBase, inputs, ppioEndpoint);
    expect(await ppioEndpoint.diff(id, outs, dropped)).toEqual({ changes: false, replaces: [] });

    const unknown = await ppioEndpoint.create(await check({ ...endpointBase, adoptId: "nope" }, undefined, ppioEndpoint)).catch((e) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(emu.ppio.endpointCreatedCount).toBe(created);
    await ppioEndpoint.delete(id, outs);
  });
});

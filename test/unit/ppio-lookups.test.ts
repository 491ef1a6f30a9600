// getPpioProducts / getPpioRegions against the emulator's catalogue, with credentials from
// the environment as the providers read them; and that a look-up leaves no connection that
// keeps a program alive (run against dist/: `npm run build` first).
import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CredentialsError } from "../../src/core/errors";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { getPpioProducts, getPpioProductsOutput, getPpioRegions, getPpioRegionsOutput } from "../../src/ppio/lookups";

let emu: Emulator;
const saved = { key: process.env.PPIO_API_KEY, url: process.env.PPIO_BASE_URL };

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
  process.env.PPIO_API_KEY = saved.key;
  process.env.PPIO_BASE_URL = saved.url;
  if (saved.key === undefined) delete process.env.PPIO_API_KEY;
  if (saved.url === undefined) delete process.env.PPIO_BASE_URL;
});
afterEach(() => {
  process.env.PPIO_API_KEY = emu.apiKey;
  process.env.PPIO_BASE_URL = emu.url;
  emu.ppio.setStock("3090.24g", 512);
});

const ids = (r: { products: { id: string }[] }) => r.products.map((p) => p.id);

describe("getPpioProducts", () => {
  it("reads a product with its price as a number, the raw price, bounds and availability", async () => {
    process.env.PPIO_API_KEY = emu.apiKey;
    process.env.PPIO_BASE_URL = emu.url;
    const answer = await getPpioProducts({ category: "instance" });
    expect(answer.category).toBe("instance");
    const products = answer.products;
    const p = products.find((x) => x.id === "4090.24g");
    expect(p).toEqual({
      id: "4090.24g",
      name: "RTX 4090 24GB",
      type: "gpu",
      category: "instance",
      gpu: "RTX 4090",
      gpuMemoryGb: 24,
      cpu: 8,
      // sent as the string "64"
      memoryGb: 64,
      pricePerHour: 1.98,
      price: { value: 19800, baseValue: 22000, precision: 4, unit: "per_hour" },
      spotPricePerHour: 0.99,
      spotPrice: { value: 9900, baseValue: 11000, precision: 4, unit: "per_hour" },
      regionIds: ["cn-east-1", "cn-north-1"],
      billingMethods: ["postpaid", "spot", "prepaid"],
      gpuNum: { min: 1, max: 8 },
      rootfsGb: { min: 10, max: 6144, free: 60 },
      inventoryState: "high",
      available: true,
    });
    // a cpu product is listed too, without a GPU
    expect(products.find((x) => x.id === "cpu.4c16g")).toMatchObject({ type: "cpu", gpu: undefined, pricePerHour: 0.3 });
    expect(products.every((x) => x.category === "instance")).toBe(true);
  });

  it("filters by category, GPU model, region and availability", async () => {
    expect(ids(await getPpioProducts({ category: "serverless" }))).toEqual(["4090.24g.serverless", "l40s.48g.serverless", "h100.80g.serverless"]);
    expect(ids(await getPpioProducts({ gpu: "h100" }))).toEqual(["h100.80g", "h100.80g.serverless"]);
    expect(ids(await getPpioProducts({ category: "instance", gpu: "RTX" }))).toEqual(["4090.24g", "3090.24g"]);
    const before = emu.requests.length;
    expect(ids(await getPpioProducts({ category: "instance", regionId: "cn-east-1" }))).toEqual(["4090.24g", "3090.24g", "cpu.4c16g"]);
    expect(emu.requests.slice(before).map((r) => r.path)).toEqual(["/gpus/v2/products", "/gpus/v2/products"]);
    emu.ppio.setStock("3090.24g", 0);
    const all = await getPpioProducts({ category: "instance", gpu: "3090" });
    expect(all.products).toMatchObject([{ id: "3090.24g", available: false, inventoryState: "none" }]);
    expect((await getPpioProducts({ category: "instance", gpu: "3090", availableOnly: true })).products).toEqual([]);
  });

  it("lists both categories and both types when asked nothing", async () => {
    const all = ids(await getPpioProducts());
    expect(all).toEqual(expect.arrayContaining(["4090.24g", "cpu.4c16g", "h100.80g.serverless"]));
  });

  it("is an Output with getPpioProductsOutput", async () => {
    const out = getPpioProductsOutput({ category: "serverless", gpu: "L40S" });
    const got = await new Promise((resolve) => out.apply(resolve));
    expect(ids(got as { products: { id: string }[] })).toEqual(["l40s.48g.serverless"]);
    const regions = (await new Promise((resolve) => getPpioRegionsOutput().apply(resolve))) as { regions: { id: string }[] };
    expect(regions.regions.map((r) => r.id)).toEqual(["cn-east-1", "cn-north-1", "cn-south-1"]);
  });

  it("names the config key and the environment variable when no key is set", async () => {
    delete process.env.PPIO_API_KEY;
    const err = await getPpioProducts().catch((e) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect(err.message).toMatch(/ppio:apiKey.*PPIO_API_KEY/);
  });
});

describe("getPpioRegions", () => {
  it("lists regions with their GPU models and features", async () => {
    const { regions } = await getPpioRegions();
    expect(regions.map((r) => r.id)).toEqual(["cn-east-1", "cn-north-1", "cn-south-1"]);
    expect(regions[1]).toEqual({
      id: "cn-north-1",
      name: "North China 1 (Beijing)",
      gpus: expect.arrayContaining(["RTX 4090", "L40S", "A100 SXM", "H100 SXM"]),
      networkVolume: true,
      instanceVpcNetwork: false,
    });
  });
});

describe("a look-up in a program", () => {
  it("leaves nothing that keeps the process alive", async () => {
    const script = `
      const gpu = require("./dist/index.js");
      Promise.all([gpu.getPpioProducts({ category: "instance" }), gpu.getPpioRegions()])
        .then(([p, r]) => setImmediate(() => {
          // what could hold the event loop once the answers are in: an open socket would
          const open = process.getActiveResourcesInfo().filter((k) => /TCP|Socket|Pipe/.test(k) && k !== "PipeWrap");
          console.log(p.products.length + " " + r.regions.length + " open:" + open.join(","));
        }));`;
    const child = spawn(process.execPath, ["-e", script], {
      cwd: process.cwd(),
      env: { ...process.env, PPIO_API_KEY: emu.apiKey, PPIO_BASE_URL: emu.url },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    // A keep-alive socket would hold the child until the test's own timeout fails it.
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(out.trim()).toBe("6 3 open:");
    expect(code).toBe(0);
  }, 30_000);
});

/**
 * Invariant 1: what Pulumi writes into the state as `__provider` is small, holds no
 * credential, and round-trips into a working provider. The text is taken from the
 * registration Pulumi's SDK makes for a declared resource, as the engine receives it.
 */
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";

const require = createRequire(`${process.cwd()}/package.json`);
const SECRET_KEY = "ppio-secret-key-for-serialization-test";

interface Captured {
  type: string;
  inputs: Record<string, unknown>;
}
const captured: Captured[] = [];

beforeAll(async () => {
  process.env.PPIO_API_KEY = SECRET_KEY;
  process.env.COMPSHARE_PRIVATE_KEY = SECRET_KEY;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        captured.push({ type: args.type, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    "project",
    "stack",
    false,
  );
});

/** Declares two resources under mocks and returns the `__provider` texts Pulumi registered for them. */
async function serializedProviders(declare: (name: string) => pulumi.CustomResource, type: string): Promise<string[]> {
  const rs = [declare("ser-a"), declare("ser-b")];
  await Promise.all(rs.map((r) => new Promise<void>((resolve) => r.urn.apply(() => resolve()))));
  const hits = captured.filter((c) => c.type === type);
  expect(hits, `no resource of type ${type} was registered`).toHaveLength(2);
  return hits.map((h) => h.inputs.__provider as string);
}

/** [class name, declare one, runtime export, inputs that check must refuse] */
const resources: [string, () => Promise<(name: string) => pulumi.CustomResource>, string, Record<string, unknown>][] = [
  [
    "PpioInstance",
    async () => {
      const { PpioInstance } = await import("../../src/index");
      return (name) => new PpioInstance(name, { productId: "p", image: "i", resource: { gpuNum: 1, rootfsSizeGb: 20 } });
    },
    "ppioInstance",
    { productId: "", image: "i", resource: { gpuNum: 1, rootfsSizeGb: 20 } },
  ],
  [
    "PpioEndpoint",
    async () => {
      const { PpioEndpoint } = await import("../../src/index");
      return (name) => new PpioEndpoint(name, { type: "sync", productId: "p", image: "i", workerConfig: { maxReplicas: 1 } });
    },
    "ppioEndpoint",
    { type: "sync", productId: "p", image: "i", workerConfig: { maxReplicas: 1001 } },
  ],
  [
    "CompShareInstance",
    async () => {
      const { CompShareInstance } = await import("../../src/index");
      return (name) =>
        new CompShareInstance(name, {
          region: "cn-wlcb",
          zone: "cn-wlcb-01",
          gpuType: "4090",
          gpu: 1,
          cpu: 16,
          memory: 65536,
          compShareImageId: "compshareImage-165jmhx19ik7",
          disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
        });
    },
    "compShareInstance",
    {
      region: "cn-wlcb",
      zone: "cn-wlcb-01",
      gpuType: "A800",
      gpu: 1,
      cpu: 16,
      memory: 65536,
      compShareImageId: "compshareImage-165jmhx19ik7",
      disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
      chargeType: "Spot",
    },
  ],
];

describe.each(resources)("%s provider serialization", (name, make, exportName, bad) => {
  let text: string;
  let texts: string[];
  beforeAll(async () => {
    const module = name === "CompShareInstance" ? "compshare" : "ppio";
    texts = await serializedProviders(await make(), `pulumi-nodejs:dynamic/${module}:${name.replace(/^(Ppio|CompShare)/, "")}`);
    text = texts[0];
  });

  it("is under 2 KB", () => {
    expect(typeof text).toBe("string");
    expect(Buffer.byteLength(text)).toBeLessThan(2048);
  });

  it("holds no credential and no environment value", () => {
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toMatch(/apiKey|privateKey|PPIO_API_KEY|process\.env\[/);
  });

  it("is the same text for every resource of the kind", () => {
    expect(texts[1]).toBe(texts[0]);
  });

  it("loads the runtime by package name and nothing else", () => {
    const requires = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(requires).toEqual(["pulumi-gpu-cloud/runtime"]);
  });

  it("round-trips into a provider that delegates to the runtime", async () => {
    // What Pulumi's provider host does with the text.
    const requireFromString = require("require-from-string");
    const provider = requireFromString(text).handler();
    for (const m of ["configure", "check", "diff", "create", "read", "update", "delete"]) {
      expect(typeof provider[m]).toBe("function");
    }
    const runtime = require("pulumi-gpu-cloud/runtime");
    expect(typeof runtime[exportName].check).toBe("function");
    await provider.configure({ config: { get: () => undefined, require: () => "" } });
    const checked = await provider.check(undefined, bad);
    expect(checked.failures.length).toBeGreaterThan(0);
  });
});

/**
 * `pulumi-gpu-cloud/runtime` loads what a call needs when it needs it: checked in a fresh
 * Node process against the built package (dist/), by which modules are in require.cache.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dist = join(__dirname, "..", "..", "dist");

/** Runs `steps` (JS using `rt`, the runtime) in a fresh Node and returns the loaded files under dist/ and undici. */
function loadedAfter(steps: string): { ours: string[]; undici: string[] } {
  const code = `
    process.env.PPIO_API_KEY = "k"; process.env.COMPSHARE_PUBLIC_KEY = "p"; process.env.COMPSHARE_PRIVATE_KEY = "s";
    const rt = require(${JSON.stringify(join(dist, "runtime.js"))});
    (async () => {
      ${steps}
      const files = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        ours: files.filter((f) => f.startsWith(${JSON.stringify(dist)})).map((f) => f.slice(${dist.length + 1})).sort(),
        undici: files.filter((f) => f.includes("/node_modules/undici/")),
      }));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ["-e", code], { encoding: "utf8" }));
}

describe("loading the runtime", () => {
  it("loads no provider until one is asked for", () => {
    const { ours, undici } = loadedAfter("");
    // the poller (whose progress lines go through core/provider) and the engine watch are
    // all that loads before a call: no provider, no cloud, no HTTP stack
    expect(ours).toEqual(["core/engine.js", "core/errors.js", "core/provider.js", "core/wait.js", "runtime.js"]);
    expect(undici).toEqual([]);
  });

  it("loads only the cloud whose provider is asked for, and no HTTP stack for a check", () => {
    const { ours, undici } = loadedAfter(`
      const p = rt.compShareInstance;
      await p.check(undefined, { region: "cn-wlcb", zone: "cn-wlcb-01", gpuType: "4090", gpu: 1, cpu: 16, memory: 65536,
        compShareImageId: "compshareImage-165jmhx19ik7", autonamePrefix: "x" });`);
    expect(ours.some((f) => f.startsWith("compshare/"))).toBe(true);
    expect(ours.filter((f) => f.startsWith("ppio/"))).toEqual([]);
    expect(undici).toEqual([]);
  });

  it("loads undici's agent and request API, not its index module, once a call needs the network", () => {
    const { undici } = loadedAfter(`require(${JSON.stringify(join(dist, "ppio", "context.js"))}).ppioSession();`);
    expect(undici.some((f) => f.endsWith("/undici/lib/dispatcher/agent.js"))).toBe(true);
    expect(undici.some((f) => f.endsWith("/undici/index.js"))).toBe(false);
    expect(undici.some((f) => f.includes("/undici/lib/mock/"))).toBe(false);
  });
});

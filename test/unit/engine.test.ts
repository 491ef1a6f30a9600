/** The provider's check that its Pulumi engine is still there (it outlives a killed CLI otherwise). */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { engineAddress, engineAlive } from "../../src/core/engine";

describe("engineAddress", () => {
  it("is the argument Pulumi starts its dynamic-provider host with, and nothing elsewhere", () => {
    expect(engineAddress(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "127.0.0.1:36641"])).toEqual({ host: "127.0.0.1", port: 36641 });
    expect(engineAddress(["node", "/x/vitest.mjs", "127.0.0.1:36641"])).toBeUndefined();
    expect(engineAddress(["node", "/p/cmd/dynamic-provider/index.js"])).toBeUndefined();
  });
});

describe("engineAlive", () => {
  it("is true while the port accepts connections and false once it refuses them", async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    expect(await engineAlive({ host: "127.0.0.1", port })).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await engineAlive({ host: "127.0.0.1", port })).toBe(false);
  });
  it("is true outside a provider host (nothing to watch)", async () => {
    expect(await engineAlive(undefined)).toBe(true);
  });
});

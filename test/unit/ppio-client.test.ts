import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  CapacityError,
  ConflictError,
  NotFoundError,
  QuotaError,
  RateLimitError,
  ServerError,
  ValidationError,
} from "../../src/core/errors";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { PpioClient } from "../../src/ppio/client";

let emu: Emulator;
let client: PpioClient;
beforeAll(async () => {
  emu = await startEmulator();
  client = new PpioClient({ apiKey: emu.apiKey, baseUrl: emu.url, retry: { maxAttempts: 2, baseDelayMs: 5 } });
});
afterAll(async () => {
  await client.close();
  await emu.close();
});

const body = (name: string) => ({
  name,
  product_id: "4090.24g",
  image: "nginx",
  billing: { mode: "postpaid" },
  resource: { gpu_num: 1, rootfs_size_gb: 20 },
});

describe("PpioClient", () => {
  it("creates, gets and deletes", async () => {
    const id = await client.createInstance(body("client-a"));
    const got = await client.getInstance(id);
    expect(got).toMatchObject({ id, name: "client-a", status: { status: expect.any(String) } });
    await client.deleteInstance(id);
  });

  it("sends each instance action to its route", async () => {
    const id = await client.createInstance(body("client-actions"));
    const settle = async (status: string) => {
      for (let i = 0; i < 100 && (await client.getInstance(id)).status.status !== status; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await client.getInstance(id)).status.status).toBe(status);
    };
    await settle("running");
    await client.restartInstance(id);
    await settle("running");
    await client.stopInstance(id);
    await settle("exited");
    await client.startInstance(id);
    await settle("running");
    await client.upgradeInstance(id, { image: "nginx:2", envs: [{ key: "A", value: "1" }] });
    await settle("running");
    await client.replacePorts(id, [{ port: 8080, protocol: "http" }]);
    const after = await client.getInstance(id);
    expect(after.image).toBe("nginx:2");
    expect(after.ports?.map((p) => p.port)).toEqual([8080]);
    const routes = emu.requests.filter((r) => r.method === "PUT").map((r) => r.route);
    for (const action of ["restart", "stop", "start", "upgrade", "ports"]) {
      expect(routes).toContain(`PUT /gpus/v2/instances/{id}/${action}`);
    }
    await client.deleteInstance(id);
  });

  it("follows next_cursor to the end of a list", async () => {
    const ids = [];
    for (let i = 0; i < 23; i++) ids.push(await client.createInstance(body(`paged-${i}`)));
    const all = await client.listInstances({ name: "paged-", pageSize: 5 });
    expect(all.map((i) => i.id).sort()).toEqual([...ids].sort());
    expect(emu.requests.filter((r) => r.route === "GET /gpus/v2/instances").length).toBeGreaterThanOrEqual(5);
  });

  it("maps API reasons onto typed errors", async () => {
    const cases: [number, string, new (...a: never[]) => Error][] = [
      [400, "RESOURCE_NOT_FOUND", NotFoundError],
      [400, "VALIDATOR_PARAM", ValidationError],
      [400, "INSUFFICIENT_RESOURCE", CapacityError],
      [400, "BALANCE_NOT_ENOUGH", QuotaError],
      [403, "NOT_ENOUGH_BALANCE", QuotaError],
      [400, "CREATE_INSTANCE_LIMIT", QuotaError],
      [400, "OPERATION_LIMIT", ConflictError],
      [400, "IMAGE_NOT_FOUND", ValidationError],
      [429, "RATE_LIMIT_EXCEEDED", RateLimitError],
      [500, "UNKNOWN", ServerError],
      [401, "UNAUTHORIZED", AuthenticationError],
    ];
    for (const [status, reason, cls] of cases) {
      emu.faults.add({ method: "GET", path: "/gpus/v2/instances/zzz", status, body: { code: status, reason, message: "m" }, times: 2 });
      const err = await client.getInstance("zzz").catch((e) => e);
      emu.faults.clear();
      expect(err, `${status} ${reason}`).toBeInstanceOf(cls);
      expect(err.code).toBe(reason);
      expect(err.status).toBe(status);
      expect(err.requestId).toBeTruthy();
    }
  });

  it("does not take a gateway 404 (wrong base URL) for a deleted object", async () => {
    const wrong = new PpioClient({ apiKey: emu.apiKey, baseUrl: `${emu.url}/nope` });
    const err = await wrong.getInstance("abc").catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/ppio:baseUrl/);
    await wrong.close();
  });

  it("reports an unexpected response shape as a server error", async () => {
    const server = createServer((_q, res) => res.end(JSON.stringify({ data: "not-a-list" })));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const odd = new PpioClient({ apiKey: "k".repeat(10), baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retry: { maxAttempts: 1 } });
    await expect(odd.getInstance("x")).rejects.toBeInstanceOf(ServerError);
    await odd.close();
    server.close();
  });

  it("never puts the key in an error", async () => {
    const key = "sk_live_abcdefghijklmnop";
    const bad = new PpioClient({ apiKey: key, baseUrl: emu.url });
    const err = await bad.getInstance("x").catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(`${err.message} ${err.stack}`).not.toContain(key);
    await bad.close();
  });
});

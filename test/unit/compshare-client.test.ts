/**
 * CompShareClient against the emulator (and a capturing server): the signed form on the
 * wire, every RetCode class, HTTP status retries, paging, and no key in any error.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CompShareClient } from "../../src/compshare/client";
import { sign } from "../../src/compshare/signature";
import {
  AuthenticationError,
  CapacityError,
  ConflictError,
  GpuCloudError,
  PermissionError,
  QuotaError,
  RateLimitError,
  ServerError,
  ValidationError,
} from "../../src/core/errors";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { COMPSHARE_CREATE_PARAMS } from "../support/fixtures";

let emu: Emulator;
let client: CompShareClient;

beforeAll(async () => {
  emu = await startEmulator();
  client = new CompShareClient({
    publicKey: emu.compsharePublicKey,
    privateKey: emu.compsharePrivateKey,
    baseUrl: emu.url,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  });
});
afterAll(async () => {
  await client.close();
  await emu.close();
});
afterEach(() => emu.faults.clear());

const where = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const createParams = (name: string) => ({ ...COMPSHARE_CREATE_PARAMS, ...where, Name: name });

const actionCount = (action: string) => emu.requests.filter((r) => r.action === action).length;

/** A local server that records what arrives and answers with `reply`. */
async function capture(reply: (req: IncomingMessage, body: string) => { status?: number; body: unknown; headers?: Record<string, string> }) {
  const seen: { headers: IncomingMessage["headers"]; body: string; url: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ headers: req.headers, body, url: req.url ?? "" });
      const r = reply(req, body);
      res.writeHead(r.status ?? 200, { "content-type": "application/json", ...r.headers });
      res.end(typeof r.body === "string" ? r.body : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("the request on the wire", () => {
  it("is one form POST to / whose fields are exactly the signed ones", async () => {
    const srv = await capture(() => ({ body: { Action: "CreateCompShareInstanceResponse", RetCode: 0, UHostIds: ["uhost-abc"] } }));
    const c = new CompShareClient({ publicKey: "pub", privateKey: "priv-key", projectId: "org-cwy2qk", baseUrl: srv.url });
    try {
      expect(await c.createInstance({ ...createParams("训练 1"), EnableUS3: true })).toEqual(["uhost-abc"]);
      const [got] = srv.seen;
      expect(got.url).toBe("/");
      expect(got.headers["content-type"]).toBe("application/x-www-form-urlencoded");
      const fields = Object.fromEntries(new URLSearchParams(got.body));
      const { Signature, ...signed } = fields;
      expect(Signature).toBe(sign(signed, "priv-key"));
      expect(signed).toMatchObject({
        Action: "CreateCompShareInstance",
        PublicKey: "pub",
        ProjectId: "org-cwy2qk",
        GPU: "1",
        Memory: "65536",
        Name: "训练 1",
        EnableUS3: "true",
        "Disks.0.IsBoot": "true",
        "Disks.0.Size": "200",
      });
      expect(got.body).not.toContain("priv-key");
    } finally {
      await c.close();
      await srv.close();
    }
  });

  it("leaves ProjectId out when none is configured", async () => {
    const { fields } = client.signedRequest("DescribeCompShareInstance", { Region: "cn-wlcb" });
    expect(fields).not.toHaveProperty("ProjectId");
  });

  it("is accepted by the emulator's independent signature check", async () => {
    const ids = await client.createInstance(createParams("wire-ok"));
    expect(ids[0]).toMatch(/^uhost-/);
    const found = await client.findInstance(ids[0], "cn-wlcb");
    expect(found).toMatchObject({ UHostId: ids[0], Name: "wire-ok", GPU: 1, Memory: 65536 });
    emu.compshare.deleteBehindBack(ids[0]);
    expect(await client.findInstance(ids[0], "cn-wlcb")).toBeNull();
  });
});

describe("RetCode classes", () => {
  const cases: [number, new (...a: never[]) => Error][] = [
    [170, AuthenticationError],
    [171, AuthenticationError],
    [172, AuthenticationError],
    [174, AuthenticationError],
    [230, ValidationError],
    [161, ValidationError],
    [292, PermissionError],
    [8357, CapacityError],
    [226604, CapacityError],
    [8095, QuotaError],
    [8429, QuotaError],
    [226601, QuotaError],
    [226602, QuotaError],
    [8903, ConflictError],
  ];
  it.each(cases)("RetCode %i → %o, with code, action and request id", async (code, cls) => {
    emu.faults.add({ cloud: "compshare", action: "StopCompShareInstance", retCode: code, message: `msg ${code}` });
    const err = await client.stopInstance({ ...where, UHostId: "uhost-x" }).catch((e) => e);
    expect(err).toBeInstanceOf(cls);
    expect(err.code).toBe(String(code));
    expect(err.apiMessage).toBe(`msg ${code}`);
    expect(err.message).toContain("StopCompShareInstance");
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.mayHaveSucceeded).toBe(false);
  });

  it("an unknown RetCode is a plain GpuCloudError, not retried", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 99999, times: 5 });
    const before = actionCount("DescribeCompShareInstance");
    const err = await client.describeInstances({ Region: "cn-wlcb" }).catch((e) => e);
    expect(err.constructor).toBe(GpuCloudError);
    expect(err.code).toBe("99999");
    expect(actionCount("DescribeCompShareInstance") - before).toBe(1);
  });

  it("accepts RetCode as a numeric string", async () => {
    emu.faults.add({
      cloud: "compshare",
      action: "CreateCompShareInstance",
      retCode: 8357,
      body: { Action: "CreateCompShareInstanceResponse", RetCode: "8357", Message: "sold out" },
    });
    const err = await client.createInstance(createParams("s")).catch((e) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect(err.code).toBe("8357");
    emu.faults.add({
      cloud: "compshare",
      action: "DescribeCompShareInstance",
      retCode: 0,
      body: { Action: "DescribeCompShareInstanceResponse", RetCode: "0", TotalCount: "0", UHostSet: [] },
    });
    expect(await client.describeInstances({ Region: "cn-wlcb" })).toEqual({ totalCount: 0, instances: [] });
  });

  it("153 is retried, even for a mutating action (it was not executed)", async () => {
    emu.faults.add({ cloud: "compshare", action: "StopCompShareInstance", retCode: 153 });
    const before = actionCount("StopCompShareInstance");
    const err = await client.stopInstance({ ...where, UHostId: "uhost-nope" }).catch((e) => e);
    // the second attempt reached the model, which does not know the id
    expect(err).toBeInstanceOf(ValidationError);
    expect(actionCount("StopCompShareInstance") - before).toBe(2);
  });

  it("153 that never ends surfaces as RateLimitError after the attempts", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 153, times: 10 });
    const err = await client.describeInstances({ Region: "cn-wlcb" }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
  });

  it("150 is retried for reads; for a mutating action it surfaces with mayHaveSucceeded", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 150 });
    await expect(client.describeInstances({ Region: "cn-wlcb" })).resolves.toMatchObject({ instances: expect.any(Array) });

    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", retCode: 150 });
    const before = emu.compshare.createdCount;
    const sent = actionCount("CreateCompShareInstance");
    const err = await client.createInstance(createParams("x")).catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.mayHaveSucceeded).toBe(true);
    expect(actionCount("CreateCompShareInstance") - sent).toBe(1);
    expect(emu.compshare.createdCount).toBe(before);
  });

  it("a 200 without an envelope is a server error", async () => {
    const srv = await capture(() => ({ body: "<html>gateway</html>" }));
    const c = new CompShareClient({ publicKey: "pub", privateKey: "priv", baseUrl: srv.url, retry: { maxAttempts: 1 } });
    await expect(c.describeInstances()).rejects.toBeInstanceOf(ServerError);
    await c.close();
    await srv.close();
  });
});

describe("HTTP status", () => {
  it.each([502, 503, 504])("%i is retried for a read action", async (status) => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", status });
    const before = actionCount("DescribeCompShareInstance");
    await client.describeInstances({ Region: "cn-wlcb" });
    expect(actionCount("DescribeCompShareInstance") - before).toBe(2);
  });

  it("503 on a mutating action is not sent again", async () => {
    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", status: 503 });
    const before = actionCount("CreateCompShareInstance");
    const err = await client.createInstance(createParams("y")).catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.status).toBe(503);
    expect(err.mayHaveSucceeded).toBe(true);
    expect(actionCount("CreateCompShareInstance") - before).toBe(1);
  });

  it("429 is retried for any action, honouring Retry-After", async () => {
    emu.faults.add({ cloud: "compshare", action: "ModifyCompShareInstanceName", status: 429, retryAfter: 0 });
    const before = actionCount("ModifyCompShareInstanceName");
    const err = await client.modifyInstanceName({ ...where, UHostId: "uhost-nope", Name: "n" }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(actionCount("ModifyCompShareInstanceName") - before).toBe(2);
  });

  it("call() lets the caller override idempotency", async () => {
    emu.faults.add({ cloud: "compshare", action: "RebootCompShareInstance", status: 503 });
    const before = actionCount("RebootCompShareInstance");
    await client.call("RebootCompShareInstance", { ...where, UHostId: "uhost-nope" }, { idempotent: true }).catch(() => undefined);
    expect(actionCount("RebootCompShareInstance") - before).toBe(2);
  });
});

describe("paging and batching", () => {
  it("describes 250 ids in three calls of at most 100", async () => {
    emu.compshare.setQuota(1000);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 105; i++) ids.push(...(await client.createInstance(createParams(`page-${i}`))));
      const unknown = Array.from({ length: 145 }, (_, i) => `uhost-${String(i).padStart(12, "0")}`);
      const before = emu.compshare.describeCalls.length;
      const found = await client.describeByIds([...ids, ...unknown], { Region: "cn-wlcb" });
      expect(found.map((h) => h.UHostId).sort()).toEqual([...ids].sort());
      expect(emu.compshare.describeCalls.slice(before).map((c) => c.length).sort()).toEqual([100, 100, 50]);

      const pagesBefore = actionCount("DescribeCompShareInstance");
      const all = await client.describeAll({ Region: "cn-wlcb" });
      expect(all.map((h) => h.UHostId)).toEqual(expect.arrayContaining(ids));
      expect(actionCount("DescribeCompShareInstance") - pagesBefore).toBe(Math.ceil(all.length / 100) + (all.length % 100 === 0 ? 1 : 0));
    } finally {
      for (const id of ids) emu.compshare.deleteBehindBack(id);
      emu.compshare.setQuota(20);
    }
  });

  it("checks capacity, lists instance types and quotes prices", async () => {
    const specs = await client.checkResourceCapacity({ ...where, GpuType: "4090", MachineType: "G" });
    expect(specs).toContainEqual({ Gpu: 1, Cpu: 16, Mem: 64, ResourceEnough: true });
    const types = await client.describeAvailableInstanceTypes({ Region: "cn-wlcb", MachineTypes: ["H20"] });
    expect(types).toEqual([expect.objectContaining({ Name: "H20", Status: "Normal" })]);
    const prices = await client.getInstancePrice({ ...where, GpuType: "4090", Gpu: 1, Cpu: 16, Memory: 65536, ChargeType: "Dynamic" });
    expect(prices[0]).toMatchObject({ ChargeType: "Dynamic", Instance: 2.05 });
  });
});

describe("secrets", () => {
  it("a wrong private key is an authentication error that names neither key", async () => {
    const priv = "wrong-private-key-123456";
    const bad = new CompShareClient({ publicKey: emu.compsharePublicKey, privateKey: priv, baseUrl: emu.url });
    const err = await bad.describeInstances({ Region: "cn-wlcb" }).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.code).toBe("171");
    expect(err.message).toMatch(/compshare:privateKey/);
    expect(`${err.message} ${err.stack}`).not.toContain(priv);
    expect(`${err.message} ${err.stack}`).not.toContain(emu.compsharePublicKey);
    await bad.close();
  });

  it("redacts a key the server echoes back", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 172, message: `unknown key ${emu.compsharePrivateKey}` });
    const err = await client.describeInstances({ Region: "cn-wlcb" }).catch((e) => e);
    expect(err.message).not.toContain(emu.compsharePrivateKey);
    expect(err.message).toContain("***");
  });
});

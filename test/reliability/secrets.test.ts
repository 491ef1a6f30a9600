/**
 * Credentials never show. Distinctive keys are planted in the config, every error path we
 * can reach is driven (wrong keys, RetCode 171/172, 5xx, throttling, deadlines, partial
 * failures, capacity, validation, lost creates with failed lookups, and a cloud that echoes
 * the key back in its error text), and everything printed, thrown or returned is searched
 * for the keys and for every CompShare request signature actually sent (a recording proxy
 * between the providers and the emulator collects them).
 *
 * Then, through the real engine: returned passwords and inputs wrapped in `pulumi.secret`
 * stay secret in the state, after a good `up` and after one that ends in partial failures.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigReader } from "../../src/core/provider";
import type { Emulator } from "../../src/emulator/server";
import type { ResourceSpec } from "../e2e/harness";
import { e2eDescribe, useE2E } from "../e2e/setup";
import { PROVIDER_TEXT } from "../support/fixtures";
import { CANARY, CANARY_EMULATOR, DRIVERS, type Props, type ResourceName, startCanaryEmulator } from "./drivers";
import { CANARIES, countCanaries, errorText, safeJson, writeResults } from "./run";

// ---- a recording proxy: what went on the wire --------------------------------------------

interface Proxy {
  url: string;
  signatures: Set<string>;
  close(): Promise<void>;
}

async function recordingProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const signatures = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const signature = new URLSearchParams(body.toString("utf8")).get("Signature");
      if (signature) signatures.add(signature);
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: false },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      // The emulator dropped the connection: so does the proxy, so the client sees the same.
      out.on("error", () => req.socket.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    signatures,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- runtime providers ------------------------------------------------------------------

let emu: Emulator;
let proxy: Proxy;
let base: Record<string, string>;
let over: Record<string, string | undefined> = {};
const printed: string[] = [];
const surfaces: { path: string; text: string }[] = [];
let restoreStderr: () => void;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  for (const v of ["PPIO_API_KEY", "COMPSHARE_PUBLIC_KEY", "COMPSHARE_PRIVATE_KEY"]) delete process.env[v];
  emu = await startCanaryEmulator();
  proxy = await recordingProxy(emu.url);
  base = {
    "ppio:apiKey": CANARY.ppioKey,
    "ppio:baseUrl": proxy.url,
    "compshare:publicKey": CANARY.csPublic,
    "compshare:privateKey": CANARY.csPrivate,
    "compshare:baseUrl": proxy.url,
  };
  const reader: ConfigReader = { get: (k) => (k in over ? over[k] : base[k]) };
  for (const d of Object.values(DRIVERS)) d.provider.configure({ config: reader });
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stderr.write;
  restoreStderr = () => {
    process.stderr.write = original;
  };
});
afterAll(async () => {
  restoreStderr?.();
  await proxy?.close();
  await emu?.close();
});

const p = (r: ResourceName) => DRIVERS[r].provider;

async function checked(r: ResourceName, extra: Props = {}): Promise<Props> {
  const { inputs, failures } = await p(r).check(undefined, { ...DRIVERS[r].base, ...extra, autonamePrefix: "sec", __provider: PROVIDER_TEXT });
  expect(failures).toEqual([]);
  return inputs;
}

async function created(r: ResourceName, extra: Props = {}): Promise<{ id: string; outs: Props; inputs: Props }> {
  const inputs = await checked(r, extra);
  const { id, outs } = await p(r).create(inputs);
  return { id, outs: { ...outs, __provider: PROVIDER_TEXT }, inputs };
}

/** Deletes whatever a path left behind, with the faults gone. */
async function cleanup(): Promise<void> {
  emu.faults.clear();
  emu.ppio.release();
  emu.compshare.release();
  over = {};
  for (const i of emu.ppio.instances()) await p("PpioInstance").delete(i.id, {});
  for (const e of emu.ppio.endpoints()) await p("PpioEndpoint").delete(e.id, {});
  for (const i of emu.compshare.instances()) {
    emu.compshare.lockFor(i.UHostId, 0);
    await p("CompShareInstance").delete(i.UHostId, { region: i.Region, zone: i.Zone });
  }
}

interface ErrorPath {
  name: string;
  /** Returns what the user gets back, or throws what the user is shown. */
  run(): Promise<unknown>;
  /** Whether the path must end in an error (most do). */
  fails?: boolean;
}

const INSTANCE = /^\/gpus\/v2\/instances\/[^/]+$/;
const echo = (key: string) => `the credential ${key} is not valid for this request`;

const paths: ErrorPath[] = [
  // PPIO
  { name: "ppio instance: create, read, update, delete succeed", fails: false, run: async () => {
      const c = await created("PpioInstance", { envs: { A: "1" } });
      const read = await p("PpioInstance").read(c.id, c.outs);
      const news = await checked("PpioInstance", { envs: { A: "2" } });
      const updated = await p("PpioInstance").update(c.id, c.outs, { ...news, name: c.inputs.name });
      await p("PpioInstance").delete(c.id, c.outs);
      return [c.outs, read, updated];
    } },
  { name: "ppio: wrong key on create (401)", run: async () => {
      over = { "ppio:apiKey": CANARY.ppioWrongKey };
      return p("PpioInstance").create(await checked("PpioInstance"));
    } },
  { name: "ppio: wrong key on read (401)", run: async () => {
      over = { "ppio:apiKey": CANARY.ppioWrongKey };
      return p("PpioEndpoint").read("abcdefabcdef", {});
    } },
  { name: "ppio: no key", run: async () => {
      over = { "ppio:apiKey": undefined };
      return p("PpioInstance").read("abc", {});
    } },
  { name: "ppio: the cloud echoes the key in a 400", run: async () => {
      emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/instances", status: 400, body: { code: 400, reason: "VALIDATOR_PARAM", message: echo(CANARY.ppioKey) } });
      return p("PpioInstance").create(await checked("PpioInstance"));
    } },
  { name: "ppio: the cloud echoes the key in a 401 without an envelope", run: async () => {
      emu.faults.add({ cloud: "ppio", method: "GET", path: INSTANCE, status: 401, body: echo(`Bearer ${CANARY.ppioKey}`) });
      return p("PpioInstance").read("0123456789abcdef", {});
    } },
  { name: "ppio: the cloud echoes the key where a 200-character cut would split it", run: async () => {
      emu.faults.add({ cloud: "ppio", method: "DELETE", path: INSTANCE, status: 400, body: `${"x".repeat(185)}${CANARY.ppioKey} rejected` });
      return p("PpioInstance").delete("0123456789abcdef", {});
    } },
  { name: "compshare: the cloud echoes the key where a 200-character cut would split it", run: async () => {
      emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", status: 403, body: `${"x".repeat(185)}${CANARY.csPrivate} rejected` });
      return p("CompShareInstance").read("uhost-abcdefabcdef", {});
    } },
  { name: "compshare: an answer without an envelope that echoes the key past a 200-character cut", run: async () => {
      emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", status: 200, body: `${"x".repeat(185)}${CANARY.csPublic}`, times: 3 });
      return p("CompShareInstance").create(await checked("CompShareInstance", { checkCapacity: false }));
    } },
  { name: "ppio: 503 on every create attempt", run: async () => {
      emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/endpoints", status: 503, times: 3, body: { code: 503, reason: "UNKNOWN", message: echo(CANARY.ppioKey) } });
      return p("PpioEndpoint").create(await checked("PpioEndpoint"));
    } },
  { name: "ppio: lost create, and the lookup fails echoing the key", run: async () => {
      emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/instances", dropConnection: "before" });
      emu.faults.add({ cloud: "ppio", method: "GET", path: "/gpus/v2/instances", status: 403, body: { code: 403, reason: "FORBIDDEN", message: echo(CANARY.ppioKey) } });
      return p("PpioInstance").create(await checked("PpioInstance"));
    } },
  { name: "ppio: capacity", run: async () => {
      emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/instances", status: 400, body: { code: 400, reason: "INSUFFICIENT_RESOURCE", message: "sold out" } });
      return p("PpioInstance").create(await checked("PpioInstance"));
    } },
  { name: "ppio: provisioning fails (partial failure)", run: async () => {
      emu.ppio.failNextProvisioning();
      return p("PpioInstance").create(await checked("PpioInstance", { envs: { TOKEN: "t" } }));
    } },
  { name: "ppio endpoint: create deadline (partial failure)", run: async () => {
      emu.ppio.holdNewEndpoints(true);
      return p("PpioEndpoint").create(await checked("PpioEndpoint", { timeouts: { create: "1s" } }));
    } },
  { name: "ppio: update of an instance deleted behind its back", run: async () => {
      const c = await created("PpioInstance");
      emu.ppio.deleteBehindBack(c.id);
      return p("PpioInstance").update(c.id, c.outs, { ...c.inputs, image: "nginx:2" });
    } },
  { name: "ppio: delete deadline", run: async () => {
      const c = await created("PpioInstance", { timeouts: { delete: "1s" } });
      emu.ppio.hold(c.id);
      return p("PpioInstance").delete(c.id, c.outs);
    } },
  { name: "ppio: throttled reads (429), retried", fails: false, run: async () => {
      const c = await created("PpioInstance");
      emu.faults.add({ cloud: "ppio", method: "GET", path: INSTANCE, status: 429, retryAfter: 1, body: { code: 429, reason: "RATE_LIMIT_EXCEEDED", message: echo(CANARY.ppioKey) } });
      return p("PpioInstance").read(c.id, c.outs);
    } },

  // CompShare
  { name: "compshare: create, read, resize, delete succeed", fails: false, run: async () => {
      const c = await created("CompShareInstance");
      const read = await p("CompShareInstance").read(c.id, c.outs);
      const news = { ...c.inputs, gpu: 2, cpu: 32, memory: 131072 };
      const updated = await p("CompShareInstance").update(c.id, c.outs, news);
      await p("CompShareInstance").delete(c.id, c.outs);
      return [c.outs, read, updated];
    } },
  { name: "compshare: wrong private key (171)", run: async () => {
      over = { "compshare:privateKey": CANARY.csWrongPrivate };
      return p("CompShareInstance").create(await checked("CompShareInstance"));
    } },
  { name: "compshare: unknown public key (172)", run: async () => {
      over = { "compshare:publicKey": CANARY.csWrongPublic };
      return p("CompShareInstance").read("uhost-abcdefabcdef", { region: "cn-wlcb" });
    } },
  { name: "compshare: no private key", run: async () => {
      over = { "compshare:privateKey": undefined };
      return p("CompShareInstance").read("uhost-abcdefabcdef", {});
    } },
  { name: "compshare: the cloud echoes the private key in a RetCode message", run: async () => {
      emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", retCode: 230, message: echo(CANARY.csPrivate) });
      return p("CompShareInstance").create(await checked("CompShareInstance"));
    } },
  { name: "compshare: the cloud echoes both keys in a plain-text HTTP 400", run: async () => {
      const c = await created("CompShareInstance");
      emu.faults.add({ cloud: "compshare", action: "TerminateCompShareInstance", status: 400, body: `PublicKey=${CANARY.csPublic}&key=${CANARY.csPrivate}`, times: 6 });
      return p("CompShareInstance").delete(c.id, c.outs);
    } },
  { name: "compshare: throttled (153) and retried", fails: false, run: async () => {
      emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 153, times: 2, message: echo(CANARY.csPublic) });
      return p("CompShareInstance").create(await checked("CompShareInstance"));
    } },
  { name: "compshare: sold out at the pre-check", run: async () => {
      emu.compshare.setStock("4090", 0);
      try {
        return await p("CompShareInstance").create(await checked("CompShareInstance"));
      } finally {
        emu.compshare.setStock("4090", 64);
      }
    } },
  { name: "compshare: sold out on the create (8357)", run: async () => {
      emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", retCode: 8357, message: echo(CANARY.csPrivate) });
      return p("CompShareInstance").create(await checked("CompShareInstance", { checkCapacity: false }));
    } },
  { name: "compshare: Install Fail (partial failure)", run: async () => {
      emu.compshare.failNextCreate();
      return p("CompShareInstance").create(await checked("CompShareInstance"));
    } },
  { name: "compshare: create deadline (partial failure)", run: async () => {
      emu.compshare.holdNewInstances(true);
      return p("CompShareInstance").create(await checked("CompShareInstance", { timeouts: { create: "1s" } }));
    } },
  { name: "compshare: a lock that outlasts the delete deadline", run: async () => {
      const c = await created("CompShareInstance", { timeouts: { delete: "2s" } });
      emu.compshare.lockFor(c.id, 60_000);
      return p("CompShareInstance").delete(c.id, c.outs);
    } },
  { name: "compshare: 503 on every create attempt", run: async () => {
      emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", status: 503, times: 3 });
      return p("CompShareInstance").create(await checked("CompShareInstance"));
    } },
  { name: "compshare: lost create, and the lookup fails echoing the key", run: async () => {
      emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", dropConnection: "before" });
      emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 292, message: echo(CANARY.csPrivate) });
      return p("CompShareInstance").create(await checked("CompShareInstance"));
    } },
  { name: "compshare: update of an instance deleted behind its back", run: async () => {
      const c = await created("CompShareInstance");
      emu.compshare.deleteBehindBack(c.id);
      return p("CompShareInstance").update(c.id, c.outs, { ...c.inputs, name: "other" });
    } },

  // validation, all three
  { name: "validation failures", fails: false, run: async () =>
      Promise.all([
        p("PpioInstance").check(undefined, { productId: 1, image: "", resource: { gpuNum: 99 }, ports: [{ port: 2222, protocol: "udp" }], envs: { "1X": "v" } }),
        p("PpioEndpoint").check(undefined, { type: "batch", workerConfig: { minReplicas: 5, maxReplicas: 1 }, ports: [0, 0] }),
        p("CompShareInstance").check(undefined, { gpuType: "4080", gpu: 0, memory: 1000, disks: [], name: "bad name!" }),
      ]) },
];

describe("credentials never show", () => {
  it.each(paths.map((x) => [x.name, x] as const))("%s", async (name, path) => {
    const mark = printed.length;
    let value: unknown;
    let error: unknown;
    try {
      value = await path.run();
    } catch (e) {
      error = e;
    }
    surfaces.push({ path: name, text: [printed.slice(mark).join(""), error === undefined ? "" : errorText(error), safeJson(value)].join("\n") });
    await cleanup();
    if (path.fails === false) expect(error, errorText(error)).toBeUndefined();
    else expect(error, `${name} was expected to fail`).toBeDefined();
    expect(countCanaries(surfaces.at(-1)!.text), surfaces.at(-1)!.text).toBe(0);
  });

  it("printed, threw and returned no key and no request signature anywhere", () => {
    const all = surfaces.map((s) => s.text).join("\n");
    const signatures = [...proxy.signatures];
    expect(signatures.length).toBeGreaterThan(20);
    const found = countCanaries(all, [...CANARIES, ...signatures]);
    const where = surfaces.filter((s) => countCanaries(s.text, [...CANARIES, ...signatures]) > 0).map((s) => s.path);
    writeResults("secrets.json", {
      paths: paths.length,
      charsSearched: all.length,
      keys: CANARIES.length,
      signatures: signatures.length,
      found,
      where,
    });
    expect(where).toEqual([]);
    expect(found).toBe(0);
    // The sanity check that the search can see: the outputs carry the returned passwords.
    expect(all).toMatch(/"sshPassword":"[^"]+"/);
    expect(all).toMatch(/"password":"[^"]+"/);
  });
});

// ---- through the engine -----------------------------------------------------------------

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const HF_TOKEN = "hf_CANARY_secret_env_value_4e7d";
const ENDPOINT_TOKEN = "ep_CANARY_secret_env_value_91c2";

const gpu = (name: string, extra: Props = {}): ResourceSpec => ({
  kind: "ppioInstance",
  name,
  args: { ...DRIVERS.PpioInstance.base, envs: { HF_TOKEN }, ...extra },
  secret: ["envs"],
});
const vm = (name: string): ResourceSpec => ({ kind: "compShareInstance", name, args: { ...DRIVERS.CompShareInstance.base } });
const endpoint: ResourceSpec = {
  kind: "ppioEndpoint",
  name: "llm",
  args: { ...DRIVERS.PpioEndpoint.base, envs: { TOKEN: ENDPOINT_TOKEN } },
  secret: ["envs"],
};

e2eDescribe("secrets through the engine", () => {
  // Scoped here, so that without a Pulumi CLI only these tests are skipped.
  const e2e = useE2E(CANARY_EMULATOR);

  it("keeps passwords and secret inputs encrypted in the state, after a good up and a partially failed one", async () => {
    const s = await e2e.h.stack();
    const good = [gpu("gpu"), vm("vm"), endpoint];
    const first = await s.up(good);

    // A second up that ends in two partial failures: an instance past its deadline, a VM in Install Fail.
    e2e.h.emu.ppio.holdNewInstances(true);
    e2e.h.emu.compshare.failNextCreate();
    const failed = await s.up([...good, gpu("gpu2", { timeouts: { create: "2s" } }), vm("vm2")]).catch((e: unknown) => e);
    e2e.h.emu.ppio.release();
    expect(failed).toBeInstanceOf(Error);
    expect(String(failed)).toMatch(/did not finish/);

    const ids = Object.fromEntries((await s.resources()).map((r) => [r.urn.split("::").pop()!, r.id!]));
    expect(Object.keys(ids).sort()).toEqual(["gpu", "gpu2", "llm", "vm", "vm2"]);
    const sshPasswords = ["gpu", "gpu2"].map((n) => e2e.h.emu.ppio.get(ids[n])?.tools?.ssh?.password as string);
    const vmPasswords = ["vm", "vm2"].flatMap((n) => {
      const b64 = e2e.h.emu.compshare.get(ids[n])?.Password as string;
      return [b64, Buffer.from(b64, "base64").toString("utf8")];
    });
    for (const secret of [...sshPasswords, ...vmPasswords]) expect(secret).toBeTruthy();

    // The public key is an identifier, set without --secret as documented: it sits in plain config.
    const onDisk = e2e.h.stateFiles();
    const mustStaySecret = [CANARY.ppioKey, CANARY.csPrivate, ...sshPasswords, ...vmPasswords, HF_TOKEN, ENDPOINT_TOKEN];
    writeResults("secrets-engine.json", {
      values: mustStaySecret.length,
      stateChars: onDisk.length,
      plaintextFound: mustStaySecret.reduce((n, v) => n + onDisk.split(v).length - 1, 0),
    });
    for (const secret of mustStaySecret) expect(onDisk, "a secret in plaintext in the state").not.toContain(secret);

    const exported = JSON.parse(await s.exported());
    const find = (name: string) => exported.deployment.resources.find((x: { urn: string }) => x.urn.endsWith(`::${name}`));
    for (const name of ["gpu", "gpu2"]) {
      expect(find(name).outputs.sshPassword, name).toHaveProperty(SECRET_SIG);
      expect(find(name).outputs.envs, name).toHaveProperty(SECRET_SIG);
      expect(find(name).inputs.envs, name).toHaveProperty(SECRET_SIG);
    }
    for (const name of ["vm", "vm2"]) expect(find(name).outputs.password, name).toHaveProperty(SECRET_SIG);
    expect(find("llm").outputs.envs).toHaveProperty(SECRET_SIG);
    expect(find("gpu2").initErrors?.join(" ")).toMatch(/timeouts\.create/);
    expect(find("vm2").initErrors?.join(" ")).toMatch(/Install Fail/);

    const destroyed = await s.destroy();
    const printedByEngine = [first.stdout, first.stderr, String(failed), destroyed.stdout, destroyed.stderr].join("\n");
    expect(countCanaries(printedByEngine)).toBe(0);
    expect(e2e.h.emu.ppio.instances()).toEqual([]);
    expect(e2e.h.emu.compshare.instances()).toEqual([]);
  });
});

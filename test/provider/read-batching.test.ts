/**
 * Reads and deletes of a fleet share requests: the runtime providers driven as the engine
 * drives a `pulumi refresh` or `pulumi destroy` (every resource's call at once, in one
 * provider process) against the emulator over real HTTP, counting the emulator's requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compShareInstance } from "../../src/compshare/instance";
import { type Emulator, type RequestRecord, startEmulator } from "../../src/emulator/server";
import { ppioEndpoint } from "../../src/ppio/endpoint";
import { ppioInstance } from "../../src/ppio/instance";
import { COMPSHARE_INSTANCE, fakeConfig, PROVIDER_TEXT } from "../support/fixtures";

type Props = Record<string, unknown>;
interface Provider {
  check(olds: Props | undefined, news: Props): Promise<{ inputs: Props; failures: unknown[] }>;
  create(inputs: Props): Promise<{ id: string; outs: Props }>;
  read(id: string, props: Props): Promise<{ id: string; props: Props }>;
  delete(id: string, props: Props): Promise<void>;
}

let emu: Emulator;

beforeAll(async () => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
  emu = await startEmulator();
  emu.compshare.setQuota(1_000);
  emu.compshare.setStock("4090", 1_000);
  const config = fakeConfig({
    "ppio:apiKey": emu.apiKey,
    "ppio:baseUrl": emu.url,
    "compshare:publicKey": emu.compsharePublicKey,
    "compshare:privateKey": emu.compsharePrivateKey,
    "compshare:baseUrl": emu.url,
  });
  for (const p of [ppioInstance, ppioEndpoint, compShareInstance]) p.configure(config);
});
afterAll(async () => {
  await emu.close();
});

const CS = COMPSHARE_INSTANCE;
const PI = { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 } };
const PE = { type: "sync", productId: "4090.24g.serverless", image: "vllm/vllm-openai:v0.6.0", workerConfig: { minReplicas: 1, maxReplicas: 2 } };

/** `pulumi up` of n resources at once: check + create each; returns what the state would hold. */
async function fleet(provider: Provider, args: Props, n: number, prefix: string, over: (i: number) => Props = () => ({})) {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const checked = await provider.check(undefined, { ...args, ...over(i), autonamePrefix: `${prefix}-${i}`, __provider: PROVIDER_TEXT });
      expect(checked.failures).toEqual([]);
      const { id, outs } = await provider.create(checked.inputs);
      return { id, props: { ...outs, __provider: PROVIDER_TEXT } };
    }),
  );
}

/** The cloud requests `fn` sends, by CompShare Action or PPIO route. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; calls: Record<string, number>; requests: RequestRecord[] }> {
  const from = emu.requests.length;
  const result = await fn();
  const requests = emu.requests.slice(from).filter((r) => r.cloud !== "emulator");
  const calls: Record<string, number> = {};
  for (const r of requests) {
    const name = r.cloud === "compshare" ? (r.action ?? r.route) : r.route;
    calls[name] = (calls[name] ?? 0) + 1;
  }
  return { result, calls, requests };
}

describe("refresh of a CompShare fleet", () => {
  let objects: { id: string; props: Props }[];
  beforeAll(async () => {
    objects = await fleet(compShareInstance, CS, 100, "csread");
  }, 120_000);

  it("reads 100 instances with one Describe, each getting its own live state", async () => {
    const { result, calls } = await counted(() => Promise.all(objects.map((o) => compShareInstance.read(o.id, o.props))));
    expect(calls).toEqual({ DescribeCompShareInstance: 1 });
    expect(result.map((r) => r.id)).toEqual(objects.map((o) => o.id));
    for (const [i, r] of result.entries()) {
      expect(r.props.name).toBe(objects[i].props.name);
      expect(r.props.state).toBe("Running");
    }
  });

  it("returns an empty id for an instance deleted outside Pulumi, and live state for the rest", async () => {
    emu.compshare.deleteBehindBack(objects[7].id);
    const { result, calls } = await counted(() => Promise.all(objects.map((o) => compShareInstance.read(o.id, o.props))));
    expect(calls.DescribeCompShareInstance).toBe(1);
    expect(result[7]).toEqual({ id: "", props: {} });
    expect(result.filter((r) => r.id === "")).toHaveLength(1);
    objects.splice(7, 1);
  });

  it("rides out a throttled Describe for every read at once: one retry, not one per read", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 153 });
    const { result, requests } = await counted(() => Promise.all(objects.map((o) => compShareInstance.read(o.id, o.props))));
    const describes = requests.filter((r) => r.action === "DescribeCompShareInstance");
    expect(describes.map((r) => r.fault !== undefined)).toEqual([true, false]);
    expect(result.every((r) => r.id !== "")).toBe(true);
  });

  it("fails every read of a batch whose Describe cannot succeed", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", retCode: 172, times: Infinity });
    try {
      const outcomes = await Promise.allSettled(objects.slice(0, 10).map((o) => compShareInstance.read(o.id, o.props)));
      expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill("rejected"));
    } finally {
      emu.faults.clear();
    }
  });

  it("destroys 99 instances with a handful of Describes (one per shared tick, not one per instance per poll)", async () => {
    const { calls } = await counted(() => Promise.all(objects.map((o) => compShareInstance.delete(o.id, o.props))));
    expect(calls.StopCompShareInstance).toBe(objects.length);
    expect(calls.TerminateCompShareInstance).toBe(objects.length);
    // Per object: a look, then waits for Stopped and for gone. Alone that is ≥ 3 Describes each.
    expect(calls.DescribeCompShareInstance).toBeLessThan(objects.length / 4);
    expect(emu.compshare.instances().filter((i) => objects.some((o) => o.id === i.UHostId))).toEqual([]);
  }, 60_000);
});

describe("refresh of a PPIO fleet", () => {
  let objects: { id: string; props: Props }[];
  beforeAll(async () => {
    objects = await fleet(ppioInstance, PI, 100, "piread");
  }, 120_000);

  it("reads 100 instances with one list page and no per-id GET when their SSH details are recorded", async () => {
    const { result, calls } = await counted(() => Promise.all(objects.map((o) => ppioInstance.read(o.id, o.props))));
    expect(calls).toEqual({ "GET /gpus/v2/instances": 1 });
    for (const [i, r] of result.entries()) {
      expect(r.id).toBe(objects[i].id);
      // what only GET returns is carried over from the state, not lost
      expect(r.props.sshCommand).toBe(objects[i].props.sshCommand);
      expect(r.props.sshCommand).toMatch(/^ssh -p \d+ root@/);
      expect(r.props.sshPassword).toBe(objects[i].props.sshPassword);
      for (const url of ["webTerminalUrl", "instanceLogUrl", "systemLogUrl"]) {
        expect(objects[i].props[url]).toMatch(/^(https|wss):\/\//);
        expect(r.props[url]).toBe(objects[i].props[url]);
      }
      expect(r.props.status).toBe("running");
    }
  });

  it("GETs only the instances whose SSH details are unknown or whose status moved, and empties the deleted", async () => {
    const [gone, stopped, imported] = [objects[3], objects[4], objects[5]];
    emu.ppio.deleteBehindBack(gone.id);
    const s = await import("../../src/ppio/context");
    await s.ppioSession().client.stopInstance(stopped.id);
    const props = (o: { id: string; props: Props }) => (o === imported ? { __provider: PROVIDER_TEXT, ...PI } : o.props);
    const { result, calls } = await counted(() => Promise.all(objects.map((o) => ppioInstance.read(o.id, props(o)))));
    expect(calls["GET /gpus/v2/instances"]).toBe(1);
    // the imported one (no recorded details) and the stopping one; the deleted one is confirmed gone by GET
    expect(calls["GET /gpus/v2/instances/{id}"]).toBe(3);
    expect(result[3]).toEqual({ id: "", props: {} });
    expect(result[4].props.status).not.toBe("running");
    expect(result[5].props.sshCommand).toMatch(/^ssh -p \d+ root@/);
    objects.splice(3, 1);
  });

  it("destroys the fleet with one DELETE each and a share of the list pages for the waits", async () => {
    // Deletes slow enough that a listing shows every instance going before it is gone, however busy the machine.
    emu.ppio.setTimings({ deleteMs: 3_000 });
    const { calls } = await counted(() => Promise.all(objects.map((o) => ppioInstance.delete(o.id, o.props))));
    expect(calls["DELETE /gpus/v2/instances/{id}"]).toBe(objects.length);
    // Listed, then no longer listed: gone, without a GET each to confirm it.
    expect(calls["GET /gpus/v2/instances/{id}"] ?? 0).toBe(0);
    expect(calls["GET /gpus/v2/instances"]).toBeLessThan(objects.length / 3);
    expect(emu.ppio.instances().filter((i) => objects.some((o) => o.id === i.id))).toEqual([]);
  }, 60_000);
});

describe("refresh of PPIO endpoints", () => {
  it("reads 20 endpoints with one list page", async () => {
    const objects = await fleet(ppioEndpoint, PE, 20, "peread");
    const { result, calls } = await counted(() => Promise.all(objects.map((o) => ppioEndpoint.read(o.id, o.props))));
    expect(calls).toEqual({ "GET /gpus/v2/endpoints": 1 });
    expect(result.map((r) => r.props.status)).toEqual(Array(20).fill("running"));
    await Promise.all(objects.map((o) => ppioEndpoint.delete(o.id, o.props)));
  }, 60_000);
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { AuthenticationError, ServerError, TerminalStateError, TimeoutError } from "../../src/core/errors";
import { type Observed, Poller, pollerOptionsFromEnv, type PollSource, type WaitSpec } from "../../src/core/wait";
import { listOrGet } from "../../src/ppio/context";

/** A fake cloud: each id walks through a list of states, one step per fetch. */
function fakeSource(scripts: Record<string, (string | null)[]>) {
  const calls: string[][] = [];
  const step: Record<string, number> = {};
  let failNext: Error | undefined;
  const source: PollSource<string> = {
    async fetch(ids) {
      calls.push([...ids]);
      if (failNext) {
        const e = failNext;
        failNext = undefined;
        throw e;
      }
      const out = new Map<string, Observed<string>>();
      for (const id of ids) {
        const script = scripts[id];
        const i = Math.min(step[id] ?? 0, script.length - 1);
        step[id] = i + 1;
        out.set(id, script[i]);
      }
      return out;
    },
  };
  return { source, calls, failOnce: (e: Error) => (failNext = e) };
}

const spec = (id: string, over: Partial<WaitSpec<string>> = {}): WaitSpec<string> => ({
  cloud: "ppio",
  id,
  kind: "test thing",
  target: "running",
  describe: (s) => s ?? "gone",
  until: (s) => (s === "running" ? "done" : s === "failed" ? { failed: "is failed" } : "pending"),
  timeoutMs: 5_000,
  timeoutSetting: "timeouts.create",
  ...over,
});

let lines: string[] = [];
const log = (l: string) => lines.push(l);
afterEach(() => {
  lines = [];
});

describe("Poller", () => {
  it("serves every waiter of a tick with one fetch", async () => {
    const f = fakeSource({ a: ["creating", "running"], b: ["creating", "running"], c: ["pulling", "running"] });
    const p = new Poller(f.source, { minIntervalMs: 20, maxIntervalMs: 50, log });
    await Promise.all(["a", "b", "c"].map((id) => p.wait(spec(id))));
    expect(f.calls[0].sort()).toEqual(["a", "b", "c"]);
    expect(f.calls.length).toBe(2);
    expect(p.stats.maxIdsPerTick).toBe(3);
  });

  it("prints one progress line per state change", async () => {
    const f = fakeSource({ abcdef0123456789: ["creating", "creating", "pulling", "pulling", "running"] });
    const p = new Poller(f.source, { minIntervalMs: 5, maxIntervalMs: 10, log });
    await p.wait(spec("abcdef0123456789"));
    expect(lines.map((l) => l.replace(/\(\d+s\)/, "(Ns)"))).toEqual([
      "test thing abcdef01… creating (Ns)",
      "test thing abcdef01… pulling (Ns)",
      "test thing abcdef01… running (Ns)",
    ]);
  });

  it("fails fast on a terminal state", async () => {
    const f = fakeSource({ a: ["creating", "failed"] });
    const p = new Poller(f.source, { minIntervalMs: 5, log });
    await expect(p.wait(spec("a"))).rejects.toBeInstanceOf(TerminalStateError);
    expect(f.calls.length).toBe(2);
  });

  it("gives up at the deadline and names the setting to raise", async () => {
    const f = fakeSource({ a: ["pulling"] });
    const p = new Poller(f.source, { minIntervalMs: 5, maxIntervalMs: 10, log });
    const err = await p.wait(spec("a", { timeoutMs: 100 })).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toMatch(/still pulling/);
    expect(err.message).toMatch(/timeouts\.create/);
    expect(p.waiting).toBe(0);
  });

  it("rides out a transient fetch failure but not an authentication failure", async () => {
    const f = fakeSource({ a: ["creating", "running"] });
    const p = new Poller(f.source, { minIntervalMs: 5, log });
    f.failOnce(new ServerError("boom", { cloud: "ppio" }));
    await expect(p.wait(spec("a"))).resolves.toBe("running");
    expect(p.stats.fetchErrors).toBe(1);

    f.failOnce(new AuthenticationError("bad key", { cloud: "ppio" }));
    const g = fakeSource({ b: ["creating"] });
    const q = new Poller(g.source, { minIntervalMs: 5, log });
    g.failOnce(new AuthenticationError("bad key", { cloud: "ppio" }));
    await expect(q.wait(spec("b"))).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("backs off during a quiet wait instead of polling at a fixed rate", async () => {
    const f = fakeSource({ a: Array(1000).fill("pulling") });
    const p = new Poller(f.source, { minIntervalMs: 10, maxIntervalMs: 1_000, log });
    await p.wait(spec("a", { timeoutMs: 600 })).catch(() => undefined);
    // A fixed 10 ms interval would poll ~60 times in 600 ms.
    expect(f.calls.length).toBeLessThan(30);
    expect(f.calls.length).toBeGreaterThan(3);
  });

  it("shortens ids in progress lines but keeps a type prefix", async () => {
    const { shortId } = await import("../../src/core/wait");
    expect(shortId("d8905fdd3e6284ad")).toBe("d8905fdd…");
    expect(shortId("uhost-cba588n8p9icxyz")).toBe("uhost-cba588n8…");
    expect(shortId("uhost-cba588n8p9ic")).toBe("uhost-cba588n8p9ic");
    expect(shortId("XKEQU1z3xKAp")).toBe("XKEQU1z3xKAp");
    expect(shortId("short")).toBe("short");
  });

  it("treats a vanished object as not found", async () => {
    const f = fakeSource({ a: ["removing", null] });
    const p = new Poller(f.source, { minIntervalMs: 5, log });
    const r = await p.wait(spec("a", { target: "deleted", until: (s) => (s === null ? "done" : "pending") }));
    expect(r).toBeNull();
  });
});

describe("Poller.read", () => {
  afterEach(() => vi.useRealTimers());

  it("serves reads that arrive together with one fetch, each with its own state", async () => {
    const f = fakeSource({ a: ["running"], b: ["exited"], c: [null] });
    const p = new Poller(f.source, { log });
    const got = await Promise.all(["a", "b", "c"].map((id) => p.read(id)));
    expect(got).toEqual(["running", "exited", null]);
    expect(f.calls).toEqual([["a", "b", "c"]]);
    expect(p.stats.reads).toBe(3);
    expect(p.waiting).toBe(0);
    expect(lines).toEqual([]); // a read prints no progress line
  });

  it("waits for a quiet moment, but no longer than the gathering cap", async () => {
    vi.useFakeTimers();
    const ids = Array.from({ length: 30 }, (_, i) => `r${i}`);
    const f = fakeSource(Object.fromEntries(ids.map((id) => [id, ["running"]])));
    const p = new Poller(f.source, { log, readQuietMs: 30, readGatherMs: 250 });
    // one read every 20 ms: always within the quiet period, so only the cap ends the batch
    const reads: Promise<unknown>[] = [];
    for (const id of ids) {
      reads.push(p.read(id));
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(reads);
    // 250 ms gathers 13 reads (0, 20, … 240 ms); the rest form the next batches
    expect(f.calls.map((c) => c.length)).toEqual([13, 13, 4]);
  });

  it("reads a lone id within the quiet period", async () => {
    vi.useFakeTimers();
    const f = fakeSource({ a: ["running"] });
    const p = new Poller(f.source, { log, readQuietMs: 30 });
    const r = p.read("a");
    await vi.advanceTimersByTimeAsync(29);
    expect(f.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(r).resolves.toBe("running");
  });

  it("shares a tick with waits: a read and a wait of the same moment cost one fetch", async () => {
    const f = fakeSource({ a: ["creating", "running"], b: ["running"] });
    // one request, however many ids: the read may come along on the wait's tick
    const p = new Poller({ ...f.source, cost: () => 1 }, { minIntervalMs: 20, log, readQuietMs: 20 });
    const wait = p.wait(spec("a"));
    const read = p.read("b");
    await expect(read).resolves.toBe("running");
    expect(f.calls[0].sort()).toEqual(["a", "b"]);
    await expect(wait).resolves.toBe("running");
  });

  it("tells the source which ids are reads", async () => {
    const seen: string[][] = [];
    const p = new Poller<string>(
      {
        async fetch(ids, reads) {
          seen.push([...(reads ?? [])].sort());
          return new Map(ids.map((id) => [id, "running"]));
        },
        cost: () => 1,
      },
      { minIntervalMs: 10, log, readQuietMs: 10 },
    );
    await Promise.all([p.wait(spec("w")), p.read("r1"), p.read("r2")]);
    expect(seen[0]).toEqual(["r1", "r2"]);
  });

  it("fails every read of a failed fetch, transient or not, and keeps serving later reads", async () => {
    const f = fakeSource({ a: ["running"], b: ["running"] });
    const p = new Poller(f.source, { log });
    f.failOnce(new ServerError("boom", { cloud: "ppio" }));
    const outcomes = await Promise.allSettled([p.read("a"), p.read("b")]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(f.calls).toHaveLength(1);
    await expect(p.read("a")).resolves.toBe("running");
    expect(p.waiting).toBe(0);
  });

  it("slows every wait down after a throttled read batch", async () => {
    let throttles = 0;
    const fetches: number[] = [];
    const source: PollSource<string> = {
      async fetch(ids) {
        fetches.push(Date.now());
        if (fetches.length === 1) throttles++; // the read batch met a throttling answer
        return new Map(ids.map((id) => [id, "pending"]));
      },
    };
    vi.useFakeTimers();
    const p = new Poller(source, { minIntervalMs: 100, maxIntervalMs: 10_000, log, throttles: () => throttles, readQuietMs: 10 });
    const reads = Promise.all([p.read("a"), p.read("b")]);
    await vi.advanceTimersByTimeAsync(20);
    await reads;
    const start = Date.now();
    void p.wait(spec("c", { timeoutMs: 60_000 })).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(150);
    // unthrottled, the wait's first poll would come after 100 ms; after the throttled batch, after 200 ms
    expect(fetches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(fetches).toHaveLength(2);
    expect(fetches[1] - start).toBeGreaterThanOrEqual(200);
  });

  it("reads each id on its own, at once, under the naive strategy", async () => {
    const f = fakeSource({ a: ["running"], b: ["running"] });
    const p = new Poller(f.source, { strategy: "naive", log });
    await Promise.all([p.read("a"), p.read("b")]);
    expect(f.calls).toEqual([["a"], ["b"]]);
  });
});

describe("the naive baseline strategy", () => {
  afterEach(() => vi.useRealTimers());

  it("polls each object on its own, first after 3 s and then every 5 s", async () => {
    vi.useFakeTimers();
    const f = fakeSource({ a: Array(10).fill("pulling"), b: Array(10).fill("pulling") });
    const p = new Poller(f.source, { strategy: "naive", log });
    void p.wait(spec("a", { timeoutMs: 60_000 })).catch(() => undefined);
    void p.wait(spec("b", { timeoutMs: 60_000 })).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(2_900);
    expect(f.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(f.calls).toEqual([["a"], ["b"]]);
    await vi.advanceTimersByTimeAsync(4_800);
    expect(f.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(300);
    expect(f.calls).toHaveLength(4);
  });

  it("is chosen by GPU_CLOUD_POLL_STRATEGY, the first poll by GPU_CLOUD_POLL_MIN_MS", () => {
    expect(pollerOptionsFromEnv({ GPU_CLOUD_POLL_STRATEGY: "naive" })).toEqual({ strategy: "naive" });
    expect(pollerOptionsFromEnv({ GPU_CLOUD_POLL_MIN_MS: "50" })).toEqual({ minIntervalMs: 50 });
    expect(pollerOptionsFromEnv({})).toEqual({});
  });
});

describe("PPIO's list-or-get poll source", () => {
  function counting(items: Record<string, string>) {
    const calls = { get: [] as string[], list: 0 };
    const source = listOrGet(
      async (id) => {
        calls.get.push(id);
        if (!(id in items)) throw new (await import("../../src/core/errors")).NotFoundError("gone", { cloud: "ppio" });
        return { id, s: items[id] };
      },
      async () => {
        calls.list++;
        return Object.entries(items)
          .filter(([id]) => id !== "fresh") // not yet listed
          .map(([id, s]) => ({ id, s }));
      },
    );
    return { source, calls };
  }

  it("gets a single id directly", async () => {
    const c = counting({ a: "running" });
    const out = await c.source.fetch(["a"]);
    expect(out.get("a")).toEqual({ id: "a", s: "running" });
    expect(c.calls).toEqual({ get: ["a"], list: 0 });
  });

  it("takes an id the previous listing showed and this one does not for gone, except for a read", async () => {
    const items: Record<string, string> = { a: "removing", b: "removing", c: "running" };
    const c = counting(items);
    await c.source.fetch(["a", "b", "c"]);
    delete items.a;
    delete items.b;
    c.calls.get = [];
    const out = await c.source.fetch(["a", "b", "c"], new Set(["b"]));
    expect(out.get("a")).toBeNull();
    expect(out.get("b")).toBeNull();
    expect(c.calls.get).toEqual(["b"]); // only the read's absence is confirmed by GET
  });

  it("maps records its gone predicate names to null", async () => {
    const source = listOrGet(
      async (id) => ({ id, s: "removed" }),
      async () => [
        { id: "a", s: "removed" },
        { id: "b", s: "running" },
      ],
      (x) => x.s === "removed",
    );
    expect(await source.fetch(["a"])).toEqual(new Map([["a", null]]));
    const out = await source.fetch(["a", "b"]);
    expect(out.get("a")).toBeNull();
    expect(out.get("b")).toEqual({ id: "b", s: "running" });
  });

  it("lists once for many ids and confirms the missing ones by get", async () => {
    const c = counting({ a: "running", b: "pulling", fresh: "toCreate" });
    const out = await c.source.fetch(["a", "b", "fresh", "gone"]);
    expect(c.calls.list).toBe(1);
    expect(c.calls.get.sort()).toEqual(["fresh", "gone"]);
    expect(out.get("fresh")).toEqual({ id: "fresh", s: "toCreate" });
    expect(out.get("gone")).toBeNull();
    expect(out.get("b")).toEqual({ id: "b", s: "pulling" });
  });
});

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

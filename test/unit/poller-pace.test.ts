/**
 * The poller's pace, on fake timers: when a tick happens, which ids it carries, how a state
 * change and a throttled poll move the next one. Times are read from the fake clock.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimitError } from "../../src/core/errors";
import { type Observed, Poller, type PollSource, type WaitSpec, writeStatsFile } from "../../src/core/wait";
import { listOrGet } from "../../src/ppio/context";

/** A fake cloud whose state per id the test sets; records each fetch with its (fake) time. */
function cloud(opts: { cost?: (ids: string[]) => number; churn?: boolean } = {}) {
  const state: Record<string, string> = {};
  const fetches: { at: number; ids: string[] }[] = [];
  let throttles = 0;
  let throttleNext = 0;
  let rejectNext: Error | undefined;
  const source: PollSource<string> = {
    async fetch(ids) {
      fetches.push({ at: Date.now(), ids: [...ids].sort() });
      if (throttleNext > 0) {
        throttleNext--;
        throttles++;
      }
      if (rejectNext) {
        const e = rejectNext;
        rejectNext = undefined;
        throw e;
      }
      // `churn`: every answer is a new state, so the interval never grows past the minimum
      const word = (id: string) => (opts.churn && state[id] !== "running" ? `${state[id]} #${fetches.length}` : state[id]);
      return new Map<string, Observed<string>>(ids.map((id) => [id, state[id] === undefined ? null : word(id)]));
    },
    ...(opts.cost && { cost: opts.cost }),
  };
  return {
    source,
    state,
    fetches,
    throttles: () => throttles,
    /** The next `n` fetches each see a throttling answer (that the transport retried through). */
    throttle: (n: number) => (throttleNext = n),
    rejectOnce: (e: Error) => (rejectNext = e),
    gaps: () => fetches.slice(1).map((f, i) => f.at - fetches[i].at),
  };
}

const spec = (id: string): WaitSpec<string> => ({
  cloud: "ppio",
  id,
  kind: "test thing",
  target: "running",
  describe: (s) => s ?? "gone",
  until: (s) => (s === "running" ? "done" : "pending"),
  timeoutMs: 3_600_000,
  timeoutSetting: "timeouts.create",
});

const quiet = () => undefined;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the shared poller's cadence", () => {
  it("polls first after 0.5 s, backs off during a quiet wait, and is fast again right after a change", async () => {
    const c = cloud();
    c.state.a = "pulling";
    const p = new Poller(c.source, { minIntervalMs: 500, maxIntervalMs: 10_000, log: quiet });
    const done = p.wait(spec("a"));
    await vi.advanceTimersByTimeAsync(499);
    expect(c.fetches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.fetches).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(120_000);
    const quietGaps = c.gaps();
    // 0.5 s plus a tenth of the time since the last change, never past the cap.
    expect(quietGaps.slice(0, 2)).toEqual([500, 550]);
    expect(quietGaps).toEqual([...quietGaps].sort((x, y) => x - y));
    expect(quietGaps.at(-1)).toBe(10_000);
    // That keeps the number of polls logarithmic in the wait: ~25 in two minutes, not 240.
    expect(c.fetches.length).toBeLessThan(40);

    c.state.a = "starting";
    await vi.advanceTimersToNextTimerAsync(); // the poll that sees the change
    const seenAt = c.fetches.at(-1)!.at;
    expect(seenAt).toBe(Date.now());
    await vi.advanceTimersToNextTimerAsync();
    expect(c.fetches.at(-1)!.at - seenAt).toBe(500);

    c.state.a = "running";
    await vi.advanceTimersToNextTimerAsync();
    await expect(done).resolves.toBe("running");
    expect(p.stats.stateChanges).toBe(2);
  });

  it("lets waiters that are not due ride along when the source says that costs nothing extra", async () => {
    const c = cloud({ cost: (ids) => Math.ceil(ids.length / 100) });
    c.state.old = "pulling";
    c.state.new = "pulling";
    const p = new Poller(c.source, { minIntervalMs: 500, maxIntervalMs: 10_000, log: quiet });
    void p.wait(spec("old"));
    await vi.advanceTimersByTimeAsync(60_000); // `old` now polls every 6 s
    await vi.advanceTimersToNextTimerAsync(); // its next poll
    const lastOld = c.fetches.at(-1)!.at;
    expect(lastOld).toBe(Date.now());
    await vi.advanceTimersByTimeAsync(100);
    void p.wait(spec("new"));
    await vi.advanceTimersByTimeAsync(500);
    const tick = c.fetches.at(-1)!;
    expect(tick.at - lastOld).toBe(600); // due for `new`, far from due for `old`…
    expect(tick.ids).toEqual(["new", "old"]); // …which came along in the same request
  });

  it("leaves them out when each id costs a request of its own", async () => {
    const c = cloud({ cost: (ids) => ids.length });
    c.state.old = "pulling";
    c.state.new = "pulling";
    const p = new Poller(c.source, { minIntervalMs: 500, maxIntervalMs: 10_000, log: quiet });
    void p.wait(spec("old"));
    await vi.advanceTimersByTimeAsync(60_000);
    await vi.advanceTimersToNextTimerAsync();
    await vi.advanceTimersByTimeAsync(100);
    void p.wait(spec("new"));
    await vi.advanceTimersByTimeAsync(500);
    expect(c.fetches.at(-1)!.ids).toEqual(["new"]);
  });
});

describe("rate limits", () => {
  it("stretch every interval while polls are throttled and relax once they go through", async () => {
    const c = cloud({ churn: true });
    c.state.a = "pulling";
    c.state.b = "pulling";
    const p = new Poller(c.source, { minIntervalMs: 500, maxIntervalMs: 10_000, throttles: c.throttles, log: quiet });
    void p.wait(spec("a"));
    void p.wait(spec("b"));
    await vi.advanceTimersByTimeAsync(1_000); // two clean polls, 0.5 s apart
    c.throttle(2);
    await vi.advanceTimersByTimeAsync(10_000);
    // throttled at 1.5 s (next in 1 s) and at 2.5 s (next in 2 s); then clean: 1 s, then 0.5 s again
    expect(c.gaps().slice(0, 6)).toEqual([500, 500, 1_000, 2_000, 1_000, 500]);
    // one request per tick for both waiters throughout: nobody polls on its own
    expect(c.fetches.every((f) => f.ids.length === 2)).toBe(true);
  });

  it("never fail a wait: a poll that ends in a rate-limit error is retried later, more slowly", async () => {
    const c = cloud({ churn: true });
    c.state.a = "pulling";
    const p = new Poller(c.source, { minIntervalMs: 500, maxIntervalMs: 10_000, throttles: c.throttles, log: quiet });
    const done = p.wait(spec("a"));
    await vi.advanceTimersByTimeAsync(500);
    c.throttle(1);
    c.rejectOnce(new RateLimitError("slow down", { cloud: "ppio", status: 429 }));
    await vi.advanceTimersByTimeAsync(500);
    expect(p.stats.fetchErrors).toBe(1);
    expect(p.waiting).toBe(1);
    c.state.a = "running";
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(done).resolves.toBe("running");
    // 0.5 s plus a tenth of the 0.5 s since the last change, doubled after the throttled poll
    expect(c.gaps()).toEqual([500, 1_100]);
  });
});

describe("PPIO's list-or-get cost", () => {
  it("is one request per id up to the pages a listing takes, the listing beyond", () => {
    const source = listOrGet(
      async (id) => ({ id }),
      async () => [],
    );
    expect(source.cost!(["a"])).toBe(1);
    expect(source.cost!(["a", "b", "c"])).toBe(1);
  });
});

describe("the stats file (a benchmark knob)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gpu-cloud-stats-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env.GPU_CLOUD_STATS_FILE;
  });

  it("is written when the pollers fall idle, only when GPU_CLOUD_STATS_FILE names it", async () => {
    const file = join(dir, "stats.json");
    const c = cloud();
    c.state.a = "running";
    const p = new Poller(c.source, { name: "test things", minIntervalMs: 500, log: quiet });
    await Promise.all([p.wait(spec("a")), vi.advanceTimersByTimeAsync(500)]);
    expect(() => readFileSync(file)).toThrow();

    process.env.GPU_CLOUD_STATS_FILE = file;
    await Promise.all([p.wait(spec("a")), vi.advanceTimersByTimeAsync(500)]);
    const written = JSON.parse(readFileSync(file, "utf8"));
    expect(written.peakRssMb).toBeGreaterThan(0);
    expect(written.pollers).toContainEqual(expect.objectContaining({ name: "test things", ticks: 2, idsPolled: 2 }));
  });

  it("never throws, whatever the path", () => {
    expect(() => writeStatsFile(dir)).not.toThrow(); // a directory
    expect(() => writeStatsFile(join(dir, "missing", "stats.json"))).not.toThrow();
  });
});

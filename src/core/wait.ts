/**
 * The shared poller. Every resource waiting on the same cloud account in one provider
 * process registers a waiter here; one timer drives them all, and each tick asks the
 * cloud about every due id in a single `PollSource.fetch` call (CompShare describes up to
 * 100 ids per request, PPIO lists or gets with bounded concurrency).
 *
 * Cadence: a waiter is first polled after `minIntervalMs`; afterwards its interval is that
 * minimum plus a tenth of the time since its state last changed, up to `maxIntervalMs`. So
 * a long quiet wait backs off towards the cap, a state change makes polling fast again, and
 * the lag between the cloud finishing and us noticing stays within min + 10% of the time
 * waited. (Adding the tenth rather than taking the larger of the two spends a third fewer
 * polls on the first seconds of each state, for at most `min` more lag.)
 * Waiters not yet due join a tick when the source says that costs no extra request, and a
 * throttled poll stretches every interval until polls go through cleanly again.
 *
 * Reads (`Poller.read`: refresh, and the look before a delete) are one-shot observations
 * served by the same ticks. A read waits for company: its tick runs once no other read has
 * arrived for `READ_QUIET_MS`, and at most `READ_GATHER_MS` after the first read of the
 * batch, so the reads of a `pulumi refresh`, which the engine sends as fast as its
 * parallelism allows, cost a request or two per 100 ids instead of one each. Waits due about
 * then ride along.
 *
 * The `naive` strategy exists only to measure against: each object is polled on its own,
 * first after 3 s and then every 5 s, as typical Terraform providers for GPU clouds do, and
 * each read is a fetch of its own id, sent at once.
 */
import { writeFileSync } from "node:fs";
import { type GpuCloudError, TerminalStateError, TimeoutError } from "./errors";
import type { Cloud } from "./errors";
import { progress } from "./provider";

/** `null` means the cloud does not know the id (deleted, or never existed). */
export type Observed<S> = S | null;

export interface PollSource<S> {
  /**
   * Current state of each id; ids the cloud does not know map to `null` (or are absent).
   * `reads` are the ids asked for by `Poller.read`: a `null` for one of them makes a
   * refresh drop the object from the stack, so a source must be sure of it.
   */
  fetch(ids: string[], reads?: ReadonlySet<string>): Promise<Map<string, Observed<S>>>;
  /**
   * Requests a fetch of these ids would send. When given, waiters that are not due yet ride
   * along on a tick whenever that costs no extra request: they learn their state early and
   * fall into step with the others, so later ticks serve everyone at once.
   */
  cost?(ids: string[]): number;
}

export type Verdict = "done" | "pending" | { failed: string };

export interface WaitSpec<S> {
  cloud: Cloud;
  id: string;
  /** e.g. `ppio instance` — the progress line reads `ppio instance 3f9c… pulling (42s)`. */
  kind: string;
  /** What we are waiting for, for messages: `running`, `deleted`. */
  target: string;
  /** The state word shown in progress lines. */
  describe(state: Observed<S>): string;
  until(state: Observed<S>): Verdict;
  timeoutMs: number;
  /** The input that sets the deadline, named in the timeout message (`timeouts.create`). */
  timeoutSetting: string;
}

export type PollStrategy = "shared" | "naive";

export interface PollerOptions {
  /** How the benchmark's stats file names this poller, e.g. `ppio instances`. */
  name?: string;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  strategy?: PollStrategy;
  /** Progress lines; default: `progress` (stderr, which Pulumi shows). */
  log?: (line: string) => void;
  /** Extra delay to respect while the cloud throttles us. */
  throttledForMs?: () => number;
  /** Throttling answers the transport has seen so far; a poll during which it grows slows polling down. */
  throttles?: () => number;
  /** A read's tick runs once no other read arrived for this long (default `READ_QUIET_MS`). */
  readQuietMs?: number;
  /** ... and at most this long after the first read of the batch (default `READ_GATHER_MS`). */
  readGatherMs?: number;
}

/**
 * Benchmark and test knobs from the environment: GPU_CLOUD_POLL_MIN_MS (the first poll,
 * default 500 ms) and GPU_CLOUD_POLL_STRATEGY (`shared`, the default, or `naive`).
 */
export function pollerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PollerOptions {
  const min = Number(env.GPU_CLOUD_POLL_MIN_MS);
  return {
    ...(Number.isFinite(min) && min > 0 ? { minIntervalMs: min } : {}),
    ...(env.GPU_CLOUD_POLL_STRATEGY === "naive" ? { strategy: "naive" as const } : {}),
  };
}

const NAIVE_FIRST_MS = 3_000;
const NAIVE_EVERY_MS = 5_000;
/** Each throttled poll doubles every interval (up to this factor, and never beyond the cap); each clean poll halves it again. */
const MAX_SLOWDOWN = 16;
/**
 * How long a read waits for others to share its request. The engine sends the reads of a
 * refresh (and the deletes of a destroy) as fast as its parallelism allows, so they reach
 * the provider process close together, and a short quiet period ends the batch: a lone
 * read pays 30 ms. While reads keep coming, the batch waits for them up to the cap. A fleet
 * loses no time to that, since its operation ends with its last read, which the last batch
 * answers as soon as the reads stop either way; with a 250 ms cap, 100 reads that trickled
 * in over 2 s on a busy machine took three requests.
 */
export const READ_QUIET_MS = 30;
export const READ_GATHER_MS = 1_000;

export interface PollerStats {
  /** Poll rounds: one per tick (shared), one per object poll (naive). */
  ticks: number;
  /** Calls of `PollSource.fetch`. */
  fetches: number;
  idsPolled: number;
  maxIdsPerTick: number;
  fetchErrors: number;
  /** State changes seen after a waiter's first observation. */
  stateChanges: number;
  /** Calls of `Poller.read`. */
  reads: number;
  /** When the first read arrived and when the last one was answered (epoch ms; 0: none yet). */
  firstReadAt: number;
  lastReadAt: number;
}

/** Every poller of this process, for the stats file. */
const pollers: Poller<unknown>[] = [];

/**
 * Benchmark knob, off unless GPU_CLOUD_STATS_FILE names a file: the provider process writes
 * `{ peakRssMb, pollers: [{ name, ...stats }] }` there each time its pollers fall idle and
 * on exit. The idle writes are what counts, since the engine ends provider processes with
 * SIGINT, which skips `exit` handlers. A measuring aid must never break a deployment, so it
 * swallows every error and prints nothing.
 */
export function writeStatsFile(file = process.env.GPU_CLOUD_STATS_FILE): void {
  if (!file) return;
  try {
    const stats = pollers.map((p) => ({ name: p.name, ...p.stats }));
    writeFileSync(file, JSON.stringify({ peakRssMb: process.resourceUsage().maxRSS / 1024, pollers: stats }));
  } catch {
    // see above
  }
}

interface Waiter<S> {
  spec: WaitSpec<S>;
  startedAt: number;
  lastChangeAt: number;
  nextDueAt: number;
  deadline: number;
  last?: string;
  lastState?: Observed<S>;
  /** A one-shot read: resolved with the first state fetched, whatever it is, and never logged. */
  read?: true;
  resolve(state: Observed<S>): void;
  reject(error: Error): void;
}

const idsOf = <S>(waiters: Waiter<S>[]) => [...new Set(waiters.map((w) => w.spec.id))];

/** Long ids are cut after 8 characters (`d8905fdd3e6284ad` → `d8905fdd…`), keeping a type prefix such as `uhost-`. */
export function shortId(id: string): string {
  const [, prefix = "", rest] = /^([a-z]+-)?(.*)$/i.exec(id)!;
  return rest.length > 12 ? `${prefix}${rest.slice(0, 8)}…` : id;
}
const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

export class Poller<S> {
  private readonly waiters = new Set<Waiter<S>>();
  private timer?: NodeJS.Timeout;
  private inFlight = false;
  private readonly min: number;
  private readonly max: number;
  private readonly log: (line: string) => void;
  private readonly throttledForMs: () => number;
  private readonly throttles: () => number;
  private slowdown = 1;
  private readonly strategy: PollStrategy;
  private readonly readQuietMs: number;
  private readonly readGatherMs: number;
  /** When the first read not yet sent arrived. */
  private gatheringSince?: number;
  readonly stats: PollerStats = { ticks: 0, fetches: 0, idsPolled: 0, maxIdsPerTick: 0, fetchErrors: 0, stateChanges: 0, reads: 0, firstReadAt: 0, lastReadAt: 0 };
  readonly name: string;

  constructor(
    private readonly source: PollSource<S>,
    opts: PollerOptions = {},
  ) {
    this.min = opts.minIntervalMs ?? 500;
    this.max = opts.maxIntervalMs ?? 10_000;
    this.log = opts.log ?? progress;
    this.throttledForMs = opts.throttledForMs ?? (() => 0);
    this.throttles = opts.throttles ?? (() => 0);
    this.strategy = opts.strategy ?? "shared";
    this.name = opts.name ?? "poller";
    this.readQuietMs = opts.readQuietMs ?? READ_QUIET_MS;
    this.readGatherMs = opts.readGatherMs ?? READ_GATHER_MS;
    pollers.push(this as Poller<unknown>);
  }

  /** Resolves with the state that satisfied `spec.until`; rejects on a failure verdict or the deadline. */
  wait(spec: WaitSpec<S>): Promise<Observed<S>> {
    return new Promise((resolve, reject) => {
      const now = Date.now();
      const waiter: Waiter<S> = {
        spec,
        startedAt: now,
        lastChangeAt: now,
        nextDueAt: now + (this.strategy === "naive" ? NAIVE_FIRST_MS : Math.min(this.max, this.min * this.slowdown)),
        deadline: now + spec.timeoutMs,
        resolve,
        reject,
      };
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  /**
   * The current state of `id` (`null`: the cloud does not know it), from a fetch shared
   * with every read arriving with it and with the waits due about then. A failed fetch
   * fails every read it carried, as each read's own request would have (the transport has
   * retried it, backing off for all of them at once).
   */
  read(id: string): Promise<Observed<S>> {
    this.stats.reads++;
    this.stats.firstReadAt ||= Date.now();
    if (this.strategy === "naive") return this.readAlone(id);
    return new Promise((resolve, reject) => {
      const now = Date.now();
      this.gatheringSince ??= now;
      const due = Math.min(this.gatheringSince + this.readGatherMs, now + this.readQuietMs);
      for (const w of this.waiters) if (w.read) w.nextDueAt = due;
      this.waiters.add({ spec: readSpec(id), read: true, startedAt: now, lastChangeAt: now, nextDueAt: due, deadline: Infinity, resolve, reject });
      this.schedule();
    });
  }

  /** The baseline's read: one fetch of this id alone, sent at once. */
  private async readAlone(id: string): Promise<Observed<S>> {
    this.stats.ticks++;
    this.stats.fetches++;
    this.stats.idsPolled++;
    this.stats.maxIdsPerTick = Math.max(this.stats.maxIdsPerTick, 1);
    try {
      return (await this.source.fetch([id], new Set([id]))).get(id) ?? null;
    } catch (e) {
      this.stats.fetchErrors++;
      throw e;
    } finally {
      this.stats.lastReadAt = Date.now();
      if (this.waiters.size === 0) writeStatsFile();
    }
  }

  get waiting(): number {
    return this.waiters.size;
  }

  private intervalFor(w: Waiter<S>, now: number): number {
    if (this.strategy === "naive") return NAIVE_EVERY_MS;
    return Math.min(this.max, (this.min + (now - w.lastChangeAt) / 10) * this.slowdown);
  }

  private schedule(): void {
    if (this.inFlight) return; // the running tick reschedules when it ends
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiters.size === 0) return;
    let next = Infinity;
    for (const w of this.waiters) next = Math.min(next, w.nextDueAt, w.deadline);
    const delay = Math.max(next - Date.now(), this.throttledForMs());
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delay));
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    for (const w of this.waiters) {
      if (now >= w.deadline) this.finish(w, this.timeoutError(w, now));
    }
    let due =
      this.strategy === "naive"
        ? [...this.waiters].filter((w) => w.nextDueAt <= now)
        : // Everything due now, and any wait due soon: one request serves them all. A read
          // still gathering company is not taken early, so the reads after it are not split off.
          [...this.waiters].filter((w) =>
            w.read ? w.nextDueAt <= now : w.nextDueAt <= now + Math.max(250, this.intervalFor(w, now) / 2),
          );
    if (due.length === 0) return this.schedule();
    if (this.strategy === "shared" && this.source.cost && due.length < this.waiters.size) {
      const all = [...this.waiters];
      if (this.source.cost(idsOf(all)) <= this.source.cost(idsOf(due))) due = all;
    }
    if (due.some((w) => w.read)) {
      // Reads arriving from now on gather for the next tick.
      this.gatheringSince = undefined;
      for (const w of due) if (w.read) this.waiters.delete(w);
    }
    this.inFlight = true;
    try {
      if (this.strategy === "naive") await Promise.all(due.map((w) => this.poll([w])));
      else await this.poll(due);
    } finally {
      this.inFlight = false;
      if (this.waiters.size === 0) writeStatsFile();
      this.schedule();
    }
  }

  /** One round: a single fetch for the ids of `due`, delivered to each waiter. */
  private async poll(due: Waiter<S>[]): Promise<void> {
    const ids = idsOf(due);
    const throttlesBefore = this.throttles();
    this.stats.ticks++;
    this.stats.fetches++;
    this.stats.idsPolled += ids.length;
    this.stats.maxIdsPerTick = Math.max(this.stats.maxIdsPerTick, ids.length);
    try {
      const states = await this.source.fetch(ids, new Set(due.filter((w) => w.read).map((w) => w.spec.id)));
      this.adjustPace(throttlesBefore);
      const seen = Date.now();
      if (due.some((w) => w.read)) this.stats.lastReadAt = seen;
      for (const w of due) {
        if (w.read) w.resolve(states.get(w.spec.id) ?? null);
        else if (this.waiters.has(w)) this.observe(w, states.get(w.spec.id) ?? null, seen);
      }
    } catch (e) {
      this.stats.fetchErrors++;
      this.adjustPace(throttlesBefore);
      const err = e as GpuCloudError;
      const seen = Date.now();
      if (due.some((w) => w.read)) this.stats.lastReadAt = seen;
      for (const w of due) {
        if (w.read) {
          w.reject(err);
          continue;
        }
        if (!this.waiters.has(w)) continue;
        if (err.transient) {
          // A failed poll is not a failed wait: the transport already retried; try again later.
          w.nextDueAt = seen + this.intervalFor(w, seen);
        } else {
          this.finish(w, err);
        }
      }
    }
  }

  /**
   * The cloud's rate limit is shared by everything this process sends it: when it throttled
   * anything during a poll (our own request or another resource's create), every wait polls
   * less often, instead of the transport retrying until someone's request fails.
   */
  private adjustPace(throttlesBefore: number): void {
    if (this.throttles() > throttlesBefore) this.slowdown = Math.min(MAX_SLOWDOWN, this.slowdown * 2);
    else this.slowdown = Math.max(1, this.slowdown / 2);
  }

  private observe(w: Waiter<S>, state: Observed<S>, now: number): void {
    const word = w.spec.describe(state);
    w.lastState = state;
    if (word !== w.last) {
      if (w.last !== undefined) this.stats.stateChanges++;
      w.last = word;
      w.lastChangeAt = now;
      this.log(`${w.spec.kind} ${shortId(w.spec.id)} ${word} (${seconds(now - w.startedAt)})`);
    }
    const verdict = w.spec.until(state);
    if (verdict === "done") return this.finish(w, undefined, state);
    if (typeof verdict === "object") {
      return this.finish(
        w,
        new TerminalStateError(`${w.spec.kind} ${w.spec.id} ${verdict.failed}`, {
          cloud: w.spec.cloud,
          operation: `wait for ${w.spec.target}`,
        }),
      );
    }
    w.nextDueAt = now + this.intervalFor(w, now);
  }

  private timeoutError(w: Waiter<S>, now: number): Error {
    return new TimeoutError(
      `${w.spec.kind} ${w.spec.id} was still ${w.last ?? "unobserved"} after ${seconds(now - w.startedAt)} ` +
        `waiting to become ${w.spec.target}`,
      {
        cloud: w.spec.cloud,
        operation: `wait for ${w.spec.target}`,
        hint: `Raise ${w.spec.timeoutSetting} if the cloud is just slow`,
      },
    );
  }

  private finish(w: Waiter<S>, error?: Error, state?: Observed<S>): void {
    if (!this.waiters.delete(w)) return;
    if (error) w.reject(error);
    else w.resolve(state ?? null);
    if (this.waiters.size === 0) writeStatsFile();
  }
}

/** A read is a waiter that takes whatever it sees: it never times out, fails on a state or logs, so no message shows these. */
function readSpec<S>(id: string): WaitSpec<S> {
  return {
    cloud: "ppio",
    id,
    kind: "read",
    target: "read",
    describe: () => "read",
    until: () => "done",
    timeoutMs: Infinity,
    timeoutSetting: "",
  };
}

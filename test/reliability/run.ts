/**
 * Runs one fault scenario against a fresh emulator through the runtime providers, as the
 * engine would call them, then checks the invariants against the emulator's own records
 * and destroys what the engine would have recorded.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { GpuCloudError } from "../../src/core/errors";
import { type ConfigReader, PartialFailureError } from "../../src/core/provider";
import type { Emulator } from "../../src/emulator/server";
import { isPlainJson, PROVIDER_TEXT } from "../support/fixtures";
import { CANARY, DRIVERS, type Props, startCanaryEmulator } from "./drivers";
import type { Scenario, StepRun } from "./scenarios";

export const RESULTS_DIR = fileURLToPath(new URL(".results", import.meta.url));

export interface MatrixRow {
  scenario: string;
  resource: string;
  step: string;
  fault: string;
  expected: string;
  outcome: string;
  /** Cloud objects that exist but whose id the caller was not given. */
  orphans: number;
  /** Creates the cloud executed beyond one per logical create. */
  duplicates: number;
  /** Occurrences of a credential in anything printed, thrown or returned. */
  secretsFound: number;
  /** Objects left after destroying what the engine would have recorded. */
  leftAfterDestroy: number;
  passed: boolean;
  problems: string[];
  ms: number;
}

interface Recorded {
  id: string;
  props: Props;
}

/** Every credential the suites use: none may appear in anything a user sees. */
export const CANARIES: string[] = Object.values(CANARY);

/**
 * Occurrences of a secret in a text: whole ones, and also pieces of one (any 12 characters
 * of it), which a message cut to length before redaction would leave behind.
 */
export function countCanaries(text: string, secrets: readonly string[] = CANARIES, piece = 12): number {
  let n = 0;
  let rest = text;
  for (const s of secrets) {
    const parts = rest.split(s);
    n += parts.length - 1;
    rest = parts.join("\u0000");
  }
  const pieces = new Set<string>();
  for (const s of secrets) for (let i = 0; i + piece <= s.length; i++) pieces.add(s.slice(i, i + piece));
  for (let i = 0; i + piece <= rest.length; i++) {
    if (pieces.has(rest.slice(i, i + piece))) {
      n++;
      i += piece - 1;
    }
  }
  return n;
}

/** Everything an error can show: message, stack, enumerable fields, the whole cause chain. */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 10; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.message, cur.stack ?? "", safeJson(cur), inspect(cur, { depth: 10 }));
      cur = (cur as { cause?: unknown }).cause;
    } else {
      parts.push(String(cur), safeJson(cur));
      break;
    }
  }
  return parts.join("\n");
}

export function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return String(v);
  }
}

/**
 * Scenarios run concurrently, each with its own emulator and keys. The providers read stack
 * config and write progress lines through process-wide singletons, so both are routed by
 * async context: each scenario sees only its own config and collects only its own stderr.
 */
interface Lane {
  config: ConfigReader;
  chunks: string[];
}
const lanes = new AsyncLocalStorage<Lane>();
/** Whatever reached stderr outside every scenario (also searched for credentials). */
export const unattributedStderr: string[] = [];
let routed = false;

function routeThroughLanes(): void {
  if (routed) return;
  routed = true;
  const reader: ConfigReader = { get: (key) => lanes.getStore()?.config.get(key) };
  for (const d of Object.values(DRIVERS)) d.provider.configure({ config: reader });
  const original = process.stderr.write.bind(process.stderr);
  const verbose = !!process.env.RELIABILITY_VERBOSE;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    const lane = lanes.getStore();
    (lane ? lane.chunks : unattributedStderr).push(text);
    return verbose || !lane ? (original as (...a: unknown[]) => boolean)(chunk, ...rest) : true;
  }) as typeof process.stderr.write;
}

const outcomeOf = (e: unknown): string =>
  e === undefined ? "success" : e instanceof PartialFailureError ? "partial failure" : (e as Error)?.constructor?.name ?? "thrown value";

export function expectedOf(sc: Scenario): string {
  const x = sc.expect;
  return x.outcome === "success" ? "success" : x.outcome === "partial" ? "partial failure" : x.error.name;
}

/** The message a user reads for an outcome: the error's, or the partial failure's reasons. */
const shown = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function runScenario(sc: Scenario): Promise<MatrixRow> {
  routeThroughLanes();
  const emu = await startCanaryEmulator();
  const lane: Lane = { config: DRIVERS[sc.resource].config(emu).config, chunks: [] };
  return lanes.run(lane, () => scenarioIn(lane, sc, emu));
}

async function scenarioIn(lane: Lane, sc: Scenario, emu: Emulator): Promise<MatrixRow> {
  const started = Date.now();
  const d = DRIVERS[sc.resource];
  const p = d.provider;
  const configure = (over?: Record<string, string>) => {
    lane.config = d.config(emu, over).config;
  };
  const problems: string[] = [];
  const seen: string[] = [];
  let row: Omit<MatrixRow, "passed" | "problems" | "ms" | "leftAfterDestroy" | "secretsFound">;
  let leftAfterDestroy = 0;
  try {
    const inputs = { ...d.base, ...sc.inputs, autonamePrefix: "rel", __provider: PROVIDER_TEXT };
    const creates = sc.step === "create" || sc.step === "wait";

    let prepared: (Recorded & { inputs: Props }) | undefined;
    let news: Props = inputs;
    if (creates) {
      news = await checked(p, undefined, inputs);
    } else {
      const prepInputs = await checked(p, undefined, inputs);
      const { id, outs } = await p.create(prepInputs);
      prepared = { id, props: { ...outs, __provider: PROVIDER_TEXT }, inputs: prepInputs };
      if (sc.step === "update") {
        news = await checked(p, prepInputs, { ...inputs, ...sc.change });
        const diff = await p.diff(id, prepared.props, news);
        if (!diff.changes || diff.replaces.length > 0) throw new Error(`scenario ${sc.id}: the change is not an in-place update`);
      }
    }

    const createdBefore = d.created(emu);
    const ctx = { emu, id: prepared?.id };
    sc.setup?.(ctx);
    if (sc.config) configure(sc.config);

    const mark = lane.chunks.length;
    let value: unknown;
    let error: unknown;
    try {
      if (creates) value = await p.create(news);
      else if (sc.step === "update") value = await p.update(prepared!.id, prepared!.props, news);
      else if (sc.step === "delete") value = await p.delete(prepared!.id, prepared!.props);
      else value = await p.read(prepared!.id, prepared!.props);
    } catch (e) {
      error = e;
    }
    const stepStderr = lane.chunks.slice(mark).join("");
    const createdDuringStep = d.created(emu) - createdBefore;
    if (error !== undefined) seen.push(errorText(error));
    if (value !== undefined) seen.push(safeJson(value));

    // What the engine would hold in its state after this step.
    const recorded: Recorded[] = [];
    const partial = error instanceof PartialFailureError ? error : undefined;
    if (creates) {
      const v = value as { id: string; outs: Props } | undefined;
      if (v) recorded.push({ id: v.id, props: { ...v.outs, __provider: PROVIDER_TEXT } });
      if (partial) recorded.push({ id: partial.id, props: partial.properties });
    } else if (sc.step === "update") {
      const v = value as { outs: Props } | undefined;
      recorded.push({ id: prepared!.id, props: v ? { ...v.outs, __provider: PROVIDER_TEXT } : partial ? partial.properties : prepared!.props });
    } else if (sc.step === "delete") {
      if (error !== undefined) recorded.push(prepared!);
    } else {
      const v = value as { id: string; props: Props } | undefined;
      if (v?.id) recorded.push({ id: v.id, props: { ...v.props, __provider: PROVIDER_TEXT } });
      else if (error !== undefined) recorded.push(prepared!);
    }

    const known = new Set([prepared?.id, ...recorded.map((r) => r.id)].filter(Boolean));
    const orphans = d.live(emu).filter((id) => !known.has(id));
    const duplicates = Math.max(0, createdDuringStep - (creates ? 1 : 0));
    row = {
      scenario: sc.id,
      resource: sc.resource,
      step: sc.step,
      fault: sc.fault,
      expected: expectedOf(sc),
      outcome: outcomeOf(error),
      orphans: orphans.length,
      duplicates,
    };

    if (orphans.length > 0) problems.push(`orphaned: ${orphans.join(", ")} exist(s) but the caller was not given the id`);
    if (duplicates > 0) problems.push(`the cloud executed ${createdDuringStep} creates for ${creates ? 1 : 0} logical create(s)`);
    if (row.outcome !== row.expected) {
      problems.push(`expected ${row.expected}, got ${row.outcome}${error !== undefined ? `: ${shown(error)}` : ""}`);
    }
    const x = sc.expect;
    if (x.outcome === "success") {
      if (x.sees && !x.sees.test(stepStderr)) problems.push(`stderr does not show ${x.sees}:\n${stepStderr}`);
    } else if (error !== undefined) {
      if (!x.sees.test(shown(error))) problems.push(`the message does not match ${x.sees}: ${shown(error)}`);
    }
    if (x.outcome === "error" && error !== undefined && !(error instanceof GpuCloudError)) {
      problems.push(`untyped error: ${outcomeOf(error)}`);
    }
    if (partial) {
      if (!partial.id) problems.push("partial failure without an id");
      if (partial.properties.__provider !== PROVIDER_TEXT) problems.push("partial failure without __provider");
      if (!isPlainJson(partial.properties)) problems.push("partial failure properties are not plain JSON");
    }
    const outs = (value as { outs?: Props } | undefined)?.outs;
    if (outs !== undefined && !isPlainJson(outs)) problems.push("outputs are not plain JSON");
    try {
      sc.verify?.({ ...ctx, value, error, createdDuringStep, stderr: stepStderr } satisfies StepRun);
    } catch (e) {
      problems.push(`verify: ${(e as Error).message}`);
    }

    // Destroy what was recorded, with the faults gone and the right keys.
    emu.faults.clear();
    d.release(emu);
    configure();
    for (const r of recorded) {
      try {
        await p.delete(r.id, r.props);
      } catch (e) {
        problems.push(`destroy of ${r.id} failed: ${shown(e)}`);
        seen.push(errorText(e));
      }
    }
    leftAfterDestroy = d.live(emu).length;
    if (leftAfterDestroy > 0) problems.push(`destroying what was recorded left ${d.live(emu).join(", ")}`);
  } catch (e) {
    // A failure of the scenario's own preparation: report it, never hide it.
    problems.push(`scenario could not run: ${errorText(e).split("\n")[0]}`);
    seen.push(errorText(e));
    row = {
      scenario: sc.id,
      resource: sc.resource,
      step: sc.step,
      fault: sc.fault,
      expected: expectedOf(sc),
      outcome: outcomeOf(e),
      orphans: 0,
      duplicates: 0,
    };
  } finally {
    emu.faults.clear();
    await emu.close();
  }
  const secretsFound = countCanaries([...lane.chunks, ...seen].join("\n"));
  if (secretsFound > 0) problems.push(`${secretsFound} credential occurrence(s) in output, errors or stderr`);
  return { ...row, secretsFound, leftAfterDestroy, passed: problems.length === 0, problems, ms: Date.now() - started };
}

async function checked(p: (typeof DRIVERS)[keyof typeof DRIVERS]["provider"], olds: Props | undefined, news: Props): Promise<Props> {
  const r = await p.check(olds, news);
  if (r.failures.length > 0) throw new Error(`inputs fail check: ${JSON.stringify(r.failures)}`);
  return r.inputs;
}

export function writeResults(name: string, rows: unknown): void {
  const file = join(RESULTS_DIR, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
}

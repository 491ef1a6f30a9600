/**
 * A killed `pulumi up` never buys a GPU twice or leaves one billing unseen (invariant 10),
 * through the real CLI, a file backend and the emulator.
 *
 * Each scenario is one stack holding all four kinds of declaration (PpioInstance with a
 * generated name and with an explicit one, PpioEndpoint, CompShareInstance). `pulumi up` is
 * killed at one moment after the creates were sent (while the answers are on their way,
 * during the readiness wait, or once the objects are ready but before the engine learnt it),
 * by SIGKILL of the CLI and everything under it or by Ctrl-C twice. Then, as a user would:
 * `pulumi cancel`, `pulumi up` again (in some scenarios on a "new machine": another
 * PULUMI_HOME and checkout, only the backend shared), `pulumi refresh --clear-pending-creates`,
 * `pulumi destroy`. After each: one cloud object per resource, each the one the state records,
 * and nothing left after the destroy. A neighbour stack of the same program (same explicit
 * name) stays deployed throughout: its objects must never be adopted or touched. Rows go to
 * `.results/kill.json`.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { identityOf, markerInEnvs, markerInRemark, parseMarker } from "../../src/core/identity";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { pulumiCli } from "../e2e/harness";
import { e2eDescribe } from "../e2e/setup";
import { DRIVERS } from "./drivers";
import { cleanRoot, Machine, PROJECT, type Run } from "./kill-harness";
import { type MatrixRow, writeResults } from "./run";

type Point = "answer" | "wait" | "ready";
type How = "SIGKILL" | "Ctrl-C twice" | "Ctrl-C once";

interface Scenario {
  id: string;
  point: Point;
  how: How;
  /** The rerun happens on another machine: new PULUMI_HOME and checkout, same backend. */
  fresh?: boolean;
  /** The killed up is a create-before-delete replacement of every resource. */
  replace?: boolean;
  /** `pulumi refresh --clear-pending-creates` runs before the rerun instead of only after it. */
  clearFirst?: boolean;
}

const POINTS: Record<Point, string> = {
  answer: "create sent, answer on its way",
  wait: "during the readiness wait",
  ready: "ready, not yet recorded",
};

const SCENARIOS: Scenario[] = [
  { id: "kill-answer-sigkill", point: "answer", how: "SIGKILL" },
  { id: "kill-answer-ctrlc2", point: "answer", how: "Ctrl-C twice" },
  { id: "kill-wait-sigkill", point: "wait", how: "SIGKILL" },
  { id: "kill-wait-ctrlc2", point: "wait", how: "Ctrl-C twice" },
  { id: "kill-ready-sigkill", point: "ready", how: "SIGKILL" },
  { id: "kill-ready-ctrlc2", point: "ready", how: "Ctrl-C twice" },
  { id: "kill-wait-sigkill-new-machine", point: "wait", how: "SIGKILL", fresh: true, clearFirst: true },
  { id: "kill-replacement-wait-sigkill", point: "wait", how: "SIGKILL", replace: true },
  // Not a kill: Pulumi finishes the waits in flight and records every object.
  { id: "interrupt-wait-ctrlc1", point: "wait", how: "Ctrl-C once" },
];

type Kind = "ppioInstance" | "ppioEndpoint" | "compShareInstance";
interface Decl {
  kind: Kind;
  name: string;
  label: string;
  type: string;
  args: Record<string, unknown>;
}

const DECLS: Decl[] = [
  { kind: "ppioInstance", name: "pi", label: "PpioInstance", type: "pulumi-nodejs:dynamic/ppio:Instance", args: DRIVERS.PpioInstance.base },
  {
    kind: "ppioInstance",
    name: "pi-named",
    label: "PpioInstance (explicit name)",
    type: "pulumi-nodejs:dynamic/ppio:Instance",
    args: { ...DRIVERS.PpioInstance.base, name: "trainer-fixed" },
  },
  { kind: "ppioEndpoint", name: "pe", label: "PpioEndpoint", type: "pulumi-nodejs:dynamic/ppio:Endpoint", args: DRIVERS.PpioEndpoint.base },
  { kind: "compShareInstance", name: "cs", label: "CompShareInstance", type: "pulumi-nodejs:dynamic/compshare:Instance", args: DRIVERS.CompShareInstance.base },
];

/** Changes that replace each resource (the README's tables). */
const REPLACING: Record<string, Record<string, unknown>> = {
  // more GPUs (a larger root filesystem would grow in place)
  pi: { resource: { gpuNum: 2, rootfsSizeGb: 30 } },
  "pi-named": { resource: { gpuNum: 2, rootfsSizeGb: 30 } },
  pe: { appName: "replaced" },
  cs: { remark: "replaced" },
};

const spec = (changed: boolean) => JSON.stringify(DECLS.map((d) => ({ kind: d.kind, name: d.name, args: { ...d.args, ...(changed ? REPLACING[d.name] : {}) } })));

interface LiveObject {
  id: string;
  marker?: string;
  ready: boolean;
}

/** Every object of the emulator with the marker it carries. */
function objects(emu: Emulator): LiveObject[] {
  return [
    ...emu.ppio.instances().map((i) => ({ id: i.id, marker: markerInEnvs(i.envs), ready: i.status.status === "running" })),
    ...emu.ppio.endpoints().map((e) => ({ id: e.id, marker: markerInEnvs(e.envs), ready: e.status.status === "running" })),
    ...emu.compshare.instances().map((c) => ({ id: c.UHostId, marker: markerInRemark(c.Remark), ready: c.State === "Running" })),
  ];
}

const identity = (stack: string, d: Decl) =>
  identityOf({ organization: "organization", project: PROJECT, stack, type: d.type, name: d.name, parents: [] });

const ofResource = (emu: Emulator, stack: string, d: Decl) => objects(emu).filter((o) => parseMarker(o.marker)?.identity === identity(stack, d));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let emu: Emulator;
let root: string;
let bins: string[] = [];
let machine: Machine;
let neighbour: Map<string, string>;
const rows: MatrixRow[] = [];
let counter = 0;
const cli = await pulumiCli();

beforeAll(async () => {
  if (!cli) return;
  bins = cli.pathDirs ?? [cli.binDir];
  emu = await startEmulator({ timings: { ppio: { provisionMs: 6000, endpointCreateMs: 6000 }, compshare: { provisionMs: 6000 } } });
  mkdirSync(join(process.cwd(), ".pulumi-e2e"), { recursive: true });
  root = mkdtempSync(join(process.cwd(), ".pulumi-e2e", "kill-"));
  mkdirSync(join(root, "state"));
  Machine.project(join(root, "m1"));
  machine = new Machine(root, join(root, "m1"), bins, emu, join(root, "home-1"));
  // The neighbour: the same program deployed as another stack, left running throughout.
  await machine.ok(["stack", "init", "neighbour"]);
  await machine.ok(["config", "set", "--stack", "neighbour", "kill:spec", spec(false)]);
  await machine.ok(["up", "--yes", "--skip-preview", "--stack", "neighbour"]);
  neighbour = new Map(DECLS.map((d) => [d.name, ofResource(emu, "neighbour", d).map((o) => o.id).join(",")]));
}, 240_000);

afterAll(async () => {
  if (!cli) return;
  if (rows.length > 0) writeResults("kill.json", rows);
  await machine?.run(["destroy", "--yes", "--skip-preview", "--stack", "neighbour"]);
  machine?.cleanup();
  await emu?.close();
  cleanRoot(root);
}, 240_000);

/** Waits until every stack of a group reached the kill point, adding the faults that make it reachable. */
async function reach(point: Point, stacks: string[]): Promise<void> {
  const mine = () => stacks.flatMap((stack) => DECLS.map((d) => ofResource(emu, stack, d)));
  if (point === "answer") {
    await until("every create request", () => emu.requests.filter((q) => q.fault?.startsWith("delay")).length >= DECLS.length * stacks.length);
    return;
  }
  await until("every object to exist", () => mine().every((o) => o.length > 0));
  if (point === "wait") return;
  // Every poll from now on hangs: the provider cannot learn that the objects became ready.
  emu.faults.add({ cloud: "ppio", method: "GET", delayMs: 120_000, times: Infinity });
  emu.faults.add({ cloud: "compshare", action: "DescribeCompShareInstance", delayMs: 120_000, times: Infinity });
  emu.faults.add({ cloud: "compshare", action: "GetCompShareInstancePrice", delayMs: 120_000, times: Infinity });
  await until("every object to be ready", () => mine().every((o) => o.some((x) => x.ready)));
  await sleep(300);
}

/** How the scenarios of one group meet: the kill point, and the moment all of them were killed. */
interface Gate {
  reached(): Promise<void>;
  killed(): Promise<void>;
}

/**
 * Runs scenarios side by side, each its own stack. Faults touch every request of a cloud, so a
 * group shares them: `shared` scenarios reach their kill point together and clear the faults
 * once all were killed; the others need no fault and go their own way.
 */
async function group(scs: Scenario[], shared: boolean): Promise<Record<string, string[]>> {
  const stacks = scs.map(() => `k${++counter}`);
  emu.faults.clear();
  emu.resetRequests();
  const point = scs[0].point;
  if (shared && point === "answer") {
    const n = scs.length;
    emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/instances", delayMs: 4000, times: 2 * n });
    emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/endpoints", delayMs: 4000, times: n });
    emu.faults.add({ cloud: "compshare", action: "CreateCompShareInstance", delayMs: 4000, times: n });
  }
  let reached: Promise<void> | undefined;
  let arrived = 0;
  let allKilled!: () => void;
  const killedAll = new Promise<void>((r) => (allKilled = r));
  let settled: Promise<void> | undefined;
  const gate = (i: number): Gate => ({
    reached: () => (shared ? (reached ??= reach(point, stacks)) : reach(scs[i].point, [stacks[i]])),
    killed: async () => {
      if (!shared) return;
      if (++arrived === scs.length) allKilled();
      // A scenario that failed before its kill must not hold the others forever.
      await Promise.race([killedAll, sleep(180_000)]);
      settled ??= (async () => {
        if (point === "answer") {
          await until("the delayed creates to land", () => stacks.every((st) => DECLS.every((d) => ofResource(emu, st, d).length > 0))).catch(() => undefined);
        }
        emu.faults.clear();
      })();
      await settled;
    },
  });
  const out: Record<string, string[]> = {};
  // At most three CLIs at a time: more only makes each slower on a small machine.
  const batch = shared ? scs.length : 3;
  for (let at = 0; at < scs.length; at += batch) {
    const results = await Promise.all(scs.slice(at, at + batch).map(async (sc, j) => [sc.id, await scenario(sc, stacks[at + j], gate(at + j))] as const));
    Object.assign(out, Object.fromEntries(results));
  }
  return out;
}

/** One scenario, start to end; resolves to its problems (its rows are in `rows`). */
async function scenario(sc: Scenario, stack: string, gate: Gate): Promise<string[]> {
  const started = Date.now();
  const problems: string[] = [];
  const seen = new Map(DECLS.map((d) => [d.name, new Set<string>()]));
  const note = () => {
    for (const d of DECLS) for (const o of ofResource(emu, stack, d)) seen.get(d.name)!.add(o.id);
  };
  await machine.ok(["stack", "init", stack]);
  await machine.ok(["config", "set", "--stack", stack, "kill:spec", spec(false)]);
  let originals = new Map<string, string>();
  if (sc.replace) {
    await machine.ok(["up", "--yes", "--skip-preview", "--stack", stack]);
    originals = new Map(DECLS.map((d) => [d.name, ofResource(emu, stack, d)[0]?.id ?? ""]));
    await machine.ok(["config", "set", "--stack", stack, "kill:spec", spec(true)]);
  }
  note();

  const run: Run = machine.start(["up", "--yes", "--skip-preview", "--stack", stack]);
  let reached = true;
  await gate.reached().catch((e) => {
    reached = false;
    problems.push(`kill point not reached: ${(e as Error).message}`);
  });
  if (sc.how === "SIGKILL") machine.killTree(run);
  else if (sc.how === "Ctrl-C twice") await machine.doubleCtrlC(run);
  else process.kill(-run.child.pid!, "SIGINT");
  const killed = await run.done;
  await gate.killed();
  if (sc.how === "Ctrl-C once") {
    const state = await machine.exported(stack);
    for (const d of DECLS) {
      const id = state.resources.find((r) => r.urn.endsWith(`::${d.name}`))?.id;
      if (!id || !ofResource(emu, stack, d).some((o) => o.id === id)) problems.push(`${d.name}: not recorded after one Ctrl-C`);
    }
  } else if (killed.code === 0) problems.push("the killed up finished anyway");
  note();
  if (sc.how === "Ctrl-C twice") {
    // The provider outlives the CLI (its own process group) and must stop by itself.
    await until("the provider to stop after its engine", () => machine.survivingProviders().length === 0, 15_000).catch(() =>
      problems.push(`the provider process outlived its CLI: ${machine.survivingProviders().join(", ")}`),
    );
    machine.cleanup();
  }

  // What a user does next: unlock, run again (perhaps on another machine).
  const next = sc.fresh ? new Machine(root, join(root, `m-${stack}`), bins, emu, join(root, `home-${stack}`)) : machine;
  if (sc.fresh) machine.cloneTo(next.dir);
  await next.run(["cancel", "--yes", "--stack", stack]);
  if (sc.clearFirst) await next.ok(["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", stack]);
  const rerun = await next.run(["up", "--yes", "--skip-preview", "--stack", stack]);
  if (rerun.code !== 0) problems.push(`the repeated up failed: ${rerun.out.slice(-1500)}`);
  // Once while the run goes on (the CLI repeats every message in its closing summary).
  const live = rerun.out.split(/\nDiagnostics:\n/)[0];
  const notices = live.split("pulumi-gpu-cloud: waiting for cloud objects").length - 1;
  if (notices > 1 || (notices === 0 && sc.how !== "Ctrl-C once")) problems.push(`the Ctrl-C notice was printed ${notices} times while the run went on`);
  note();
  const state = await next.exported(stack);
  const recorded = (d: Decl) => state.resources.find((r) => r.urn.endsWith(`::${d.name}`));

  const after = new Map<string, { live: string[]; id?: string }>();
  for (const d of DECLS) {
    const r = recorded(d);
    const live = ofResource(emu, stack, d).map((o) => o.id);
    after.set(d.name, { live, id: r?.id });
    if (!r?.id || (r.initErrors?.length ?? 0) > 0) problems.push(`${d.name}: not healthy in the state after the rerun`);
    if (live.length !== 1 || live[0] !== r?.id) problems.push(`${d.name}: ${live.length} objects (${live.join(", ")}), state records ${r?.id}`);
    if (sc.replace && r?.id === originals.get(d.name)) problems.push(`${d.name}: the replacement adopted the live original ${r?.id}`);
    if (sc.replace && live.includes(originals.get(d.name)!)) problems.push(`${d.name}: the replaced original ${originals.get(d.name)} is still there`);
  }

  // Clearing the pending creates the kill left is safe: nothing it clears exists unrecorded.
  await next.ok(["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", stack]);
  const cleared = await next.exported(stack);
  if (cleared.pendingOps !== 0) problems.push(`${cleared.pendingOps} pending operations after refresh --clear-pending-creates`);
  for (const d of DECLS) {
    const id = cleared.resources.find((r) => r.urn.endsWith(`::${d.name}`))?.id;
    const live = ofResource(emu, stack, d).map((o) => o.id);
    if (live.length !== 1 || live[0] !== id) problems.push(`${d.name}: after the refresh ${live.length} objects, state records ${id}`);
  }

  const destroyed = await next.run(["destroy", "--yes", "--skip-preview", "--stack", stack]);
  if (destroyed.code !== 0) problems.push(`destroy failed: ${destroyed.out.slice(-800)}`);
  for (const d of DECLS) {
    const left = ofResource(emu, stack, d).length;
    const now = ofResource(emu, "neighbour", d).map((o) => o.id).join(",");
    if (now !== neighbour.get(d.name)) problems.push(`${d.name}: the neighbour stack's objects changed (${neighbour.get(d.name)} → ${now})`);
    const ids = seen.get(d.name)!;
    const expectedObjects = sc.replace ? 2 : 1;
    const duplicates = Math.max(0, ids.size - expectedObjects);
    const orphans = after.get(d.name)!.live.filter((id) => id !== after.get(d.name)!.id).length;
    rows.push({
      scenario: sc.id,
      resource: d.label,
      step: POINTS[sc.point] + (sc.replace ? " (replacement)" : ""),
      fault: sc.how + (sc.fresh ? ", rerun on a new machine" : "") + (sc.clearFirst ? " after clearing the pending creates" : ""),
      expected: sc.how === "Ctrl-C once" ? "recorded" : "adopted",
      outcome: !reached ? "kill point missed" : duplicates > 0 ? "bought twice" : orphans > 0 ? "orphaned" : sc.how === "Ctrl-C once" ? "recorded" : "adopted",
      orphans,
      duplicates,
      secretsFound: 0,
      leftAfterDestroy: left,
      passed: reached && duplicates === 0 && orphans === 0 && left === 0 && problems.length === 0,
      problems,
      ms: Date.now() - started,
    });
    if (left > 0) problems.push(`${d.name}: destroy left ${left} objects`);
  }
  await next.run(["stack", "rm", "--yes", "--force", "--stack", stack]);
  return problems;
}

e2eDescribe("a killed pulumi up", () => {
  // Scenarios that need no fault run side by side; those that do, side by side with the others of their kill point.
  const groups: [string, Scenario[], boolean][] = [
    ["during the wait, no fault", SCENARIOS.filter((sc) => sc.point === "wait"), false],
    ["answer on its way", SCENARIOS.filter((sc) => sc.point === "answer"), true],
    ["ready, not recorded", SCENARIOS.filter((sc) => sc.point === "ready"), true],
  ];
  it.each(groups.map(([label, scs, shared]) => [`${label}: ${scs.map((sc) => sc.id).join(" + ")}`, scs, shared] as const))(
    "%s",
    async (_label, scs, shared) => {
      const problems = await group(scs, shared);
      expect(problems).toEqual(Object.fromEntries(scs.map((sc) => [sc.id, []])));
    },
    600_000,
  );

  it("`pulumi-gpu-cloud orphans` finds what the state lost, only that, and --delete removes it", async () => {
    const stack = "orphans";
    await machine.ok(["stack", "init", stack]);
    // Credentials only in the stack config: the command reads them from there.
    await machine.ok([
      "config", "set-all", "--stack", stack,
      "--plaintext", `kill:spec=${spec(false)}`,
      "--secret", `ppio:apiKey=${emu.apiKey}`,
      "--plaintext", `ppio:baseUrl=${emu.url}`,
      "--plaintext", `compshare:publicKey=${emu.compsharePublicKey}`,
      "--secret", `compshare:privateKey=${emu.compsharePrivateKey}`,
      "--plaintext", `compshare:baseUrl=${emu.url}`,
    ]);
    await machine.ok(["up", "--yes", "--skip-preview", "--stack", stack]);
    const clean = await machine.command(["orphans", "--stack", stack]);
    expect(clean.code, clean.out + clean.err).toBe(0);
    expect(clean.out).toMatch(/No orphans/);

    // Lose two resources from the state, as a killed run would have.
    const lost = DECLS.filter((d) => d.name === "pi" || d.name === "cs");
    const lostIds = lost.map((d) => ofResource(emu, stack, d)[0].id);
    for (const d of lost) await machine.ok(["state", "delete", "--yes", "--stack", stack, `urn:pulumi:${stack}::${PROJECT}::${d.type}::${d.name}`]);
    const listed = await machine.command(["orphans", "--stack", stack]);
    expect(listed.code, listed.out + listed.err).toBe(1);
    for (const id of lostIds) expect(listed.out).toContain(id);
    const others = [...DECLS.filter((d) => !lost.includes(d)).map((d) => ofResource(emu, stack, d)[0].id), ...[...neighbour.values()].flatMap((v) => v.split(","))];
    for (const id of others) expect(listed.out).not.toContain(id);

    const deleted = await machine.command(["orphans", "--stack", stack, "--delete", "--yes"]);
    expect(deleted.code, deleted.out + deleted.err).toBe(1);
    expect(deleted.out).toMatch(/Deleted 2 object/);
    for (const d of lost) expect(ofResource(emu, stack, d)).toEqual([]);
    expect((await machine.command(["orphans", "--stack", stack])).code).toBe(0);
    for (const d of DECLS.filter((x) => !lost.includes(x))) expect(ofResource(emu, stack, d)).toHaveLength(1);

    // No stack, no credentials: exit 2.
    expect((await machine.command(["orphans", "--stack", "no-such-stack"])).code).toBe(2);
    await machine.ok(["stack", "init", "bare"]);
    const bare = await machine.command(["orphans", "--stack", "bare"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/no credentials/);
    await machine.run(["stack", "rm", "--yes", "--force", "--stack", "bare"]);

    await machine.ok(["destroy", "--yes", "--skip-preview", "--stack", stack]);
    for (const d of DECLS) expect(ofResource(emu, stack, d)).toEqual([]);
    await machine.run(["stack", "rm", "--yes", "--force", "--stack", stack]);
  }, 300_000);
});

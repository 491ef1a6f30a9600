/**
 * Fault scenarios through the real engine (the Pulumi CLI, a file backend, the emulator): a
 * faulted `up`, the state it leaves, then the fault removed and `up` run again, then
 * `destroy`. After each: nothing in the emulator that the state does not know, no more
 * creates than distinct objects recorded, no key in anything the CLI printed, and nothing
 * left after the destroy. Rows go to `.results/engine.json`.
 *
 * Each CLI run costs seconds of fixed start-up, so scenarios on different clouds (whose
 * faults cannot touch each other) share a stack: each keeps its own resource, named after
 * it, and is judged on that resource alone.
 */
import { afterAll, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server";
import type { E2E, E2EStack, Kind, ResourceSpec } from "../e2e/harness";
import { e2eDescribe, useE2E } from "../e2e/setup";
import { CANARY, CANARY_EMULATOR, DRIVERS, type Props, type ResourceName } from "./drivers";
import { countCanaries, type MatrixRow, writeResults } from "./run";
import type { Step } from "./scenarios";

type FirstOutcome = "success" | "error" | "partial failure";

interface EngineScenario {
  id: string;
  resource: ResourceName;
  step: Step;
  fault: string;
  /** Overrides of the base args for every up. */
  args?: Props;
  /** Update scenarios: the object exists first (a clean up), and the faulted up applies these. */
  change?: Props;
  setup(emu: Emulator, id?: string): void;
  /** Stack config in force during the faulted up. */
  config?: Record<string, string>;
  first: FirstOutcome;
  /** What the failed up printed, in part. */
  sees?: RegExp;
  /** Between the ups: the fault goes away (and, for some, the user does what the message said). */
  fix?(emu: Emulator, s: E2EStack, h: E2E): Promise<void> | void;
  /** The repeated up: the change it makes to the resource. */
  second: "same" | "create" | "update" | "replace";
  /** Scenarios with the same group run in one stack. */
  group: number;
}

const KIND: Record<ResourceName, Kind> = {
  PpioInstance: "ppioInstance",
  PpioEndpoint: "ppioEndpoint",
  CompShareInstance: "compShareInstance",
};

const SCENARIOS: EngineScenario[] = [
  {
    id: "engine-pi-create-response-lost",
    group: 1,
    resource: "PpioInstance",
    step: "create",
    fault: "POST response lost (the cloud created it)",
    setup: (emu) => emu.faults.add({ cloud: "ppio", method: "POST", path: "/gpus/v2/instances", dropConnection: "after" }),
    first: "success",
    second: "same",
  },
  {
    id: "engine-pi-wait-deadline",
    group: 2,
    resource: "PpioInstance",
    step: "wait",
    fault: "stuck pulling past timeouts.create",
    args: { timeouts: { create: "2s" } },
    setup: (emu) => emu.ppio.holdNewInstances(true),
    first: "partial failure",
    sees: /still pulling after \d+s waiting to become running\. Raise timeouts\.create/,
    fix: (emu) => emu.ppio.release(),
    // The engine updates a resource recorded with init errors: the update resumes the wait.
    second: "update",
  },
  {
    id: "engine-pe-wait-failed",
    group: 3,
    resource: "PpioEndpoint",
    step: "wait",
    fault: "workers fail to start",
    setup: (emu) => emu.ppio.failNextEndpoint({ error: "WORKER_START_FAILED", message: "cannot pull image" }),
    first: "partial failure",
    sees: /is failed \(WORKER_START_FAILED: cannot pull image\)/,
    second: "replace",
  },
  {
    id: "engine-cs-create-sold-out",
    group: 1,
    resource: "CompShareInstance",
    step: "create",
    fault: "sold out, found by the capacity check",
    setup: (emu) => emu.compshare.setStock("4090", 0),
    first: "error",
    sees: /CapacityError|no capacity for gpuType 4090[\s\S]*Nothing was bought/,
    fix: (emu) => emu.compshare.setStock("4090", 8),
    second: "create",
  },
  {
    id: "engine-cs-wait-install-fail",
    group: 2,
    resource: "CompShareInstance",
    step: "wait",
    fault: "provisioning ends Install Fail",
    setup: (emu) => emu.compshare.failNextCreate(),
    first: "partial failure",
    sees: /is Install Fail \(CompShare could not install it\)/,
    second: "replace",
  },
  {
    id: "engine-cs-create-171",
    group: 3,
    resource: "CompShareInstance",
    step: "create",
    fault: "wrong private key (RetCode 171)",
    setup: () => undefined,
    config: { "compshare:privateKey": CANARY.csWrongPrivate },
    first: "error",
    sees: /code 171[\s\S]*Check compshare:publicKey and compshare:privateKey/,
    second: "create",
  },
  {
    id: "engine-pi-update-gone",
    group: 4,
    resource: "PpioInstance",
    step: "update",
    fault: "deleted behind Pulumi's back before update",
    change: { image: "nginx:1.28" },
    setup: (emu, id) => emu.ppio.deleteBehindBack(id!),
    first: "error",
    sees: /no longer exists[\s\S]*run `pulumi refresh`, then `pulumi up`/,
    // What the message says to do.
    fix: async (_emu, s) => {
      await s.refresh();
    },
    second: "create",
  },
  {
    id: "engine-cs-update-stop-lost",
    group: 4,
    resource: "CompShareInstance",
    step: "update",
    fault: "Stop response lost (the cloud stopped it)",
    change: { powerState: "stopped" },
    setup: (emu) => emu.faults.add({ cloud: "compshare", action: "StopCompShareInstance", dropConnection: "after" }),
    first: "success",
    second: "same",
  },
];

const e2e = useE2E(CANARY_EMULATOR);
const rows: MatrixRow[] = [];
afterAll(() => {
  const order = new Map(SCENARIOS.map((s, i) => [s.id, i]));
  if (rows.length > 0) writeResults("engine.json", rows.sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)!));
});

const printedBy = (x: unknown): string =>
  x instanceof Error ? String(x) : [(x as { stdout?: string }).stdout, (x as { stderr?: string }).stderr].join("\n");

const groups = [...new Set(SCENARIOS.map((s) => s.group))].map((g) => SCENARIOS.filter((s) => s.group === g));

e2eDescribe("fault scenarios through the Pulumi engine", () => {
  it.each(groups.map((g) => [g.map((s) => s.id).join(" + "), g] as const))("%s", async (_ids, group) => {
    const h = e2e.h;
    const emu = h.emu;
    const s = await h.stack();
    const started = Date.now();
    const printed: string[] = [];
    const problems = new Map(group.map((sc) => [sc.id, [] as string[]]));
    const check = (sc: EngineScenario, ok: boolean, what: string) => ok || problems.get(sc.id)!.push(what);
    const spec = (changed: boolean): ResourceSpec[] =>
      group.map((sc) => ({
        kind: KIND[sc.resource],
        name: sc.id,
        args: { ...DRIVERS[sc.resource].base, ...sc.args, ...(changed ? sc.change : {}) },
      }));
    const recorded = async (sc: EngineScenario) => (await s.resources()).find((r) => r.urn.endsWith(`::${sc.id}`));
    const live = (sc: EngineScenario) => DRIVERS[sc.resource].live(emu);
    const createdBefore = new Map(group.map((sc) => [sc.id, DRIVERS[sc.resource].created(emu)]));
    const ids = new Map(group.map((sc) => [sc.id, new Set<string>()]));
    const note = (sc: EngineScenario, id?: string) => id && ids.get(sc.id)!.add(id);

    // Update scenarios act on an object that exists first.
    const prepared = new Map<string, string | undefined>();
    if (group.some((sc) => sc.step === "update")) {
      printed.push(printedBy(await s.up(spec(false))));
      for (const sc of group) prepared.set(sc.id, (await recorded(sc))?.id);
      for (const sc of group) note(sc, prepared.get(sc.id));
    }

    for (const sc of group) sc.setup(emu, prepared.get(sc.id));
    for (const sc of group) for (const [k, value] of Object.entries(sc.config ?? {})) await s.stack.setConfig(k, { value, secret: true });
    const first = await s.up(spec(true)).catch((e: unknown) => e);
    printed.push(printedBy(first));

    const outcome = new Map<string, FirstOutcome>();
    const afterFirst = new Map<string, string | undefined>();
    const orphans = new Map(group.map((sc) => [sc.id, new Set<string>()]));
    for (const sc of group) {
      const r = await recorded(sc);
      afterFirst.set(sc.id, r?.id);
      note(sc, r?.id);
      const failedHere = first instanceof Error && sc.sees?.test(String(first));
      const o: FirstOutcome = (r?.initErrors?.length ?? 0) > 0 ? "partial failure" : r && !failedHere ? "success" : "error";
      outcome.set(sc.id, o);
      check(sc, o === sc.first, `first up: expected ${sc.first}, got ${o}: ${String(first).slice(-600)}`);
      if (sc.sees) check(sc, !!failedHere, `first up does not show ${sc.sees}: ${String(first).slice(-600)}`);
      if (o === "partial failure") check(sc, !!r?.id && live(sc).includes(r.id), "the partial failure is not recorded with a live id");
      if (o === "error" && sc.step !== "update") check(sc, !r, "a failed create left a resource in the state");
    }
    for (const sc of group) {
      const known = new Set(group.filter((x) => x.resource === sc.resource).map((x) => afterFirst.get(x.id)));
      for (const id of live(sc)) if (!known.has(id)) orphans.get(sc.id)!.add(id);
    }

    emu.faults.clear();
    if (group.some((sc) => sc.config)) await s.stack.setAllConfig(h.credentials());
    for (const sc of group) await sc.fix?.(emu, s, h);
    const beforeSecond = new Map<string, string | undefined>();
    for (const sc of group) beforeSecond.set(sc.id, (await recorded(sc))?.id);

    const second = await s.up(spec(true)).catch((e: unknown) => e);
    printed.push(printedBy(second));
    const afterSecond = new Map<string, string | undefined>();
    for (const sc of group) {
      const r = await recorded(sc);
      afterSecond.set(sc.id, r?.id);
      note(sc, r?.id);
      if (second instanceof Error) check(sc, false, `the repeated up failed: ${String(second).slice(-600)}`);
      check(sc, !!r?.id && (r.initErrors?.length ?? 0) === 0, "after the repeated up the resource is not healthy in the state");
      const before = beforeSecond.get(sc.id);
      const did = !before ? "create" : r?.id !== before ? "replace" : outcome.get(sc.id) === "success" ? "same" : "update";
      check(sc, did === sc.second, `repeated up: expected ${sc.second}, the resource shows a ${did}`);
    }
    for (const sc of group) {
      const known = new Set(group.filter((x) => x.resource === sc.resource).map((x) => afterSecond.get(x.id)));
      for (const id of live(sc)) if (!known.has(id)) orphans.get(sc.id)!.add(id);
    }

    const destroyed = await s.destroy().catch((e: unknown) => e);
    printed.push(printedBy(destroyed));
    const secretsFound = countCanaries(printed.join("\n"));
    for (const sc of group) {
      const d = DRIVERS[sc.resource];
      if (destroyed instanceof Error) check(sc, false, `destroy failed: ${String(destroyed).slice(-400)}`);
      const created = d.created(emu) - createdBefore.get(sc.id)!;
      // Scenarios on one cloud share its counter: compare with every object they recorded.
      const objects = group.filter((x) => x.resource === sc.resource).reduce((n, x) => n + ids.get(x.id)!.size, 0);
      const duplicates = Math.max(0, created - objects);
      check(sc, orphans.get(sc.id)!.size === 0, `orphans: ${[...orphans.get(sc.id)!].join(", ")}`);
      check(sc, duplicates === 0, `${created} creates for ${objects} objects`);
      check(sc, secretsFound === 0, `${secretsFound} credential occurrence(s) in what the CLI printed`);
      const leftAfterDestroy = d.live(emu).length;
      check(sc, leftAfterDestroy === 0 && !(await recorded(sc)), "destroy left something behind");
      rows.push({
        scenario: sc.id,
        resource: sc.resource,
        step: sc.step,
        fault: sc.fault,
        expected: sc.first,
        outcome: outcome.get(sc.id)!,
        orphans: orphans.get(sc.id)!.size,
        duplicates,
        secretsFound,
        leftAfterDestroy,
        passed: problems.get(sc.id)!.length === 0,
        problems: problems.get(sc.id)!,
        ms: Date.now() - started,
      });
    }
    expect(Object.fromEntries(problems)).toEqual(Object.fromEntries(group.map((sc) => [sc.id, []])));
  });
});

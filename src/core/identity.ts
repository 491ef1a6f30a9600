/**
 * What identifies a resource's cloud object across a killed `pulumi up` (invariant 10).
 *
 * The resource class knows its stack (organization, project, stack), its type, its name and
 * its parents; the provider learns none of these (Pulumi's dynamic-provider host passes no
 * URN). So the class sends an `identity` input: `<stack key>.<resource key>`, two short hashes.
 * `check` turns it into a `marker`, `<identity>.<generation>`, that every create writes into
 * the cloud object (PPIO: an env var, CompShare: the Remark) and that the state records.
 *
 * A rerun after a kill checks the same resource again with no old inputs (the engine drops the
 * pending create) and so derives the same marker: its create finds the object the killed run
 * made and adopts it instead of buying a second. A replacement must never adopt the live object
 * it replaces: the engine checks a replacement again without old inputs too, after the check
 * with old inputs that showed the live object's marker, so the provider process remembers the
 * live generation per identity and gives the replacement the next one. The stack key lets
 * `pulumi-gpu-cloud orphans` tell a stack's objects from any other's.
 */
import { createHash } from "node:crypto";

/** The PPIO env var that carries the marker; outputs never show it. */
export const MARKER_ENV = "PULUMI_GPU_CLOUD_MARKER";

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

/** The key of a stack, the same wherever the program runs. */
export function stackKey(organization: string, project: string, stack: string): string {
  return hash(`${organization}/${project}/${stack}`, 12);
}

/** A resource within its stack: type, name and parents, as in its URN. */
export interface ResourcePath {
  organization: string;
  project: string;
  stack: string;
  type: string;
  name: string;
  /** `type::name` of each parent, outermost first (the stack itself left out). */
  parents: string[];
}

/** The `identity` input a resource class sends: `<stack key>.<resource key>`. */
export function identityOf(p: ResourcePath): string {
  const where = `${p.organization}/${p.project}/${p.stack}`;
  return `${stackKey(p.organization, p.project, p.stack)}.${hash(`${where}::${[...p.parents, `${p.type}::${p.name}`].join("$")}`, 12)}`;
}

const IDENTITY = /^[0-9a-f]{12}\.[0-9a-f]{12}$/;
const MARKER = /^([0-9a-f]{12})\.([0-9a-f]{12})\.(\d{1,6})$/;

export interface Marker {
  stackKey: string;
  identity: string;
  generation: number;
}

/** A marker's parts, or undefined for anything this package did not write. */
export function parseMarker(text: string | undefined): Marker | undefined {
  const m = text === undefined ? null : MARKER.exec(text.trim());
  if (!m) return undefined;
  return { stackKey: m[1], identity: `${m[1]}.${m[2]}`, generation: Number(m[3]) };
}

/**
 * Per provider process: for each identity, the generation of the object the state records
 * (from a check with old inputs) and the ids `diff` saw recorded. A replacement's create may
 * adopt none of those ids.
 */
const live = new Map<string, { generation: number; ids: Set<string> }>();

function entry(identity: string) {
  let e = live.get(identity);
  if (!e) live.set(identity, (e = { generation: -1, ids: new Set() }));
  return e;
}

/**
 * The marker `check` records: the one the state holds (an existing resource keeps its
 * object's marker), else the next generation after the recorded object's (a replacement),
 * else generation 0 (a first create, and the rerun of a killed one). Undefined when the
 * inputs carry no identity (a resource declared by an older release, or a direct provider
 * call): such creates keep the one-off random name and marker of before.
 */
export function resolveMarker(news: Record<string, unknown>, olds: Record<string, unknown> | undefined): string | undefined {
  const identity = news.identity;
  if (typeof identity !== "string" || !IDENTITY.test(identity)) return undefined;
  // Pulumi's host passes `{}`, not undefined, when there are no old inputs.
  if (olds && Object.keys(olds).length > 0) {
    const recorded = typeof olds.marker === "string" ? parseMarker(olds.marker) : undefined;
    const e = entry(identity);
    // An object recorded before markers existed carries none: a replacement starts at 0.
    e.generation = Math.max(e.generation, recorded?.generation ?? -1);
    return recorded ? (olds.marker as string) : undefined;
  }
  const e = live.get(identity);
  return `${identity}.${e ? e.generation + 1 : 0}`;
}

/** `diff` saw this id recorded for the resource: its replacement must not adopt it. */
export function rememberRecorded(props: Record<string, unknown>, id: string): void {
  const identity = props.identity;
  if (typeof identity === "string" && IDENTITY.test(identity) && id) entry(identity).ids.add(id);
}

/** Whether an object found by its marker may be adopted by the create of these inputs. */
export function mayAdopt(inputs: Record<string, unknown>, id: string): boolean {
  const identity = inputs.identity;
  if (typeof identity !== "string") return true;
  return !live.get(identity)?.ids.has(id);
}

/** Forgets everything remembered (tests). */
export function resetIdentityMemory(): void {
  live.clear();
}

/** A deterministic 7-hex suffix for a generated name, from the marker. */
export function nameSuffix(marker: string): string {
  return hash(marker, 7);
}

/** The declared env vars plus the marker (PPIO). */
export function withMarkerEnv(envs: Record<string, string> | undefined, marker: string | undefined): Record<string, string> | undefined {
  if (!marker) return envs;
  return { ...envs, [MARKER_ENV]: marker };
}

/** The marker a PPIO object carries in its env vars, if any. */
export function markerInEnvs(envs: readonly { key?: string; value?: string }[] | null | undefined): string | undefined {
  return envs?.find((e) => e.key === MARKER_ENV)?.value;
}

/** The CompShare Remark suffix that carries a marker (or, before markers, a random token). */
export const remarkTag = (marker: string): string => `[pulumi-gpu-cloud ${marker}]`;
const REMARK_TAG = /\s*\[pulumi-gpu-cloud ([0-9a-f.]+)\]$/;
export const markerInRemark = (remark: string | undefined): string | undefined => (remark ? REMARK_TAG.exec(remark)?.[1] : undefined);
export const stripRemarkTag = (remark: string | undefined): string | undefined => remark?.replace(REMARK_TAG, "");

let warned = false;

/**
 * Printed once per provider process, when the first create starts waiting: what one and
 * two Ctrl-C do. Pulumi's dynamic-provider host ignores the engine's Cancel call, so the
 * provider never learns of a first Ctrl-C and cannot end its waits early.
 */
export function interruptNotice(print: (line: string) => void): void {
  if (warned) return;
  warned = true;
  print(
    "pulumi-gpu-cloud: waiting for cloud objects to become ready. Ctrl-C once lets Pulumi finish these waits and record them. " +
      "A second Ctrl-C (or a killed run) leaves them unrecorded but marked: the next `pulumi up` adopts them instead of buying again, " +
      "and `npx pulumi-gpu-cloud orphans` lists any left over.",
  );
}

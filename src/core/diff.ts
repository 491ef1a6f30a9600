/**
 * Diffs come from one table per resource: for every input, whether a change replaces the
 * cloud object, updates it in place (and through which API call), or is ignored. The README
 * shows the same tables; a test checks they agree.
 */
import { UNKNOWN } from "./check";

export type FieldPolicy =
  | { kind: "replace"; why?: string }
  | { kind: "update"; via: string }
  /** A number that may grow in place (through `via`); a smaller value replaces the object. */
  | { kind: "grow"; via: string }
  | { kind: "ignore"; why?: string };

export type PolicyTable = Readonly<Record<string, FieldPolicy>>;

export interface TableDiff {
  changes: boolean;
  replaces: string[];
  /** In-place changes, each with the call that makes it. */
  updates: { field: string; via: string }[];
  deleteBeforeReplace?: boolean;
}

/** True when a value, or anything inside it, is the engine's "not known until apply" marker. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** Key-order independent JSON; `undefined` members vanish so absent and undefined are equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v,
  );
}

/** The value at a dotted path (`resource.rootfsSizeGb`); a plain key is a path of one. */
function at(o: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), o);
}

/** An object without the members the table governs on their own rows. */
function without(v: unknown, members: string[]): unknown {
  if (members.length === 0 || !v || typeof v !== "object" || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !members.includes(k)));
}

/** Whether a `grow` field's change can be made in place: both known numbers, the new one larger. */
function grows(before: unknown, after: unknown): boolean {
  return typeof before === "number" && typeof after === "number" && after > before;
}

/**
 * Compares old outputs with new inputs field by field. A row may name a member of an object
 * input (`resource.rootfsSizeGb`): that member then follows its own row and the object's row
 * compares the rest. `normalize` maps a field's value to
 * the form in which two equivalent values compare equal (defaults filled in, empty lists
 * and absent lists alike).
 */
export function diffByTable(
  table: PolicyTable,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  normalize: (field: string, value: unknown) => unknown = (_f, v) => v,
): TableDiff {
  const replaces: string[] = [];
  const updates: { field: string; via: string }[] = [];
  const fields = Object.keys(table);
  for (const [field, policy] of Object.entries(table)) {
    if (policy.kind === "ignore") continue;
    const own = fields.filter((f) => f.startsWith(`${field}.`)).map((f) => f.slice(field.length + 1));
    const before = normalize(field, without(at(olds, field), own));
    const after = without(at(news, field), own);
    const changed = containsUnknown(after) || canonical(before) !== canonical(normalize(field, after));
    if (!changed) continue;
    if (policy.kind === "replace") replaces.push(field);
    else if (policy.kind === "grow" && !grows(before, normalize(field, after))) replaces.push(field);
    else updates.push({ field, via: policy.via });
  }
  return { changes: replaces.length > 0 || updates.length > 0, replaces, updates };
}

/**
 * An object whose recorded state is a failure (its provisioning failed and a partial
 * failure recorded it) cannot be repaired in place on either cloud: the next `pulumi up`
 * replaces it. `stateOutput` names the output that holds the state (PPIO `status`,
 * CompShare `state`); the engine shows it as the reason for the replacement.
 */
export function withFailedStateReplace(
  d: TableDiff,
  olds: Record<string, unknown>,
  stateOutput: string,
  failed: (state: string, olds: Record<string, unknown>) => boolean,
): TableDiff {
  const recorded = olds[stateOutput];
  if (typeof recorded !== "string" || !failed(recorded, olds)) return d;
  return { ...d, changes: true, replaces: [...d.replaces, stateOutput] };
}

/** A resource's `diff`: its table, plus the replacement of an object recorded as failed. */
export function diffResource(
  table: PolicyTable,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  normalize: (field: string, value: unknown) => unknown,
  stateOutput: string,
  failed: (state: string, olds: Record<string, unknown>) => boolean,
): { changes: boolean; replaces: string[] } {
  const d = withFailedStateReplace(diffByTable(table, olds, news, normalize), olds, stateOutput, failed);
  return { changes: d.changes, replaces: d.replaces };
}

/** The table as Markdown rows, the form the README uses. */
export function tableRows(table: PolicyTable): string[] {
  return Object.entries(table).map(([field, p]) => {
    const effect =
      p.kind === "update"
        ? `update in place (${p.via})`
        : p.kind === "grow"
          ? `update in place (${p.via}) when it grows; replace when it shrinks`
          : p.kind === "replace"
            ? "replace"
            : "no diff";
    return `| \`${field}\` | ${effect} |`;
  });
}

/**
 * `adoptId`: manage an object that already exists instead of buying one. Pulumi cannot
 * `import` into a dynamic resource, so `create` takes the object over after checking that it
 * exists and that the inputs a change would replace match what it is; the inputs that update
 * in place are then applied by the resource's own update. Cloud-free.
 */
import { canonical, type PolicyTable } from "./diff";
import { type Cloud, NotFoundError, ValidationError } from "./errors";

type Props = Record<string, unknown>;

export interface Mismatch {
  field: string;
  declared: unknown;
  actual: unknown;
}

const show = (v: unknown) => (v === undefined ? "(not set)" : JSON.stringify(v));

/**
 * The replace-only inputs whose declaration differs from the object. `actual` holds what
 * the cloud reports in input form; a field it does not report (absent from `actual`) cannot
 * be checked and is taken as declared.
 */
export function adoptionMismatches(
  table: PolicyTable,
  declared: Props,
  actual: Props,
  normalize: (field: string, value: unknown) => unknown = (_f, v) => v,
): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [field, policy] of Object.entries(table)) {
    if (policy.kind !== "replace" || field.includes(".") || !(field in actual)) continue;
    const d = normalize(field, declared[field]);
    const a = normalize(field, actual[field]);
    if (canonical(d) !== canonical(a)) out.push({ field, declared: declared[field], actual: actual[field] });
  }
  return out;
}

/** Throws, naming each field, when the object cannot be adopted as declared. */
export function assertAdoptable(o: { cloud: Cloud; noun: string; id: string; operation: string; mismatches: Mismatch[] }): void {
  if (o.mismatches.length === 0) return;
  const lines = o.mismatches.map((m) => `${m.field}: declared ${show(m.declared)}, the ${o.noun} has ${show(m.actual)}`);
  throw new ValidationError(`cannot adopt ${o.noun} ${o.id}: its replace-only inputs differ from the declaration:\n  - ${lines.join("\n  - ")}`, {
    cloud: o.cloud,
    operation: o.operation,
    hint: "Change these inputs to what the object has (nothing was changed or bought), or remove adoptId to buy a new one",
  });
}

/** The object named by `adoptId` does not exist. */
export function notAdoptable(cloud: Cloud, noun: string, id: string, operation: string): NotFoundError {
  return new NotFoundError(`adoptId: no ${noun} ${id} exists in this account`, {
    cloud,
    operation,
    hint: "Check the id (and region) against the console; nothing was bought",
  });
}

/**
 * Choosing what to buy: the preferred shape and its `fallbacks` (ordered partial overrides
 * of the inputs), tried in order when a shape has no capacity or costs more than
 * `maxPricePerHour`. Cloud-free: each resource says which inputs make its shape, how to ask
 * the price and capacity of one candidate, and how to buy it.
 *
 * The rules every resource keeps:
 * - a fallback's keys replace those inputs whole (`{ resource: {...} }` is the whole object);
 *   each fallback applies to the declared inputs, not to the fallback before it;
 * - each attempt buys at most one object, and only a refusal the cloud gave before making
 *   anything (a capacity error without `mayHaveSucceeded`) moves on to the next candidate;
 * - a candidate over the cap, or whose price cannot be learnt while a cap is set, is skipped
 *   before anything is sent;
 * - the outputs `chosenFallback` (-1: the preferred shape) and `chosenShape` record what was
 *   bought, and a resource shows its declared inputs while the object matches that shape, so
 *   the shape a fallback bought is never drift.
 */
import { z } from "zod";
import { canonical } from "./diff";
import { CapacityError, type Cloud, CostGuardError, GpuCloudError } from "./errors";

type Props = Record<string, unknown>;

/** Most fallbacks one resource may list: each is a purchase attempt. */
export const MAX_FALLBACKS = 10;

const quoted = (fields: readonly string[]) => fields.map((f) => `"${f}"`).join(", ");

/** The `fallbacks` input of a resource whose shape is made of `fields`. */
export function fallbacksSchema(fields: readonly string[]) {
  return z
    .array(
      z.record(z.string(), z.unknown()).superRefine((o, ctx) => {
        for (const key of Object.keys(o)) {
          if (!fields.includes(key)) {
            ctx.addIssue({ code: "custom", path: [key], message: `a fallback may override only ${quoted(fields)}; "${key}" is not one of them` });
          }
        }
        if (Object.keys(o).length === 0) ctx.addIssue({ code: "custom", message: "a fallback must override at least one input" });
      }),
      { message: `must be a list of partial overrides such as [{ ${fields[0]}: … }]` },
    )
    .max(MAX_FALLBACKS, `at most ${MAX_FALLBACKS} fallbacks`)
    .optional();
}

/** `maxPricePerHour`: a positive number, in the account's currency. */
export const maxPricePerHourSchema = z
  .number({ message: "must be a number: the most one hour may cost, in the account's currency" })
  .positive("must be greater than 0")
  .finite("must be a finite number")
  .optional();

/** `adoptId`: an existing object to manage instead of buying one. */
export const adoptIdSchema = z.string().min(1, "adoptId must not be empty when given").optional();

export interface Candidate {
  /** -1: the preferred (declared) shape; else the position in `fallbacks`. */
  index: number;
  /** The inputs this attempt buys: the declared ones with the fallback's keys replaced, without `fallbacks`. */
  inputs: Props;
  /** `preferred shape` or `fallbacks[1]`, as messages name it. */
  label: string;
}

const labelOf = (index: number) => (index < 0 ? "preferred shape" : `fallbacks[${index}]`);

/** The preferred shape, then each fallback applied to it. */
export function candidatesOf(inputs: Props): Candidate[] {
  const { fallbacks, ...base } = inputs;
  const list = Array.isArray(fallbacks) ? (fallbacks as Props[]) : [];
  return [
    { index: -1, inputs: base, label: labelOf(-1) },
    ...list.map((override, index) => ({ index, inputs: { ...base, ...override }, label: labelOf(index) })),
  ];
}

/** The keys any fallback overrides, in the resource's order: what `chosenShape` reports. */
export function shapeOf(inputs: Props, fields: readonly string[]): Props {
  return Object.fromEntries(fields.filter((f) => inputs[f] !== undefined).map((f) => [f, inputs[f]]));
}

/** The outputs that record a purchase: which candidate, and its shape. */
export function chosenOutputs(c: Candidate, fields: readonly string[]): { chosenFallback: number; chosenShape: Props } {
  return { chosenFallback: c.index, chosenShape: shapeOf(c.inputs, fields) };
}

/** After adopting an object a killed run bought: the first candidate it matches, else the preferred one. */
export function inferChosen(candidates: Candidate[], matches: (inputs: Props) => boolean): Candidate {
  return candidates.find((c) => matches(c.inputs)) ?? candidates[0];
}

/**
 * The value an output shows for a shape field: the declared one while the object still has
 * the shape that was bought (`chosenShape`), else what the object has (drift).
 */
export function declaredWhileBought(field: string, declared: unknown, live: unknown, chosenShape: unknown): unknown {
  if (live === undefined) return declared;
  const shape = chosenShape && typeof chosenShape === "object" ? (chosenShape as Props) : undefined;
  if (shape && field in shape && canonical(shape[field]) === canonical(live)) return declared;
  return live;
}

/**
 * Old outputs as `diff` should compare them: a field whose new declaration equals what a
 * fallback bought counts as unchanged (declaring the shape one already has is no change).
 */
export function olderAgainstChosen(olds: Props, news: Props): Props {
  const shape = olds.chosenShape;
  if (!shape || typeof shape !== "object") return olds;
  const out = { ...olds };
  for (const [field, bought] of Object.entries(shape as Props)) {
    if (canonical(news[field]) === canonical(bought)) out[field] = news[field];
  }
  return out;
}

export interface Purchase<R> {
  result: R;
  chosen: Candidate;
  /** The hourly price learnt for the chosen candidate, when a cap made us ask. */
  pricePerHour?: number;
}

export interface BuyOptions<R> {
  cloud: Cloud;
  /** `ppio instance "trainer-1a2b3c4"`, as progress lines name it. */
  what: string;
  candidates: Candidate[];
  maxPricePerHour?: number;
  /** The hourly price of a candidate; `undefined` when it cannot be learnt. Asked only under a cap. */
  priceOf?: (c: Candidate) => Promise<number | undefined>;
  /** Throws a `CapacityError` when the candidate cannot be scheduled now (asked before buying). */
  precheck?: (c: Candidate) => Promise<void>;
  /** Buys the candidate: exactly one object, or a refusal. */
  buy: (c: Candidate) => Promise<R>;
  /** A short description of the candidate's shape for messages: `gpuType 3090 × 1`. */
  describe: (c: Candidate) => string;
  log: (line: string) => void;
}

const money = (n: number) => (Math.round(n * 10_000) / 10_000).toString();

/** A refusal that proves nothing was bought because the shape has no capacity. */
const isNoCapacity = (e: unknown): e is CapacityError => e instanceof CapacityError && !e.mayHaveSucceeded;

/**
 * Tries the candidates in order and buys the first that is within the cap and has capacity.
 * Errors other than "no capacity" end the run at once (a bad key is not fixed by another GPU).
 */
export async function buyFirstAvailable<R>(o: BuyOptions<R>): Promise<Purchase<R>> {
  const tried: string[] = [];
  let capacityErrors = 0;
  let lastCapacity: CapacityError | undefined;
  for (const c of o.candidates) {
    const shape = `${c.label} (${o.describe(c)})`;
    let pricePerHour: number | undefined;
    if (o.maxPricePerHour !== undefined) {
      pricePerHour = o.priceOf ? await o.priceOf(c) : undefined;
      if (pricePerHour === undefined) {
        tried.push(`${shape}: price unknown, so it cannot be held to maxPricePerHour`);
        o.log(`${o.what}: skipping ${shape}: its price could not be learnt`);
        continue;
      }
      if (pricePerHour > o.maxPricePerHour) {
        tried.push(`${shape}: ${money(pricePerHour)}/h is above maxPricePerHour ${money(o.maxPricePerHour)}`);
        o.log(`${o.what}: skipping ${shape}: ${money(pricePerHour)}/h is above maxPricePerHour ${money(o.maxPricePerHour)}`);
        continue;
      }
    }
    try {
      if (o.precheck) await o.precheck(c);
      const result = await o.buy(c);
      if (c.index >= 0) o.log(`${o.what}: bought ${shape}`);
      return { result, chosen: c, pricePerHour };
    } catch (e) {
      if (!isNoCapacity(e)) throw e;
      if (o.candidates.length === 1) throw e;
      capacityErrors += 1;
      lastCapacity = e;
      tried.push(`${shape}: no capacity (${e.apiMessage}${e.code ? `, code ${e.code}` : ""})`);
      o.log(`${o.what}: ${shape} has no capacity; ${c === o.candidates[o.candidates.length - 1] ? "no fallback left" : "trying the next fallback"}`);
    }
  }
  const message = `nothing was bought; every candidate was refused:\n  - ${tried.join("\n  - ")}`;
  const details = { cloud: o.cloud, operation: "create", cause: lastCapacity };
  if (capacityErrors > 0) {
    throw new CapacityError(message, { ...details, hint: "Add fallbacks, raise maxPricePerHour, or retry later" });
  }
  throw new CostGuardError(message, { ...details, hint: "Raise maxPricePerHour or add a cheaper fallback" });
}

/** Whether an error is ours to explain further (a refusal, not a transport failure). */
export const isRefusal = (e: unknown): e is GpuCloudError => e instanceof GpuCloudError && !e.mayHaveSucceeded && !e.transient;

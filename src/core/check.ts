/**
 * Input validation shared by every resource's `check`: zod issues become Pulumi
 * `CheckFailure`s that name the property (`ports[0].protocol`) and the rule, values the
 * engine does not know yet during preview are never reported as wrong, and the small
 * vocabulary every resource shares (durations, timeouts, env maps, names) lives here.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { nameSuffix, resolveMarker } from "./identity";

/** The engine's placeholder for a value that is only known after an apply (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** `["ports", 0, "protocol"]` → `ports[0].protocol`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function unknownPaths(value: unknown, path: PropertyKey[] = [], acc: string[] = []): string[] {
  if (value === UNKNOWN) acc.push(formatPath(path));
  else if (Array.isArray(value)) value.forEach((v, i) => unknownPaths(v, [...path, i], acc));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) unknownPaths(v, [...path, k], acc);
  }
  return acc;
}

const under = (prop: string, root: string) =>
  prop === root || prop.startsWith(`${root}.`) || prop.startsWith(`${root}[`);

/** Validates inputs; every problem becomes one failure, except those caused by unknown values. */
export function validate(schema: z.ZodType, inputs: Record<string, unknown>): CheckFailure[] {
  const result = schema.safeParse(inputs);
  if (result.success) return [];
  const unknowns = unknownPaths(inputs);
  const failures: CheckFailure[] = [];
  for (const issue of result.error.issues) {
    const keys = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    for (const path of keys) {
      const property = formatPath(path) || "(inputs)";
      if (unknowns.some((u) => under(property, u))) continue;
      const reason =
        issue.code === "unrecognized_keys"
          ? `unknown property "${property}"; check its spelling against the documented inputs`
          : issue.message;
      failures.push({ property, reason });
    }
  }
  return failures;
}

// ---- shared vocabulary -------------------------------------------------------------

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `"90s"`, `"20m"`, `"1h30m"` → milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m || text === "") throw new Error(`"${text}" is not a duration such as "90s", "20m" or "1h30m"`);
  const [, h, min, s] = m;
  return ((Number(h ?? 0) * 60 + Number(min ?? 0)) * 60 + Number(s ?? 0)) * 1000;
}

export const durationSchema = z
  .string()
  .refine((s) => s !== "" && DURATION.test(s) && parseDuration(s) > 0, {
    message: 'must be a positive duration such as "90s", "20m" or "1h30m"',
  });

export const timeoutsSchema = z
  .strictObject({
    create: durationSchema.optional(),
    update: durationSchema.optional(),
    delete: durationSchema.optional(),
  })
  .optional();

export type Timeouts = z.infer<typeof timeoutsSchema>;

export function timeoutMs(
  timeouts: Timeouts | undefined,
  which: "create" | "update" | "delete",
  fallback: string,
): number {
  return parseDuration(timeouts?.[which] ?? fallback);
}

export const powerStateSchema = z
  .enum(["running", "stopped"], { message: 'must be "running" or "stopped"' })
  .optional();

export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Environment variables as a map; limits are PPIO's documented ones, less the one env var that carries the marker (identity.ts). */
export const envsSchema = z
  .record(
    z.string().max(511, "env var names are at most 511 characters").regex(ENV_KEY, {
      message: "env var names start with a letter or _ and contain only letters, digits, _, . and -",
    }),
    z.string().max(4095, "env var values are at most 4095 characters"),
  )
  .refine((r) => Object.keys(r).length <= 99, { message: "at most 99 env vars (PPIO allows 100; pulumi-gpu-cloud uses one to mark the object)" })
  .optional();

/**
 * A resource's `check`: the marker resolved (see `identity.ts`), then the name (given, kept
 * from an earlier check, or generated from the marker), then every input validated, and
 * each fallback as the resource it would buy;
 * `__provider` passes through untouched.
 */
export function checkResource(
  schema: z.ZodType,
  olds: Record<string, unknown> | undefined,
  news: Record<string, unknown>,
  maxNameLength: number,
): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
  const { __provider, ...rest } = news;
  const marker = resolveMarker(rest, olds);
  const inputs = { ...rest, ...(marker !== undefined && { marker }), name: resolveName(rest, olds, maxNameLength, marker) };
  // Each fallback is checked as the whole resource it would buy (core/choose.ts).
  const failures = [...validate(schema, inputs), ...checkFallbacks(schema, inputs)];
  return { inputs: __provider === undefined ? inputs : { ...inputs, __provider }, failures };
}

/**
 * `<prefix>-<7 hex>`, at most `maxLength` characters. The suffix comes from `seed` (the
 * marker) when given, so a rerun after a killed create picks the same name; else it is random.
 */
export function autoName(prefix: string, maxLength = 63, seed?: string): string {
  const suffix = seed === undefined ? randomBytes(4).toString("hex").slice(0, 7) : nameSuffix(seed);
  const clean = prefix.replace(/[^A-Za-z0-9_.-]/g, "-") || "gpu";
  return `${clean.slice(0, maxLength - suffix.length - 1)}-${suffix}`;
}

/**
 * The name to use for a resource: the one given; else the one chosen at an earlier check
 * (so it is stable across updates); else one generated from the marker. On a replacement the
 * engine checks again without old inputs and the marker moves to the next generation, so
 * the new object gets a new name; a rerun of a killed create gets the same one.
 */
export function resolveName(
  news: Record<string, unknown>,
  olds: Record<string, unknown> | undefined,
  maxLength?: number,
  marker?: string,
): unknown {
  if (news.name !== undefined) return news.name;
  if (olds && typeof olds.name === "string" && olds.autonamePrefix !== undefined) return olds.name;
  const prefix = typeof news.autonamePrefix === "string" ? news.autonamePrefix : "gpu";
  return autoName(prefix, maxLength, marker);
}

/**
 * Check failures of the fallbacks: each candidate (the declared inputs with one fallback's keys
 * replaced, as core/choose.ts buys them) is validated as a whole resource; a problem
 * the declared inputs do not have already is reported under `fallbacks[i]`.
 */
export function checkFallbacks(schema: z.ZodType, inputs: Record<string, unknown>): CheckFailure[] {
  const { fallbacks, ...base } = inputs;
  if (!Array.isArray(fallbacks)) return [];
  const own = new Set(validate(schema, base).map((f) => `${f.property}\0${f.reason}`));
  const out: CheckFailure[] = [];
  fallbacks.forEach((override, index) => {
    if (!override || typeof override !== "object") return; // the schema reports it
    for (const f of validate(schema, { ...base, ...override })) {
      if (own.has(`${f.property}\0${f.reason}`)) continue;
      out.push({ property: `${formatPath(["fallbacks", index])}.${f.property}`, reason: f.reason });
    }
  });
  return out;
}


/**
 * UCloud-style request signing, as CompShare's gateway checks it: nested parameters are
 * flattened (`Disks.0.IsBoot`), every leaf becomes a string, the pairs are sorted by key and
 * concatenated as `key + value` with no separators, the private key is appended, and the
 * signature is the lowercase hex SHA1 of that text.
 *
 * Pure functions on purpose: the client builds the flat map once, signs it and sends exactly
 * that map, so what is sent can never differ from what was signed (the classic failure is a
 * bool signed as `true` but sent as `True`, which the gateway answers with RetCode 171).
 */
import { createHash } from "node:crypto";

/** A parameter value before flattening: scalars, arrays and objects, nested at will. */
export type ParamValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly ParamValue[]
  | { readonly [key: string]: ParamValue };

export type Params = { readonly [key: string]: ParamValue };

/**
 * Writes a finite number the way the gateway expects: integers in base 10 and fractions as
 * the shortest round-trip decimal, never in exponent notation (JavaScript prints `1e-7` and
 * `1e+21`; the Go SDK and the docs use plain digits, and the signature must agree with them).
 */
export function numberToString(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot send ${n} to CompShare: not a finite number`);
  if (Object.is(n, -0)) return "0";
  const text = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, whole, frac = "", expText] = m;
  const exp = Number(expText);
  const digits = whole + frac;
  // position of the decimal point within `digits`
  const point = whole.length + exp;
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign + out;
}

/** One leaf value as it is signed and sent. */
export function stringifyLeaf(value: string | number | boolean): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return numberToString(value);
  return value;
}

/**
 * `{ Disks: [{ IsBoot: true, Size: 40 }] }` → `{ "Disks.0.IsBoot": "true", "Disks.0.Size": "40" }`.
 *
 * What is left out follows UCloud's Go SDK (v0.22.98, `request.EncodeForm` and
 * `reflectToArray`), since the gateway checks the signature over what arrives:
 * - null and undefined members are dropped;
 * - null entries of an array are dropped and the rest renumbered (`[a, null, c]` → `.0`, `.1`);
 * - a value whose text is the empty string is not sent, wherever it stands, and an array
 *   keeps counting past it (`[a, "", c]` → `.0`, `.2`), exactly as the SDK does.
 */
export function flatten(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (prefix: string, value: ParamValue): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      let index = 0;
      for (const item of value as readonly ParamValue[]) {
        if (item === null || item === undefined) continue;
        walk(`${prefix}.${index++}`, item);
      }
      return;
    }
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value as Params)) walk(`${prefix}.${k}`, v);
      return;
    }
    const text = stringifyLeaf(value as string | number | boolean);
    if (text !== "") out[prefix] = text;
  };
  for (const [k, v] of Object.entries(params)) walk(k, v);
  return out;
}

/**
 * The text that is hashed: keys in plain code-unit order (so `CPU` < `ChargeType` and
 * `Disks.10` < `Disks.2`), each followed by its value, then the private key.
 * `Signature` itself is never part of it.
 */
export function stringToSign(flat: Readonly<Record<string, string>>, privateKey: string): string {
  const keys = Object.keys(flat)
    .filter((k) => k !== "Signature")
    .sort();
  return keys.map((k) => k + flat[k]).join("") + privateKey;
}

/** Lowercase hex SHA1 of {@link stringToSign}. */
export function sign(flat: Readonly<Record<string, string>>, privateKey: string): string {
  return createHash("sha1").update(stringToSign(flat, privateKey), "utf8").digest("hex");
}

/** `application/x-www-form-urlencoded` text of a flat map, in the map's own key order. */
export function formEncode(flat: Readonly<Record<string, string>>): string {
  return Object.entries(flat)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

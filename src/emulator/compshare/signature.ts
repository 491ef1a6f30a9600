// What arrived and whether it was signed by the key it names: parameters from the query
// string and a form or JSON body, and the gateway's SHA1 check over them (compshare-api.md
// §2.3). An implementation of its own: nothing here comes from our client.

import { createHash } from "node:crypto";
import type { IncomingRequest } from "../types";

export interface ParsedRequest {
  /** Flat parameters as text, for the actions. */
  params: Map<string, string>;
  /** Top-level key → the text the signature covers for it. */
  signed: Map<string, string>;
  malformed?: string;
}

/** A JSON scalar as the gateway stringifies it: `true`/`false`, plain decimal digits, text as is. */
function scalarText(v: string | number | boolean): string {
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  // expand d.ddde±x without going through another float
  const neg = s.startsWith("-");
  const mantissa = s.slice(neg ? 1 : 0, e).replace(".", "");
  const intDigits = s.slice(neg ? 1 : 0, e).split(".")[0].length + Number(s.slice(e + 1));
  const digits = intDigits <= 0 ? "0".repeat(1 - intDigits) + mantissa : mantissa.padEnd(intDigits, "0");
  const at = Math.max(intDigits, 1);
  const text = digits.length > at ? `${digits.slice(0, at)}.${digits.slice(at)}` : digits;
  return (neg ? "-" : "") + text;
}

/** The Go SDK's rule for a nested JSON value in the signature: arrays concatenate, objects sort. */
function nestedText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(nestedText).join("");
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.keys(o)
      .sort()
      .map((k) => k + nestedText(o[k]))
      .join("");
  }
  return scalarText(v as string | number | boolean);
}

function flattenInto(out: Map<string, string>, prefix: string, v: unknown): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) v.forEach((item, i) => flattenInto(out, `${prefix}.${i}`, item));
  else if (typeof v === "object") for (const [k, item] of Object.entries(v)) flattenInto(out, `${prefix}.${k}`, item);
  else out.set(prefix, scalarText(v as string | number | boolean));
}

export function parseRequest(req: IncomingRequest): ParsedRequest {
  const params = new Map<string, string>();
  const signed = new Map<string, string>();
  for (const [k, v] of req.query) {
    params.set(k, v);
    signed.set(k, v);
  }
  const text = req.body.toString("utf8");
  if (text.trim() === "") return { params, signed };
  const type = String(req.headers["content-type"] ?? "");
  if (type.includes("json")) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { params, signed, malformed: "request body is not valid JSON" };
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) return { params, signed, malformed: "request body must be a JSON object" };
    for (const [k, v] of Object.entries(body)) {
      if (v === null || v === undefined) continue;
      if (typeof v === "object") {
        signed.set(k, nestedText(v));
        flattenInto(params, k, v);
      } else {
        signed.set(k, scalarText(v as string | number | boolean));
        params.set(k, scalarText(v as string | number | boolean));
      }
    }
    return { params, signed };
  }
  for (const [k, v] of new URLSearchParams(text)) {
    params.set(k, v);
    signed.set(k, v);
  }
  return { params, signed };
}

/** Lowercase hex SHA1 of the sorted key+value pairs and the private key; `Signature` left out. */
export function expectedSignature(signed: ReadonlyMap<string, string>, privateKey: string): string {
  const keys = [...signed.keys()].filter((k) => k !== "Signature").sort();
  const hash = createHash("sha1");
  for (const k of keys) hash.update(k + signed.get(k), "utf8");
  hash.update(privateKey, "utf8");
  return hash.digest("hex");
}

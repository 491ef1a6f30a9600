/** Nearest-match suggestions for unknown ids, and the adoption checks of `adoptId`. */
import { describe, expect, it } from "vitest";
import { adoptionMismatches, assertAdoptable } from "../../src/core/adopt";
import type { PolicyTable } from "../../src/core/diff";
import { ValidationError } from "../../src/core/errors";
import { editDistance, listChoices, nearest } from "../../src/core/suggest";

describe("nearest", () => {
  const products = [
    { id: "h100.80g", name: "NVIDIA H100 80GB" },
    { id: "4090.24g", name: "RTX 4090 24GB" },
    { id: "4090.48g", name: "RTX 4090 48GB" },
    { id: "a100.80g", name: "NVIDIA A100 80GB" },
  ];

  it("puts a one-letter typo first", () => {
    expect(nearest("4090.24G.", products, 2).map((p) => p.id)).toEqual(["4090.24g", "4090.48g"]);
    expect(nearest("4009.24g", products, 1)[0].id).toBe("4090.24g");
  });

  it("matches names too", () => {
    expect(nearest("h100", products, 1)[0].id).toBe("h100.80g");
  });

  it("lists choices with their names", () => {
    expect(listChoices(products.slice(0, 2))).toBe('"h100.80g" (NVIDIA H100 80GB), "4090.24g" (RTX 4090 24GB)');
  });

  it("measures edit distance case-insensitively", () => {
    expect(editDistance("kitten", "SITTING")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });
});

describe("adoption", () => {
  const table: PolicyTable = {
    productId: { kind: "replace" },
    image: { kind: "update", via: "PUT" },
    region: { kind: "replace" },
    "resource.size": { kind: "grow", via: "PUT" },
    timeouts: { kind: "ignore" },
  };

  it("compares only replace-only inputs the cloud reports", () => {
    const m = adoptionMismatches(table, { productId: "a", image: "x", region: "r1" }, { productId: "b", image: "y" });
    expect(m).toEqual([{ field: "productId", declared: "a", actual: "b" }]);
  });

  it("uses the resource's normalisation", () => {
    const norm = (_f: string, v: unknown) => (typeof v === "string" ? v.toLowerCase() : v);
    expect(adoptionMismatches(table, { productId: "A" }, { productId: "a" }, norm)).toEqual([]);
  });

  it("fails naming each field, and passes when nothing differs", () => {
    const mismatches = [
      { field: "productId", declared: "a", actual: "b" },
      { field: "region", declared: undefined, actual: "r2" },
    ];
    const e = (() => {
      try {
        assertAdoptable({ cloud: "ppio", noun: "instance", id: "i-1", operation: "adopt", mismatches });
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect(e!.message).toContain('productId: declared "a", the instance has "b"');
    expect(e!.message).toContain('region: declared (not set), the instance has "r2"');
    expect(() => assertAdoptable({ cloud: "ppio", noun: "instance", id: "i-1", operation: "adopt", mismatches: [] })).not.toThrow();
  });
});

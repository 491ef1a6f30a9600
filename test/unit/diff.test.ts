import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../../src/core/check";
import { canonical, diffByTable, type PolicyTable, tableRows } from "../../src/core/diff";

const table: PolicyTable = {
  image: { kind: "update", via: "upgrade" },
  size: { kind: "replace" },
  timeouts: { kind: "ignore" },
};

describe("diffByTable", () => {
  it("classifies changes from the table only", () => {
    expect(diffByTable(table, { image: "a", size: 1 }, { image: "b", size: 1 })).toEqual({
      changes: true,
      replaces: [],
      updates: [{ field: "image", via: "upgrade" }],
    });
    const d = diffByTable(table, { image: "a", size: 1 }, { image: "a", size: 2 });
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual(["size"]);
  });

  it("ignores ignored fields and keys outside the table", () => {
    const d = diffByTable(table, { image: "a", timeouts: { create: "1m" } }, { image: "a", timeouts: { create: "9m" }, other: 1 });
    expect(d).toEqual({ changes: false, replaces: [], updates: [] });
  });

  it("treats values unknown during preview as changed", () => {
    expect(diffByTable(table, { size: 1 }, { size: UNKNOWN }).replaces).toEqual(["size"]);
  });

  it("compares objects regardless of key order and absent members", () => {
    expect(canonical({ a: 1, b: { c: 2, d: undefined } })).toBe(canonical({ b: { c: 2 }, a: 1 }));
    expect(diffByTable(table, { image: { x: 1, y: 2 } }, { image: { y: 2, x: 1 } }).changes).toBe(false);
  });

  it("uses the normaliser so equivalent values do not diff", () => {
    const norm = (_f: string, v: unknown) => v ?? "default";
    expect(diffByTable(table, { image: "default" }, {}, norm).changes).toBe(false);
  });

  it("lets a member of an object follow its own row, growing in place and replacing to shrink", () => {
    const nested: PolicyTable = {
      resource: { kind: "replace" },
      "resource.disk": { kind: "grow", via: "expand" },
    };
    const olds = { resource: { gpus: 1, disk: 20 } };
    expect(diffByTable(nested, olds, { resource: { gpus: 1, disk: 30 } })).toEqual({
      changes: true,
      replaces: [],
      updates: [{ field: "resource.disk", via: "expand" }],
    });
    expect(diffByTable(nested, olds, { resource: { gpus: 1, disk: 10 } }).replaces).toEqual(["resource.disk"]);
    expect(diffByTable(nested, olds, { resource: { gpus: 1, disk: UNKNOWN } }).replaces).toEqual(["resource.disk"]);
    expect(diffByTable(nested, olds, { resource: { gpus: 2, disk: 30 } })).toMatchObject({
      replaces: ["resource"],
      updates: [{ field: "resource.disk", via: "expand" }],
    });
    expect(diffByTable(nested, olds, { resource: { gpus: 1, disk: 20 } }).changes).toBe(false);
    expect(tableRows(nested)).toEqual([
      "| `resource` | replace |",
      "| `resource.disk` | update in place (expand) when it grows; replace when it shrinks |",
    ]);
  });
});

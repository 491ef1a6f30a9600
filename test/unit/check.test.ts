import { describe, expect, it } from "vitest";
import { z } from "zod";
import { autoName, formatPath, parseDuration, resolveName, UNKNOWN, validate } from "../../src/core/check";

describe("formatPath", () => {
  it("renders nested paths the way users write them", () => {
    expect(formatPath(["ports", 0, "protocol"])).toBe("ports[0].protocol");
    expect(formatPath(["resource", "gpuNum"])).toBe("resource.gpuNum");
    expect(formatPath([])).toBe("");
  });
});

describe("validate", () => {
  const schema = z.strictObject({
    a: z.number().max(3, "at most 3"),
    nested: z.strictObject({ list: z.array(z.strictObject({ p: z.enum(["x", "y"]) })) }),
  });

  it("reports each problem with its property path", () => {
    const failures = validate(schema, { a: 9, nested: { list: [{ p: "x" }, { p: "z" }] } });
    expect(failures.map((f) => f.property).sort()).toEqual(["a", "nested.list[1].p"]);
    expect(failures.find((f) => f.property === "a")?.reason).toBe("at most 3");
  });

  it("names unknown keys as their own property", () => {
    const failures = validate(schema, { a: 1, nested: { list: [] }, typo: 1 });
    expect(failures).toEqual([{ property: "typo", reason: expect.stringContaining("unknown property") }]);
  });

  it("does not reject values the engine does not know yet", () => {
    expect(validate(schema, { a: UNKNOWN, nested: UNKNOWN })).toEqual([]);
    expect(validate(schema, { a: UNKNOWN, nested: { list: [{ p: "bad" }] } })).toEqual([
      expect.objectContaining({ property: "nested.list[0].p" }),
    ]);
  });
});

describe("durations", () => {
  it("parses the documented forms", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("20m")).toBe(1_200_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
  });
  it("refuses anything else", () => {
    for (const bad of ["", "10", "5 m", "1d", "m"]) expect(() => parseDuration(bad)).toThrow(/duration/);
  });
});

describe("names", () => {
  it("generates <prefix>-<7 hex> within the length limit", () => {
    expect(autoName("trainer")).toMatch(/^trainer-[0-9a-f]{7}$/);
    expect(autoName("x".repeat(100), 20)).toHaveLength(20);
    expect(autoName("x")).not.toBe(autoName("x"));
  });
  it("keeps a generated name across checks and uses a given one as is", () => {
    const first = resolveName({ autonamePrefix: "trainer" }, undefined) as string;
    expect(first).toMatch(/^trainer-/);
    expect(resolveName({ autonamePrefix: "trainer" }, { autonamePrefix: "trainer", name: first })).toBe(first);
    expect(resolveName({ name: "mine" }, { autonamePrefix: "trainer", name: first })).toBe("mine");
    // an explicit old name is not carried over once the user drops it
    expect(resolveName({ autonamePrefix: "t" }, { name: "mine" })).toMatch(/^t-/);
  });
});

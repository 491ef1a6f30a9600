/** The marker that lets a rerun find what a killed `pulumi up` made, and only that. */
import { beforeEach, describe, expect, it } from "vitest";
import { checkResource } from "../../src/core/check";
import {
  identityOf,
  markerInRemark,
  mayAdopt,
  parseMarker,
  rememberRecorded,
  remarkTag,
  resetIdentityMemory,
  stackKey,
  stripRemarkTag,
} from "../../src/core/identity";
import { instanceInputsSchema } from "../../src/ppio/schemas";

const path = { organization: "organization", project: "gpu", stack: "dev", type: "pulumi-nodejs:dynamic/ppio:Instance", name: "trainer", parents: [] };
const base = { productId: "p-4090", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 50 }, autonamePrefix: "trainer" };
const check = (news: Record<string, unknown>, olds?: Record<string, unknown>) => checkResource(instanceInputsSchema, olds, news, 255).inputs;

beforeEach(() => resetIdentityMemory());

describe("identity", () => {
  it("is the same wherever the program runs and differs per stack, resource, type and parent", () => {
    const id = identityOf(path);
    expect(identityOf({ ...path })).toBe(id);
    const others = [
      identityOf({ ...path, stack: "prod" }),
      identityOf({ ...path, project: "other" }),
      identityOf({ ...path, organization: "acme" }),
      identityOf({ ...path, name: "trainer2" }),
      identityOf({ ...path, type: "pulumi-nodejs:dynamic/ppio:Endpoint" }),
      identityOf({ ...path, parents: ["my:Component::team"] }),
    ];
    expect(new Set([id, ...others]).size).toBe(7);
    expect(id.startsWith(`${stackKey("organization", "gpu", "dev")}.`)).toBe(true);
    expect(identityOf({ ...path, name: "x" }).split(".")[0]).toBe(id.split(".")[0]);
  });
});

describe("check", () => {
  const identity = identityOf(path);

  it("gives a rerun of a killed create (no old inputs) the same marker and generated name", () => {
    const first = check({ ...base, identity });
    resetIdentityMemory(); // a new provider process, maybe on another machine
    const again = check({ ...base, identity }, {}); // Pulumi's host sends {} for "no old inputs"
    expect(first.marker).toBe(`${identity}.0`);
    expect(again.marker).toBe(first.marker);
    expect(again.name).toBe(first.name);
    expect(first.name).toMatch(/^trainer-[0-9a-f]{7}$/);
  });

  it("keeps the recorded marker and name on an update", () => {
    const first = check({ ...base, identity });
    const next = check({ ...base, identity, image: "nginx:1.28" }, first);
    expect(next.marker).toBe(first.marker);
    expect(next.name).toBe(first.name);
  });

  it("gives a replacement (checked again without old inputs) the next generation, never the live one's", () => {
    const live = check({ ...base, identity });
    check({ ...base, identity, productId: "p-h100" }, live); // the check with old inputs
    const replacement = check({ ...base, identity, productId: "p-h100" }); // the engine's second check
    expect(parseMarker(replacement.marker as string)?.generation).toBe(1);
    expect(replacement.name).not.toBe(live.name);
    // and the replacement of that one the generation after
    resetIdentityMemory();
    check({ ...base, identity }, replacement);
    expect(parseMarker(check({ ...base, identity }).marker as string)?.generation).toBe(2);
  });

  it("keeps an explicit name and still marks the object", () => {
    const inputs = check({ ...base, name: "mine", autonamePrefix: undefined, identity });
    expect(inputs.name).toBe("mine");
    expect(inputs.marker).toBe(`${identity}.0`);
  });

  it("leaves inputs without an identity (older programs) unmarked, with a random name", () => {
    const a = check({ ...base });
    const b = check({ ...base });
    expect(a.marker).toBeUndefined();
    expect(a.name).not.toBe(b.name);
  });

  it("records nothing for an object recorded before markers, and starts its replacement at 0", () => {
    const legacy = { ...base, name: "trainer-abc1234" };
    expect(check({ ...base, identity }, legacy).marker).toBeUndefined();
    expect(check({ ...base, identity }).marker).toBe(`${identity}.0`);
  });
});

describe("adoption guard", () => {
  it("refuses the ids diff saw recorded for the same resource only", () => {
    const identity = identityOf(path);
    rememberRecorded({ identity }, "live-1");
    expect(mayAdopt({ identity }, "live-1")).toBe(false);
    expect(mayAdopt({ identity }, "other")).toBe(true);
    expect(mayAdopt({ identity: identityOf({ ...path, name: "b" }) }, "live-1")).toBe(true);
  });
});

describe("markers in the cloud object", () => {
  it("parse only what this package wrote", () => {
    const m = `${identityOf(path)}.3`;
    expect(parseMarker(m)).toEqual({ stackKey: m.split(".")[0], identity: m.split(".").slice(0, 2).join("."), generation: 3 });
    for (const bad of [undefined, "", "abc", "0123456789ab.0123456789ab", "x23456789ab.0123456789ab.1"]) expect(parseMarker(bad)).toBeUndefined();
  });
  it("round-trip through a CompShare Remark", () => {
    const m = `${identityOf(path)}.0`;
    const remark = `team a ${remarkTag(m)}`;
    expect(markerInRemark(remark)).toBe(m);
    expect(stripRemarkTag(remark)).toBe("team a");
    expect(markerInRemark("team a")).toBeUndefined();
  });
});

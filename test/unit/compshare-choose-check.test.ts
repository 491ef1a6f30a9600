/**
 * CompShareInstance check of the #12 inputs (no API call): fallbacks, maxPricePerHour,
 * adoptId and autoStop; their diff rows; the outputs of a fallback's shape.
 */
import { describe, expect, it } from "vitest";
import { boughtZone, compShareInstance, INSTANCE_POLICY, toOutputs } from "../../src/compshare/instance";
import { COMPSHARE_INSTANCE } from "../support/fixtures";

const valid = { ...COMPSHARE_INSTANCE, name: "trainer-1" };
const failures = async (news: Record<string, unknown>) => (await compShareInstance.check(undefined, news)).failures;

describe("check: fallbacks, maxPricePerHour, adoptId, autoStop", () => {
  it("accepts them when valid", async () => {
    expect(
      await failures({
        ...valid,
        fallbacks: [{ zone: "cn-wlcb-02" }, { gpuType: "5090", cpu: 32, memory: 131072 }, { chargeType: "Month", quantity: 0 }],
        maxPricePerHour: 3.5,
        autoStop: { after: "8h" },
      }),
    ).toEqual([]);
    expect(await failures({ ...valid, adoptId: "uhost-0123456789ab" })).toEqual([]);
  });

  it("refuses a fallback key outside the shape, an empty fallback, and checks each fallback as the whole instance", async () => {
    const f = await failures({ ...valid, fallbacks: [{ name: "x" }, {}, { gpuType: "3080Ti" }, { gpu: 11 }, { disks: [{ isBoot: false, type: "CLOUD_SSD", size: 10 }] }] });
    const props = f.map((x) => x.property);
    expect(f.find((x) => x.property.startsWith("fallbacks[0]"))?.reason).toMatch(/"name" is not one of them/);
    expect(props.some((p) => p.startsWith("fallbacks[1]"))).toBe(true);
    // 3080Ti has at most 12 vCPUs and 125 GB: the declared 16 vCPU / 64 GB do not fit it
    expect(props).toContain("fallbacks[2].cpu");
    expect(props).toContain("fallbacks[3].gpu");
    expect(props).toContain("fallbacks[4].disks");
    expect(props.filter((p) => !p.startsWith("fallbacks"))).toEqual([]);
  });

  it("refuses a bad cap and a malformed adoptId", async () => {
    expect((await failures({ ...valid, maxPricePerHour: 0 })).map((x) => x.property)).toEqual(["maxPricePerHour"]);
    expect((await failures({ ...valid, maxPricePerHour: "2" })).map((x) => x.property)).toEqual(["maxPricePerHour"]);
    expect((await failures({ ...valid, adoptId: "" })).map((x) => x.property)).toEqual(["adoptId"]);
    expect((await failures({ ...valid, adoptId: "i-123" }))[0]).toMatchObject({ property: "adoptId", reason: expect.stringMatching(/uhost-/) });
  });

  it("autoStop: a duration of at least five minutes, not for Spot (also not through a fallback)", async () => {
    expect(await failures({ ...valid, autoStop: { after: "4m59s" } })).toEqual([{ property: "autoStop.after", reason: expect.stringMatching(/at least 5 minutes/) }]);
    expect((await failures({ ...valid, autoStop: { after: "soon" } })).map((x) => x.property)).toEqual(["autoStop.after"]);
    expect((await failures({ ...valid, autoStop: { after: "1h", at: 3 } })).map((x) => x.property)).toEqual(["autoStop.at"]);
    expect(await failures({ ...valid, autoStop: { after: "5m" } })).toEqual([]);
    expect(await failures({ ...valid, autoStop: { after: "90m" } })).toEqual([]);
    expect(await failures({ ...valid, chargeType: "Spot", autoStop: { after: "1h" } })).toEqual([
      { property: "autoStop", reason: expect.stringMatching(/no scheduled stop for Spot/) },
    ]);
    expect((await failures({ ...valid, autoStop: { after: "1h" }, fallbacks: [{ chargeType: "Spot" }] })).map((x) => x.property)).toEqual(["fallbacks[0].autoStop"]);
  });

  it("diff rows: fallbacks, maxPricePerHour and adoptId are no diff; autoStop updates in place", async () => {
    expect(INSTANCE_POLICY.fallbacks.kind).toBe("ignore");
    expect(INSTANCE_POLICY.maxPricePerHour.kind).toBe("ignore");
    expect(INSTANCE_POLICY.adoptId.kind).toBe("ignore");
    expect(INSTANCE_POLICY.autoStop.kind).toBe("update");
    const olds = { ...valid, fallbacks: [{ zone: "cn-wlcb-02" }], maxPricePerHour: 3, adoptId: "uhost-a", state: "Running" };
    expect(await compShareInstance.diff("uhost-a", olds, { ...valid, fallbacks: [{ gpuType: "5090" }], maxPricePerHour: 9 })).toEqual({ changes: false, replaces: [] });
    expect(await compShareInstance.diff("uhost-a", olds, { ...valid, autoStop: { after: "2h" } })).toEqual({ changes: true, replaces: [] });
  });

  it("a fallback's shape is not drift: outputs show the declaration while the instance has the bought shape", () => {
    const declared = { ...valid, fallbacks: [{ zone: "cn-wlcb-02", gpu: 2 }], chosenFallback: 0, chosenShape: { ...valid, zone: "cn-wlcb-02", gpu: 2 } };
    const live = { UHostId: "uhost-a", State: "Running", IPSet: [], Zone: "cn-wlcb-02", GpuType: "4090", GPU: 2, CPU: 16, Memory: 65536, StopSchedulerTime: 0 };
    const outs = toOutputs(declared, live as never, "uhost-a");
    expect(outs).toMatchObject({ zone: "cn-wlcb-01", gpu: 1, chosenFallback: 0 });
    expect(outs.stopSchedulerTime).toBeUndefined();
    expect(boughtZone(outs)).toBe("cn-wlcb-02");
    // resized outside Pulumi: that is drift
    expect(toOutputs(declared, { ...live, GPU: 3 } as never, "uhost-a")).toMatchObject({ gpu: 3 });
    expect(toOutputs(declared, { ...live, StopSchedulerTime: 4102444800 } as never, "uhost-a").stopSchedulerTime).toBe("2100-01-01T00:00:00.000Z");
  });
});

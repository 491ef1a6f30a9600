/** The cloud-free rules of choosing what to buy: candidates, the price cap, fallbacks, the bought shape. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkResource } from "../../src/core/check";
import {
  buyFirstAvailable,
  type Candidate,
  candidatesOf,
  chosenOutputs,
  declaredWhileBought,
  fallbacksSchema,
  inferChosen,
  olderAgainstChosen,
} from "../../src/core/choose";
import { CapacityError, CostGuardError, QuotaError, ServerError } from "../../src/core/errors";

const FIELDS = ["gpuType", "chargeType", "gpu"] as const;
const schema = z.strictObject({
  name: z.string().optional(),
  gpuType: z.enum(["4090", "3090", "H20"]),
  gpu: z.number().int().min(1).max(8),
  chargeType: z.enum(["Spot", "Postpay"]).optional(),
  fallbacks: fallbacksSchema(FIELDS),
});

const declared = { gpuType: "4090", gpu: 1, chargeType: "Spot", fallbacks: [{ gpuType: "3090" }, { chargeType: "Postpay" }] };

const soldOut = () => new CapacityError("sold out", { cloud: "compshare", code: "8357" });

function run(o: { sold?: string[]; prices?: Record<string, number | undefined>; cap?: number; error?: Error }) {
  const bought: Candidate[] = [];
  const priced: string[] = [];
  const key = (c: Candidate) => `${c.inputs.gpuType}/${c.inputs.chargeType}`;
  const result = buyFirstAvailable({
    cloud: "compshare",
    what: "test",
    candidates: candidatesOf(declared),
    maxPricePerHour: o.cap,
    priceOf: async (c) => {
      priced.push(key(c));
      return o.prices?.[key(c)];
    },
    buy: async (c) => {
      if (o.error) throw o.error;
      if (o.sold?.includes(key(c))) throw soldOut();
      bought.push(c);
      return `id-${bought.length}`;
    },
    describe: key,
    log: () => {},
  });
  return { result, bought, priced };
}

describe("candidatesOf", () => {
  it("applies each fallback to the declared inputs, not to the fallback before it", () => {
    const [preferred, first, second] = candidatesOf(declared);
    expect(preferred).toMatchObject({ index: -1, inputs: { gpuType: "4090", chargeType: "Spot" } });
    expect(first).toMatchObject({ index: 0, inputs: { gpuType: "3090", chargeType: "Spot" } });
    expect(second).toMatchObject({ index: 1, inputs: { gpuType: "4090", chargeType: "Postpay" } });
    expect(preferred.inputs).not.toHaveProperty("fallbacks");
  });
});

describe("buyFirstAvailable", () => {
  it("buys the preferred shape when it has capacity", async () => {
    const r = run({});
    await expect(r.result).resolves.toMatchObject({ result: "id-1", chosen: { index: -1 } });
    expect(r.priced).toEqual([]); // no cap: no price asked
  });

  it("moves on after a sold-out refusal and buys exactly one object", async () => {
    const r = run({ sold: ["4090/Spot", "3090/Spot"] });
    await expect(r.result).resolves.toMatchObject({ chosen: { index: 1, inputs: { chargeType: "Postpay" } } });
    expect(r.bought).toHaveLength(1);
  });

  it("skips a candidate over the cap before sending anything", async () => {
    const r = run({ cap: 1.5, prices: { "4090/Spot": 2.05, "3090/Spot": 1.13 } });
    await expect(r.result).resolves.toMatchObject({ chosen: { index: 0 }, pricePerHour: 1.13 });
    expect(r.bought.map((c) => c.index)).toEqual([0]);
  });

  it("skips a candidate whose price cannot be learnt under a cap", async () => {
    const r = run({ cap: 5, prices: { "3090/Spot": 1.13 } });
    await expect(r.result).resolves.toMatchObject({ chosen: { index: 0 } });
  });

  it("buys nothing when every candidate is over the cap, naming prices and cap", async () => {
    const r = run({ cap: 0.5, prices: { "4090/Spot": 2.05, "3090/Spot": 1.13, "4090/Postpay": 2.5 } });
    const e = await r.result.catch((x) => x);
    expect(e).toBeInstanceOf(CostGuardError);
    expect(e.message).toContain("2.05/h is above maxPricePerHour 0.5");
    expect(e.message).toContain("fallbacks[1] (4090/Postpay): 2.5/h");
    expect(r.bought).toHaveLength(0);
  });

  it("reports every attempt when all are sold out", async () => {
    const r = run({ sold: ["4090/Spot", "3090/Spot", "4090/Postpay"] });
    const e = await r.result.catch((x) => x);
    expect(e).toBeInstanceOf(CapacityError);
    expect(e.message).toMatch(/preferred shape.*no capacity[\s\S]*fallbacks\[0\][\s\S]*fallbacks\[1\]/);
  });

  it("stops at once on an error that another shape would not fix", async () => {
    const r = run({ error: new QuotaError("quota", { cloud: "compshare" }) });
    await expect(r.result).rejects.toBeInstanceOf(QuotaError);
  });

  it("never moves on after a create whose outcome is unknown", async () => {
    const ambiguous = new CapacityError("lost", { cloud: "compshare", mayHaveSucceeded: true });
    const r = run({ error: ambiguous });
    await expect(r.result).rejects.toBe(ambiguous);
  });

  it("rethrows the cloud's own error when there is nothing to fall back to", async () => {
    const e = soldOut();
    const p = buyFirstAvailable({
      cloud: "ppio",
      what: "t",
      candidates: candidatesOf({ gpuType: "4090" }),
      buy: async () => {
        throw e;
      },
      describe: () => "x",
      log: () => {},
    });
    await expect(p).rejects.toBe(e);
  });

  it("does not retry a transient failure as a fallback", async () => {
    const r = run({ error: new ServerError("5xx", { cloud: "compshare" }) });
    await expect(r.result).rejects.toBeInstanceOf(ServerError);
  });
});

describe("the bought shape", () => {
  const chosen = candidatesOf(declared)[1];
  const outs = chosenOutputs(chosen, FIELDS);

  it("records the index and the values of the shape fields", () => {
    expect(outs).toEqual({ chosenFallback: 0, chosenShape: { gpuType: "3090", chargeType: "Spot", gpu: 1 } });
  });

  it("shows the declared value while the object has the bought shape, and drift otherwise", () => {
    expect(declaredWhileBought("gpuType", "4090", "3090", outs.chosenShape)).toBe("4090");
    expect(declaredWhileBought("gpu", 1, 2, outs.chosenShape)).toBe(2);
    expect(declaredWhileBought("gpu", 1, undefined, outs.chosenShape)).toBe(1);
    expect(declaredWhileBought("gpuType", "4090", "3090", undefined)).toBe("3090");
  });

  it("counts declaring the bought shape as no change", () => {
    const olds = { gpuType: "4090", gpu: 1, ...outs };
    expect(olderAgainstChosen(olds, { gpuType: "3090", gpu: 1 }).gpuType).toBe("3090");
    expect(olderAgainstChosen(olds, { gpuType: "H20", gpu: 1 }).gpuType).toBe("4090");
    expect(olderAgainstChosen({ gpuType: "4090" }, { gpuType: "3090" }).gpuType).toBe("4090");
  });

  it("infers the candidate an adopted object matches", () => {
    const cs = candidatesOf(declared);
    expect(inferChosen(cs, (i) => i.gpuType === "3090").index).toBe(0);
    expect(inferChosen(cs, () => false).index).toBe(-1);
  });
});

describe("checking fallbacks", () => {
  const check = (news: Record<string, unknown>) => checkResource(schema, undefined, { name: "n", ...news }, 63).failures;

  it("accepts valid fallbacks", () => {
    expect(check(declared)).toEqual([]);
  });

  it("names a key that is not a shape field", () => {
    expect(check({ ...declared, fallbacks: [{ name: "x" }] })).toContainEqual({
      property: "fallbacks[0].name",
      reason: expect.stringContaining('may override only "gpuType", "chargeType", "gpu"'),
    });
  });

  it("checks each fallback as the resource it would buy", () => {
    expect(check({ ...declared, fallbacks: [{ gpuType: "3090" }, { gpu: 9 }] })).toEqual([
      { property: "fallbacks[1].gpu", reason: expect.any(String) },
    ]);
  });

  it("refuses an empty fallback", () => {
    expect(check({ ...declared, fallbacks: [{}] })).toContainEqual({ property: "fallbacks[0]", reason: "a fallback must override at least one input" });
  });
});

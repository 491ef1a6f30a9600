/**
 * Through the runtime providers against the emulator: a create adopts only the object its own
 * resource's marker names (never the live original of a replacement, never another stack's or
 * another resource's object), and `findOrphans` lists exactly a stack's marked objects that
 * its state does not hold.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deleteOrphans, findOrphans } from "../../src/cli/orphans";
import { identityOf, resetIdentityMemory, stackKey } from "../../src/core/identity";
import { settings } from "../../src/core/provider";
import type { Emulator } from "../../src/emulator/server";
import { fakeConfig } from "../support/fixtures";
import { DRIVERS, type Props, type ResourceName, startCanaryEmulator } from "./drivers";

let emu: Emulator;
const TYPES: Record<ResourceName, string> = {
  PpioInstance: "pulumi-nodejs:dynamic/ppio:Instance",
  PpioEndpoint: "pulumi-nodejs:dynamic/ppio:Endpoint",
  CompShareInstance: "pulumi-nodejs:dynamic/compshare:Instance",
};
const RESOURCES = Object.keys(TYPES) as ResourceName[];

beforeAll(async () => {
  emu = await startCanaryEmulator();
  settings.configure(
    fakeConfig({
      "ppio:apiKey": emu.apiKey,
      "ppio:baseUrl": emu.url,
      "compshare:publicKey": emu.compsharePublicKey,
      "compshare:privateKey": emu.compsharePrivateKey,
      "compshare:baseUrl": emu.url,
    }),
  );
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => resetIdentityMemory());

const identity = (stack: string, r: ResourceName, name: string) =>
  identityOf({ organization: "organization", project: "p", stack, type: TYPES[r], name, parents: [] });

/** check then create, as the engine calls them; `olds` makes it the check of an existing resource. */
async function create(r: ResourceName, stack: string, name: string, extra: Props = {}, olds?: Props) {
  const d = DRIVERS[r];
  const { inputs, failures } = await d.provider.check(olds, { ...d.base, autonamePrefix: name, identity: identity(stack, r, name), ...extra, __provider: "x" });
  expect(failures).toEqual([]);
  return { inputs, ...(await d.provider.create(inputs)) };
}

const createdOf = (r: ResourceName) => DRIVERS[r].created(emu);

describe.each(RESOURCES)("%s adoption", (r) => {
  it("adopts what a killed run made for the same resource, with no second create", async () => {
    const first = await create(r, "dev", "a");
    const before = createdOf(r);
    resetIdentityMemory(); // a new provider process: the engine forgot the create
    const again = await create(r, "dev", "a", {}, {});
    expect(again.id).toBe(first.id);
    expect(createdOf(r) - before).toBe(0);
    await DRIVERS[r].provider.delete(first.id, first.outs);
  });

  it("never adopts another stack's or another resource's object, even with the same explicit name", async () => {
    const name = "same-name";
    const mine = await create(r, "dev", "b", { name });
    const other = await create(r, "prod", "b", { name });
    const sibling = await create(r, "dev", "c", { name });
    expect(new Set([mine.id, other.id, sibling.id]).size).toBe(3);
    for (const x of [mine, other, sibling]) await DRIVERS[r].provider.delete(x.id, x.outs);
  });

  it("gives a replacement its own object, never the live original", async () => {
    const live = await create(r, "dev", "d");
    // The engine: check with the recorded inputs, diff (sees the id), check again without olds, create.
    const d = DRIVERS[r];
    const news = { ...d.base, autonamePrefix: "d", identity: identity("dev", r, "d"), __provider: "x" };
    await d.provider.diff(live.id, live.outs, (await d.provider.check(live.inputs, news)).inputs);
    const replacement = await d.provider.create((await d.provider.check({}, news)).inputs);
    expect(replacement.id).not.toBe(live.id);
    for (const x of [live, replacement]) await d.provider.delete(x.id, x.outs);
  });
});

describe("findOrphans", () => {
  it("lists a stack's marked objects the state does not hold, nothing else, and --delete leaves none", async () => {
    const planted = await Promise.all(RESOURCES.map((r) => create(r, "dev", "lost")));
    const owned = await Promise.all(RESOURCES.map((r) => create(r, "dev", "kept")));
    const foreign = await Promise.all(RESOURCES.map((r) => create(r, "prod", "lost")));
    // Objects the package did not mark (made by an older release, the console or another tool).
    const unmarked = await Promise.all(RESOURCES.map(async (r) => DRIVERS[r].provider.create((await DRIVERS[r].provider.check({}, { ...DRIVERS[r].base, __provider: "x" })).inputs)));
    const recorded = new Set(owned.map((o) => o.id));
    const key = stackKey("organization", "p", "dev");

    const found = await findOrphans(key, recorded, { ppio: true, compshare: true, regions: ["cn-wlcb"] });
    expect(found.map((o) => o.id).sort()).toEqual(planted.map((p) => p.id).sort());
    expect(found.map((o) => o.kind).sort()).toEqual([...RESOURCES].sort());
    for (const o of found) expect(o.createdAt).toMatch(/^\d{4}-/);

    const failed = await deleteOrphans(found, () => undefined);
    expect(failed).toEqual([]);
    const live = new Set(RESOURCES.flatMap((r) => DRIVERS[r].live(emu)));
    for (const p of planted) expect(live.has(p.id)).toBe(false);
    for (const x of [...owned, ...foreign, ...unmarked]) expect(live.has(x.id)).toBe(true);
    expect(await findOrphans(key, recorded, { ppio: true, compshare: true, regions: [] })).toEqual([]);

    for (const [i, x] of [...owned, ...foreign, ...unmarked].entries()) await DRIVERS[RESOURCES[i % 3]].provider.delete(x.id, x.outs);
  });
});

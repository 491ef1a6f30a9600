/**
 * `pulumi preview` of every example project succeeds against the emulator and changes nothing:
 * the only cloud calls are the programs' look-ups (catalogue reads), never a create, update or
 * delete, and no resource's state is read.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { e2eDescribe, useE2E } from "./setup";

const root = process.cwd();
const projects = [
  root, // Pulumi.yaml → examples/quickstart
  ...readdirSync(join(root, "examples"))
    .map((d) => join(root, "examples", d))
    .filter((d) => existsSync(join(d, "Pulumi.yaml"))),
];

const e2e = useE2E();

/** A look-up: PPIO's product and region lists, CompShare's catalogue actions (zones, images, types, prices). */
function isCatalogueRead(r: { cloud: string; method: string; path: string; action?: string }): boolean {
  if (r.cloud === "ppio") return r.method === "GET" && /^\/gpus\/v2\/(products|regions)(\?|$)/.test(r.path);
  return /^(DescribeCompShareSupportZone|DescribeCompShareImages|DescribeCompShareCustomImages|DescribeCommunityImages|DescribeAvailableCompShareInstanceTypes|GetCompShareInstancePrice)$/.test(r.action ?? "");
}

e2eDescribe("example programs", () => {
  it.each(projects.map((p) => [p.slice(root.length + 1) || "Pulumi.yaml (quickstart)", p]))("%s previews", async (_label, dir) => {
    const h = e2e.h;
    const stack = `preview-${Math.random().toString(36).slice(2, 8)}`;
    const config = join(h.dir, `Pulumi.${stack}.yaml`);
    const cfg = ["--stack", stack, "--config-file", config];
    expect((await h.cli(["stack", "init", stack], dir)).code).toBe(0);
    for (const [k, { value: v, secret }] of Object.entries(h.credentials())) {
      expect((await h.cli(["config", "set", ...cfg, ...(secret ? ["--secret"] : []), k, v], dir)).code).toBe(0);
    }
    h.emu.resetRequests();
    const preview = await h.cli(["preview", ...cfg], dir);
    expect(preview.out).toMatch(/to create/);
    expect(preview.code, preview.out).toBe(0);
    const calls = h.emu.requests.filter((r) => r.cloud !== "emulator");
    const lookUps = calls.filter((r) => isCatalogueRead(r));
    expect(calls.filter((r) => !isCatalogueRead(r))).toEqual([]);
    expect(lookUps.every((r) => r.status === 200), JSON.stringify(lookUps)).toBe(true);
    await h.cli(["stack", "rm", "--yes", "--force", "--stack", stack], dir);
  });
});

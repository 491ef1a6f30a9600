/** `pulumi preview` of every example project succeeds against the emulator, with no cloud call. */
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
    expect(h.emu.requests.filter((r) => r.cloud !== "emulator")).toEqual([]);
    await h.cli(["stack", "rm", "--yes", "--force", "--stack", stack], dir);
  });
});

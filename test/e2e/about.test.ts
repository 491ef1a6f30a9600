/** `pulumi about` on this repository's project: the language host answers About and GetProgramDependencies. */
import { expect, it } from "vitest";
import { e2eDescribe, useE2E } from "./setup";

const e2e = useE2E();

e2eDescribe("pulumi about", () => {
  it("names the Node.js runtime and the program's dependencies", async () => {
    const r = await e2e.h.cli(["about"], process.cwd());
    expect(r.out).not.toMatch(/does not implement/i);
    expect(r.out).toMatch(new RegExp(`written in nodejs: executable='[^']+' version='v\\d+\\.\\d+\\.\\d+'`));
    expect(r.out).toMatch(/^@pulumi\/pulumi\s+3\.\d+\.\d+$/m);
    expect(r.code, r.out).toBe(0);
  });
});

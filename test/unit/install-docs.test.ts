/** What the README says about installing and building matches what the scripts do. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = process.cwd();
const readme = readFileSync(join(root, "README.md"), "utf8");
const section = (title: string): string => {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has no "## ${title}"`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const script = readFileSync(join(root, "scripts", "pulumi-cli.mjs"), "utf8");
const wrapperReadme = readFileSync(join(root, "tools", "pulumi-cli", "README.md"), "utf8");
const gomod = (dir: string) => readFileSync(join(root, "tools", "pulumi-cli", dir, "go.mod"), "utf8").match(/pkg\/v3 v(\d+\.\d+\.\d+)\s/)![1];

describe("README", () => {
  it("gives one download size for the CLI build, the one the build itself prints", () => {
    const printed = script.match(/const COLD_BUILD = "about (\d+ MB) of Go module downloads/)![1];
    for (const text of [section("Two commands"), wrapperReadme].map((t) => t.replace(/\s+/g, " "))) {
      expect(text).toContain(`${printed} of Go module`);
      expect(text.match(/\d+(\.\d+)? ?[GM]B/g)).toEqual([printed]);
    }
  });

  it("pins, for Node.js 20, the @pulumi/pulumi this repository develops against", () => {
    const dev = pkg.devDependencies["@pulumi/pulumi"];
    expect(gomod(".")).toBe(dev);
    expect(section("Install")).toContain(`npm install pulumi-gpu-cloud @pulumi/pulumi@${dev}    # Node.js 20`);
    expect(section("Install")).toContain(gomod("newest"));
  });

  it("says TypeScript 7 breaks Pulumi's ts-node", () => {
    expect(section("Install")).toMatch(/TypeScript 7 breaks\s+the ts-node that Pulumi runs/);
  });

  it("documents the test command .ci/run runs", () => {
    const ci = readFileSync(join(root, ".ci", "run"), "utf8");
    expect(ci).toMatch(/^npm ci && npm test$/m);
    expect(section("Two commands")).toContain("npm ci && npm test");
  });
});

describe("package.json", () => {
  it("runs no script at install time and builds before packing, testing and the demo", () => {
    for (const s of ["preinstall", "install", "postinstall", "prepare"]) expect(pkg.scripts).not.toHaveProperty(s);
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
    expect(pkg.scripts.pretest).toMatch(/npm run build && node scripts\/pulumi-cli\.mjs ensure/);
    expect(pkg.scripts.predemo).toMatch(/npm run build/);
  });
});

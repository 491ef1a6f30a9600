/**
 * The package as a user gets it: `npm pack`, installed into a new project, type-checked by
 * that project's compiler under the tsconfig `pulumi new typescript` writes (no
 * `skipLibCheck`, no `esModuleInterop`, `moduleResolution: node`) and under `nodenext`, on
 * TypeScript 5.9 (this repository's) and 6.x. The programs checked are the examples
 * themselves plus one that touches the rest of the public API.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = process.cwd();
const require = createRequire(join(root, "package.json"));
/** The TypeScript 6 release the declarations are checked with (installed into a temp dir). */
const TS6 = "typescript@6.0.3";

function run(cmd: string, args: string[], cwd: string, timeout = 600_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: "false" } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** The tsconfig `pulumi new typescript` writes. */
const PULUMI_NEW = {
  strict: true,
  outDir: "bin",
  target: "es2020",
  module: "commonjs",
  moduleResolution: "node",
  sourceMap: true,
  experimentalDecorators: true,
  pretty: false,
  noFallthroughCasesInSwitch: true,
  noImplicitReturns: true,
  forceConsistentCasingInFileNames: true,
};
const NODENEXT = { strict: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext", pretty: false };

/** Uses what the examples do not: the clients, errors, the emulator and the runtime entry. */
const API_PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import * as gpu from "pulumi-gpu-cloud";
import * as runtime from "pulumi-gpu-cloud/runtime";

const args: gpu.PpioInstanceArgs = { productId: "p", image: "i", resource: { gpuNum: 1, rootfsSizeGb: 50 } };
const trainer = new gpu.PpioInstance("trainer", args);
export const ssh: pulumi.Output<string | undefined> = trainer.sshCommand;
export const types = [typeof gpu.PpioClient, typeof gpu.CompShareClient, typeof gpu.PartialFailureError];
export async function emulate(): Promise<string> {
  const emu: gpu.Emulator = await gpu.startEmulator({ timings: gpu.FAST_TIMINGS });
  const url = emu.url;
  await emu.close();
  return url;
}
export const providers = Object.keys(runtime);
`;

let work: string;
let project: string;
let tarball: string;
let installOutput = "";
let ts6Dir: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "gpu-cloud-consumer-"));
  // dist/ is built by `npm test` beforehand; packing must not rebuild it under running tests.
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], root);
  expect(packed.code, packed.out).toBe(0);
  tarball = join(work, (JSON.parse(packed.out.slice(packed.out.indexOf("["))) as { filename: string }[])[0].filename);

  project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-program", private: true, main: "index.ts" }));
  // The peer @pulumi/pulumi and @types/node are this repository's (linked below), so the
  // check runs against the SDK version this suite tests with.
  const installed = await run("npm", ["install", tarball, "--prefer-offline", "--legacy-peer-deps", "--no-audit", "--no-fund"], project);
  installOutput = installed.out;
  expect(installed.code, installed.out).toBe(0);
  for (const dep of ["@pulumi/pulumi", "@types/node"]) {
    const dir = realpathSync(join(require.resolve(`${dep}/package.json`), ".."));
    mkdirSync(join(project, "node_modules", dep, ".."), { recursive: true });
    symlinkSync(dir, join(project, "node_modules", dep), "dir");
  }
  for (const example of readdirSync(join(root, "examples"))) {
    cpSync(join(root, "examples", example, "index.ts"), join(project, `example-${example}.ts`));
  }
  writeFileSync(join(project, "index.ts"), API_PROGRAM);

  ts6Dir = join(work, "ts6");
  mkdirSync(ts6Dir);
  writeFileSync(join(ts6Dir, "package.json"), JSON.stringify({ private: true }));
  const ts6 = await run("npm", ["install", TS6, "--prefer-offline", "--no-audit", "--no-fund"], ts6Dir);
  expect(ts6.code, ts6.out).toBe(0);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("carries no install-time script, and installing it makes npm warn about none of ours", () => {
    const manifest = JSON.parse(readFileSync(join(project, "node_modules", "pulumi-gpu-cloud", "package.json"), "utf8"));
    const lifecycle = ["preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare"];
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => lifecycle.includes(s))).toEqual([]);
    expect(installOutput.split("\n").filter((l) => /warn/i.test(l) && /pulumi-gpu-cloud/.test(l))).toEqual([]);
  });

  it("ships declarations that never load zod", () => {
    const dts: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith(".d.ts")) dts.push(join(dir, e.name));
      }
    };
    walk(join(project, "node_modules", "pulumi-gpu-cloud", "dist"));
    expect(dts.length).toBeGreaterThan(0);
    expect(dts.filter((f) => /from\s+["']zod|import\(["']zod/.test(readFileSync(f, "utf8")))).toEqual([]);
  });

  const matrix = [
    { ts: "5.9", name: "pulumi new typescript", options: PULUMI_NEW },
    { ts: "5.9", name: "nodenext", options: NODENEXT },
    // TypeScript 6 rejects `moduleResolution: node` itself unless deprecations are ignored.
    { ts: "6", name: "pulumi new typescript", options: { ...PULUMI_NEW, ignoreDeprecations: "6.0" } },
    { ts: "6", name: "nodenext", options: NODENEXT },
  ];
  it.each(matrix)("type-checks on TypeScript $ts with the $name tsconfig", async ({ ts, name, options }) => {
    const tsc = ts === "6" ? join(ts6Dir, "node_modules", "typescript", "bin", "tsc") : require.resolve("typescript/bin/tsc");
    const config = `tsconfig.${ts}.${name.replace(/\W+/g, "-")}.json`;
    const files = readdirSync(project).filter((f) => f.endsWith(".ts"));
    writeFileSync(join(project, config), JSON.stringify({ compilerOptions: { ...options, noEmit: true }, files }, null, 2));
    const version = await run(process.execPath, [tsc, "--version"], project);
    expect(version.out).toMatch(ts === "6" ? /Version 6\./ : /Version 5\.9\./);
    const r = await run(process.execPath, [tsc, "-p", config], project);
    expect(r.out.trim()).toBe("");
    expect(r.code).toBe(0);
  }, 600_000);
});

/** scripts/pulumi-cli.mjs: where the CLI is found, and the offline environment it runs in. */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with the demo and CI
import { cacheRoot, findPulumi, pinnedVersion, pulumiEnv, wrapperDir } from "../../scripts/pulumi-cli.mjs";

const saved = { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
});

/** A directory holding executables that print what `pulumi version` would. */
function fakeBin(names: string[], version = "v3.248.0"): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
  for (const name of names) {
    writeFileSync(join(dir, name), `#!/bin/sh\necho ${version}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe("findPulumi", () => {
  it("finds nothing on a machine with no CLI on PATH and an empty cache", async () => {
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "empty-cache-"));
    process.env.PATH = "/usr/bin:/bin";
    expect(await findPulumi()).toBeNull();
  });

  it("uses a pulumi already on PATH as it is", async () => {
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "empty-cache-"));
    const dir = fakeBin(["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"], "v3.200.1");
    process.env.PATH = `${dir}:/usr/bin:/bin`;
    expect(await findPulumi()).toMatchObject({ binDir: dir, source: "path", version: "v3.200.1", missing: [] });
  });

  it("uses a complete build in the cache, keyed by version", async () => {
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "cache-"));
    process.env.PATH = "/usr/bin:/bin";
    const bin = join(cacheRoot(), `pulumi-${await pinnedVersion()}`, "bin");
    mkdirSync(bin, { recursive: true });
    const src = fakeBin(["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]);
    for (const name of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec ${join(src, name)} "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    expect(await findPulumi()).toMatchObject({ binDir: bin, source: "cache", version: "v3.248.0" });
  });

  it("ignores a half-built cache", async () => {
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "cache-"));
    process.env.PATH = "/usr/bin:/bin";
    const bin = join(cacheRoot(), `pulumi-${await pinnedVersion()}`, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "pulumi"), "#!/bin/sh\necho v3.248.0\n");
    chmodSync(join(bin, "pulumi"), 0o755);
    expect(await findPulumi()).toBeNull();
  });
});

describe("wrapperDir", () => {
  it("builds the wrapper module pinning the installed @pulumi/pulumi's version", async () => {
    const sdk = JSON.parse(readFileSync(join(process.cwd(), "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;
    const dir: string = await wrapperDir();
    expect(readFileSync(join(dir, "go.mod"), "utf8")).toMatch(new RegExp(`github\\.com/pulumi/pulumi/pkg/v3 v${sdk.replace(/\./g, "\\.")}\\s`));
    expect(await pinnedVersion()).toBe(`v${sdk}`);
  });
});

describe("pulumiEnv", () => {
  it("runs the CLI offline, with a file backend and a private home, never with an access token", () => {
    const env = pulumiEnv({
      binDir: "/opt/pulumi/bin",
      stateDir: "/tmp/state",
      home: "/tmp/home",
      baseEnv: { PATH: "/usr/bin", PULUMI_ACCESS_TOKEN: "pul-secret" },
    });
    expect(env.PATH.split(":")[0]).toBe("/opt/pulumi/bin");
    expect(env).toMatchObject({
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_BACKEND_URL: "file:///tmp/state",
      PULUMI_HOME: "/tmp/home",
    });
    expect(env.PULUMI_CONFIG_PASSPHRASE).toBeTruthy();
    expect(env).not.toHaveProperty("PULUMI_ACCESS_TOKEN");
  });
});

/**
 * A stand-in `go`: `go env GOVERSION` answers, `go build -o dir/` takes a while, records
 * that it ran, and leaves executables that print a Pulumi version.
 */
function fakeGo(dir: string, buildLog: string): string {
  const go = join(dir, "go");
  writeFileSync(
    go,
    `#!/bin/sh
if [ "$1" = env ]; then echo go1.26.0; exit 0; fi
out=
while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
echo "build $$" >> "${buildLog}"
sleep 3
printf '#!/bin/sh\\necho v3.248.0\\n' > "\${out}pulumi"
chmod +x "\${out}pulumi"
`,
  );
  chmodSync(go, 0o755);
  return go;
}

function ensure(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["scripts/pulumi-cli.mjs", "ensure"], { cwd: process.cwd(), env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("ensure", () => {
  it("builds once when two run at once: the second waits on the cache's lock and uses the first's build", async () => {
    const work = mkdtempSync(join(tmpdir(), "ensure-lock-"));
    const buildLog = join(work, "builds.log");
    const env = {
      ...process.env,
      XDG_CACHE_HOME: join(work, "cache"),
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      GO: fakeGo(work, buildLog),
    };
    const [a, b] = await Promise.all([ensure(env), ensure(env)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(buildLog, "utf8").trim().split("\n")).toHaveLength(1);
    const waited = [a, b].filter((r) => /waiting for it instead of compiling in parallel/.test(r.stderr));
    expect(waited).toHaveLength(1);
    expect(waited[0].stderr).toMatch(/another process built it meanwhile/);
    // Both print the same PATH entry: the published build.
    const dirs = [a, b].map((r) => r.stdout.trim().split("\n").pop());
    expect(dirs[0]).toBe(dirs[1]);
    expect(existsSync(join(dirs[0]!, "pulumi"))).toBe(true);
    expect(existsSync(join(work, "cache", "pulumi-gpu-cloud", "build.lock"))).toBe(false);
  }, 120_000);

  it("takes over a lock whose holder is gone", async () => {
    const work = mkdtempSync(join(tmpdir(), "ensure-stale-"));
    const buildLog = join(work, "builds.log");
    const cache = join(work, "cache", "pulumi-gpu-cloud");
    mkdirSync(cache, { recursive: true });
    // A pid that is not running: a finished child's.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.on("exit", r));
    writeFileSync(join(cache, "build.lock"), JSON.stringify({ pid: dead.pid, host: (await import("node:os")).hostname(), since: "x" }));
    const r = await ensure({ ...process.env, XDG_CACHE_HOME: join(work, "cache"), PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, GO: fakeGo(work, buildLog) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/removed a stale build lock/);
    expect(readFileSync(buildLog, "utf8").trim().split("\n")).toHaveLength(1);
  }, 120_000);
});

/** scripts/pulumi-cli.mjs: where the CLI is found, and the offline environment it runs in. */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with the demo and CI
import { cacheRoot, findPulumi, pulumiEnv } from "../../scripts/pulumi-cli.mjs";

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
    const bin = join(cacheRoot(), "pulumi-v3.248.0", "bin");
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
    const bin = join(cacheRoot(), "pulumi-v3.248.0", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "pulumi"), "#!/bin/sh\necho v3.248.0\n");
    chmodSync(join(bin, "pulumi"), 0o755);
    expect(await findPulumi()).toBeNull();
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

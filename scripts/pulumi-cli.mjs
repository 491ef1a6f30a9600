#!/usr/bin/env node
// Locate or build a Pulumi CLI that matches the pinned @pulumi/pulumi SDK,
// without downloading anything from get.pulumi.com.
//
//   node scripts/pulumi-cli.mjs ensure   # build if needed; last stdout line = PATH entry
//   node scripts/pulumi-cli.mjs find     # print it, or exit 1 (never builds)
//
// As a module:
//   import { findPulumi, ensurePulumi, pulumiEnv } from "./scripts/pulumi-cli.mjs";
//
// The CLI is built with `go build` from a Go wrapper module pinning
// github.com/pulumi/pulumi/pkg/v3: tools/pulumi-cli, or the one under it
// (tools/pulumi-cli/newest) whose version is the installed @pulumi/pulumi's, into
//   ${XDG_CACHE_HOME:-~/.cache}/pulumi-gpu-cloud/pulumi-v<version>/bin
// next to the dynamic-provider plugin script copied from the npm package. One
// lock file in that cache directory makes a second `ensure` wait for a build
// in progress instead of compiling the same thing in parallel.
// See tools/pulumi-cli/README.md.
import { execFile, spawn } from "node:child_process";
import { constants as fsc, readFileSync as realReadFile, realpathSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRAPPERS_ROOT = path.join(REPO_ROOT, "tools", "pulumi-cli");
const PKG_MODULE = "github.com/pulumi/pulumi/pkg/v3";
const CLI_PACKAGE = `${PKG_MODULE}/cmd/pulumi`;
const LANGHOST_MODULE = "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3";
const FALLBACK_VERSION = "v3.248.0";
const MIN_GO = [1, 25];
const DYNAMIC_PLUGIN = "pulumi-resource-pulumi-nodejs";
const LANGHOST = "pulumi-language-nodejs";
const REQUIRED_BINS = ["pulumi", LANGHOST, DYNAMIC_PLUGIN];
/** Fixed, deliberately non-secret passphrase for throwaway local test stacks. */
export const TEST_PASSPHRASE = "pulumi-gpu-cloud-local-test-passphrase";

const INSTALL_HINT =
  "Install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, then put ~/.pulumi/bin on PATH), " +
  `or install Go >= ${MIN_GO.join(".")} (https://go.dev/dl/) and re-run \`npm run pulumi:ensure\` ` +
  "(node scripts/pulumi-cli.mjs ensure) to build the pinned CLI from Go modules.";

/** What a build on a machine without Go caches costs (measured for v3.248.0; README says the same). */
const COLD_BUILD = "about 260 MB of Go module downloads, 4-5 minutes on 2 cores";

const defaultLog = (msg) => process.stderr.write(`[pulumi-cli] ${msg}\n`);

async function goModVersion(dir) {
  try {
    const gomod = await fs.readFile(path.join(dir, "go.mod"), "utf8");
    const m = gomod.match(/^\s*(?:require\s+)?github\.com\/pulumi\/pulumi\/pkg\/v3\s+(v\d+\.\d+\.\d+)\s*$/m);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

/** The installed @pulumi/pulumi's version ("3.248.0"), or undefined. */
function sdkVersion() {
  try {
    return JSON.parse(realReadFile(path.join(resolvePulumiSdkDir(), "package.json"))).version;
  } catch {
    return undefined;
  }
}

/**
 * The wrapper module to build: the one among tools/pulumi-cli and its subdirectories
 * whose pinned version is the installed @pulumi/pulumi's, else tools/pulumi-cli.
 */
export async function wrapperDir() {
  const want = sdkVersion();
  if (want) {
    const dirs = [WRAPPERS_ROOT];
    for (const e of await fs.readdir(WRAPPERS_ROOT, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) dirs.push(path.join(WRAPPERS_ROOT, e.name));
    }
    for (const dir of dirs) if ((await goModVersion(dir)) === `v${want}`) return dir;
  }
  return WRAPPERS_ROOT;
}

/** The pinned CLI version, read from the wrapper's go.mod (single source of truth). */
export async function pinnedVersion() {
  return (await goModVersion(await wrapperDir())) ?? FALLBACK_VERSION;
}

/** ${XDG_CACHE_HOME or ~/.cache}/pulumi-gpu-cloud */
export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "pulumi-gpu-cloud");
}

async function installDir() {
  return path.join(cacheRoot(), `pulumi-${await pinnedVersion()}`);
}

async function isExecutable(file) {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    await fs.access(file, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function whichAll(name, envPath = process.env.PATH || "") {
  const hits = [];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) hits.push(candidate);
  }
  return hits;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 4 << 20, ...opts }, (err, stdout, stderr) =>
      resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr), err }),
    );
  });
}

async function pulumiVersionOf(bin) {
  const r = await run(bin, ["version"], {
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  if (!r.ok) return null;
  const v = r.stdout.trim().split("\n").pop().trim();
  return /^v?3\.\d+\.\d+/.test(v) ? v : null;
}

/**
 * Find an existing Pulumi CLI without building anything.
 * (a) a `pulumi` 3.x on PATH (used as is); (b) the build cache.
 * Returns { binDir, pulumi, version, source, pathDirs, missing } or null.
 * `pathDirs` is what to prepend to PATH (binDir first); for the PATH case
 * `missing` lists companion executables absent from binDir (ensurePulumi()
 * supplies those from the cache and appends that dir to pathDirs).
 */
export async function findPulumi() {
  for (const bin of await whichAll("pulumi")) {
    const version = await pulumiVersionOf(bin);
    if (!version) continue;
    const binDir = path.dirname(bin);
    const missing = [];
    for (const name of [LANGHOST, DYNAMIC_PLUGIN]) {
      const beside = await isExecutable(path.join(binDir, name));
      if (!beside && (await whichAll(name)).length === 0) missing.push(name);
    }
    return { binDir, pulumi: bin, version, source: "path", pathDirs: [binDir], missing };
  }
  const binDir = path.join(await installDir(), "bin");
  for (const name of REQUIRED_BINS) {
    if (!(await isExecutable(path.join(binDir, name)))) return null;
  }
  // A cache built with the Node.js fallback language host is stale once
  // go.mod pins the official one.
  if (await wrapperRequiresLanghost()) {
    try {
      const info = JSON.parse(await fs.readFile(path.join(binDir, "..", "build-info.json"), "utf8"));
      if (info.langhost !== "go") return null;
    } catch {
      return null;
    }
  }
  const pulumi = path.join(binDir, "pulumi");
  const version = await pulumiVersionOf(pulumi);
  if (!version) return null;
  const pathDirs = [binDir];
  const info = await fs
    .readFile(path.join(binDir, "..", "build-info.json"), "utf8")
    .then(JSON.parse)
    .catch(() => ({}));
  if (info.langhost === "node-fallback") {
    await refreshFallbackLanghost(path.dirname(binDir)).catch(() => undefined);
    // The official host on PATH wins over the stand-in: its directory goes first.
    const official = await officialLanghostOnPath(binDir);
    if (official) pathDirs.unshift(path.dirname(official));
  }
  return { binDir, pulumi, version, source: "cache", pathDirs, missing: [] };
}

/** A `pulumi-language-nodejs` on PATH that is not our stand-in (nor in `exceptDir`). */
async function officialLanghostOnPath(exceptDir) {
  for (const hit of await whichAll(LANGHOST)) {
    if (path.dirname(hit) === exceptDir) continue;
    let head = "";
    try {
      const fh = await fs.open(hit, "r");
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(400), 0, 400, 0);
      await fh.close();
      head = buffer.subarray(0, bytesRead).toString("latin1");
    } catch {
      continue;
    }
    if (head.includes("Fallback Pulumi Node.js language host")) continue;
    return hit;
  }
  return undefined;
}

async function findGo() {
  const candidates = [process.env.GO, ...(await whichAll("go"))];
  if (process.env.GOROOT) candidates.push(path.join(process.env.GOROOT, "bin", "go"));
  candidates.push("/usr/local/go/bin/go");
  for (const go of candidates) {
    if (!go || !(await isExecutable(go))) continue;
    const r = await run(go, ["env", "GOVERSION"]);
    const m = r.ok && r.stdout.trim().match(/^go(\d+)\.(\d+)/);
    if (m) return { go, version: r.stdout.trim(), major: +m[1], minor: +m[2] };
  }
  return null;
}

function resolvePulumiSdkDir() {
  const req = createRequire(path.join(REPO_ROOT, "package.json"));
  return path.dirname(req.resolve("@pulumi/pulumi/package.json"));
}

async function copyDynamicProviderPlugin(destDir) {
  const src = path.join(resolvePulumiSdkDir(), DYNAMIC_PLUGIN);
  const dest = path.join(destDir, DYNAMIC_PLUGIN);
  await fs.copyFile(src, dest);
  await fs.chmod(dest, 0o755);
}

async function wrapperRequiresLanghost() {
  try {
    const gomod = await fs.readFile(path.join(await wrapperDir(), "go.mod"), "utf8");
    return gomod.includes(LANGHOST_MODULE + " ");
  } catch {
    return false;
  }
}

let activeBuild = null;

/** Run `go build`, streaming its stderr (module downloads, errors) to log. */
function goBuild(go, args, cwd, log) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = (activeBuild = spawn(go, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // -mod=readonly on the command line; go.sum is committed and complete.
      env: { ...process.env, GOWORK: "off" },
    }));
    const tail = [];
    let buf = "";
    const onData = (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(`go: ${line.replace(/^go: /, "")}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setInterval(
      () => log(`still compiling... ${Math.round((Date.now() - started) / 1000)}s elapsed`),
      30_000,
    );
    child.on("error", (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      activeBuild = null;
      clearInterval(timer);
      if (buf) tail.push(buf);
      if (code === 0) resolve(Date.now() - started);
      else
        reject(
          new Error(
            `go ${args.join(" ")} failed (${signal ?? `exit ${code}`}) in ${cwd}:\n${tail.join("\n")}`,
          ),
        );
    });
  });
}

async function buildIntoCache(log) {
  const go = await findGo();
  if (!go) throw new Error(`No Pulumi CLI on PATH and no Go toolchain found. ${INSTALL_HINT}`);
  if (go.major === 1 && go.minor < MIN_GO[1]) {
    log(
      `warning: ${go.version} is older than go${MIN_GO.join(".")} required by ${PKG_MODULE}; ` +
        "the go command will try to fetch a newer toolchain (GOTOOLCHAIN=auto)",
    );
  }
  const version = await pinnedVersion();
  const finalDir = await installDir();
  await fs.mkdir(cacheRoot(), { recursive: true });
  // Leftovers of killed builds (the finally below does not run on SIGKILL).
  for (const name of await fs.readdir(cacheRoot())) {
    if (!name.startsWith(".tmp-pulumi-")) continue;
    const p = path.join(cacheRoot(), name);
    const st = await fs.stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > 6 * 3600_000) await fs.rm(p, { recursive: true, force: true });
  }
  const tmpDir = await fs.mkdtemp(path.join(cacheRoot(), `.tmp-pulumi-${version}-`));
  // Ctrl-C / CI cancellation: stop go and remove the temp dir before exiting.
  const onSignal = (sig) => {
    activeBuild?.kill("SIGTERM");
    rmSync(tmpDir, { recursive: true, force: true });
    releaseLockSync();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const binDir = path.join(tmpDir, "bin");
    await fs.mkdir(binDir);
    const buildLanghost = await wrapperRequiresLanghost();
    const pkgs = [CLI_PACKAGE];
    if (buildLanghost) pkgs.push(LANGHOST_MODULE);
    log(
      `building Pulumi CLI ${version} from Go modules (${path.relative(REPO_ROOT, await wrapperDir())}) with ${go.version} into ${finalDir} ` +
        `(cold: ${COLD_BUILD}; instant afterwards)`,
    );
    const ldflags = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${version}`;
    // `-o dir/` writes each main package as dir/<last path element>.
    const ms = await goBuild(
      go.go,
      ["build", "-mod=readonly", "-trimpath", "-ldflags", ldflags, "-o", binDir + path.sep, ...pkgs],
      await wrapperDir(),
      log,
    );
    log(`go build finished in ${Math.round(ms / 1000)}s`);
    if (buildLanghost) {
      // go names the binary after the last path element that is not a /vN suffix.
      if (!(await isExecutable(path.join(binDir, LANGHOST))))
        throw new Error(`go build did not produce ${LANGHOST}`);
    } else {
      log(`${LANGHOST_MODULE} is not pinned in tools/pulumi-cli/go.mod: installing the Node.js fallback language host`);
      await writeFallbackLanghost(tmpDir);
    }
    await copyDynamicProviderPlugin(binDir);
    const built = await pulumiVersionOf(path.join(binDir, "pulumi"));
    if (!built) throw new Error(`built ${path.join(binDir, "pulumi")} does not run \`pulumi version\``);
    await fs.writeFile(
      path.join(tmpDir, "build-info.json"),
      JSON.stringify(
        { version: built, go: go.version, langhost: buildLanghost ? "go" : "node-fallback", builtAt: new Date().toISOString() },
        null,
        2,
      ) + "\n",
    );
    await fs.chmod(tmpDir, 0o755); // mkdtemp creates 0700
    // Atomic publish: the cache dir either does not exist or is complete.
    try {
      await fs.rename(tmpDir, finalDir);
    } catch (err) {
      if (err.code !== "EEXIST" && err.code !== "ENOTEMPTY") throw err;
      if (await findPulumiIn(finalDir)) {
        log(`another process finished first; using ${finalDir}`);
      } else {
        const stale = `${finalDir}.stale-${process.pid}-${Date.now()}`;
        await fs.rename(finalDir, stale);
        await fs.rename(tmpDir, finalDir);
        await fs.rm(stale, { recursive: true, force: true });
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
}

async function findPulumiIn(root) {
  for (const name of REQUIRED_BINS) {
    if (!(await isExecutable(path.join(root, "bin", name)))) return false;
  }
  return true;
}

/**
 * Like findPulumi(), but builds the pinned CLI into the cache if nothing is
 * found. If a PATH `pulumi` lacks the language host / dynamic-provider plugin,
 * they are supplied from `${cacheRoot}/support/bin`, which is appended to
 * `pathDirs` (and printed by the CLI as part of the PATH fragment).
 */
export async function ensurePulumi({ log = defaultLog } = {}) {
  let found = await findPulumi();
  if (!found) {
    // One build at a time per cache: whoever waited finds the other's result.
    await acquireBuildLock(log);
    try {
      found = await findPulumi();
      if (found) {
        log(`another process built it meanwhile: ${found.pulumi}`);
        return found;
      }
      await buildIntoCache(log);
    } finally {
      releaseLockSync();
    }
    found = await findPulumi();
    if (!found) throw new Error(`built the Pulumi CLI but could not find it in ${await installDir()}`);
    return found;
  }
  if (found && found.source === "path" && found.missing.length > 0) {
    const supportBin = path.join(cacheRoot(), "support", "bin");
    await fs.mkdir(supportBin, { recursive: true });
    if (found.missing.includes(DYNAMIC_PLUGIN)) await copyDynamicProviderPlugin(supportBin);
    if (found.missing.includes(LANGHOST)) await writeFallbackLanghost(path.dirname(supportBin));
    log(`${found.pulumi} (${found.version}) lacks ${found.missing.join(", ")}; supplying them from ${supportBin}`);
    return { ...found, pathDirs: [found.binDir, supportBin], missing: [] };
  }
  return found;
}

// ---------------------------------------------------------------------------
// The build lock: ${cacheRoot}/build.lock, created exclusively, holding the
// holder's pid and host. A lock whose holder is gone (killed before its
// cleanup ran) is taken over.

let heldLock = null;

function lockPath() {
  return path.join(cacheRoot(), "build.lock");
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

async function acquireBuildLock(log, { pollMs = 500 } = {}) {
  await fs.mkdir(cacheRoot(), { recursive: true });
  const file = lockPath();
  const me = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  let waitingSince = 0;
  let lastNote = 0;
  for (;;) {
    try {
      await fs.writeFile(file, me, { flag: "wx" });
      heldLock = file;
      if (waitingSince) log(`lock acquired after ${Math.round((Date.now() - waitingSince) / 1000)}s`);
      return;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    let holder = null;
    try {
      holder = JSON.parse(await fs.readFile(file, "utf8"));
    } catch {
      // just created and not yet written, or just removed: look again
    }
    if (holder && holder.host === os.hostname() && !pidAlive(holder.pid)) {
      // Move it aside first, so two waiters cannot both remove a fresh lock.
      const aside = `${file}.stale-${process.pid}`;
      try {
        await fs.rename(file, aside);
        const moved = JSON.parse(await fs.readFile(aside, "utf8"));
        if (moved.pid === holder.pid && moved.since === holder.since) {
          log(`removed a stale build lock of pid ${holder.pid}`);
        } else {
          await fs.link(aside, file).catch(() => undefined); // not the stale one: put it back
        }
      } catch {
        // someone else moved it
      }
      await fs.rm(aside, { force: true });
      continue;
    }
    const now = Date.now();
    if (!waitingSince) {
      waitingSince = now;
      lastNote = now;
      log(
        `another process (pid ${holder?.pid ?? "?"}) is building the Pulumi CLI into ${cacheRoot()}; ` +
          `waiting for it instead of compiling in parallel (lock: ${file})`,
      );
    } else if (now - lastNote >= 30_000) {
      lastNote = now;
      log(`still waiting for pid ${holder?.pid ?? "?"}... ${Math.round((now - waitingSince) / 1000)}s`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function releaseLockSync() {
  if (!heldLock) return;
  rmSync(heldLock, { force: true });
  heldLock = null;
}

/**
 * Environment for running the CLI fully offline against a local file backend.
 * `binDir` may also be given as `pathDirs` (array, first wins).
 * NODE_PATH gets this repo's node_modules appended: the dynamic-provider plugin
 * script resolves @pulumi/pulumi from its working directory, which for
 * Automation API inline programs is a temp dir without node_modules.
 */
export function pulumiEnv({ binDir, pathDirs, stateDir, home, baseEnv = process.env } = {}) {
  const dirs = pathDirs?.length ? pathDirs : binDir ? [binDir] : [];
  if (dirs.length === 0) throw new TypeError("pulumiEnv: binDir (or pathDirs) is required");
  if (!stateDir || !home) throw new TypeError("pulumiEnv: stateDir and home are required");
  const env = { ...baseEnv };
  for (const k of ["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_IGNORE_AMBIENT_PLUGINS"]) {
    delete env[k];
  }
  let nodeModules;
  try {
    nodeModules = path.dirname(path.dirname(resolvePulumiSdkDir()));
  } catch {
    nodeModules = undefined;
  }
  const nodePath = (env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  if (nodeModules && !nodePath.includes(nodeModules)) nodePath.push(nodeModules);
  return {
    ...env,
    PATH: [...dirs, env.PATH].filter(Boolean).join(path.delimiter),
    ...(nodePath.length ? { NODE_PATH: nodePath.join(path.delimiter) } : {}),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_BACKEND_URL: pathToFileURL(path.resolve(stateDir)).href,
    PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
    PULUMI_HOME: path.resolve(home),
  };
}

// ---------------------------------------------------------------------------
// Fallback Node.js language host.
//
// The official host (Go module LANGHOST_MODULE) has no version tags and is not
// served by every Go module proxy; when tools/pulumi-cli/go.mod does not pin it
// we install this minimal replacement. It implements the LanguageRuntime RPCs
// the engine needs for preview/up/refresh/destroy (Run, GetRequiredPlugins,
// GetPluginInfo, Handshake) by launching @pulumi/pulumi/cmd/run from the
// program's own node_modules with the flags the official host passes, and the
// ones `pulumi about` asks (About, GetProgramDependencies). Other RPCs
// (InstallDependencies, GenerateProject, ...) answer UNIMPLEMENTED.
// The function below is serialized with Function.prototype.toString() into
// <cache>/lib/nodejs-language-host.cjs, so it must be self-contained CommonJS.
async function fallbackLanghostSource() {
  const sdkDir = resolvePulumiSdkDir();
  const sdkVersion = JSON.parse(await fs.readFile(path.join(sdkDir, "package.json"), "utf8")).version;
  return (
    `"use strict";\n// Generated by pulumi-gpu-cloud scripts/pulumi-cli.mjs. Do not edit.\n` +
    `(${fallbackLanguageHost.toString()})(${JSON.stringify(sdkDir)}, ${JSON.stringify(sdkVersion)});\n`
  );
}

/** A cache built by an older checkout gets this checkout's fallback host (no rebuild needed). */
async function refreshFallbackLanghost(root) {
  const file = path.join(root, "lib", "nodejs-language-host.cjs");
  const want = await fallbackLanghostSource();
  if ((await fs.readFile(file, "utf8").catch(() => "")) === want) return;
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(tmp, want);
  await fs.rename(tmp, file);
}

/** Installs the fallback host as `<root>/bin/pulumi-language-nodejs` (+ `<root>/lib/`). */
export async function writeFallbackLanghost(root) {
  const libDir = path.join(root, "lib");
  const binDir = path.join(root, "bin");
  await fs.mkdir(libDir, { recursive: true });
  await fs.mkdir(binDir, { recursive: true });
  await fs.writeFile(path.join(libDir, "nodejs-language-host.cjs"), await fallbackLanghostSource());
  const sh =
    "#!/bin/sh\n" +
    "# Fallback Pulumi Node.js language host (see lib/nodejs-language-host.cjs).\n" +
    'dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)\n' +
    'exec node "$dir/../lib/nodejs-language-host.cjs" "$@"\n';
  await fs.writeFile(path.join(binDir, LANGHOST), sh, { mode: 0o755 });
  await fs.chmod(path.join(binDir, LANGHOST), 0o755);
}

/* c8 ignore start */
function fallbackLanguageHost(bakedSdkDir, sdkVersion) {
  const path = require("path");
  const { spawn } = require("child_process");
  const { createRequire } = require("module");

  function sdkFrom(dir) {
    try {
      const req = createRequire(path.join(dir, "noop.js"));
      return path.dirname(req.resolve("@pulumi/pulumi/package.json"));
    } catch {
      return undefined;
    }
  }
  // Invoked as `pulumi-language-nodejs [-tracing URL] [-root DIR] ... ENGINE_ADDRESS`.
  const hostArgs = process.argv.slice(2);
  const engineAddress = hostArgs.length && !hostArgs[hostArgs.length - 1].startsWith("-") ? hostArgs[hostArgs.length - 1] : "";
  const tracingAt = hostArgs.findIndex((a) => a === "-tracing" || a === "--tracing");
  const tracing = tracingAt >= 0 ? hostArgs[tracingAt + 1] || "" : (hostArgs.find((a) => /^--?tracing=/.test(a)) || "").replace(/^--?tracing=/, "");
  const sdkDir = sdkFrom(process.cwd()) || bakedSdkDir;
  const sdkRequire = createRequire(path.join(sdkDir, "package.json"));
  const grpc = sdkRequire("@grpc/grpc-js");
  const langrpc = sdkRequire("./proto/language_grpc_pb.js");
  const langproto = sdkRequire("./proto/language_pb.js");
  const plugproto = sdkRequire("./proto/plugin_pb.js");

  function structToObject(s) {
    return s && typeof s.toJavaScript === "function" ? s.toJavaScript() : {};
  }

  const fs = require("fs");

  /** The directory of the nearest package.json at or above `dir`. */
  function packageDirOf(dir) {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, "package.json"))) return d;
      if (path.dirname(d) === d) return undefined;
    }
  }

  /** name -> installed version (else the declared range) of the program's dependencies. */
  function programDependencies(programDir, transitive) {
    const pkgDir = packageDirOf(programDir);
    if (!pkgDir) return [];
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    const declared = { ...(pkg.devDependencies || {}), ...(pkg.dependencies || {}) };
    const found = new Map();
    const visit = (name, range, from) => {
      if (found.has(name)) return;
      try {
        const manifestPath = createRequire(from).resolve(`${name}/package.json`);
        const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
        found.set(name, manifest.version || range);
        if (transitive) for (const [n, r] of Object.entries(manifest.dependencies || {})) visit(n, r, manifestPath);
      } catch {
        found.set(name, range); // not installed (or no package.json export): what the program asks for
      }
    };
    for (const [name, range] of Object.entries(declared)) visit(name, range, path.join(pkgDir, "noop.js"));
    return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  const impl = {
    about(call, cb) {
      const resp = new langproto.AboutResponse();
      resp.setExecutable(process.execPath);
      resp.setVersion(process.version);
      cb(null, resp);
    },
    getProgramDependencies(call, cb) {
      try {
        const req = call.request;
        const info = req.getInfo();
        const dir = (info && info.getProgramDirectory()) || req.getPwd() || process.cwd();
        const resp = new langproto.GetProgramDependenciesResponse();
        for (const [name, version] of programDependencies(dir, req.getTransitivedependencies())) {
          const dep = new langproto.DependencyInfo();
          dep.setName(name);
          dep.setVersion(version);
          resp.addDependencies(dep);
        }
        cb(null, resp);
      } catch (err) {
        cb({ code: grpc.status.INTERNAL, details: `reading the program's dependencies: ${err.message}` });
      }
    },
    handshake(call, cb) {
      cb(null, new langproto.LanguageHandshakeResponse());
    },
    getRequiredPlugins(call, cb) {
      const resp = new langproto.GetRequiredPluginsResponse();
      resp.setPluginsList([]);
      cb(null, resp);
    },
    getPluginInfo(call, cb) {
      const resp = new plugproto.PluginInfo();
      resp.setVersion(sdkVersion);
      cb(null, resp);
    },
    run(call, cb) {
      const req = call.request;
      const info = req.getInfo();
      const pwd = req.getPwd() || process.cwd();
      const programDir = (info && info.getProgramDirectory()) || pwd;
      const rootDir = (info && info.getRootDirectory()) || pwd;
      const entry = (info && info.getEntryPoint()) || ".";
      const options = structToObject(info && info.getOptions());
      const programSdk = sdkFrom(programDir) || sdkDir;
      const runPath = path.join(programSdk, "cmd", "run");

      let program = entry === "." ? (path.resolve(programDir) === path.resolve(pwd) ? "." : programDir) : path.resolve(programDir, entry);
      const args = [];
      if (typeof options.nodeargs === "string" && options.nodeargs.trim()) args.push(...options.nodeargs.trim().split(/\s+/));
      args.push(runPath, `--monitor=${req.getMonitorAddress()}`);
      if (engineAddress) args.push(`--engine=${engineAddress}`);
      if (req.getOrganization()) args.push(`--organization=${req.getOrganization()}`);
      args.push(`--project=${req.getProject()}`, `--stack=${req.getStack()}`, `--pwd=${pwd}`, `--root-directory=${rootDir}`);
      if (req.getDryrun()) args.push("--dry-run");
      if (req.getParallel() > 1) args.push(`--parallel=${req.getParallel()}`);
      if (tracing) args.push(`--tracing=${tracing}`);
      // Not passed: --sync (the official host's pipe directory for synchronous invokes,
      // which cmd/run treats as optional).
      args.push(program, ...req.getArgsList());

      const config = {};
      for (const [k, v] of req.getConfigMap().entries()) config[k] = v;
      const env = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        PULUMI_NODEJS_TYPESCRIPT: String(options.typescript !== false),
      };
      if (typeof options.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;

      const child = spawn(process.execPath, args, { cwd: pwd, env, stdio: ["ignore", "inherit", "inherit"] });
      child.on("error", (err) => {
        const resp = new langproto.RunResponse();
        resp.setError(`failed to start node: ${err.message}`);
        cb(null, resp);
      });
      child.on("close", (code, signal) => {
        const resp = new langproto.RunResponse();
        if (code === 32) resp.setBail(true); // program already reported a user-actionable error
        else if (code !== 0) resp.setError(`Program exited with non-zero exit code: ${code ?? signal}`);
        cb(null, resp);
      });
    },
  };

  // grpc-js >= 1.10 starts serving in bindAsync (no server.start()).
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(langrpc.LanguageRuntimeService, impl);
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`failed to start language host: ${err.message}`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.forceShutdown() || process.exit(0));
}
/* c8 ignore stop */

// ---------------------------------------------------------------------------
// CLI

async function main(argv) {
  const cmd = argv[0];
  if (cmd === "ensure") {
    if (argv.includes("--optional") && !(await findPulumi()) && !(await findGo())) {
      // `npm test` on a machine with neither: the engine tests then say SKIPPED (fail in CI).
      defaultLog(`no Pulumi CLI and no Go toolchain: the end-to-end tests will be skipped. ${INSTALL_HINT}`);
      return 0;
    }
    const r = await ensurePulumi({ log: defaultLog });
    defaultLog(`pulumi ${r.version} (${r.source}): ${r.pulumi}`);
    process.stdout.write(`${r.pathDirs.join(path.delimiter)}\n`);
    return 0;
  }
  if (cmd === "find") {
    const r = await findPulumi();
    if (!r) {
      defaultLog(`no Pulumi CLI on PATH or in ${await installDir()}; run: node scripts/pulumi-cli.mjs ensure`);
      return 1;
    }
    if (r.missing.length) defaultLog(`note: ${r.binDir} lacks ${r.missing.join(", ")} (run \`ensure\` to supply them)`);
    process.stdout.write(`${r.binDir}\n`);
    return 0;
  }
  process.stderr.write(
    "usage: node scripts/pulumi-cli.mjs ensure [--optional] | find\n" +
      "  ensure  find or build (go build, several minutes when cold) the pinned Pulumi CLI;\n" +
      "          prints the directory to prepend to PATH as the last stdout line;\n" +
      "          --optional: without Go, say so and succeed instead of failing\n" +
      "  find    print that directory if already available, else exit 1 (never builds)\n",
  );
  return 2;
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`[pulumi-cli] error: ${err?.message ?? err}\n`);
      process.exit(1);
    },
  );
}

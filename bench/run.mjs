#!/usr/bin/env node
// `npm run bench`: how long `pulumi up`, `pulumi refresh` and `pulumi destroy` of N GPU objects
// take compared with the engine's own floor and the time the (emulated) cloud needs, and how
// many API calls that costs, for our shared poller and for a per-object baseline (each object
// polled on its own, first after 3 s and then every 5 s, as Terraform providers for GPU clouds
// do, and each read a request of its own). Both run side by side in one process run, so the
// speed-up is a ratio measured on the same machine at the same time.
//
//   node bench/run.mjs                 full run: per kind, create at N = 1, 10, 50, 200 (20 s provisioning),
//                                      refresh and destroy at N = 10, 50, 100 (3 s deletes)
//   node bench/run.mjs --quick         create at N = 1, 10 (5 s provisioning), refresh and destroy at N = 10 (1 s deletes)
//   node bench/run.mjs --provider      drive the runtime providers directly even with a CLI
//   options: --kinds=ppioInstance,ppioEndpoint,compShareInstance  --n=10,50 (refresh, destroy)
//            --create-n=1,10 (create; empty for none)  --create-kinds=…  --provision-ms=20000  --delete-ms=3000
//            --record   write latest.* even for a narrowed run (it says so at the top)
//
// The full run (or --record) writes bench/results/latest.json and latest.md (committed
// documentation); any other run writes bench/results/quick.json and quick.md (ignored by git).
//
// The emulator runs in this process, so every child (the CLI, provider workers) is spawned
// asynchronously: a blocked event loop here would stall the cloud being measured.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findPulumi, pulumiEnv } from "../scripts/pulumi-cli.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const dist = join(root, "dist");

// ---------------------------------------------------------------------------------------------
// What each kind of resource is declared with. One GPU each; names come from the resource name.

const ARGS = {
  ppioInstance: { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 } },
  ppioEndpoint: {
    type: "sync",
    productId: "4090.24g.serverless",
    image: "vllm/vllm-openai:v0.6.0",
    workerConfig: { minReplicas: 1, maxReplicas: 2 },
  },
  compShareInstance: {
    region: "cn-wlcb",
    zone: "cn-wlcb-01",
    gpuType: "4090",
    gpu: 1,
    cpu: 16,
    memory: 65536,
    compShareImageId: "compshareImage-165jmhx19ik7",
    disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
    chargeType: "Dynamic",
  },
};
const CLASS = { ppioInstance: "PpioInstance", ppioEndpoint: "PpioEndpoint", compShareInstance: "CompShareInstance" };
const KINDS = Object.keys(ARGS);

// ---------------------------------------------------------------------------------------------
// Worker mode: a stand-in for Pulumi's provider process when there is no CLI. It loads the
// runtime providers from dist and runs check + create (or delete) for a whole fleet at once,
// as the engine would with enough parallelism.

async function worker() {
  const job = JSON.parse(process.env.BENCH_JOB);
  const runtime = require(join(dist, "runtime.js"));
  const { providerModule } = require(join(dist, "core", "provider.js"));
  const provider = runtime[job.kind];
  const __provider = providerModule(job.kind);
  if (job.op === "create") {
    const startedAt = Date.now();
    const ids = await Promise.all(
      Array.from({ length: job.n }, async (_, i) => {
        const checked = await provider.check(undefined, { ...ARGS[job.kind], autonamePrefix: `${job.prefix}-${i}`, __provider });
        if (checked.failures.length) throw new Error(JSON.stringify(checked.failures));
        const { id, outs } = await provider.create(checked.inputs);
        return { id, props: { ...outs, __provider } };
      }),
    );
    const endedAt = Date.now();
    process.stdout.write(JSON.stringify({ targets: ids, startedAt, endedAt, providerBytes: Buffer.byteLength(__provider) }) + "\n");
  } else {
    const startedAt = Date.now();
    if (job.op === "read") await Promise.all(job.targets.map((t) => provider.read(t.id, t.props)));
    else await Promise.all(job.targets.map((t) => provider.delete(t.id, t.props)));
    process.stdout.write(JSON.stringify({ startedAt, endedAt: Date.now() }) + "\n");
  }
}

// ---------------------------------------------------------------------------------------------
// Options

function options(argv) {
  const flags = new Map(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, "").split("=");
      return [k, v ?? "true"];
    }),
  );
  const quick = flags.has("quick");
  const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
  const o = {
    quick,
    forceProvider: flags.has("provider"),
    kinds: flags.has("kinds") ? list(flags.get("kinds")) : KINDS,
    // N of the refresh and destroy rows, and of the create rows.
    ns: flags.has("n") ? list(flags.get("n")).map(Number) : quick ? [10] : [10, 50, 100],
    createKinds: flags.has("create-kinds") ? list(flags.get("create-kinds")) : undefined,
    createNs: flags.has("create-n") ? list(flags.get("create-n")).map(Number) : quick ? [1, 10] : [1, 10, 50, 200],
    provisionMs: flags.has("provision-ms") ? Number(flags.get("provision-ms")) : quick ? 5_000 : 20_000,
    // How long a delete takes in the cloud (PPIO: DELETE to gone; CompShare: stop, then terminate, each this long).
    deleteMs: flags.has("delete-ms") ? Number(flags.get("delete-ms")) : quick ? 1_000 : 3_000,
    previewN: quick ? 10 : 50,
  };
  o.createKinds ??= o.kinds;
  for (const k of [...o.kinds, ...o.createKinds]) if (!KINDS.includes(k)) throw new Error(`unknown kind ${k} (one of ${KINDS.join(", ")})`);
  o.full = !quick && !flags.has("kinds") && !flags.has("create-kinds") && !flags.has("n") && !flags.has("create-n") && !flags.has("provision-ms") && !flags.has("delete-ms") && !o.forceProvider;
  o.record = o.full || flags.has("record");
  return o;
}

// ---------------------------------------------------------------------------------------------
// Children

/** Runs a command to completion without blocking this event loop; never rejects. */
function run(cmd, args, { cwd = root, env = process.env } = {}) {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => resolvePromise({ code: -1, out, err: err + String(e), ms: performance.now() - started }));
    child.on("exit", (code) => resolvePromise({ code: code ?? -1, out, err, ms: performance.now() - started }));
  });
}

function must(r, what) {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${(r.out + r.err).split("\n").slice(-30).join("\n")}`);
  return r;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------------------------------------
// The two ways to create a fleet

/** A Pulumi project whose program declares BENCH_N resources of kind BENCH_KIND (or all kinds, round robin). */
function writeProject(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "Pulumi.yaml"),
    "name: gpu-cloud-bench\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "gpu-cloud-bench", private: true, main: "index.js" }));
  writeFileSync(
    join(dir, "index.js"),
    `const ARGS = ${JSON.stringify(ARGS)};
const CLASS = ${JSON.stringify(CLASS)};
if (process.env.BENCH_KIND.startsWith("floor:")) {
  // The engine's own floor: the same number of dynamic resources, with the same inputs, whose
  // provider answers every call at once without any API call.
  const pulumi = require("@pulumi/pulumi");
  const provider = {
    async create(inputs) { return { id: require("node:crypto").randomUUID(), outs: inputs }; },
    async read(id, props) { return { id, props }; },
    async delete() {},
  };
  const args = ARGS[process.env.BENCH_KIND.slice(6)];
  for (let i = 0; i < Number(process.env.BENCH_N); i++) new pulumi.dynamic.Resource(provider, \`r\${i}\`, { ...args });
} else {
  const gpu = require("pulumi-gpu-cloud");
  const kinds = process.env.BENCH_KIND === "mixed" ? Object.keys(ARGS) : [process.env.BENCH_KIND];
  for (let i = 0; i < Number(process.env.BENCH_N); i++) {
    const kind = kinds[i % kinds.length];
    new gpu[CLASS[kind]](\`r\${i}\`, ARGS[kind]);
  }
}
`,
  );
  // The program and its provider process resolve pulumi-gpu-cloud and @pulumi/pulumi from this checkout.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
}

/** The credentials of the emulator, as the environment the provider reads at call time. */
function cloudEnv(emu) {
  return {
    PPIO_API_KEY: emu.apiKey,
    PPIO_BASE_URL: emu.url,
    COMPSHARE_PUBLIC_KEY: emu.compsharePublicKey,
    COMPSHARE_PRIVATE_KEY: emu.compsharePrivateKey,
    COMPSHARE_BASE_URL: emu.url,
  };
}

// Without --parallel the engine runs 4 × cores resource operations at once (8 on a 2-core
// machine), so 50 creates (or reads) would queue in waves and measure the engine's queue, not
// our waits. 256 lets every operation of the largest fleet run at once.
const PARALLEL = "256";

class EngineRunner {
  path = "engine";

  constructor(cli, work, emu) {
    this.cli = cli;
    this.work = work;
    this.emu = emu;
    this.project = join(work, "project");
    writeProject(this.project);
    const stateDir = join(work, "state");
    mkdirSync(stateDir);
    this.env = {
      ...pulumiEnv({ pathDirs: cli.pathDirs ?? [cli.binDir], stateDir, home: join(work, "home") }),
      ...cloudEnv(emu),
    };
    delete this.env.GPU_CLOUD_POLL_STRATEGY;
    delete this.env.GPU_CLOUD_POLL_MIN_MS;
    delete this.env.GPU_CLOUD_STATS_FILE;
    this.stateDir = stateDir;
    this.counter = 0;
  }

  pulumi(args, env = this.env) {
    return run("pulumi", [...args, "--non-interactive"], { cwd: this.project, env });
  }

  /** `pulumi up` of a new stack with n resources; returns its wall time and what it left. */
  async create(kind, n, strategy, statsFile) {
    const stack = `b${++this.counter}`;
    must(await this.pulumi(["stack", "init", stack]), "pulumi stack init");
    const env = {
      ...this.env,
      BENCH_KIND: kind,
      BENCH_N: String(n),
      GPU_CLOUD_STATS_FILE: statsFile,
      ...(strategy === "baseline" ? { GPU_CLOUD_POLL_STRATEGY: "naive" } : {}),
    };
    const startedAt = Date.now();
    const r = await this.pulumi(["up", "--yes", "--skip-preview", "--parallel", PARALLEL, "--stack", stack], env);
    if (r.code !== 0) {
      await this.destroy({ stack, kind, n }).catch(() => undefined);
      must(r, `pulumi up (${kind} × ${n}, ${strategy})`);
    }
    return { stack, kind, n, wallMs: r.ms, startedAt, endedAt: Date.now(), providerBytes: this.providerBytes(stack) };
  }

  /** The size of the `__provider` text the engine stored, as Pulumi serialized it into the state. */
  providerBytes(stack) {
    const file = join(this.stateDir, ".pulumi", "stacks", "gpu-cloud-bench", `${stack}.json`);
    const state = JSON.parse(readFileSync(file, "utf8"));
    const sizes = (state.checkpoint?.latest?.resources ?? [])
      .map((r) => r.inputs?.__provider)
      .filter((p) => typeof p === "string")
      .map((p) => Buffer.byteLength(p));
    return sizes.length ? Math.max(...sizes) : null;
  }

  /** The environment of an operation on the stack: which strategy, where the stats go. */
  opEnv(created, strategy, statsFile) {
    return {
      ...this.env,
      BENCH_KIND: created.kind,
      BENCH_N: String(created.n),
      ...(statsFile ? { GPU_CLOUD_STATS_FILE: statsFile } : {}),
      ...(strategy === "baseline" ? { GPU_CLOUD_POLL_STRATEGY: "naive" } : {}),
    };
  }

  /** `pulumi refresh` of the stack: every resource's read, no program run. */
  async refresh(created, strategy, statsFile) {
    const r = await this.pulumi(
      ["refresh", "--yes", "--skip-preview", "--parallel", PARALLEL, "--stack", created.stack],
      this.opEnv(created, strategy, statsFile),
    );
    must(r, `pulumi refresh (${created.kind} × ${created.n}, ${strategy})`);
    return { wallMs: r.ms, attempts: 1 };
  }

  async destroy(created, strategy = "ours", statsFile) {
    // Retried: a build elsewhere in this checkout re-links node_modules/pulumi-gpu-cloud, and a
    // provider process that starts in that moment cannot load the runtime.
    let last;
    for (let attempt = 1; ; attempt++) {
      const r = await this.pulumi(
        ["destroy", "--yes", "--skip-preview", "--parallel", PARALLEL, "--stack", created.stack],
        this.opEnv(created, strategy, statsFile),
      );
      last = { wallMs: r.ms, attempts: attempt };
      if (r.code === 0) break;
      if (attempt === 3) must(r, "pulumi destroy");
      await sleep(3_000);
    }
    await this.pulumi(["stack", "rm", "--yes", "--force", "--stack", created.stack]);
    return last;
  }

  /** `pulumi preview` of a fresh stack of n resources (all kinds, round robin). */
  async preview(n) {
    const stack = `preview${++this.counter}`;
    must(await this.pulumi(["stack", "init", stack]), "pulumi stack init");
    const r = must(await this.pulumi(["preview", "--stack", stack], { ...this.env, BENCH_KIND: "mixed", BENCH_N: String(n) }), "pulumi preview");
    await this.pulumi(["stack", "rm", "--yes", "--force", "--stack", stack]);
    return r.ms;
  }
}

class ProviderRunner {
  path = "provider";

  constructor(emu) {
    this.env = { ...process.env, ...cloudEnv(emu) };
    delete this.env.GPU_CLOUD_POLL_STRATEGY;
    delete this.env.GPU_CLOUD_POLL_MIN_MS;
    delete this.env.GPU_CLOUD_STATS_FILE;
    this.counter = 0;
  }

  async create(kind, n, strategy, statsFile) {
    const job = { op: "create", kind, n, prefix: `b${++this.counter}` };
    const env = {
      ...this.env,
      BENCH_JOB: JSON.stringify(job),
      GPU_CLOUD_STATS_FILE: statsFile,
      ...(strategy === "baseline" ? { GPU_CLOUD_POLL_STRATEGY: "naive" } : {}),
    };
    const r = must(await run(process.execPath, [fileURLToPath(import.meta.url), "--worker"], { env }), `provider worker (${kind} × ${n})`);
    const out = JSON.parse(r.out.trim().split("\n").pop());
    return { kind, n, targets: out.targets, wallMs: out.endedAt - out.startedAt, startedAt: out.startedAt, endedAt: out.endedAt, providerBytes: out.providerBytes };
  }

  /** Reads or deletes the whole fleet at once in a fresh process, timed from the first call to the last return. */
  async fleetOp(op, created, strategy, statsFile) {
    const env = {
      ...this.env,
      BENCH_JOB: JSON.stringify({ op, kind: created.kind, targets: created.targets }),
      ...(statsFile ? { GPU_CLOUD_STATS_FILE: statsFile } : {}),
      ...(strategy === "baseline" ? { GPU_CLOUD_POLL_STRATEGY: "naive" } : {}),
    };
    const r = must(await run(process.execPath, [fileURLToPath(import.meta.url), "--worker"], { env }), `provider worker (${op})`);
    const out = JSON.parse(r.out.trim().split("\n").pop());
    return { wallMs: out.endedAt - out.startedAt, attempts: 1 };
  }

  refresh(created, strategy, statsFile) {
    return this.fleetOp("read", created, strategy, statsFile);
  }

  destroy(created, strategy = "ours", statsFile) {
    return this.fleetOp("delete", created, strategy, statsFile);
  }
}

// ---------------------------------------------------------------------------------------------
// One measurement

/** What a request is called in the per-object counts: PPIO's route, CompShare's Action. */
const callName = (r) => (r.cloud === "compshare" ? r.action ?? r.route : r.route);

const CREATE_CALL = { ppioInstance: "POST /gpus/v2/instances", ppioEndpoint: "POST /gpus/v2/endpoints", compShareInstance: "CreateCompShareInstance" };
const POLLER = { ppioInstance: "ppio instances", ppioEndpoint: "ppio endpoints", compShareInstance: "compshare instances" };

function tally(requests) {
  const calls = {};
  for (const r of requests) calls[callName(r)] = (calls[callName(r)] ?? 0) + 1;
  return calls;
}

function readStats(statsFile, kind) {
  try {
    const stats = JSON.parse(readFileSync(statsFile, "utf8"));
    return { stats, poller: stats.pollers.find((p) => p.name === POLLER[kind]) };
  } catch {
    return {};
  }
}

/** What every row says about the API calls and the polling of one operation. */
function callFields(kind, n, requests, poller, stats) {
  const calls = tally(requests);
  const describes = calls.DescribeCompShareInstance ?? 0;
  return {
    apiCalls: Object.fromEntries(Object.entries(calls).sort().map(([k, v]) => [k, round(v / n, 2)])),
    apiCallsTotal: requests.length,
    apiCallsPerObject: round(requests.length / n, 2),
    describeCalls: kind === "compShareInstance" ? describes : undefined,
    pollTicks: poller?.ticks ?? null,
    pollsPerTick: poller && poller.ticks ? round(poller.idsPolled / poller.ticks, 2) : null,
    maxIdsPerTick: poller?.maxIdsPerTick ?? null,
    describeCallsPerTick: kind === "compShareInstance" && poller?.ticks ? round(describes / poller.ticks, 2) : undefined,
    peakRssMb: stats ? round(stats.peakRssMb, 1) : null,
  };
}

/** `pulumi up` of a new fleet (not destroyed: the caller refreshes and destroys it). */
async function measureCreate({ emu, work, provisionMs }, runner, kind, n, strategy) {
  const statsFile = join(work, `stats-${runner.path}-create-${kind}-${n}-${strategy}-${++statsCounter}.json`);
  const from = emu.requests.length;
  const created = await runner.create(kind, n, strategy, statsFile);
  const requests = emu.requests.slice(from).filter((r) => r.cloud !== "emulator");
  const { stats, poller } = readStats(statsFile, kind);
  const posts = requests.filter((r) => callName(r) === CREATE_CALL[kind]).map((r) => r.at);
  const wallSeconds = created.wallMs / 1000;
  const cloudSeconds = provisionMs / 1000;
  const rec = {
    op: "create",
    resource: kind,
    n,
    path: runner.path,
    strategy,
    wallSeconds: round(wallSeconds),
    cloudSeconds,
    ratio: round(wallSeconds / cloudSeconds, 3),
    ...callFields(kind, n, requests, poller, stats),
    stateChangesPerObject: poller ? round(poller.stateChanges / n, 2) : null,
    providerBytes: created.providerBytes,
    // Where the time beyond the cloud's goes: before the first create reached the cloud, the
    // spread of the creates, and from the last object being ready to `up` returning.
    startupSeconds: posts.length ? round((posts[0] - created.startedAt) / 1000) : null,
    createSpreadSeconds: posts.length ? round((Math.max(...posts) - Math.min(...posts)) / 1000) : null,
  };
  if (posts.length) rec.tailSeconds = round((created.endedAt - (Math.max(...posts) + provisionMs)) / 1000);
  return { rec, created };
}

let statsCounter = 0;

/** `pulumi refresh` or `pulumi destroy` of a fleet made by measureCreate. */
async function measureOp({ emu, work, deleteSeconds }, runner, op, created, strategy) {
  const kind = created.kind;
  const n = created.n;
  const statsFile = join(work, `stats-${runner.path}-${op}-${kind}-${n}-${strategy}-${++statsCounter}.json`);
  const from = emu.requests.length;
  const done = await runner[op](created, strategy, statsFile);
  const requests = emu.requests.slice(from).filter((r) => r.cloud !== "emulator");
  const { stats, poller } = readStats(statsFile, kind);
  return {
    op,
    resource: kind,
    n,
    path: runner.path,
    strategy,
    wallSeconds: round(done.wallMs / 1000),
    cloudSeconds: op === "destroy" ? deleteSeconds[kind] : 0,
    attempts: done.attempts,
    ...callFields(kind, n, requests, poller, stats),
    reads: poller?.reads ?? null,
    // From the first read arriving in the provider process to the last one answered.
    readSpanSeconds: poller?.reads ? round((poller.lastReadAt - poller.firstReadAt) / 1000) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Start-up: how long loading our runtime takes in a fresh Node process (the provider process
// loads it on its first call), next to bare Node and the Pulumi SDK the host itself loads.

async function startup() {
  /** Median over 5 fresh Node processes of what `code` prints (a JSON object of numbers). */
  const sample = async (code) => {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(JSON.parse(must(await run(process.execPath, ["-e", code]), "node -e").out));
    return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, round(median(runs.map((r) => r[k])), 1)]));
  };
  const requireAll = (...modules) =>
    `const t = performance.now(); for (const m of ${JSON.stringify(modules)}) require(m); ` +
    `process.stdout.write(JSON.stringify({ requireMs: performance.now() - t, peakRssMb: process.resourceUsage().maxRSS / 1024 }));`;
  const runtime = join(dist, "runtime.js");
  const sdk = require.resolve("@pulumi/pulumi");
  /**
   * In a process that has loaded the SDK (as Pulumi's provider host has), the time from
   * requiring the runtime to: the require returning; the provider being handed to the host
   * (what a check or diff loads); and the first session made (what a read, create or delete
   * loads before its first request: the client, the transport and undici).
   */
  const inProvider = (kind) => {
    const context = join(dist, kind === "compShareInstance" ? "compshare" : "ppio", "context.js");
    const session = kind === "compShareInstance" ? "compShareSession" : "ppioSession";
    return (
      `require(${JSON.stringify(sdk)}); ` +
      `Object.assign(process.env, { PPIO_API_KEY: "k", COMPSHARE_PUBLIC_KEY: "p", COMPSHARE_PRIVATE_KEY: "s" }); ` +
      `const t0 = performance.now(); const rt = require(${JSON.stringify(runtime)}); const t1 = performance.now(); ` +
      `rt.${kind}; const t2 = performance.now(); require(${JSON.stringify(context)}).${session}(); const t3 = performance.now(); ` +
      `process.stdout.write(JSON.stringify({ requireMs: t1 - t0, providerMs: t2 - t0, firstCallMs: t3 - t0, peakRssMb: process.resourceUsage().maxRSS / 1024 }));`
    );
  };
  return {
    bareNode: await sample(requireAll()),
    runtime: await sample(requireAll(runtime)),
    pulumiSdk: await sample(requireAll(sdk)),
    inProvider: await (async () => {
      const out = {};
      for (const k of KINDS) out[k] = await sample(inProvider(k));
      return out;
    })(),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const T = {
  wall: "create: wall ≤ 1.10 × cloud time at N = 50",
  describePerTick: "create: CompShare Describe calls per tick ≤ 1 for N ≤ 100, ≤ 2 for N = 200",
  ppioCreateCalls: "create: PPIO API calls per create ≤ 2 + observed state changes",
  overhead: "our waiting beyond floor + cloud ≤ 0.5 s (median over N = 10, 50, 100)",
  halfCalls: "API calls per object ≤ ½ the baseline's (N ≥ 10)",
  refreshFloor: "refresh: wall ≤ 1.2 × the engine's floor",
  csRefresh: "refresh: 100 CompShare instances in ≤ 2 Describe calls",
  ppioRefresh: "refresh: 100 PPIO objects in ≤ 3 requests beyond the per-id GETs needed for tools",
  load: "loading the runtime in the provider process ≤ 100 ms",
  provider: "__provider < 2 KB",
};

const TARGET_NS = [10, 50, 100];

function verdicts(records, startup) {
  const ours = records.filter((r) => r.strategy === "ours");
  const baselineOf = (r) => records.find((x) => x.strategy === "baseline" && x.op === r.op && x.resource === r.resource && x.n === r.n && x.path === r.path);
  const out = [];
  const push = (target, subject, value, met) => out.push({ target, subject, value, met });
  for (const r of ours.filter((r) => r.op === "create" && r.n === 50)) push(T.wall, `${r.resource} N=50, ${r.path}`, `${r.ratio}×`, r.ratio <= 1.1);
  for (const r of ours.filter((r) => r.op === "create" && r.resource === "compShareInstance" && r.n <= 200)) {
    const bound = r.n <= 100 ? 1 : 2;
    push(T.describePerTick, `N=${r.n}, ${r.path}`, `${r.describeCallsPerTick} (bound ${bound})`, r.describeCallsPerTick <= bound);
  }
  for (const r of ours.filter((r) => r.op === "create" && r.resource.startsWith("ppio"))) {
    const bound = 2 + (r.stateChangesPerObject ?? 0);
    push(T.ppioCreateCalls, `${r.resource} N=${r.n}, ${r.path}`, `${r.apiCallsPerObject} (bound ${round(bound)})`, r.apiCallsPerObject <= bound);
  }
  for (const op of ["create", "refresh", "destroy"]) {
    for (const kind of KINDS) {
      const rows = ours.filter((r) => r.op === op && r.resource === kind && TARGET_NS.includes(r.n) && r.beyondFloorSeconds !== null);
      if (rows.length === 0) continue;
      const m = median(rows.map((r) => r.beyondFloorSeconds));
      const each = rows.map((r) => `N=${r.n}: ${r.beyondFloorSeconds} s (baseline ${baselineOf(r)?.beyondFloorSeconds ?? "–"})`).join(", ");
      push(T.overhead, `${op} ${kind}, ${rows[0].path}`, `median ${round(m)} s; ${each}`, m <= 0.5);
    }
  }
  for (const r of ours.filter((r) => r.n >= 10)) {
    const b = baselineOf(r);
    if (!b) continue;
    push(T.halfCalls, `${r.op} ${r.resource} N=${r.n}, ${r.path}`, `${r.apiCallsPerObject} vs ${b.apiCallsPerObject}`, r.apiCallsPerObject <= b.apiCallsPerObject / 2);
  }
  for (const r of ours.filter((r) => r.op === "refresh" && r.floorRatio !== undefined)) {
    push(T.refreshFloor, `${r.resource} N=${r.n}`, `${r.floorRatio}× (${r.wallSeconds} s vs ${r.floorSeconds} s)`, r.floorRatio <= 1.2);
  }
  for (const r of ours.filter((r) => r.op === "refresh" && r.n === 100)) {
    if (r.resource === "compShareInstance") push(T.csRefresh, `${r.path}`, `${r.describeCalls}`, r.describeCalls <= 2);
    else {
      // Every fleet here recorded its SSH details at create, so no GET is needed for tools.
      push(T.ppioRefresh, `${r.resource}, ${r.path}`, `${r.apiCallsTotal} requests`, r.apiCallsTotal <= 3);
    }
  }
  if (startup) {
    for (const [kind, v] of Object.entries(startup.inProvider)) {
      push(T.load, kind, `${v.requireMs} ms to require, ${v.providerMs} ms to the provider, ${v.firstCallMs} ms to the first request`, v.firstCallMs <= 100);
    }
  }
  const biggest = Math.max(...records.map((r) => r.providerBytes ?? 0));
  push(T.provider, "largest", `${biggest} B`, biggest < 2048);
  return out;
}

const detailOf = (r) =>
  Object.entries(r.apiCalls)
    .map(([k, v]) => `${k.replace("/gpus/v2/", "/")}: ${v}`)
    .join("; ");

function markdown(result) {
  const m = result.machine;
  const st = result.settings;
  const lines = [
    `# Benchmark results`,
    "",
    `Written by \`npm run bench\`${st.full ? "" : ` (a narrowed run: kinds ${st.kinds.join(", ")}; refresh and destroy at N = ${st.ns.join(", ") || "none"}; create at N = ${st.createNs.join(", ") || "none"} for ${st.createKinds.join(", ")}; provisioning ${st.provisionMs / 1000} s; deletes ${st.deleteMs / 1000} s)`} on ${m.date}.`,
    "",
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB memory, ${m.os}; Node ${m.node}; Pulumi CLI ${m.pulumi ?? "none (provider path)"}` +
      (m.pulumiLanguageHost ? ` (language host: ${m.pulumiLanguageHost})` : "") +
      "; " +
      `load average ${m.loadAverageBefore.join(" / ")} before, ${m.loadAverageAfter.join(" / ")} after. ` +
      `The machine was shared with other work, so absolute times are noisy; the ratios are what to read.`,
    "",
    `Settings: provisioning ${st.provisionMs / 1000} s from create to ready for every kind; deletes ${st.deleteMs / 1000} s ` +
      `(PPIO: DELETE to gone; CompShare: stop, then terminate, each ${st.deleteMs / 1000} s). Path \`engine\`: ` +
      `\`pulumi up|refresh|destroy --yes --skip-preview --parallel ${PARALLEL}\` (file backend, credentials from the environment), ` +
      `timed from start to exit. Create rows: \`up\` of a new stack, ours then the baseline. Refresh and destroy rows, per kind and N: ` +
      `a fleet made at once (provisioning 0), \`refresh\` of it with ours and then with the baseline, \`destroy\` with ours; ` +
      `a second fleet destroyed with the baseline. Path \`provider\`: the runtime providers ` +
      `driven directly, every object's call at once in a fresh Node process, timed from the first call to the last return` +
      (st.path === "engine" ? "" : ", because no Pulumi CLI was found") +
      `. API calls are the emulator's request log during the operation (per object, by route or CompShare Action); ` +
      `ticks, polls per tick, state changes and peak RSS come from the provider process itself (\`GPU_CLOUD_STATS_FILE\`). ` +
      `Ours = the shared poller as shipped; baseline = \`GPU_CLOUD_POLL_STRATEGY=naive\`: each object polled on its own, first after 3 s, ` +
      `then every 5 s, and each read a request of its own.`,
    "",
    `Floors: for \`up\`, the same \`up\` against an emulator whose objects are ready at once (the engine, the program, the provider ` +
      `process and our first poll); for \`refresh\` and \`destroy\`, the same operation on a stack of N dynamic resources with the same ` +
      `inputs whose provider makes no API call, measured next to ours (for a refresh, the mean of one right before ours and one right after the baseline's). "Beyond floor + cloud" is the wall time left after subtracting ` +
      `the floor and the cloud's own time (provisioning, deletes; none for a refresh): the waiting's own overhead, noisy to ±0.5 s here.`,
    "",
  ];
  if (result.floors?.length) {
    lines.push(
      "Engine floors (no API calls), measured next to each kind's rows: " +
        result.floors.map((f) => `${f.kind} N = ${f.n}: refresh ${f.refreshRuns.join(" / ")} s (before ours · after the baseline's), destroy ${f.destroySeconds} s`).join("; ") +
        ".",
      "",
    );
  }
  const pair = (op) =>
    result.records
      .filter((r) => r.op === op && r.strategy === "ours")
      .map((r) => [r, result.records.find((x) => x.op === op && x.strategy === "baseline" && x.resource === r.resource && x.n === r.n && x.path === r.path)]);

  lines.push(
    "## Fleet creation (`pulumi up`)",
    "",
    "| resource | N | path | strategy | wall s | ratio to cloud | floor s | beyond floor + cloud s | API calls / object | of which | state changes / object | polls / tick | ticks | peak RSS MB |",
    "|---|---:|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
  );
  for (const r of result.records.filter((r) => r.op === "create")) {
    lines.push(
      `| ${r.resource} | ${r.n} | ${r.path} | ${r.strategy} | ${r.wallSeconds} | ${r.ratio} | ${r.floorSeconds} | ${r.beyondFloorSeconds} | ${r.apiCallsPerObject} | ${detailOf(r)} | ` +
        `${r.stateChangesPerObject ?? "–"} | ${r.pollsPerTick ?? "–"}${r.describeCallsPerTick !== undefined ? ` (${r.describeCallsPerTick} Describe/tick)` : ""} | ${r.pollTicks ?? "–"} | ${r.peakRssMb ?? "–"} |`,
    );
  }
  lines.push(
    "",
    "Ours: first create after · create spread · tail after the last object was ready: " +
      pair("create")
        .map(([r]) => `${r.resource} N=${r.n} ${r.startupSeconds} · ${r.createSpreadSeconds} · ${r.tailSeconds ?? "–"} s`)
        .join("; ") +
      ".",
    "",
    "## Refresh (`pulumi refresh`)",
    "",
    "The reads' span is the time from the first read reaching the provider process to the last one answered: " +
      "the part of the wall time that is ours (the engine sends the reads as its parallelism allows).",
    "",
    "| resource | N | path | wall s ours · baseline | floor s | ours / floor | baseline / floor | reads' span s ours · baseline | API calls / object ours · baseline | requests ours (of which) | requests baseline |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
  );
  for (const [r, b] of pair("refresh")) {
    lines.push(
      `| ${r.resource} | ${r.n} | ${r.path} | ${r.wallSeconds} · ${b?.wallSeconds ?? "–"} | ${r.floorSeconds} | ${r.floorRatio ?? "–"} | ${b?.floorRatio ?? "–"} | ` +
        `${r.readSpanSeconds ?? "–"} · ${b?.readSpanSeconds ?? "–"} | ${r.apiCallsPerObject} · ${b?.apiCallsPerObject ?? "–"} | ${r.apiCallsTotal} (${detailOf(r)}) | ${b?.apiCallsTotal ?? "–"} |`,
    );
  }
  lines.push(
    "",
    "## Fleet destruction (`pulumi destroy`)",
    "",
    "| resource | N | path | wall s ours · baseline | floor s | cloud s | beyond floor + cloud s ours · baseline | API calls / object ours · baseline | of which (ours) | polls / tick (ours) |",
    "|---|---:|---|---:|---:|---:|---:|---:|---|---:|",
  );
  for (const [r, b] of pair("destroy")) {
    lines.push(
      `| ${r.resource} | ${r.n} | ${r.path} | ${r.wallSeconds} · ${b?.wallSeconds ?? "–"} | ${r.floorSeconds} | ${r.cloudSeconds} | ` +
        `${r.beyondFloorSeconds} · ${b?.beyondFloorSeconds ?? "–"} | ${r.apiCallsPerObject} · ${b?.apiCallsPerObject ?? "–"} | ${detailOf(r)} | ${r.pollsPerTick ?? "–"} |`,
    );
  }
  lines.push("", "## Preview and start-up", "");
  if (result.preview) {
    lines.push(
      `- \`pulumi preview\` of a new ${result.preview.resources}-resource stack (all three kinds): ` +
        `${result.preview.seconds} s (median of ${result.preview.runs.length}: ${result.preview.runs.join(", ")} s), ` +
        `${result.preview.apiCalls} cloud API calls.`,
    );
  } else {
    lines.push("- `pulumi preview`: not measured (no Pulumi CLI).");
  }
  const s = result.startup;
  lines.push(
    `- Requiring \`pulumi-gpu-cloud/runtime\` in a fresh Node process (median of 5): ${s.runtime.requireMs} ms, ` +
      `peak RSS ${s.runtime.peakRssMb} MB (bare Node: ${s.bareNode.peakRssMb} MB). The Pulumi SDK, which the provider host loads ` +
      `first: ${s.pulumiSdk.requireMs} ms, ${s.pulumiSdk.peakRssMb} MB.`,
    `- In a process that has loaded the SDK, from requiring the runtime to the require returning · the provider handed to the host ` +
      `(what a check or diff loads) · the first session made (what a read, create or delete loads before its first request), median of 5: ` +
      Object.entries(s.inProvider)
        .map(([k, v]) => `${k} ${v.requireMs} · ${v.providerMs} · ${v.firstCallMs} ms`)
        .join("; ") +
      ".",
    `- Serialized \`__provider\`: ${Math.max(...result.records.map((r) => r.providerBytes ?? 0))} bytes (largest in the state).`,
    "",
    "## Targets",
    "",
    "| target | subject | measured | met |",
    "|---|---|---|---|",
    ...result.targets.map((t) => `| ${t.target} | ${t.subject} | ${t.value} | ${t.met ? "yes" : "**no**"} |`),
    "",
  );
  return lines.join("\n");
}

/** Which Node language host the CLI runs programs with (scripts/pulumi-cli.mjs may build a fallback). */
function languageHost(cli) {
  try {
    return JSON.parse(readFileSync(join(cli.binDir, "..", "build-info.json"), "utf8")).langhost;
  } catch {
    return "as installed";
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const o = options(process.argv.slice(2));
  if (!existsSync(join(dist, "runtime.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  const { startEmulator } = require(join(dist, "index.js"));
  const cli = o.forceProvider ? null : await findPulumi();
  const say = (line) => process.stderr.write(`[bench] ${line}\n`);
  const loadBefore = os.loadavg().map((x) => round(x, 2));

  const work = mkdtempSync(join(os.tmpdir(), "gpu-cloud-bench-"));
  /** An emulator with the given provisioning and delete times and a runner wired to it. */
  const bed = async (name, provisionMs, deleteMs) => {
    const emu = await startEmulator({
      timings: {
        ppio: { provisionMs, endpointCreateMs: provisionMs, deleteMs, endpointDeleteMs: deleteMs },
        compshare: { provisionMs, stopMs: deleteMs, terminateMs: deleteMs },
      },
    });
    // Room for the largest fleet: the emulator's defaults (20 instances, a few cards) model a small account.
    emu.compshare.setQuota(1_000);
    emu.compshare.setStock("4090", 1_000);
    const dir = join(work, name);
    mkdirSync(dir);
    // What a destroy waits for in the cloud: PPIO deletes; CompShare stops, then terminates.
    const deleteSeconds = { ppioInstance: deleteMs / 1000, ppioEndpoint: deleteMs / 1000, compShareInstance: (2 * deleteMs) / 1000 };
    return { emu, work: dir, provisionMs, deleteSeconds, engine: cli ? new EngineRunner(cli, dir, emu) : null, provider: new ProviderRunner(emu) };
  };
  // Create rows: provisioning as set, deletes quick (they are not measured there).
  const main = await bed("main", o.provisionMs, 200);
  // Refresh and destroy rows: fleets made at once, deletes as set.
  const ops = await bed("ops", 0, o.deleteMs);
  // The same `up` against a cloud that is ready at once: what the engine and the provider
  // process cost by themselves (plus our first poll), so the rest of the wall time can be
  // told apart from it.
  const floor = await bed("floor", 0, 200);
  const path = cli ? "engine" : "provider";
  say(`path: ${path}${cli ? ` (pulumi ${cli.version})` : " (no Pulumi CLI found: runtime providers driven directly)"}`);
  const records = [];
  const floors = [];
  let preview;
  /** One measurement, once more if it failed (the run is long and the checkout is shared). */
  const again = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      say(`  ${what} failed, measuring again: ${String(e.message).split("\n").slice(0, 4).join(" ")}`);
      return fn();
    }
  };
  const show = (r) =>
    say(
      `  ${r.op} ${r.strategy}: ${r.wallSeconds} s (floor ${r.floorSeconds ?? "–"} s, beyond floor + cloud ${r.beyondFloorSeconds ?? "–"} s), ` +
        `${r.apiCallsPerObject} calls/object (${r.apiCallsTotal}), ${r.pollsPerTick ?? "–"} polls/tick over ${r.pollTicks ?? "–"} ticks`,
    );
  /**
   * The engine's own floor for refresh and destroy of n resources: the same operation on a
   * stack of n dynamic resources with the same inputs whose provider makes no API call,
   * measured next to ours (the load on a shared machine drifts within minutes): a refresh of
   * one such stack (kept per N) right before ours and right after the baseline's, and the
   * destroy of a second one between our destroy and the baseline's.
   */
  const floorStacks = new Map();
  const floorStack = async (n) => {
    if (!floorStacks.has(n)) floorStacks.set(n, await again("floor", () => ops.engine.create("floor:compShareInstance", n, "ours")));
    return floorStacks.get(n);
  };
  const floorRefresh = async (n) => round((await ops.engine.refresh(await floorStack(n), "ours")).wallMs / 1000);
  const floorDestroy = async (n) => {
    const created = await again("floor", () => ops.engine.create("floor:compShareInstance", n, "ours"));
    return round((await ops.engine.destroy(created)).wallMs / 1000);
  };
  const withFloor = (rec, floorSeconds) => {
    rec.floorSeconds = floorSeconds;
    rec.beyondFloorSeconds = round(rec.wallSeconds - floorSeconds - rec.cloudSeconds);
    if (rec.op === "refresh" && floorSeconds > 0) rec.floorRatio = round(rec.wallSeconds / floorSeconds, 3);
    records.push(rec);
    show(rec);
  };
  /** Create rows: the floor (ready at once), then ours and the baseline. */
  const createSeries = async (which, kind, n) => {
    say(`${kind} × ${n}, ${which} path: create floor (ready at once)…`);
    const f = await again("floor", async () => {
      const { rec, created } = await measureCreate(floor, floor[which], kind, n, "ours");
      await floor[which].destroy(created);
      return rec;
    });
    for (const strategy of ["ours", "baseline"]) {
      say(`${kind} × ${n}, ${which} path: create (${strategy})…`);
      const { rec, created } = await again("create", () => measureCreate(main, main[which], kind, n, strategy));
      await main[which].destroy(created);
      withFloor(rec, f.wallSeconds);
    }
  };
  /** Refresh and destroy rows: a fleet refreshed with ours then the baseline and destroyed with ours; a second destroyed with the baseline. */
  const opsSeries = async (which, kind, n) => {
    const engine = which === "engine";
    say(`${kind} × ${n}, ${which} path: refresh and destroy…`);
    const fleet = async () => (await again("create", () => measureCreate(ops, ops[which], kind, n, "ours"))).created;
    const first = await fleet();
    const floorBefore = engine ? await floorRefresh(n) : 0;
    const refreshes = [];
    for (const s of ["ours", "baseline"]) refreshes.push(await measureOp(ops, ops[which], "refresh", first, s));
    const floorAfter = engine ? await floorRefresh(n) : 0;
    const refreshFloor = round((floorBefore + floorAfter) / 2);
    for (const r of refreshes) {
      r.floorRuns = [floorBefore, floorAfter];
      withFloor(r, refreshFloor);
    }
    const ours = await measureOp(ops, ops[which], "destroy", first, "ours");
    const destroyFloor = engine ? await floorDestroy(n) : 0;
    const second = await fleet();
    const baseline = await measureOp(ops, ops[which], "destroy", second, "baseline");
    withFloor(ours, destroyFloor);
    withFloor(baseline, destroyFloor);
    floors.push({ kind, n, refreshRuns: [floorBefore, floorAfter], destroySeconds: destroyFloor });
  };
  try {
    for (const kind of o.kinds) {
      for (const n of o.ns) await opsSeries(path, kind, n);
      if (o.createKinds.includes(kind)) for (const n of o.createNs) await createSeries(path, kind, n);
    }
    if (cli) {
      const runs = [];
      const from = main.emu.requests.length;
      for (let i = 0; i < 3; i++) runs.push(round((await main.engine.preview(o.previewN)) / 1000));
      preview = {
        resources: o.previewN,
        seconds: median(runs),
        runs,
        apiCalls: main.emu.requests.slice(from).filter((r) => r.cloud !== "emulator").length,
      };
      say(`preview of ${o.previewN} resources: ${preview.seconds} s`);
    }
  } finally {
    for (const created of floorStacks.values()) await ops.engine.destroy(created).catch(() => undefined);
    for (const { emu } of [main, ops, floor]) {
      const left = emu.ppio.instances().length + emu.ppio.endpoints().length + emu.compshare.instances().length;
      if (left > 0) say(`warning: ${left} objects left in an emulator`);
      await emu.close();
    }
    rmSync(work, { recursive: true, force: true });
  }
  const start = await startup();
  const result = {
    machine: {
      date: new Date().toISOString(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      pulumi: cli?.version ?? null,
      pulumiLanguageHost: cli ? languageHost(cli) : null,
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg().map((x) => round(x, 2)),
    },
    settings: { full: o.full, path, provisionMs: o.provisionMs, deleteMs: o.deleteMs, kinds: o.kinds, ns: o.ns, createKinds: o.createKinds, createNs: o.createNs, parallel: cli ? Number(PARALLEL) : null },
    records,
    floors,
    preview: preview ?? null,
    startup: start,
  };
  result.targets = verdicts(records, start);

  const outDir = join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const base = o.record ? "latest" : "quick";
  writeFileSync(join(outDir, `${base}.json`), JSON.stringify(result, null, 2) + "\n");
  const md = markdown(result);
  writeFileSync(join(outDir, `${base}.md`), md);
  process.stdout.write(md + "\n");
  say(`wrote bench/results/${base}.json and ${base}.md`);
}

if (process.argv.includes("--worker")) {
  worker().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${e.stack ?? e}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
}

/**
 * Drives the `pulumi` CLI as a user's terminal (or a CI runner) would, so that it can be
 * killed: a Pulumi project on disk, the CLI spawned in its own process group, SIGKILL of the
 * CLI and every process under it, or Ctrl-C twice (SIGINT to the group). Processes are ended
 * only by the PIDs this harness started or found under them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackKey } from "../../src/core/identity";
import type { Emulator } from "../../src/emulator/server";
// @ts-expect-error: plain ESM helper shared with the demo and CI
import { pulumiEnv } from "../../scripts/pulumi-cli.mjs";

export const PROJECT = "gpu-cloud-kill";

const PROGRAM = `const pulumi = require("@pulumi/pulumi");
const gpu = require("pulumi-gpu-cloud");
const spec = JSON.parse(new pulumi.Config("kill").require("spec"));
const classes = { ppioInstance: gpu.PpioInstance, ppioEndpoint: gpu.PpioEndpoint, compShareInstance: gpu.CompShareInstance };
for (const r of spec) exports[r.name] = new classes[r.kind](r.name, r.args, r.opts).id;
`;

export interface Run {
  child: ChildProcess;
  /** Resolves when the CLI exits. */
  done: Promise<{ code: number; signal: NodeJS.Signals | null; out: string }>;
}

/** Parent PID of every process, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      map.set(Number(d), ppid);
    } catch {
      // gone meanwhile
    }
  }
  return map;
}

/** Every process under `pid` (children, their children, …). */
export function descendants(pid: number): number[] {
  const ppid = parents();
  const found = new Set<number>([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of ppid) if (found.has(pp) && !found.has(p)) (found.add(p), (grew = true));
  }
  found.delete(pid);
  return [...found];
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export class Machine {
  readonly env: Record<string, string>;
  /** Processes started under our CLIs, to end at cleanup if they outlive them. */
  private strays = new Set<number>();

  constructor(
    readonly root: string,
    readonly dir: string,
    binDirs: string[],
    emu: Emulator,
    home: string,
  ) {
    this.env = {
      ...pulumiEnv({ pathDirs: binDirs, stateDir: join(root, "state"), home }),
      PPIO_API_KEY: emu.apiKey,
      PPIO_BASE_URL: emu.url,
      COMPSHARE_PUBLIC_KEY: emu.compsharePublicKey,
      COMPSHARE_PRIVATE_KEY: emu.compsharePrivateKey,
      COMPSHARE_BASE_URL: emu.url,
      GPU_CLOUD_POLL_MIN_MS: "100",
    };
  }

  /** A project directory with the program (a checkout of the user's repository). */
  static project(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Pulumi.yaml"), `name: ${PROJECT}\nruntime: nodejs\nmain: index.js\n`);
    writeFileSync(join(dir, "index.js"), PROGRAM);
  }

  /** A fresh checkout elsewhere: the program and the committed stack config files, nothing else. */
  cloneTo(dir: string): void {
    Machine.project(dir);
    for (const f of readdirSync(this.dir)) if (/^Pulumi\..+\.yaml$/.test(f)) cpSync(join(this.dir, f), join(dir, f));
  }

  start(args: string[]): Run {
    const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: this.dir, env: this.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const done = new Promise<{ code: number; signal: NodeJS.Signals | null; out: string }>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code: code ?? -1, signal, out }));
    });
    return { child, done };
  }

  async run(args: string[]): Promise<{ code: number; out: string }> {
    const r = this.start(args);
    const timer = setTimeout(() => this.killTree(r), 240_000);
    const res = await r.done;
    clearTimeout(timer);
    return res;
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.out.slice(-3000)}`);
    return r.out;
  }

  /** `npx pulumi-gpu-cloud <args>` in the project, credentials only from the stack config. */
  command(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
    const clean: Record<string, string> = { ...this.env };
    for (const k of Object.keys(clean)) if (/^(PPIO|COMPSHARE)_/.test(k)) delete clean[k];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(process.cwd(), "dist/cli/main.js"), ...args], {
        cwd: this.dir,
        env: { ...clean, ...env } as Record<string, string>,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    });
  }

  /** SIGKILL of the CLI and every process under it (a cancelled CI job, an OOM kill). */
  killTree(r: Run): void {
    const pid = r.child.pid!;
    const all = [pid, ...descendants(pid)];
    for (const p of all) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** Ctrl-C twice in the terminal: SIGINT to the CLI's process group, twice. Plugins run on in their own groups. */
  async doubleCtrlC(r: Run): Promise<void> {
    const pid = r.child.pid!;
    for (const p of descendants(pid)) this.strays.add(p);
    process.kill(-pid, "SIGINT");
    await new Promise((res) => setTimeout(res, 700));
    if (alive(pid)) process.kill(-pid, "SIGINT");
  }

  /** Ends what outlived its CLI (only processes found under our CLIs, by PID). */
  cleanup(): number[] {
    const left = [...this.strays].filter(alive);
    for (const p of left) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // gone
      }
    }
    this.strays.clear();
    return left;
  }

  /** Pulumi's dynamic-provider hosts found under our CLIs that are still running. */
  survivingProviders(): number[] {
    return [...this.strays].filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("dynamic-provider/index.js");
      } catch {
        return false;
      }
    });
  }

  stackKey(stack: string): string {
    return stackKey("organization", PROJECT, stack);
  }

  /** `pulumi stack export` as JSON. */
  async exported(stack: string): Promise<{ resources: { type: string; urn: string; id?: string; initErrors?: string[] }[]; pendingOps: number }> {
    const text = await this.ok(["stack", "export", "--stack", stack]);
    const d = JSON.parse(text).deployment ?? {};
    return { resources: d.resources ?? [], pendingOps: (d.pending_operations ?? []).length };
  }
}

export function cleanRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

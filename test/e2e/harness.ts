/**
 * The real Pulumi engine in the loop: the CLI (built by scripts/pulumi-cli.mjs), the
 * Automation API with an inline program and a file backend in a temp dir, and the
 * emulator in this process. The program declares whatever the test's spec says; each
 * `up` takes a new spec, so a test reads like the sequence of edits a user would make.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { expect } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../src/emulator/server";
import { CompShareInstance } from "../../src/compshare/resources";
import { PpioEndpoint, PpioInstance } from "../../src/ppio/resources";
// @ts-expect-error: plain ESM helper shared with the demo and CI
import { findPulumi, pulumiEnv } from "../../scripts/pulumi-cli.mjs";

export type Kind = "ppioInstance" | "ppioEndpoint" | "compShareInstance";

export interface ResourceSpec {
  kind: Kind;
  name: string;
  args: Record<string, unknown>;
  /** Top-level args the program wraps in `pulumi.secret`. */
  secret?: string[];
  opts?: { replaceOnChanges?: string[]; deleteBeforeReplace?: boolean };
}

function declare(r: ResourceSpec): pulumi.CustomResource & { [k: string]: unknown } {
  const args = { ...r.args };
  for (const k of r.secret ?? []) args[k] = pulumi.secret(args[k]);
  switch (r.kind) {
    case "ppioInstance":
      return new PpioInstance(r.name, args as never, r.opts) as never;
    case "ppioEndpoint":
      return new PpioEndpoint(r.name, args as never, r.opts) as never;
    case "compShareInstance":
      return new CompShareInstance(r.name, args as never, r.opts) as never;
  }
}

/** The inline program: one resource per spec entry; exports each resource's id. */
async function program() {
  const spec = JSON.parse(new pulumi.Config("e2e").require("spec")) as ResourceSpec[];
  const out: Record<string, pulumi.Output<unknown>> = {};
  for (const r of spec) out[r.name] = declare(r).id;
  return out;
}

/** Resolves to the CLI, or undefined (the e2e suites then skip, except under CI=true). */
export async function pulumiCli(): Promise<{ binDir: string; pathDirs?: string[] } | undefined> {
  return (await findPulumi()) ?? undefined;
}

export const CLI_MISSING =
  "end-to-end tests need the Pulumi CLI: run `npm run pulumi:ensure` (builds it from Go modules) or install Pulumi";

export class E2E {
  readonly emu: Emulator;
  readonly dir: string;
  private stacks: Stack[] = [];
  private counter = 0;

  private constructor(
    emu: Emulator,
    dir: string,
    private readonly env: Record<string, string>,
    private readonly cmd: PulumiCommand,
  ) {
    this.emu = emu;
    this.dir = dir;
  }

  /** `emulator` sets the keys the emulator accepts (e.g. distinctive canaries to grep for). */
  static async start(cli: { binDir: string; pathDirs?: string[] }, emulator?: EmulatorOptions): Promise<E2E> {
    const dir = mkdtempSync(join(tmpdir(), "gpu-cloud-e2e-"));
    const stateDir = join(dir, "state");
    mkdirSync(stateDir);
    const env = pulumiEnv({ pathDirs: cli.pathDirs ?? [cli.binDir], stateDir, home: join(dir, "home") });
    const cmd = await PulumiCommand.get({ root: join(cli.binDir, ".."), skipVersionCheck: true });
    const emu = await startEmulator(emulator);
    return new E2E(emu, dir, env, cmd);
  }

  /** A fresh stack wired to the emulator through stack config (the API key as a secret). */
  async stack(): Promise<E2EStack> {
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: `s${++this.counter}`, projectName: "gpu-cloud-e2e", program },
      { pulumiCommand: this.cmd, envVars: this.env, pulumiHome: this.env.PULUMI_HOME },
    );
    await stack.setAllConfig(this.credentials());
    this.stacks.push(stack);
    return new E2EStack(stack, this);
  }

  /** Both clouds' credentials as stack config, the private ones as secrets. */
  credentials(): Record<string, { value: string; secret?: boolean }> {
    return {
      "ppio:apiKey": { value: this.emu.apiKey, secret: true },
      "ppio:baseUrl": { value: this.emu.url },
      "compshare:publicKey": { value: this.emu.compsharePublicKey },
      "compshare:privateKey": { value: this.emu.compsharePrivateKey, secret: true },
      "compshare:baseUrl": { value: this.emu.url },
    };
  }

  /** Runs the CLI itself (async: the emulator answers from this process's event loop). */
  cli(args: string[], cwd: string): Promise<{ code: number; out: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn("pulumi", [...args, "--non-interactive"], { cwd, env: this.env });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("error", reject);
      child.on("exit", (code) => resolve({ code: code ?? -1, out }));
    });
  }

  /** Every file of the file backend, as text (to grep for secrets). */
  stateFiles(): string {
    const texts: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else texts.push(readFileSync(p, "utf8"));
      }
    };
    walk(join(this.dir, "state"));
    return texts.join("\n");
  }

  async stop(): Promise<void> {
    for (const s of this.stacks) {
      await s.destroy().catch(() => undefined);
      await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
    }
    await this.emu.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Deployed {
  type: string;
  urn: string;
  id?: string;
  outputs: Record<string, unknown>;
  inputs: Record<string, unknown>;
  initErrors?: string[];
}

export class E2EStack {
  constructor(
    readonly stack: Stack,
    private readonly e2e: E2E,
  ) {}

  /** The spec travels as stack config: as a secret when it carries secret inputs. */
  private setSpec(spec: ResourceSpec[]) {
    const secret = spec.some((r) => (r.secret ?? []).length > 0);
    return this.stack.setConfig("e2e:spec", { value: JSON.stringify(spec), secret });
  }

  async up(spec: ResourceSpec[]) {
    await this.setSpec(spec);
    return this.stack.up({ onOutput: () => undefined });
  }

  async preview(spec: ResourceSpec[]) {
    await this.setSpec(spec);
    return this.stack.preview({ onOutput: () => undefined });
  }

  refresh(opts: { expectNoChanges?: boolean } = {}) {
    return this.stack.refresh({ onOutput: () => undefined, ...opts });
  }

  destroy() {
    return this.stack.destroy({ onOutput: () => undefined });
  }

  /** The deployment as `pulumi stack export --show-secrets` gives it (secrets decrypted, but marked). */
  async exported(): Promise<string> {
    return JSON.stringify(await this.stack.exportStack());
  }

  /** Our resources in the state (the stack and the default provider left out). */
  async resources(): Promise<Deployed[]> {
    const state = await this.stack.exportStack();
    const all = (state.deployment.resources ?? []) as Deployed[];
    return all.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
  }

  async resource(name: string): Promise<Deployed> {
    const found = (await this.resources()).find((r) => r.urn.endsWith(`::${name}`));
    expect(found, `resource ${name} is not in the state`).toBeDefined();
    return found!;
  }

  get e2eHarness(): E2E {
    return this.e2e;
  }
}

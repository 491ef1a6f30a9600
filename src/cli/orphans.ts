/**
 * `pulumi-gpu-cloud orphans`: the PPIO and CompShare objects this package created for a
 * stack (found by the marker each create writes into its object, see core/identity.ts) that
 * the stack's state does not hold. Objects without our marker, or with another stack's,
 * are never listed, so `--delete` can only ever remove what this stack's runs made.
 */
import { spawnSync } from "node:child_process";
import { compShareSession } from "../compshare/context";
import { compShareInstance } from "../compshare/instance";
import type { ApiInstance as CompShareApiInstance } from "../compshare/schemas";
import { markerInEnvs, markerInRemark, parseMarker, stackKey, stripRemarkTag } from "../core/identity";
import { reasonOf, settings } from "../core/provider";
import { ppioSession } from "../ppio/context";
import { ppioEndpoint } from "../ppio/endpoint";
import { ppioInstance } from "../ppio/instance";

export type OrphanKind = "PpioInstance" | "PpioEndpoint" | "CompShareInstance";

export interface Orphan {
  kind: OrphanKind;
  cloud: "ppio" | "compshare";
  id: string;
  name?: string;
  state?: string;
  createdAt?: string;
  /** CNY per hour, where the cloud's listing says. */
  pricePerHour?: number;
  /** What `delete` needs (CompShare: region, zone, charge type). */
  props: Record<string, unknown>;
}

export interface Searched {
  ppio: boolean;
  compshare: boolean;
  /** CompShare regions described besides the all-regions call. */
  regions: string[];
}

const iso = (t: number | string | undefined): string | undefined => {
  const n = typeof t === "string" ? Number(t) : t;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : undefined;
};

const LEAVING = /remov|delet|terminat|releas/i;

/**
 * Marked objects of the stack whose ids `recorded` does not hold. `search` says which
 * clouds to ask (those with credentials); settings come from `settings` (stack config or env).
 */
export async function findOrphans(key: string, recorded: ReadonlySet<string>, search: Searched): Promise<Orphan[]> {
  const ours = (marker: string | undefined) => parseMarker(marker)?.stackKey === key;
  const out: Orphan[] = [];
  if (search.ppio) {
    const { client } = ppioSession();
    for (const i of await client.listInstances({})) {
      const envs = i.envs ?? (await client.findInstance(i.id))?.envs;
      if (!ours(markerInEnvs(envs)) || recorded.has(i.id) || LEAVING.test(i.status.status)) continue;
      out.push({ kind: "PpioInstance", cloud: "ppio", id: i.id, name: i.name, state: i.status.status, createdAt: iso(i.created_at), props: {} });
    }
    for (const e of await client.listEndpoints({})) {
      const envs = e.envs ?? (await client.findEndpoint(e.id))?.envs;
      if (!ours(markerInEnvs(envs)) || recorded.has(e.id) || LEAVING.test(e.status.status)) continue;
      out.push({ kind: "PpioEndpoint", cloud: "ppio", id: e.id, name: e.name, state: e.status.status, createdAt: iso(e.created_at), props: {} });
    }
  }
  if (search.compshare) {
    const { client } = compShareSession();
    const seen = new Map<string, CompShareApiInstance>();
    // Describe without Region covers every region (UDOC); the regions the state names are asked too, to be sure.
    for (const where of [{}, ...search.regions.map((Region) => ({ Region }))]) {
      for (const i of await client.describeAll(where)) seen.set(i.UHostId, i);
    }
    for (const i of seen.values()) {
      if (!ours(markerInRemark(i.Remark)) || recorded.has(i.UHostId) || LEAVING.test(i.State ?? "")) continue;
      out.push({
        kind: "CompShareInstance",
        cloud: "compshare",
        id: i.UHostId,
        name: i.Name || stripRemarkTag(i.Remark),
        state: i.State,
        createdAt: iso(i.CreateTime),
        props: { region: i.Region, zone: i.Zone, chargeType: i.ChargeType },
      });
    }
  }
  return out;
}

/** Deletes each orphan and waits until it is gone, as `pulumi destroy` would. */
export async function deleteOrphans(orphans: Orphan[], print: (line: string) => void): Promise<string[]> {
  const failed: string[] = [];
  for (const o of orphans) {
    const provider = o.kind === "PpioInstance" ? ppioInstance : o.kind === "PpioEndpoint" ? ppioEndpoint : compShareInstance;
    try {
      await provider.delete(o.id, o.props);
      print(`deleted ${o.cloud} ${o.id}`);
    } catch (e) {
      failed.push(o.id);
      print(`could not delete ${o.cloud} ${o.id}: ${reasonOf(e)}`);
    }
  }
  return failed;
}

// ---- the command ---------------------------------------------------------------------

export class UsageError extends Error {}

export interface Io {
  cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question; false when nobody can answer. */
  confirm(question: string): Promise<boolean>;
  env: NodeJS.ProcessEnv;
}

export const USAGE = `Usage: pulumi-gpu-cloud orphans [--stack NAME] [--delete] [--yes]

Lists the PPIO and CompShare objects pulumi-gpu-cloud created for the stack (found by the
marker each create writes into its object) that the stack's state does not hold: what a
killed \`pulumi up\` may have left. Run it in the Pulumi program's directory. Credentials
come from the stack config or the environment, as for the resources.

  --stack NAME  the stack (default: the selected one)
  --delete      delete the listed objects and wait until they are gone
  --yes         do not ask before deleting

Exit status: 0 none found, 1 some listed, 2 error (no stack, no credentials, a cloud error).
`;

function parseArgs(argv: string[]): { stack?: string; delete: boolean; yes: boolean; help: boolean } {
  const o = { stack: undefined as string | undefined, delete: false, yes: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--delete") o.delete = true;
    else if (a === "--yes" || a === "-y") o.yes = true;
    else if (a === "--help" || a === "-h") o.help = true;
    else if (a === "--stack" || a === "-s") {
      o.stack = argv[++i];
      if (!o.stack) throw new UsageError("--stack needs a stack name");
    } else if (a.startsWith("--stack=")) o.stack = a.slice("--stack=".length);
    else throw new UsageError(`unknown argument ${a}`);
  }
  return o;
}

function pulumi(io: Io, args: string[]): string {
  const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: io.cwd, env: io.env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run the pulumi CLI (${r.error.message}); install Pulumi or put it on PATH`);
  if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ")}`);
  return r.stdout;
}

interface StateResource {
  type?: string;
  id?: string;
  outputs?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
}

/** Runs the command; resolves to the exit status. */
export async function orphansCommand(argv: string[], io: Io): Promise<number> {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    io.err(`${reasonOf(e)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    io.out(USAGE);
    return 0;
  }
  try {
    const sel = opts.stack ? ["--stack", opts.stack] : [];
    const qualified = pulumi(io, ["stack", "--show-name", "--fully-qualify-stack-names", ...sel]).trim();
    const [organization, project, stack] = qualified.split("/");
    if (!organization || !project || !stack) throw new Error(`cannot tell the stack from "${qualified}"`);
    const deployment = JSON.parse(pulumi(io, ["stack", "export", ...sel])).deployment ?? {};
    const resources = (deployment.resources ?? []) as StateResource[];
    const recorded = new Set(resources.map((r) => r.id).filter((id): id is string => !!id));
    const ours = resources.filter((r) => /^pulumi-nodejs:dynamic\/(ppio|compshare):/.test(r.type ?? ""));
    const config = JSON.parse(pulumi(io, ["config", "--json", "--show-secrets", ...sel])) as Record<string, { value?: unknown }>;
    settings.configure({ config: { get: (k) => (typeof config[k]?.value === "string" ? (config[k].value as string) : undefined) } });

    const has = { ppio: !!settings.get("ppio:apiKey", "PPIO_API_KEY"), compshare: !!(settings.get("compshare:publicKey", "COMPSHARE_PUBLIC_KEY") && settings.get("compshare:privateKey", "COMPSHARE_PRIVATE_KEY")) };
    const needs = { ppio: ours.some((r) => r.type!.includes("/ppio:")), compshare: ours.some((r) => r.type!.includes("/compshare:")) };
    if (!has.ppio && !has.compshare) throw new Error("no credentials: set ppio:apiKey (or PPIO_API_KEY) and/or compshare:publicKey and compshare:privateKey (or COMPSHARE_PUBLIC_KEY, COMPSHARE_PRIVATE_KEY)");
    for (const cloud of ["ppio", "compshare"] as const) {
      if (needs[cloud] && !has[cloud]) throw new Error(`the stack holds ${cloud} resources but there are no ${cloud} credentials`);
      if (!has[cloud]) io.err(`${cloud}: no credentials, not searched\n`);
    }
    const regions = [...new Set(ours.filter((r) => r.type!.includes("/compshare:")).map((r) => (r.outputs ?? r.inputs ?? {}).region).filter((x): x is string => typeof x === "string"))];
    const found = await findOrphans(stackKey(organization, project, stack), recorded, { ...has, regions });
    if (found.length === 0) {
      io.out(`No orphans: every object pulumi-gpu-cloud made for ${qualified} is in its state.\n`);
      return 0;
    }
    io.out(`${found.length} object(s) pulumi-gpu-cloud made for ${qualified} that its state does not hold:\n\n${table(found)}\n`);
    if (!opts.delete) {
      io.out("\nDelete them with `npx pulumi-gpu-cloud orphans --delete`" + (opts.stack ? ` --stack ${opts.stack}` : "") + ".\n");
      return 1;
    }
    if (!opts.yes && !(await io.confirm(`Delete these ${found.length} object(s)? This cannot be undone. [y/N] `))) {
      io.out("Nothing deleted.\n");
      return 1;
    }
    const failed = await deleteOrphans(found, (line) => io.out(`${line}\n`));
    if (failed.length > 0) throw new Error(`${failed.length} object(s) could not be deleted: ${failed.join(", ")}`);
    io.out(`Deleted ${found.length} object(s).\n`);
    return 1;
  } catch (e) {
    io.err(`pulumi-gpu-cloud orphans: ${reasonOf(e)}\n`);
    return 2;
  }
}

function table(found: Orphan[]): string {
  const rows = [
    ["cloud", "resource", "id", "name", "state", "created", "price/hour"],
    ...found.map((o) => [o.cloud, o.kind, o.id, o.name ?? "", o.state ?? "", o.createdAt ?? "", o.pricePerHour === undefined ? "unknown" : `${o.pricePerHour} CNY`]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

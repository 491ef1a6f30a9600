// PPIO v2 instance emulation, split as moto splits a service: `PpioModel` holds state and the
// cloud's rules; `createPpioService` is the wire layer (routing, auth, JSON validation, error
// bodies) and only calls the model. Written from the reference notes, never from our client.

import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { CloudService, FaultRule, IncomingRequest, PpioTimings, Reply, ResolvedRoute } from "./server";

// ---------------------------------------------------------------------------------------------
// Wire types (snake_case, as the API sends them)

export type PpioStatus =
  | "toCreate"
  | "creating"
  | "pulling"
  | "running"
  | "toStart"
  | "starting"
  | "toStop"
  | "stopping"
  | "exited"
  | "toRestart"
  | "restarting"
  | "toReset"
  | "resetting"
  | "toRemove"
  | "removing"
  | "failed";

export type PpioBillingMode = "postpaid" | "prepaid" | "spot";
export type PpioPortProtocol = "tcp" | "http";

export interface PpioEnv {
  key: string;
  value: string;
}

export interface PpioPortSpec {
  port: number;
  protocol: PpioPortProtocol;
}

export interface PpioInstanceRecord {
  id: string;
  name: string;
  type: "gpu" | "cpu";
  product_id: string;
  image: string;
  registry_auth_id: string;
  entrypoint: string;
  command: string;
  min_cuda_version: string;
  billing: {
    mode: PpioBillingMode;
    prepaid?: {
      months: number;
      end_time: number;
      auto_renew: { enabled: boolean; months: number; status: string };
    };
  };
  envs: PpioEnv[];
  ports: Array<PpioPortSpec & { endpoint: string }>;
  resource_specs: { rootfs_size_gb: number; gpu_num: number; cpu_num: number; memory_gb: number; gpu_ids: string[] };
  network: { id: string; ip: string };
  volumes: Array<{ type: "network"; id: string; mount_point: string }>;
  region: string;
  region_version: string;
  candidate_regions: string[];
  tools?: {
    ssh: { command: string; username: string; password: string };
    jupyter?: { endpoint: string; enabled: boolean; port: number };
    web_terminal: { endpoint: string; enabled: boolean; username: string; password: string };
    log: { instance_endpoint: string; system_endpoint: string };
  };
  auto_migrate: { enabled: boolean; include_system_disk: boolean };
  status: { status: PpioStatus; error: string; message: string };
  created_at: number;
  last_started_at: number;
  last_stopped_at: number;
  member_id: string;
  owner_id: string;
}

/** Validated body of `POST /gpus/v2/instances`. */
export interface PpioCreateInput {
  name: string;
  product_id: string;
  image: string;
  registry_auth_id: string;
  entrypoint: string;
  command: string;
  min_cuda_version: string;
  billing: { mode: PpioBillingMode; prepaid?: { months: number; auto_renew: { enabled: boolean; months: number } } };
  resource: { type: "gpu" | "cpu"; gpu_num: number; rootfs_size_gb: number };
  envs: PpioEnv[];
  ports: PpioPortSpec[];
  tools: { jupyter?: { enabled: boolean; port: number; protocol: string } };
  network: { id: string; ip: string };
  volumes: Array<{ type: "network"; id: string; mount_point: string }>;
  candidate_regions: string[];
  auto_migrate: { enabled: boolean; include_system_disk: boolean };
}

/** Validated body of `PUT /gpus/v2/instances/{id}/upgrade`. */
export interface PpioUpgradeInput {
  image: string;
  registry_auth_id: string;
  entrypoint: string;
  command: string;
  envs: PpioEnv[];
  save_data: boolean;
}

export interface PpioListQuery {
  limit: number;
  afterSeq: number;
  name?: string;
  status?: string;
  regions?: string[];
  billingMode?: string;
}

export interface PpioListPage {
  data: PpioInstanceRecord[];
  next_cursor: string;
  has_more: boolean;
}

/** A business error the wire layer renders as `{code, reason, message, metadata}`. */
export class PpioApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "PpioApiError";
  }
}

// ---------------------------------------------------------------------------------------------
// Model

const DEFAULT_REGION = "cn-east-1";
const PLATFORM_ENV_KEYS = ["PPIO_INSTANCE_ID", "PUBLIC_KEY"] as const;

type FinalStatus = PpioStatus | "gone";

// Status is derived from timestamps on access instead of timers, so a test that reads twice in
// the same millisecond sees the same thing and thousands of instances cost nothing while idle.
interface Transition {
  steps: PpioStatus[];
  startedAt: number;
  durationMs: number;
  final: FinalStatus;
  failure?: { error: string; message: string };
  // While set, elapsed time is capped here (a hold); release() rebases startedAt so the held
  // period does not count.
  capMs?: number;
  capIndex?: number;
}

interface InstanceState {
  seq: number;
  id: string;
  spec: PpioCreateInput;
  region: string;
  resting: PpioStatus;
  error: string;
  message: string;
  transition?: Transition;
  held: boolean;
  createdAtMs: number;
  lastStartedAt: number;
  lastStoppedAt: number;
  sshPort: number;
  sshPassword: string;
  terminalPassword: string;
  publicKey: string;
  // Public TCP ports stay the same for a given container port across PUT /ports.
  tcpPublicPorts: Map<number, number>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

function randomPassword(): string {
  return randomBytes(12).toString("base64url");
}

export class PpioModel {
  /** How many create POSTs actually created an instance. */
  createdCount = 0;

  private readonly byId = new Map<string, InstanceState>();
  private nextSeq = 1;
  private timings: PpioTimings;
  private pendingFailure?: { error: string; message?: string };
  private holdingNew = false;
  private readonly ownerId = randomUUID();

  constructor(
    timings: PpioTimings,
    private readonly now: () => number = Date.now,
  ) {
    this.timings = { ...timings };
  }

  // ----- test-facing controls -----

  /** Live instances (not yet gone) in creation order, as Get returns them. */
  instances(): PpioInstanceRecord[] {
    const now = this.now();
    return this.live(now).map((s) => this.view(s, now, true));
  }

  get(id: string): PpioInstanceRecord | undefined {
    const now = this.now();
    const s = this.find(id, now);
    return s && this.view(s, now, true);
  }

  failNextProvisioning(opts: { error?: string; message?: string } = {}): void {
    this.pendingFailure = { error: opts.error ?? "IMAGE_PULL_FAILED", message: opts.message };
  }

  /** New instances stop at "pulling" until release(); already-held ones stay held when turned off. */
  holdNewInstances(on: boolean): void {
    this.holdingNew = on;
  }

  hold(id: string): void {
    const now = this.now();
    const s = this.find(id, now);
    if (!s) throw new Error(`PpioModel.hold: no live instance ${id}`);
    s.held = true;
    const t = s.transition;
    if (t) {
      const idx = this.stepIndex(t, now);
      t.capMs = Math.min(t.capMs ?? Infinity, this.elapsed(t, now));
      t.capIndex = idx;
    }
  }

  release(id?: string): void {
    const now = this.now();
    if (id === undefined) {
      this.holdingNew = false;
      for (const s of this.byId.values()) this.unfreeze(s, now);
      return;
    }
    const s = this.byId.get(id);
    if (s) this.unfreeze(s, now);
  }

  deleteBehindBack(id: string): void {
    if (!this.byId.delete(id)) throw new Error(`PpioModel.deleteBehindBack: no instance ${id}`);
  }

  setTimings(t: Partial<PpioTimings>): void {
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === "number" && Number.isFinite(v) && v >= 0) this.timings[k as keyof PpioTimings] = v;
    }
  }

  // ----- API operations (called by the wire layer) -----

  create(spec: PpioCreateInput): string {
    const now = this.now();
    let id: string;
    do id = randomBytes(8).toString("hex");
    while (this.byId.has(id));

    const tcpPublicPorts = new Map<number, number>();
    for (const p of spec.ports) tcpPublicPorts.set(p.port, randomInt(20000, 65000));
    const s: InstanceState = {
      seq: this.nextSeq++,
      id,
      spec,
      region: spec.candidate_regions[0] ?? DEFAULT_REGION,
      resting: "toCreate",
      error: "",
      message: "",
      held: false,
      createdAtMs: now,
      lastStartedAt: 0,
      lastStoppedAt: 0,
      sshPort: randomInt(20000, 65000),
      sshPassword: randomPassword(),
      terminalPassword: randomPassword(),
      publicKey: `ssh-ed25519 ${randomBytes(32).toString("base64")} emulator@${id}`,
      tcpPublicPorts,
    };
    this.byId.set(id, s);
    this.createdCount += 1;

    let failure: Transition["failure"];
    if (this.pendingFailure) {
      failure = {
        error: this.pendingFailure.error,
        message: this.pendingFailure.message ?? `failed to pull image ${spec.image}: manifest unknown`,
      };
      this.pendingFailure = undefined;
    }
    const t = this.begin(s, ["toCreate", "creating", "pulling"], this.timings.provisionMs, failure ? "failed" : "running", now);
    t.failure = failure;
    if (this.holdingNew && !s.held) {
      // stop where billing would begin, which is where a slow image pull would leave it
      t.capMs = Math.min(t.capMs ?? Infinity, (2 * t.durationMs) / 3);
      t.capIndex = Math.min(t.capIndex ?? 2, 2);
    }
    return id;
  }

  describe(id: string): PpioInstanceRecord {
    const now = this.now();
    return this.view(this.mustFind(id, now), now, true);
  }

  list(q: PpioListQuery): PpioListPage {
    const now = this.now();
    const needle = q.name?.toLowerCase();
    const matching = this.live(now).filter((s) => {
      if (s.seq <= q.afterSeq) return false;
      if (needle && !s.spec.name.toLowerCase().includes(needle) && s.id !== q.name) return false;
      if (q.status && this.statusOf(s, now) !== q.status) return false;
      if (q.regions && q.regions.length > 0 && !q.regions.includes(s.region)) return false;
      if (q.billingMode && s.spec.billing.mode !== q.billingMode) return false;
      return true;
    });
    const page = matching.slice(0, q.limit);
    const hasMore = matching.length > page.length;
    return {
      data: page.map((s) => this.view(s, now, false)),
      next_cursor: hasMore ? encodeCursor(page[page.length - 1].seq) : "",
      has_more: hasMore,
    };
  }

  remove(id: string): void {
    const now = this.now();
    const s = this.mustFind(id, now);
    const t = s.transition;
    if (t && t.final === "gone") return; // deleting twice is harmless, as on the real API
    this.begin(s, ["toRemove", "removing"], this.timings.deleteMs, "gone", now);
  }

  start(id: string): void {
    this.act(id, "start", ["exited"], ["toStart", "starting"], this.timings.startMs);
  }

  stop(id: string): void {
    this.act(id, "stop", ["running"], ["toStop", "stopping"], this.timings.stopMs, "exited");
  }

  restart(id: string): void {
    this.act(id, "restart", ["running"], ["toRestart", "restarting"], this.timings.restartMs);
  }

  upgrade(id: string, input: PpioUpgradeInput): void {
    const s = this.act(id, "upgrade", ["running", "exited"], ["toReset", "resetting", "pulling"], this.timings.upgradeMs);
    // the v1 docs say every field must be sent in full; an omitted one is cleared, not kept
    s.spec = {
      ...s.spec,
      image: input.image,
      registry_auth_id: input.registry_auth_id,
      entrypoint: input.entrypoint,
      command: input.command,
      envs: input.envs,
    };
  }

  replacePorts(id: string, ports: PpioPortSpec[]): void {
    const now = this.now();
    const s = this.mustFind(id, now);
    const status = this.statusOf(s, now);
    if (status === "toRemove" || status === "removing") {
      throw new PpioApiError(400, "OPERATION_LIMIT", `cannot update ports of instance ${id} in status ${status}`);
    }
    const total = ports.length + (s.spec.tools.jupyter?.enabled ? 1 : 0);
    if (total > MAX_PORTS_AND_TOOLS) {
      throw new PpioApiError(400, "VALIDATOR_PARAM", `ports: at most ${MAX_PORTS_AND_TOOLS} ports and enabled tools in total, got ${total}`);
    }
    for (const p of ports) if (!s.tcpPublicPorts.has(p.port)) s.tcpPublicPorts.set(p.port, randomInt(20000, 65000));
    s.spec = { ...s.spec, ports };
  }

  // ----- internals -----

  private act(id: string, op: string, from: PpioStatus[], steps: PpioStatus[], durationMs: number, final: PpioStatus = "running"): InstanceState {
    const now = this.now();
    const s = this.mustFind(id, now);
    const status = this.statusOf(s, now);
    if (s.transition || !from.includes(status)) {
      throw new PpioApiError(
        400,
        "OPERATION_LIMIT",
        `cannot ${op} instance ${id} in status ${status}; allowed only in status ${from.join(" or ")}`,
      );
    }
    this.begin(s, steps, durationMs, final, now);
    return s;
  }

  private begin(s: InstanceState, steps: PpioStatus[], durationMs: number, final: FinalStatus, now: number): Transition {
    const t: Transition = { steps, startedAt: now, durationMs, final };
    if (s.held) {
      t.capMs = 0;
      t.capIndex = 0;
    }
    s.transition = t;
    s.error = "";
    s.message = "";
    return t;
  }

  private unfreeze(s: InstanceState, now: number): void {
    s.held = false;
    const t = s.transition;
    if (t && t.capMs !== undefined) {
      t.startedAt = now - this.elapsed(t, now);
      t.capMs = undefined;
      t.capIndex = undefined;
    }
  }

  private elapsed(t: Transition, now: number): number {
    const raw = Math.max(0, now - t.startedAt);
    return t.capMs === undefined ? raw : Math.min(raw, t.capMs);
  }

  private stepIndex(t: Transition, now: number): number {
    const last = t.steps.length - 1;
    const stepMs = t.durationMs / t.steps.length;
    // the epsilon keeps a cap placed exactly on a step boundary from rounding down a step
    const idx = stepMs > 0 ? Math.floor(this.elapsed(t, now) / stepMs + 1e-9) : last;
    return Math.min(idx, t.capIndex ?? last, last);
  }

  /** Applies a finished transition; returns false when the instance is gone. */
  private settle(s: InstanceState, now: number): boolean {
    const t = s.transition;
    if (!t || t.capMs !== undefined || now - t.startedAt < t.durationMs) return true;
    const doneAt = t.startedAt + t.durationMs;
    s.transition = undefined;
    if (t.final === "gone") {
      this.byId.delete(s.id);
      return false;
    }
    s.resting = t.final;
    if (t.failure) {
      s.error = t.failure.error;
      s.message = t.failure.message;
    }
    if (t.final === "running") s.lastStartedAt = seconds(doneAt);
    if (t.final === "exited") s.lastStoppedAt = seconds(doneAt);
    return true;
  }

  private statusOf(s: InstanceState, now: number): PpioStatus {
    return s.transition ? s.transition.steps[this.stepIndex(s.transition, now)] : s.resting;
  }

  private find(id: string, now: number): InstanceState | undefined {
    const s = this.byId.get(id);
    return s && this.settle(s, now) ? s : undefined;
  }

  private mustFind(id: string, now: number): InstanceState {
    const s = this.find(id, now);
    if (!s) throw new PpioApiError(400, "RESOURCE_NOT_FOUND", `instance ${id} not found`);
    return s;
  }

  private live(now: number): InstanceState[] {
    return [...this.byId.values()].filter((s) => this.settle(s, now));
  }

  private view(s: InstanceState, now: number, withTools: boolean): PpioInstanceRecord {
    const spec = s.spec;
    const domain = `${s.region}.gpu-instance.emulator.local`;
    const gpuNum = spec.resource.gpu_num;
    const createdAt = seconds(s.createdAtMs);
    const record: PpioInstanceRecord = {
      id: s.id,
      name: spec.name,
      type: spec.resource.type,
      product_id: spec.product_id,
      image: spec.image,
      registry_auth_id: spec.registry_auth_id,
      entrypoint: spec.entrypoint,
      command: spec.command,
      min_cuda_version: spec.min_cuda_version,
      billing: { mode: spec.billing.mode },
      envs: [
        ...spec.envs.map((e) => ({ ...e })),
        { key: PLATFORM_ENV_KEYS[0], value: s.id },
        { key: PLATFORM_ENV_KEYS[1], value: s.publicKey },
      ],
      ports: spec.ports.map((p) => ({
        port: p.port,
        protocol: p.protocol,
        endpoint:
          p.protocol === "http"
            ? `https://${s.id}-${p.port}.${domain}`
            : `tcp://proxy.${domain}:${s.tcpPublicPorts.get(p.port)}`,
      })),
      resource_specs: {
        rootfs_size_gb: spec.resource.rootfs_size_gb,
        gpu_num: gpuNum,
        cpu_num: gpuNum > 0 ? gpuNum * 8 : 4,
        memory_gb: gpuNum > 0 ? gpuNum * 64 : 16,
        gpu_ids: Array.from({ length: gpuNum }, (_, i) => String(i)),
      },
      network: { ...spec.network },
      volumes: spec.volumes.map((v) => ({ ...v })),
      region: s.region,
      region_version: "v1",
      candidate_regions: [...spec.candidate_regions],
      auto_migrate: { ...spec.auto_migrate },
      status: { status: this.statusOf(s, now), error: s.error, message: s.message },
      created_at: createdAt,
      last_started_at: s.lastStartedAt,
      last_stopped_at: s.lastStoppedAt,
      member_id: "",
      owner_id: this.ownerId,
    };
    const prepaid = spec.billing.prepaid;
    if (spec.billing.mode === "prepaid" && prepaid) {
      record.billing.prepaid = {
        months: prepaid.months,
        end_time: createdAt + prepaid.months * 30 * 24 * 3600,
        auto_renew: {
          enabled: prepaid.auto_renew.enabled,
          months: prepaid.auto_renew.months,
          status: prepaid.auto_renew.enabled ? "active" : "inactive",
        },
      };
    }
    if (withTools) {
      const jupyter = spec.tools.jupyter;
      record.tools = {
        ssh: { command: `ssh -p ${s.sshPort} root@proxy.${domain}`, username: "root", password: s.sshPassword },
        ...(jupyter && {
          jupyter: { endpoint: `https://${s.id}-${jupyter.port}.${domain}`, enabled: jupyter.enabled, port: jupyter.port },
        }),
        web_terminal: {
          endpoint: `wss://${s.id}-terminal.${domain}/ws`,
          enabled: false,
          username: "root",
          password: s.terminalPassword,
        },
        log: {
          instance_endpoint: `wss://log.${domain}/v1/instances/${s.id}/container`,
          system_endpoint: `wss://log.${domain}/v1/instances/${s.id}/system`,
        },
      };
    }
    return record;
  }
}

// ---------------------------------------------------------------------------------------------
// Cursors: opaque to clients, but must survive deletions, so they carry the creation sequence
// number of the last item rather than an offset or an id.

function encodeCursor(afterSeq: number): string {
  return Buffer.from(JSON.stringify({ after: afterSeq }), "utf8").toString("base64");
}

function decodeCursor(cursor: string): number | undefined {
  if (cursor.length > 1024 || !/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64").toString("utf8"));
    const after = (parsed as { after?: unknown } | null)?.after;
    return typeof after === "number" && Number.isInteger(after) && after >= 0 ? after : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation. Hand-written rather than zod so every message reads "<snake_case path>: <rule>",
// which is what clients and their tests key on.

const MAX_PORTS_AND_TOOLS = 15;
const RESERVED_PORTS = [2222, 2223, 2224];

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

class Problems {
  readonly list: string[] = [];
  add(path: string, rule: string): void {
    this.list.push(`${path}: ${rule}`);
  }
  throwIfAny(): void {
    if (this.list.length) throw new PpioApiError(400, "VALIDATOR_PARAM", this.list.join("; "));
  }
}

interface StrRule {
  required?: boolean;
  min?: number;
  max: number;
}

function str(p: Problems, o: Obj, key: string, path: string, rule: StrRule): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (rule.required) p.add(path, "is required");
    return undefined;
  }
  if (typeof v !== "string") {
    p.add(path, "must be a string");
    return undefined;
  }
  const min = rule.min ?? 0;
  if (v.length < min || v.length > rule.max) {
    p.add(path, min > 0 ? `length must be between ${min} and ${rule.max}` : `length must be at most ${rule.max}`);
    return undefined;
  }
  return v;
}

function int(p: Problems, o: Obj, key: string, path: string, min: number, max: number, required = false): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.add(path, "is required");
    return undefined;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    p.add(path, `must be an integer between ${min} and ${max}`);
    return undefined;
  }
  return v;
}

function oneOf<T extends string>(p: Problems, o: Obj, key: string, path: string, values: readonly T[], required = false): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.add(path, `is required (one of ${values.join(", ")})`);
    return undefined;
  }
  if (typeof v !== "string" || !values.includes(v as T)) {
    p.add(path, `must be one of ${values.join(", ")}`);
    return undefined;
  }
  return v as T;
}

function bool(p: Problems, o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") {
    p.add(path, "must be a boolean");
    return undefined;
  }
  return v;
}

function obj(p: Problems, o: Obj, key: string, path: string, required = false): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.add(path, "is required");
    return undefined;
  }
  if (!isObj(v)) {
    p.add(path, "must be an object");
    return undefined;
  }
  return v;
}

function arr(p: Problems, o: Obj, key: string, path: string, required = false): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.add(path, "is required");
    return undefined;
  }
  if (!Array.isArray(v)) {
    p.add(path, "must be an array");
    return undefined;
  }
  return v;
}

function eachObj(p: Problems, items: unknown[], path: string, fn: (item: Obj, itemPath: string) => void): void {
  items.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (!isObj(item)) p.add(itemPath, "must be an object");
    else fn(item, itemPath);
  });
}

function parseEnvs(p: Problems, o: Obj): PpioEnv[] {
  const items = arr(p, o, "envs", "envs");
  if (!items) return [];
  if (items.length > 100) p.add("envs", `at most 100 items, got ${items.length}`);
  const envs: PpioEnv[] = [];
  eachObj(p, items, "envs", (e, path) => {
    const key = str(p, e, "key", `${path}.key`, { required: true, min: 1, max: 511 });
    const value = str(p, e, "value", `${path}.value`, { max: 4095 }) ?? "";
    if (key !== undefined) envs.push({ key, value });
  });
  return envs;
}

function parsePorts(p: Problems, o: Obj, required: boolean): PpioPortSpec[] {
  const items = arr(p, o, "ports", "ports", required);
  if (!items) return [];
  const ports: PpioPortSpec[] = [];
  const seen = new Set<number>();
  eachObj(p, items, "ports", (item, path) => {
    const port = int(p, item, "port", `${path}.port`, 1, 65535, true);
    const protocol = oneOf(p, item, "protocol", `${path}.protocol`, ["tcp", "http"] as const, true);
    if (port === undefined || protocol === undefined) return;
    if (RESERVED_PORTS.includes(port)) {
      p.add(`${path}.port`, `${port} is reserved (2222-2224 are used by the platform)`);
      return;
    }
    if (seen.has(port)) {
      p.add(`${path}.port`, `duplicate port ${port}`);
      return;
    }
    seen.add(port);
    ports.push({ port, protocol });
  });
  return ports;
}

function parseCreate(body: Obj): PpioCreateInput {
  const p = new Problems();
  const name = str(p, body, "name", "name", { required: true, min: 1, max: 255 });
  const productId = str(p, body, "product_id", "product_id", { required: true, min: 1, max: 255 });
  const image = str(p, body, "image", "image", { required: true, min: 1, max: 500 });
  const registryAuthId = str(p, body, "registry_auth_id", "registry_auth_id", { max: 255 }) ?? "";
  const entrypoint = str(p, body, "entrypoint", "entrypoint", { max: 2047 }) ?? "";
  const command = str(p, body, "command", "command", { max: 2047 }) ?? "";
  const minCuda = str(p, body, "min_cuda_version", "min_cuda_version", { max: 63 }) ?? "";

  let billing: PpioCreateInput["billing"] | undefined;
  const billingObj = obj(p, body, "billing", "billing", true);
  if (billingObj) {
    const mode = oneOf(p, billingObj, "mode", "billing.mode", ["postpaid", "prepaid", "spot"] as const, true);
    const prepaidObj = obj(p, billingObj, "prepaid", "billing.prepaid");
    let prepaid: NonNullable<PpioCreateInput["billing"]["prepaid"]> | undefined;
    if (prepaidObj) {
      const months = int(p, prepaidObj, "months", "billing.prepaid.months", 1, 120) ?? 1;
      const renew = obj(p, prepaidObj, "auto_renew", "billing.prepaid.auto_renew");
      prepaid = {
        months,
        auto_renew: {
          enabled: (renew && bool(p, renew, "enabled", "billing.prepaid.auto_renew.enabled")) ?? false,
          months: (renew && int(p, renew, "months", "billing.prepaid.auto_renew.months", 1, 120)) ?? months,
        },
      };
    }
    if (mode) billing = prepaid ? { mode, prepaid } : { mode };
  }

  let resource: PpioCreateInput["resource"] | undefined;
  const resourceObj = obj(p, body, "resource", "resource", true);
  if (resourceObj) {
    const type = oneOf(p, resourceObj, "type", "resource.type", ["gpu", "cpu"] as const) ?? "gpu";
    const gpuNum =
      type === "gpu"
        ? int(p, resourceObj, "gpu_num", "resource.gpu_num", 1, 8, true)
        : int(p, resourceObj, "gpu_num", "resource.gpu_num", 0, 8) ?? 0;
    const rootfs = int(p, resourceObj, "rootfs_size_gb", "resource.rootfs_size_gb", 10, 6144, true);
    if (gpuNum !== undefined && rootfs !== undefined) resource = { type, gpu_num: gpuNum, rootfs_size_gb: rootfs };
  }

  const envs = parseEnvs(p, body);
  const ports = parsePorts(p, body, false);

  const tools: PpioCreateInput["tools"] = {};
  const toolsObj = obj(p, body, "tools", "tools");
  const jupyterObj = toolsObj && obj(p, toolsObj, "jupyter", "tools.jupyter");
  if (jupyterObj) {
    const enabled = bool(p, jupyterObj, "enabled", "tools.jupyter.enabled") ?? false;
    const port = int(p, jupyterObj, "port", "tools.jupyter.port", 1, 65535) ?? 8888;
    const protocol = oneOf(p, jupyterObj, "protocol", "tools.jupyter.protocol", ["http"] as const) ?? "http";
    if (enabled && RESERVED_PORTS.includes(port)) p.add("tools.jupyter.port", `${port} is reserved (2222-2224 are used by the platform)`);
    tools.jupyter = { enabled, port, protocol };
  }
  const total = ports.length + (tools.jupyter?.enabled ? 1 : 0);
  if (total > MAX_PORTS_AND_TOOLS) p.add("ports", `at most ${MAX_PORTS_AND_TOOLS} ports and enabled tools in total, got ${total}`);

  const network = { id: "", ip: "" };
  const networkObj = obj(p, body, "network", "network");
  if (networkObj) {
    network.id = str(p, networkObj, "id", "network.id", { required: true, min: 1, max: 255 }) ?? "";
    network.ip = str(p, networkObj, "ip", "network.ip", { max: 64 }) ?? "";
  }

  const volumes: PpioCreateInput["volumes"] = [];
  const volumeItems = arr(p, body, "volumes", "volumes");
  if (volumeItems) {
    eachObj(p, volumeItems, "volumes", (v, path) => {
      const type = oneOf(p, v, "type", `${path}.type`, ["network"] as const, true);
      const id = str(p, v, "id", `${path}.id`, { required: true, min: 1, max: 255 });
      const mountPoint = str(p, v, "mount_point", `${path}.mount_point`, { required: true, min: 1, max: 4095 });
      if (type && id !== undefined && mountPoint !== undefined) volumes.push({ type, id, mount_point: mountPoint });
    });
  }

  const candidateRegions: string[] = [];
  const regionItems = arr(p, body, "candidate_regions", "candidate_regions");
  regionItems?.forEach((r, i) => {
    if (typeof r !== "string" || r.length === 0 || r.length > 255) p.add(`candidate_regions[${i}]`, "must be a non-empty string");
    else candidateRegions.push(r);
  });

  const autoMigrate = { enabled: false, include_system_disk: false };
  const migrateObj = obj(p, body, "auto_migrate", "auto_migrate");
  if (migrateObj) {
    autoMigrate.enabled = bool(p, migrateObj, "enabled", "auto_migrate.enabled") ?? false;
    autoMigrate.include_system_disk = bool(p, migrateObj, "include_system_disk", "auto_migrate.include_system_disk") ?? false;
  }

  p.throwIfAny();
  return {
    name: name!,
    product_id: productId!,
    image: image!,
    registry_auth_id: registryAuthId,
    entrypoint,
    command,
    min_cuda_version: minCuda,
    billing: billing!,
    resource: resource!,
    envs,
    ports,
    tools,
    network,
    volumes,
    candidate_regions: candidateRegions,
    auto_migrate: autoMigrate,
  };
}

function parseUpgrade(body: Obj): PpioUpgradeInput {
  const p = new Problems();
  const image = str(p, body, "image", "image", { required: true, min: 1, max: 500 });
  const registryAuthId = str(p, body, "registry_auth_id", "registry_auth_id", { max: 255 }) ?? "";
  const entrypoint = str(p, body, "entrypoint", "entrypoint", { max: 2047 }) ?? "";
  const command = str(p, body, "command", "command", { max: 2047 }) ?? "";
  const envs = parseEnvs(p, body);
  const saveData = bool(p, body, "save_data", "save_data") ?? false;
  p.throwIfAny();
  return { image: image!, registry_auth_id: registryAuthId, entrypoint, command, envs, save_data: saveData };
}

function parsePortsBody(body: Obj): PpioPortSpec[] {
  const p = new Problems();
  const ports = parsePorts(p, body, true);
  p.throwIfAny();
  return ports;
}

function parseListQuery(q: URLSearchParams): PpioListQuery {
  const p = new Problems();
  let limit = 20;
  const rawLimit = q.get("limit");
  if (rawLimit !== null && rawLimit !== "") {
    const n = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || !Number.isSafeInteger(n)) p.add("limit", "must be a non-negative integer");
    else if (n > 0) limit = Math.min(n, 100);
  }
  let afterSeq = 0;
  const cursor = q.get("cursor");
  if (cursor) {
    const decoded = decodeCursor(cursor);
    if (decoded === undefined) p.add("cursor", "is not a cursor returned by this API");
    else afterSeq = decoded;
  }
  const name = q.get("name") ?? "";
  if (name.length > 255) p.add("name", "length must be at most 255");
  const status = q.get("status") ?? "";
  if (status.length > 63) p.add("status", "length must be at most 63");
  const regions = (q.get("regions") ?? "").split(",").map((r) => r.trim()).filter(Boolean);
  const billingMode = q.get("billing_mode") ?? "";
  p.throwIfAny();
  return {
    limit,
    afterSeq,
    name: name || undefined,
    status: status || undefined,
    regions: regions.length ? regions : undefined,
    billingMode: billingMode || undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Wire layer

const errorBody = (status: number, reason: string, message: string) => ({ code: status, reason, message, metadata: {} });

function defaultFaultReason(status: number): string {
  if (status === 429) return "RATE_LIMIT_EXCEEDED";
  if (status === 401) return "UNAUTHORIZED";
  if (status >= 500) return "UNKNOWN";
  return "REQUEST";
}

function jsonBody(req: IncomingRequest): Obj {
  const text = req.body.toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PpioApiError(400, "VALIDATOR_PARAM", "request body is not valid JSON");
  }
  if (!isObj(parsed)) throw new PpioApiError(400, "VALIDATOR_PARAM", "request body must be a JSON object");
  return parsed;
}

interface Route {
  method: string;
  pattern: RegExp;
  template: string;
  run(req: IncomingRequest, id: string): unknown;
}

const PREFIX = "/gpus/v2";

export function createPpioService(model: PpioModel, apiKey: string): CloudService {
  const routes: Route[] = [
    { method: "GET", pattern: /^\/instances$/, template: "GET /gpus/v2/instances", run: (req) => model.list(parseListQuery(req.query)) },
    {
      method: "POST",
      pattern: /^\/instances$/,
      template: "POST /gpus/v2/instances",
      run: (req) => ({ id: model.create(parseCreate(jsonBody(req))) }),
    },
    { method: "GET", pattern: /^\/instances\/([^/]+)$/, template: "GET /gpus/v2/instances/{id}", run: (_req, id) => model.describe(id) },
    {
      method: "DELETE",
      pattern: /^\/instances\/([^/]+)$/,
      template: "DELETE /gpus/v2/instances/{id}",
      run: (_req, id) => (model.remove(id), {}),
    },
    {
      method: "PUT",
      pattern: /^\/instances\/([^/]+)\/start$/,
      template: "PUT /gpus/v2/instances/{id}/start",
      run: (_req, id) => (model.start(id), {}),
    },
    {
      method: "PUT",
      pattern: /^\/instances\/([^/]+)\/stop$/,
      template: "PUT /gpus/v2/instances/{id}/stop",
      run: (_req, id) => (model.stop(id), {}),
    },
    {
      method: "PUT",
      pattern: /^\/instances\/([^/]+)\/restart$/,
      template: "PUT /gpus/v2/instances/{id}/restart",
      run: (_req, id) => (model.restart(id), {}),
    },
    {
      method: "PUT",
      pattern: /^\/instances\/([^/]+)\/upgrade$/,
      template: "PUT /gpus/v2/instances/{id}/upgrade",
      run: (req, id) => {
        // validate before the state lookup so a bad body never depends on instance state
        const input = parseUpgrade(jsonBody(req));
        model.upgrade(id, input);
        return {};
      },
    },
    {
      method: "PUT",
      pattern: /^\/instances\/([^/]+)\/ports$/,
      template: "PUT /gpus/v2/instances/{id}/ports",
      run: (req, id) => (model.replacePorts(id, parsePortsBody(jsonBody(req))), {}),
    },
  ];

  function authorized(req: IncomingRequest): boolean {
    const header = req.headers.authorization;
    if (typeof header !== "string") return false;
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match !== null && match[1] === apiKey;
  }

  return {
    cloud: "ppio",
    resolve(req): ResolvedRoute | undefined {
      if (req.pathname !== PREFIX && !req.pathname.startsWith(`${PREFIX}/`)) return undefined;
      const rest = req.pathname.slice(PREFIX.length).replace(/(.)\/$/, "$1");
      for (const route of routes) {
        if (route.method !== req.method) continue;
        const m = route.pattern.exec(rest);
        if (!m) continue;
        let id = "";
        if (m[1] !== undefined) {
          try {
            id = decodeURIComponent(m[1]);
          } catch {
            id = m[1];
          }
        }
        return {
          route: route.template,
          handle(): Reply {
            if (!authorized(req)) {
              // never echo the presented key: request logs end up in CI output
              return { status: 401, body: errorBody(401, "UNAUTHORIZED", "missing or invalid API key (Authorization: Bearer <key>)") };
            }
            if (m[1] !== undefined && (id.length < 1 || id.length > 255)) {
              return { status: 400, body: errorBody(400, "VALIDATOR_PARAM", "instance_id: length must be between 1 and 255") };
            }
            try {
              return { status: 200, body: route.run(req, id) };
            } catch (err) {
              if (err instanceof PpioApiError) return { status: err.status, body: errorBody(err.status, err.reason, err.message) };
              throw err;
            }
          },
        };
      }
      return {
        route: `${req.method} /gpus/v2/(unknown)`,
        handle: () => ({ status: 404, body: errorBody(404, "NOT_FOUND", `no route ${req.method} ${req.pathname}`) }),
      };
    },
    injectedReply(rule: FaultRule): Reply | undefined {
      if (rule.status === undefined) return undefined;
      return {
        status: rule.status,
        body: rule.body ?? { code: rule.status, reason: defaultFaultReason(rule.status), message: "injected fault", metadata: {} },
      };
    },
  };
}

// PPIO v2 instance and serverless-endpoint emulation, split as moto splits a service:
// `PpioModel` (with `PpioEndpoints`) holds state and the cloud's rules; `createPpioService` is
// the wire layer (routing, auth, JSON validation, error bodies) and only calls the model.
// Written from the reference notes, never from our client.

import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { CloudService, FaultRule, IncomingRequest, PpioTimings, Reply, ResolvedRoute } from "./types";
import { pause, resume, stepIndex, type Timed } from "./clock";

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
interface Transition extends Timed<PpioStatus> {
  final: FinalStatus;
  failure?: { error: string; message: string };
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
  // Lazy accessors: setTimings() and a test clock reach the endpoints too.
  private readonly endpointBook = new PpioEndpoints(
    () => this.timings,
    () => this.now(),
    this.ownerId,
  );

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
    if (t) pause(t, now);
  }

  release(id?: string): void {
    const now = this.now();
    if (id === undefined) {
      this.holdingNew = false;
      for (const s of this.byId.values()) this.unfreeze(s, now);
      this.endpointBook.release();
      return;
    }
    const s = this.byId.get(id);
    if (s) this.unfreeze(s, now);
    else this.endpointBook.release(id);
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

  // ----- serverless endpoints: test controls, then API operations (state lives in PpioEndpoints) -----

  /** How many create POSTs actually created an endpoint. */
  get endpointCreatedCount(): number {
    return this.endpointBook.createdCount;
  }

  /** Live endpoints (not yet gone) in creation order, as Get returns them. */
  endpoints(): PpioEndpointRecord[] {
    return this.endpointBook.all();
  }

  getEndpoint(id: string): PpioEndpointRecord | undefined {
    return this.endpointBook.get(id);
  }

  /** The next endpoint created ends in status `failed` with this error instead of running. */
  failNextEndpoint(opts: { error?: string; message?: string } = {}): void {
    this.endpointBook.failNext(opts);
  }

  /** New endpoints stay `creating` until release(). */
  holdNewEndpoints(on: boolean): void {
    this.endpointBook.holdNew(on);
  }

  /** Freezes an endpoint's current and later transitions until release(id) or release(). */
  holdEndpoint(id: string): void {
    this.endpointBook.hold(id);
  }

  deleteEndpointBehindBack(id: string): void {
    this.endpointBook.deleteBehindBack(id);
  }

  /** Every PUT body received for the endpoint, as sent. */
  endpointUpdates(id: string): Record<string, unknown>[] {
    return this.endpointBook.updatesOf(id);
  }

  createEndpoint(spec: PpioEndpointSpec): string {
    return this.endpointBook.create(spec);
  }

  describeEndpoint(id: string): PpioEndpointRecord {
    return this.endpointBook.describe(id);
  }

  listEndpoints(q: PpioEndpointListQuery): { data: PpioEndpointRecord[]; next_cursor: string; has_more: boolean } {
    return this.endpointBook.list(q);
  }

  updateEndpoint(id: string, input: PpioEndpointUpdate, raw: Record<string, unknown>): void {
    this.endpointBook.update(id, input, raw);
  }

  removeEndpoint(id: string): void {
    this.endpointBook.remove(id);
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
    if (s.transition) resume(s.transition, now);
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
    return s.transition ? s.transition.steps[stepIndex(s.transition, now)] : s.resting;
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
  const { limit, afterSeq } = parsePaging(p, q);
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

/** `limit` and `cursor`, shared by every list call. */
function parsePaging(p: Problems, q: URLSearchParams): { limit: number; afterSeq: number } {
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
  return { limit, afterSeq };
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
    ...endpointRoutes(model),
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
              const idName = route.template.includes("/endpoints/") ? "endpoint_id" : "instance_id";
              return { status: 400, body: errorBody(400, "VALIDATOR_PARAM", `${idName}: length must be between 1 and 255`) };
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

// =============================================================================================
// Serverless endpoints. Same split: `PpioEndpoints` holds state and rules (PpioModel owns one
// and exposes its test controls), the parse functions and `endpointRoutes` are the wire layer.

export type PpioEndpointStatus = "creating" | "running" | "updating" | "deleting" | "failed";
export type PpioEndpointType = "sync" | "async";

export interface PpioWorkerConfig {
  min_replicas: number;
  max_replicas: number;
  idle_timeout: number;
  max_concurrent_per_worker: number;
  gpu_num: number;
  rootfs_size_gb: number;
  min_cuda_version: string;
  request_timeout: number;
}

export interface PpioEndpointVolume {
  id: string;
  type: "local" | "network";
  size: number;
  mount_point: string;
}

export interface PpioEndpointWorker {
  id: string;
  status: { status: "pending" | "ready" | "failed"; error: string; message: string };
  log: string;
  health: boolean;
  drain: boolean;
}

export interface PpioEndpointRecord {
  id: string;
  type: PpioEndpointType;
  name: string;
  app_name: string;
  status: { status: PpioEndpointStatus; error: string; message: string };
  url: string;
  product_id: string;
  worker_config: PpioWorkerConfig;
  policy: { type: "queue" | "concurrency"; value: number };
  image: string;
  registry_auth_id: string;
  entrypoint: string;
  command: string;
  volumes: PpioEndpointVolume[];
  envs: PpioEnv[];
  ports: number[];
  workers: PpioEndpointWorker[];
  health_check: { path: string; port: number } | null;
  region_id: string;
  member_id: string;
  owner_id: string;
  created_at: number;
}

/** Validated body of `POST /gpus/v2/endpoints`, the platform's defaults filled in. */
export type PpioEndpointSpec = Omit<
  PpioEndpointRecord,
  "id" | "status" | "url" | "workers" | "member_id" | "owner_id" | "created_at"
>;

/** Validated body of `PUT /gpus/v2/endpoints/{id}`: only what was sent; the rest is kept. */
export type PpioEndpointUpdate = Partial<Omit<PpioEndpointSpec, "type" | "app_name">>;

export interface PpioEndpointListQuery {
  limit: number;
  afterSeq: number;
  keyword?: string;
}

// Values the v1 "endpoint limit" call reports as typical account defaults; the v2 docs name none.
const ENDPOINT_WORKER_DEFAULTS: Omit<PpioWorkerConfig, "max_replicas"> = {
  min_replicas: 0,
  idle_timeout: 60,
  max_concurrent_per_worker: 1,
  gpu_num: 1,
  rootfs_size_gb: 100,
  min_cuda_version: "",
  request_timeout: 3600,
};
const ENDPOINT_DEFAULT_POLICY = { type: "queue", value: 60 } as const;
const ENDPOINT_PLATFORM_ENV_KEYS = ["PPIO_ENDPOINT_ID", "PPIO_ENDPOINT_TYPE"] as const;
const ENDPOINT_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

interface EndpointTransition {
  status: "creating" | "updating" | "deleting";
  startedAt: number;
  durationMs: number;
  final: "running" | "failed" | "gone";
  failure?: { error: string; message: string };
  // Workers serving when the transition began keep serving through an update (a rolling change).
  readyBefore: number;
  // While set, time stands still at this instant; release() shifts startedAt past the pause.
  frozenAt?: number;
}

interface EndpointState {
  seq: number;
  id: string;
  spec: PpioEndpointSpec;
  createdAtMs: number;
  resting: "running" | "failed";
  error: string;
  message: string;
  transition?: EndpointTransition;
  held: boolean;
  /** Raw PUT bodies as received, so tests can see exactly what a client sent. */
  updates: Obj[];
}

export class PpioEndpoints {
  /** How many create POSTs actually created an endpoint. */
  createdCount = 0;

  private readonly byId = new Map<string, EndpointState>();
  private nextSeq = 1;
  private pendingFailure?: { error: string; message?: string };
  private holdingNew = false;

  constructor(
    private readonly timings: () => PpioTimings,
    private readonly now: () => number,
    private readonly ownerId: string,
  ) {}

  // ----- test-facing controls (PpioModel forwards these) -----

  all(): PpioEndpointRecord[] {
    const now = this.now();
    return this.live(now).map((s) => this.view(s, now));
  }

  get(id: string): PpioEndpointRecord | undefined {
    const now = this.now();
    const s = this.find(id, now);
    return s && this.view(s, now);
  }

  failNext(opts: { error?: string; message?: string } = {}): void {
    this.pendingFailure = { error: opts.error ?? "WORKER_START_FAILED", message: opts.message };
  }

  holdNew(on: boolean): void {
    this.holdingNew = on;
  }

  hold(id: string): void {
    const now = this.now();
    const s = this.find(id, now);
    if (!s) throw new Error(`PpioModel.holdEndpoint: no live endpoint ${id}`);
    s.held = true;
    if (s.transition && s.transition.frozenAt === undefined) s.transition.frozenAt = now;
  }

  release(id?: string): void {
    const now = this.now();
    if (id === undefined) this.holdingNew = false;
    for (const s of this.byId.values()) {
      if (id !== undefined && s.id !== id) continue;
      s.held = false;
      const t = s.transition;
      if (t && t.frozenAt !== undefined) {
        t.startedAt += now - t.frozenAt;
        t.frozenAt = undefined;
      }
    }
  }

  deleteBehindBack(id: string): void {
    if (!this.byId.delete(id)) throw new Error(`PpioModel.deleteEndpointBehindBack: no endpoint ${id}`);
  }

  updatesOf(id: string): Obj[] {
    return [...(this.byId.get(id)?.updates ?? [])];
  }

  // ----- API operations -----

  create(spec: PpioEndpointSpec): string {
    const now = this.now();
    if (spec.app_name !== "" && this.live(now).some((s) => s.spec.app_name === spec.app_name)) {
      throw new PpioApiError(400, "SERVERLESS_APP_NAME_IS_EXIST", `app_name ${spec.app_name} already exists`);
    }
    let id: string;
    do id = Array.from(randomBytes(12), (b) => ENDPOINT_ID_ALPHABET[b % ENDPOINT_ID_ALPHABET.length]).join("");
    while (this.byId.has(id));
    const s: EndpointState = {
      seq: this.nextSeq++,
      id,
      spec,
      createdAtMs: now,
      resting: "running",
      error: "",
      message: "",
      held: false,
      updates: [],
    };
    this.byId.set(id, s);
    this.createdCount += 1;
    let failure: EndpointTransition["failure"];
    if (this.pendingFailure) {
      failure = {
        error: this.pendingFailure.error,
        message: this.pendingFailure.message ?? `workers failed to start: cannot pull image ${spec.image}`,
      };
      this.pendingFailure = undefined;
    }
    const t = this.begin(s, "creating", this.timings().endpointCreateMs, failure ? "failed" : "running", 0, now);
    t.failure = failure;
    if (this.holdingNew) t.frozenAt ??= now;
    return id;
  }

  describe(id: string): PpioEndpointRecord {
    const now = this.now();
    return this.view(this.mustFind(id, now), now);
  }

  list(q: PpioEndpointListQuery): { data: PpioEndpointRecord[]; next_cursor: string; has_more: boolean } {
    const now = this.now();
    const needle = q.keyword?.toLowerCase();
    const matching = this.live(now).filter(
      (s) =>
        s.seq > q.afterSeq &&
        (!needle ||
          s.spec.name.toLowerCase().includes(needle) ||
          s.spec.app_name.toLowerCase().includes(needle) ||
          s.id === q.keyword),
    );
    const page = matching.slice(0, q.limit);
    const hasMore = matching.length > page.length;
    return {
      data: page.map((s) => this.view(s, now)),
      next_cursor: hasMore ? encodeCursor(page[page.length - 1].seq) : "",
      has_more: hasMore,
    };
  }

  update(id: string, input: PpioEndpointUpdate, raw: Obj): void {
    const now = this.now();
    const s = this.mustFind(id, now);
    const status = this.statusOf(s);
    if (status === "creating" || status === "deleting") {
      throw new PpioApiError(400, "OPERATION_LIMIT", `cannot update endpoint ${id} in status ${status}`);
    }
    const readyBefore = this.readyCount(s);
    const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    s.spec = { ...s.spec, ...changes };
    s.updates.push(raw);
    // a newer update supersedes one in progress, as a rolling deployment would
    this.begin(s, "updating", this.timings().endpointUpdateMs, "running", readyBefore, now);
  }

  remove(id: string): void {
    const now = this.now();
    const s = this.mustFind(id, now);
    if (s.transition?.final === "gone") return; // deleting twice is harmless
    this.begin(s, "deleting", this.timings().endpointDeleteMs, "gone", this.readyCount(s), now);
  }

  // ----- internals -----

  private begin(
    s: EndpointState,
    status: EndpointTransition["status"],
    durationMs: number,
    final: EndpointTransition["final"],
    readyBefore: number,
    now: number,
  ): EndpointTransition {
    const t: EndpointTransition = { status, startedAt: now, durationMs, final, readyBefore };
    if (s.held) t.frozenAt = now;
    s.transition = t;
    s.error = "";
    s.message = "";
    return t;
  }

  /** Applies a finished transition; returns false when the endpoint is gone. */
  private settle(s: EndpointState, now: number): boolean {
    const t = s.transition;
    if (!t || t.frozenAt !== undefined || now - t.startedAt < t.durationMs) return true;
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
    return true;
  }

  private statusOf(s: EndpointState): PpioEndpointStatus {
    return s.transition ? s.transition.status : s.resting;
  }

  private readyCount(s: EndpointState): number {
    const status = this.statusOf(s);
    if (status === "running") return s.spec.worker_config.min_replicas;
    return s.transition ? s.transition.readyBefore : 0;
  }

  private find(id: string, now: number): EndpointState | undefined {
    const s = this.byId.get(id);
    return s && this.settle(s, now) ? s : undefined;
  }

  private mustFind(id: string, now: number): EndpointState {
    const s = this.find(id, now);
    if (!s) throw new PpioApiError(400, "SERVERLESS_ENDPOINT_NOT_FOUND", `endpoint ${id} not found`);
    return s;
  }

  private live(now: number): EndpointState[] {
    return [...this.byId.values()].filter((s) => this.settle(s, now));
  }

  private view(s: EndpointState, now: number): PpioEndpointRecord {
    const spec = s.spec;
    const status = this.statusOf(s);
    const domain = `${spec.region_id}.serverless.emulator.local`;
    const total = spec.worker_config.min_replicas;
    const ready = Math.min(this.readyCount(s), total);
    const workers: PpioEndpointWorker[] = Array.from({ length: total }, (_, i) => {
      const id = `${s.id}-w${i}`;
      const state = status === "failed" ? "failed" : i < ready ? "ready" : "pending";
      return {
        id,
        status: { status: state, error: state === "failed" ? s.error : "", message: state === "failed" ? s.message : "" },
        log: `wss://log.${domain}/v1/endpoints/${s.id}/workers/${id}`,
        health: state === "ready" && status !== "deleting",
        drain: status === "deleting",
      };
    });
    return {
      id: s.id,
      type: spec.type,
      name: spec.name,
      app_name: spec.app_name,
      status: { status, error: s.error, message: s.message },
      url: spec.type === "sync" ? `https://${s.id}.${domain}` : "",
      product_id: spec.product_id,
      worker_config: { ...spec.worker_config },
      policy: { ...spec.policy },
      image: spec.image,
      registry_auth_id: spec.registry_auth_id,
      entrypoint: spec.entrypoint,
      command: spec.command,
      volumes: spec.volumes.map((v) => ({ ...v })),
      envs: [
        ...spec.envs.map((e) => ({ ...e })),
        { key: ENDPOINT_PLATFORM_ENV_KEYS[0], value: s.id },
        { key: ENDPOINT_PLATFORM_ENV_KEYS[1], value: spec.type },
      ],
      ports: [...spec.ports],
      workers,
      health_check: spec.health_check && { ...spec.health_check },
      region_id: spec.region_id,
      member_id: "",
      owner_id: this.ownerId,
      created_at: seconds(s.createdAtMs),
    };
  }
}

// ----- endpoint validation -----

function intAtLeast(p: Problems, o: Obj, key: string, path: string, min: number, required = false): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.add(path, "is required");
    return undefined;
  }
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    p.add(path, `must be an integer of at least ${min}`);
    return undefined;
  }
  return v;
}

const sent = (o: Obj, key: string) => o[key] !== undefined && o[key] !== null;

/** `worker_config` is always replaced whole: what it omits takes the platform default. */
function parseWorkerConfig(p: Problems, body: Obj, required: boolean): PpioWorkerConfig | undefined {
  const o = obj(p, body, "worker_config", "worker_config", required);
  if (!o) return undefined;
  const at = (k: string) => `worker_config.${k}`;
  const max = int(p, o, "max_replicas", at("max_replicas"), 0, 1000, true);
  const min = int(p, o, "min_replicas", at("min_replicas"), 0, 1000) ?? ENDPOINT_WORKER_DEFAULTS.min_replicas;
  const config: PpioWorkerConfig = {
    min_replicas: min,
    max_replicas: max ?? 0,
    idle_timeout: intAtLeast(p, o, "idle_timeout", at("idle_timeout"), 0) ?? ENDPOINT_WORKER_DEFAULTS.idle_timeout,
    max_concurrent_per_worker:
      intAtLeast(p, o, "max_concurrent_per_worker", at("max_concurrent_per_worker"), 1) ??
      ENDPOINT_WORKER_DEFAULTS.max_concurrent_per_worker,
    gpu_num: int(p, o, "gpu_num", at("gpu_num"), 1, 8) ?? ENDPOINT_WORKER_DEFAULTS.gpu_num,
    rootfs_size_gb: intAtLeast(p, o, "rootfs_size_gb", at("rootfs_size_gb"), 10) ?? ENDPOINT_WORKER_DEFAULTS.rootfs_size_gb,
    min_cuda_version: str(p, o, "min_cuda_version", at("min_cuda_version"), { max: 63 }) ?? ENDPOINT_WORKER_DEFAULTS.min_cuda_version,
    request_timeout: intAtLeast(p, o, "request_timeout", at("request_timeout"), 1) ?? ENDPOINT_WORKER_DEFAULTS.request_timeout,
  };
  if (max !== undefined && min > max) p.add(at("min_replicas"), `must not exceed max_replicas (${max})`);
  return max === undefined ? undefined : config;
}

function parsePolicy(p: Problems, body: Obj): PpioEndpointSpec["policy"] | undefined {
  const o = obj(p, body, "policy", "policy");
  if (!o) return undefined;
  const type = oneOf(p, o, "type", "policy.type", ["queue", "concurrency"] as const, true);
  const value = intAtLeast(p, o, "value", "policy.value", 1, true);
  return type && value !== undefined ? { type, value } : undefined;
}

function parseHealthCheck(p: Problems, body: Obj): NonNullable<PpioEndpointSpec["health_check"]> | undefined {
  const o = obj(p, body, "health_check", "health_check");
  if (!o) return undefined;
  const path = str(p, o, "path", "health_check.path", { required: true, min: 1, max: 255 });
  const port = int(p, o, "port", "health_check.port", 1, 65535, true);
  return path !== undefined && port !== undefined ? { path, port } : undefined;
}

function parseEndpointPorts(p: Problems, body: Obj): number[] {
  const items = arr(p, body, "ports", "ports") ?? [];
  const ports: number[] = [];
  items.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) p.add(`ports[${i}]`, "must be an integer between 1 and 65535");
    else if (ports.includes(v)) p.add(`ports[${i}]`, `duplicate port ${v}`);
    else ports.push(v);
  });
  return ports;
}

function parseEndpointVolumes(p: Problems, body: Obj): PpioEndpointVolume[] {
  const volumes: PpioEndpointVolume[] = [];
  eachObj(p, arr(p, body, "volumes", "volumes") ?? [], "volumes", (v, path) => {
    const type = oneOf(p, v, "type", `${path}.type`, ["local", "network"] as const, true);
    const id = str(p, v, "id", `${path}.id`, { required: type === "network", min: type === "network" ? 1 : 0, max: 255 }) ?? "";
    const size = intAtLeast(p, v, "size", `${path}.size`, 1, true);
    const mountPoint = str(p, v, "mount_point", `${path}.mount_point`, { required: true, min: 1, max: 4095 });
    if (type && size !== undefined && mountPoint !== undefined) volumes.push({ id, type, size, mount_point: mountPoint });
  });
  return volumes;
}

function parseEndpointCreate(body: Obj): PpioEndpointSpec {
  const p = new Problems();
  const type = oneOf(p, body, "type", "type", ["sync", "async"] as const, true);
  const name = str(p, body, "name", "name", { required: true, min: 1, max: 255 });
  const productId = str(p, body, "product_id", "product_id", { required: true, min: 1, max: 255 });
  const image = str(p, body, "image", "image", { required: true, min: 1, max: 500 });
  const workerConfig = parseWorkerConfig(p, body, true);
  const spec = {
    app_name: str(p, body, "app_name", "app_name", { max: 255 }) ?? "",
    registry_auth_id: str(p, body, "registry_auth_id", "registry_auth_id", { max: 255 }) ?? "",
    entrypoint: str(p, body, "entrypoint", "entrypoint", { max: 2047 }) ?? "",
    command: str(p, body, "command", "command", { max: 2047 }) ?? "",
    policy: parsePolicy(p, body) ?? { ...ENDPOINT_DEFAULT_POLICY },
    volumes: parseEndpointVolumes(p, body),
    envs: parseEnvs(p, body),
    ports: parseEndpointPorts(p, body),
    health_check: parseHealthCheck(p, body) ?? null,
    region_id: str(p, body, "region_id", "region_id", { max: 255 }) || DEFAULT_REGION,
  };
  p.throwIfAny();
  return { type: type!, name: name!, product_id: productId!, image: image!, worker_config: workerConfig!, ...spec };
}

function parseEndpointUpdate(body: Obj): PpioEndpointUpdate {
  const p = new Problems();
  for (const fixed of ["type", "app_name"]) if (sent(body, fixed)) p.add(fixed, "cannot be changed after creation");
  const out: PpioEndpointUpdate = {
    name: str(p, body, "name", "name", { min: 1, max: 255 }),
    product_id: str(p, body, "product_id", "product_id", { min: 1, max: 255 }),
    // the docs allow an empty image on update; it can only mean "keep the current one"
    image: str(p, body, "image", "image", { max: 500 }) || undefined,
    worker_config: parseWorkerConfig(p, body, false),
    registry_auth_id: str(p, body, "registry_auth_id", "registry_auth_id", { max: 255 }),
    entrypoint: str(p, body, "entrypoint", "entrypoint", { max: 2047 }),
    command: str(p, body, "command", "command", { max: 2047 }),
    policy: parsePolicy(p, body),
    volumes: sent(body, "volumes") ? parseEndpointVolumes(p, body) : undefined,
    envs: sent(body, "envs") ? parseEnvs(p, body) : undefined,
    ports: sent(body, "ports") ? parseEndpointPorts(p, body) : undefined,
    health_check: parseHealthCheck(p, body),
    region_id: str(p, body, "region_id", "region_id", { max: 255 }) || undefined,
  };
  p.throwIfAny();
  return out;
}

function parseEndpointListQuery(q: URLSearchParams): PpioEndpointListQuery {
  const p = new Problems();
  const paging = parsePaging(p, q);
  const keyword = q.get("keyword") ?? "";
  if (keyword.length > 255) p.add("keyword", "length must be at most 255");
  p.throwIfAny();
  return { ...paging, keyword: keyword || undefined };
}

function endpointRoutes(model: PpioModel): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/endpoints$/,
      template: "GET /gpus/v2/endpoints",
      run: (req) => model.listEndpoints(parseEndpointListQuery(req.query)),
    },
    {
      method: "POST",
      pattern: /^\/endpoints$/,
      template: "POST /gpus/v2/endpoints",
      run: (req) => ({ id: model.createEndpoint(parseEndpointCreate(jsonBody(req))) }),
    },
    {
      method: "GET",
      pattern: /^\/endpoints\/([^/]+)$/,
      template: "GET /gpus/v2/endpoints/{id}",
      run: (_req, id) => model.describeEndpoint(id),
    },
    {
      method: "PUT",
      pattern: /^\/endpoints\/([^/]+)$/,
      template: "PUT /gpus/v2/endpoints/{id}",
      run: (req, id) => {
        // validate before the state lookup so a bad body never depends on endpoint state
        const body = jsonBody(req);
        model.updateEndpoint(id, parseEndpointUpdate(body), body);
        return {};
      },
    },
    {
      method: "DELETE",
      pattern: /^\/endpoints\/([^/]+)$/,
      template: "DELETE /gpus/v2/endpoints/{id}",
      run: (_req, id) => (model.removeEndpoint(id), {}),
    },
  ];
}

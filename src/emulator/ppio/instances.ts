// PPIO instances: objects and their state machine, no HTTP. The wire layer (wire.ts) parses a
// request, calls one operation here and shapes the record it gets back. Written from the
// reference notes (ppio-api.md §2–§4, §10), never from the client.

import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { pause, resume, stepIndex, type Timed } from "../clock";
import type { PpioTimings } from "../types";
import catalogue from "./catalogue.json";
import { PpioEndpoints, type PpioEndpointRecord } from "./endpoints";
import { PpioApiError, invalid } from "./errors";
import { type Page, page } from "./paging";
import { PpioCatalogue } from "./products";
import type { EndpointUpdate, InstanceSpec, UpgradeSpec } from "./schemas";

/**
 * The v1 status list, which v2 shares (ppio-api.md §3, §10). There is no `failed`: a
 * provisioning failure is `status.error` set while the state stays `pulling` or `exited`.
 * A deleted instance passes toRemove → removing → removed and stays listed as `removed` for a
 * while.
 */
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
  | "removed";

export interface PpioEnv {
  key: string;
  value: string;
}

export interface PpioPortSpec {
  port: number;
  protocol: "tcp" | "http";
}

/** An instance as Get returns it, with integers as numbers (the wire layer picks their JSON form). */
export interface PpioInstanceRecord {
  id: string;
  name: string;
  type: "gpu" | "cpu";
  product_id: string;
  image: string;
  registry_auth_id: string;
  entrypoint: string;
  command: string;
  billing: {
    mode: "postpaid" | "prepaid" | "spot";
    prepaid?: { months: number; end_time: number; auto_renew: { enabled: boolean; months: number; status: string } };
  };
  envs: PpioEnv[];
  ports: Array<PpioPortSpec & { endpoint: string }>;
  resource_specs: { rootfs_size_gb: number; gpu_num: number; cpu_num: number; memory_gb: number; gpu_ids: number[] };
  min_cuda_version: string;
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

export interface InstanceFilter {
  name?: string;
  status?: string;
  regions?: string[];
  billing_mode?: string;
}

const { limits } = catalogue;

// Status is derived from timestamps on access instead of timers, so a test that reads twice in
// the same millisecond sees the same thing and thousands of instances cost nothing while idle.
interface Transition extends Timed<PpioStatus> {
  final: PpioStatus;
  failure?: { error: string; message: string };
}

interface InstanceState {
  seq: number;
  id: string;
  spec: InstanceSpec;
  region: string;
  resting: PpioStatus;
  error: string;
  message: string;
  transition?: Transition;
  held: boolean;
  createdAtMs: number;
  /** When the delete finished; the record is dropped `removedMs` later. */
  removedAtMs?: number;
  lastStartedAt: number;
  lastStoppedAt: number;
  sshPort: number;
  sshPassword: string;
  terminalPassword: string;
  publicKey: string;
  // Public TCP ports stay the same for a given container port across PUT /ports.
  tcpPublicPorts: Map<number, number>;
  /** Stock this instance holds (GPUs, or 1 for a cpu instance); given back when it is deleted. */
  holds: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const randomPassword = () => randomBytes(12).toString("base64url");
const REMOVING: PpioStatus[] = ["toRemove", "removing", "removed"];

export class PpioModel {
  /** How many create POSTs actually created an instance. */
  createdCount = 0;

  private readonly byId = new Map<string, InstanceState>();
  private nextSeq = 1;
  private timings: PpioTimings;
  private pendingFailure?: { error: string; message?: string; state: "pulling" | "exited" };
  private holdingNew = false;
  private readonly ownerId = randomUUID();
  /** Products, prices, regions and stock (products.ts). */
  readonly catalogue = new PpioCatalogue();
  // Lazy accessors: setTimings() and a test clock reach the endpoints too.
  readonly endpointBook = new PpioEndpoints(
    () => this.timings,
    () => this.now(),
    this.ownerId,
    (productId) => this.catalogue.assertServerless(productId),
  );

  constructor(
    timings: PpioTimings,
    private readonly now: () => number = Date.now,
  ) {
    this.timings = { ...timings };
  }

  // ----- test-facing controls -----

  /** Live instances (not deleted) in creation order, as Get returns them. */
  instances(): PpioInstanceRecord[] {
    const now = this.now();
    return this.live(now)
      .filter((s) => s.resting !== "removed")
      .map((s) => this.view(s, now, true));
  }

  /** The instance, unless it is gone or deleted (a `removed` record counts as deleted). */
  get(id: string): PpioInstanceRecord | undefined {
    const now = this.now();
    const s = this.find(id, now);
    return s && s.resting !== "removed" ? this.view(s, now, true) : undefined;
  }

  /**
   * The next instance created fails to provision: it stops in `state` (default `pulling`) with
   * `status.error` and `status.message` set, the way PPIO reports a failure.
   */
  failNextProvisioning(opts: { error?: string; message?: string; state?: "pulling" | "exited" } = {}): void {
    this.pendingFailure = { error: opts.error ?? "IMAGE_PULL_FAILED", message: opts.message, state: opts.state ?? "pulling" };
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
    if (s.transition) pause(s.transition, now);
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

  /** How many GPUs (instances, for a cpu product) of a product can still be bought; 0 sells it out. */
  setStock(productId: string, n: number): void {
    this.catalogue.setStock(productId, n);
  }

  setTimings(t: Partial<PpioTimings>): void {
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === "number" && Number.isFinite(v) && v >= 0) this.timings[k as keyof PpioTimings] = v;
    }
  }

  // ----- API operations (called by the wire layer) -----

  create(spec: InstanceSpec): string {
    const now = this.now();
    const holds = spec.type === "cpu" ? 1 : (spec.resource.gpu_num ?? 0);
    this.catalogue.takeForInstance(spec.product_id, holds);
    const product = this.catalogue.product(spec.product_id);
    let id: string;
    do id = randomBytes(8).toString("hex");
    while (this.byId.has(id));

    const tcpPublicPorts = new Map<number, number>();
    for (const p of spec.ports) tcpPublicPorts.set(p.port, randomInt(20000, 65000));
    const s: InstanceState = {
      seq: this.nextSeq++,
      id,
      spec,
      region: spec.candidate_regions[0] ?? product?.region_ids[0] ?? catalogue.defaultRegion,
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
      holds,
    };
    this.byId.set(id, s);
    this.createdCount += 1;

    const failing = this.pendingFailure;
    this.pendingFailure = undefined;
    const t = this.begin(s, ["toCreate", "creating", "pulling"], this.timings.provisionMs, failing?.state ?? "running", now);
    if (failing) {
      t.failure = { error: failing.error, message: failing.message ?? `failed to pull image ${spec.image}: manifest unknown` };
    }
    if (this.holdingNew && !s.held) {
      // stop where billing would begin, which is where a slow image pull would leave it
      t.capMs = Math.min(t.capMs ?? Infinity, (2 * t.durationMs) / 3);
      t.capIndex = Math.min(t.capIndex ?? 2, 2);
    }
    return id;
  }

  /** Get: a `removed` record is still shown until it is dropped. */
  describe(id: string): PpioInstanceRecord {
    const now = this.now();
    return this.view(this.mustFind(id, now, true), now, true);
  }

  list(f: InstanceFilter, cursor: string | undefined, limit: number): Page<PpioInstanceRecord> {
    const now = this.now();
    const needle = f.name?.toLowerCase();
    const matching = this.live(now).filter((s) => {
      if (needle && !s.spec.name.toLowerCase().includes(needle) && s.id !== f.name) return false;
      if (f.status && this.statusOf(s, now) !== f.status) return false;
      if (f.regions && f.regions.length > 0 && !f.regions.includes(s.region)) return false;
      if (f.billing_mode && s.spec.billing.mode !== f.billing_mode) return false;
      return true;
    });
    return page(matching, cursor, limit, (s) => this.view(s, now, false));
  }

  remove(id: string): void {
    const now = this.now();
    const s = this.mustFind(id, now, true);
    // deleting twice is harmless, as on the real API
    if (s.resting === "removed" || s.transition?.final === "removed") return;
    this.catalogue.giveBack(s.spec.product_id, s.holds);
    s.holds = 0;
    this.begin(s, ["toRemove", "removing"], this.timings.deleteMs, "removed", now);
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

  upgrade(id: string, input: UpgradeSpec): void {
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
    this.refuseWhileRemoving(s, now, "update ports of");
    const total = ports.length + (s.spec.tools.jupyter?.enabled ? 1 : 0);
    if (total > limits.maxPortsAndTools) {
      throw invalid(`ports: at most ${limits.maxPortsAndTools} ports and enabled tools in total, got ${total}`);
    }
    for (const p of ports) if (!s.tcpPublicPorts.has(p.port)) s.tcpPublicPorts.set(p.port, randomInt(20000, 65000));
    s.spec = { ...s.spec, ports };
  }

  /** Adds `gb` to the root filesystem, at once (the docs name no transition for it). */
  expandRootfs(id: string, gb: number): void {
    const now = this.now();
    const s = this.mustFind(id, now);
    const status = this.statusOf(s, now);
    if (s.transition || !["running", "exited"].includes(status)) {
      throw new PpioApiError(400, "OPERATION_LIMIT", `cannot expand the root filesystem of instance ${id} in status ${status}`);
    }
    const size = s.spec.resource.rootfs_size_gb + gb;
    if (size > limits.rootfsGb.max) throw invalid(`rootfs_size_expand_gb: the root filesystem would exceed ${limits.rootfsGb.max} GB`);
    s.spec = { ...s.spec, resource: { ...s.spec.resource, rootfs_size_gb: size } };
  }

  // ----- internals -----

  private refuseWhileRemoving(s: InstanceState, now: number, what: string): void {
    const status = this.statusOf(s, now);
    if (REMOVING.includes(status)) throw new PpioApiError(400, "OPERATION_LIMIT", `cannot ${what} instance ${s.id} in status ${status}`);
  }

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

  private begin(s: InstanceState, steps: PpioStatus[], durationMs: number, final: PpioStatus, now: number): Transition {
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

  /** Applies a finished transition; returns false when the instance is gone for good. */
  private settle(s: InstanceState, now: number): boolean {
    const t = s.transition;
    if (t && t.capMs === undefined && now - t.startedAt >= t.durationMs) {
      const doneAt = t.startedAt + t.durationMs;
      s.transition = undefined;
      s.resting = t.final;
      if (t.failure) {
        s.error = t.failure.error;
        s.message = t.failure.message;
      }
      if (t.final === "running") s.lastStartedAt = seconds(doneAt);
      if (t.final === "exited") s.lastStoppedAt = seconds(doneAt);
      if (t.final === "removed") s.removedAtMs = doneAt;
    }
    if (s.removedAtMs !== undefined && now - s.removedAtMs >= (this.timings.removedMs ?? this.timings.deleteMs)) {
      this.byId.delete(s.id);
      return false;
    }
    return true;
  }

  private statusOf(s: InstanceState, now: number): PpioStatus {
    return s.transition ? s.transition.steps[stepIndex(s.transition, now)] : s.resting;
  }

  private find(id: string, now: number): InstanceState | undefined {
    const s = this.byId.get(id);
    return s && this.settle(s, now) ? s : undefined;
  }

  /** The instance, or RESOURCE_NOT_FOUND (ppio-api.md §8.3). Only Get and Delete see `removed` ones. */
  private mustFind(id: string, now: number, removedToo = false): InstanceState {
    const s = this.find(id, now);
    if (!s || (!removedToo && s.resting === "removed")) throw new PpioApiError(400, "RESOURCE_NOT_FOUND", `instance ${id} not found`);
    return s;
  }

  private live(now: number): InstanceState[] {
    return [...this.byId.values()].filter((s) => this.settle(s, now));
  }

  private view(s: InstanceState, now: number, withTools: boolean): PpioInstanceRecord {
    const spec = s.spec;
    const domain = `${s.region}.gpu-instance.emulator.local`;
    const gpuNum = spec.resource.gpu_num;
    const hw = gpuNum > 0 ? catalogue.instance.hardwarePerGpu : catalogue.instance.cpuOnly;
    const createdAt = seconds(s.createdAtMs);
    const record: PpioInstanceRecord = {
      id: s.id,
      name: spec.name,
      type: spec.type,
      product_id: spec.product_id,
      image: spec.image,
      registry_auth_id: spec.registry_auth_id,
      entrypoint: spec.entrypoint,
      command: spec.command,
      billing: { mode: spec.billing.mode },
      envs: [
        ...spec.envs.map((e) => ({ ...e })),
        { key: catalogue.instance.platformEnvKeys[0], value: s.id },
        { key: catalogue.instance.platformEnvKeys[1], value: s.publicKey },
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
        cpu_num: gpuNum > 0 ? gpuNum * hw.cpuNum : hw.cpuNum,
        memory_gb: gpuNum > 0 ? gpuNum * hw.memoryGb : hw.memoryGb,
        gpu_ids: Array.from({ length: gpuNum }, (_, i) => i),
      },
      min_cuda_version: spec.resource.min_cuda_version,
      network: { ...spec.network },
      volumes: spec.volumes.map((v) => ({ ...v })),
      region: s.region,
      region_version: catalogue.instance.regionVersion,
      candidate_regions: [...spec.candidate_regions],
      auto_migrate: { ...spec.auto_migrate },
      status: { status: this.statusOf(s, now), error: s.error, message: s.message },
      created_at: createdAt,
      last_started_at: s.lastStartedAt,
      last_stopped_at: s.lastStoppedAt,
      member_id: "",
      owner_id: this.ownerId,
    };
    if (spec.billing.mode === "prepaid") {
      // without a term in the request the platform picks its default: one month here
      const months = spec.billing.prepaid?.months ?? 1;
      const renew = spec.billing.prepaid?.auto_renew;
      record.billing.prepaid = {
        months,
        end_time: createdAt + months * 30 * 24 * 3600,
        auto_renew: {
          enabled: renew?.enabled ?? false,
          months: renew?.months ?? months,
          status: renew?.enabled ? "active" : "inactive",
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
          enabled: true,
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

  // ----- serverless endpoints: test controls forwarded to the endpoint book -----

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

  /** Changes an endpoint as a PUT would, e.g. someone else's change made in the console. */
  updateEndpoint(id: string, input: EndpointUpdate, raw: Record<string, unknown>): void {
    this.endpointBook.update(id, input, raw);
  }
}

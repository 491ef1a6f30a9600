// PPIO serverless endpoints: objects and their state machine, no HTTP (ppio-api.md §5). The
// instance model owns one book of endpoints and forwards its test controls.

import { randomBytes } from "node:crypto";
import type { PpioTimings } from "../types";
import catalogue from "./catalogue.json";
import { PpioApiError } from "./errors";
import { type Page, page } from "./paging";
import type { EndpointSpec, EndpointUpdate, EndpointVolume, WorkerConfig } from "./schemas";

type Obj = Record<string, unknown>;
const seconds = (ms: number) => Math.floor(ms / 1000);

// Endpoint statuses other than `running` are undocumented (ppio-api.md §10); these are the
// emulator's own, and a failure also carries `status.error`.
export type PpioEndpointStatus = "creating" | "running" | "updating" | "deleting" | "failed";
export type PpioEndpointType = "sync" | "async";

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
  worker_config: WorkerConfig;
  policy: { type: "queue" | "concurrency"; value: number };
  image: string;
  registry_auth_id: string;
  entrypoint: string;
  command: string;
  volumes: EndpointVolume[];
  envs: Array<{ key: string; value: string }>;
  ports: number[];
  workers: PpioEndpointWorker[];
  health_check: { path: string; port: number } | null;
  region_id: string;
  member_id: string;
  owner_id: string;
  created_at: number;
}

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
  spec: EndpointSpec;
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
    /** Refuses a product id the catalogue has no serverless product for. */
    private readonly assertProduct: (productId: string) => void = () => {},
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

  create(spec: EndpointSpec): string {
    const now = this.now();
    this.assertProduct(spec.product_id);
    if (spec.app_name !== "" && this.live(now).some((s) => s.spec.app_name === spec.app_name)) {
      throw new PpioApiError(400, "SERVERLESS_APP_NAME_IS_EXIST", `app_name ${spec.app_name} already exists`);
    }
    let id: string;
    const alphabet = catalogue.endpoint.idAlphabet;
    do id = Array.from(randomBytes(12), (b) => alphabet[b % alphabet.length]).join("");
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

  list(keyword: string | undefined, cursor: string | undefined, limit: number): Page<PpioEndpointRecord> {
    const now = this.now();
    const needle = keyword?.toLowerCase();
    const matching = this.live(now).filter(
      (s) =>
        !needle ||
        s.spec.name.toLowerCase().includes(needle) ||
        s.spec.app_name.toLowerCase().includes(needle) ||
        s.id === keyword,
    );
    return page(matching, cursor, limit, (s) => this.view(s, now));
  }

  update(id: string, input: EndpointUpdate, raw: Obj): void {
    const now = this.now();
    const s = this.mustFind(id, now);
    const status = this.statusOf(s);
    if (status === "creating" || status === "deleting") {
      throw new PpioApiError(400, "OPERATION_LIMIT", `cannot update endpoint ${id} in status ${status}`);
    }
    if (input.product_id !== undefined) this.assertProduct(input.product_id);
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
        { key: catalogue.endpoint.platformEnvKeys[0], value: s.id },
        { key: catalogue.endpoint.platformEnvKeys[1], value: spec.type },
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


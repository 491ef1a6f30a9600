// Types shared by the router (server.ts) and the cloud models, kept apart so that neither side
// imports the other for its types.

import type http from "node:http";

/** Milliseconds for each whole transition; a transition's steps share it evenly. */
export interface PpioTimings {
  provisionMs: number;
  startMs: number;
  stopMs: number;
  restartMs: number;
  upgradeMs: number;
  deleteMs: number;
  /** Serverless endpoints: creating → running, updating → running, deleting → gone. */
  endpointCreateMs: number;
  endpointUpdateMs: number;
  endpointDeleteMs: number;
  /** How long a deleted instance stays visible as `removed`; `deleteMs` when not given. */
  removedMs?: number;
}

/** Milliseconds for each whole transition; a transition's steps share it evenly. */
export interface CompShareTimings {
  /** Create: Initializing → Starting → Running. */
  provisionMs: number;
  startMs: number;
  stopMs: number;
  rebootMs: number;
  resizeMs: number;
  /** From Terminate until Describe stops returning the instance. */
  terminateMs: number;
}

export interface Timings {
  ppio: PpioTimings;
  compshare: CompShareTimings;
}

export type CloudName = "ppio" | "compshare";

export interface RequestRecord {
  cloud: CloudName | "emulator";
  method: string;
  path: string;
  /** Templated, e.g. "GET /gpus/v2/instances/{id}". */
  route: string;
  action?: string;
  /** 0 when no response was produced (dropped before handling). For `dropConnection: "after"`
   * it is the status the handler produced, which the client never saw. */
  status: number;
  at: number;
  fault?: string;
}

export interface FaultRule {
  cloud?: CloudName;
  method?: string;
  /** Matched against the URL pathname; a string must match exactly. */
  path?: string | RegExp;
  /** CompShare Action; ignored for PPIO. */
  action?: string;
  /** How many matching requests the rule affects; default 1; Infinity allowed. */
  times?: number;
  delayMs?: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  retryAfter?: number;
  dropConnection?: "before" | "after";
  /** CompShare only: HTTP 200 with this RetCode. */
  retCode?: number;
  message?: string;
}

// The plug-in contract between the router and each cloud. A cloud claims requests by shape
// (path prefix for PPIO, `POST /` + Action for CompShare) and turns them into replies; the
// router owns everything cross-cutting (request ids, records, faults, sockets).

export interface IncomingRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ResolvedRoute {
  route: string;
  action?: string;
  handle(): Reply | Promise<Reply>;
}

export interface CloudService {
  readonly cloud: CloudName;
  /** Returns undefined when the request is not this cloud's, so the next service is asked. */
  resolve(req: IncomingRequest): ResolvedRoute | undefined;
  /**
   * The response a fault rule injects for this cloud, or undefined if the rule injects none.
   * `action` is the CompShare Action of the request, so an injected envelope can name it.
   */
  injectedReply(rule: FaultRule, action?: string): Reply | undefined;
}

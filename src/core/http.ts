/**
 * The one HTTP transport. Every request of every cloud goes through `HttpTransport.send`,
 * which owns the per-request timeout, the retry rules and the shared rate-limit pause.
 *
 * Retry rules (the heart of "no duplicated GPU"):
 * - a 429 / throttling answer means the cloud did not execute the request, so any request
 *   may be sent again, after the server's `Retry-After` when it gave one;
 * - a connection that was never established (refused, DNS, connect timeout) carried nothing,
 *   so any request may be sent again;
 * - anything else transient (5xx, a reset or timeout after the request left) may have been
 *   executed, so only requests marked `idempotent` are sent again. A create POST surfaces
 *   the error with `mayHaveSucceeded` and its caller resolves it by a lookup.
 *
 * We keep our own small loop instead of undici's RetryAgent because the decision depends on
 * the cloud's response envelope (CompShare throttles with HTTP 200 + RetCode 153), because a
 * throttle must pause every request to the same cloud rather than only the one that was refused,
 * and because we want jittered backoff.
 */
import type { Agent, Dispatcher, errors as UndiciErrors } from "undici";
import {
  type Cloud,
  GpuCloudError,
  NetworkError,
  RateLimitError,
  Redactor,
  TimeoutError,
} from "./errors";

/**
 * undici, loaded when the first transport is made, so calls that send nothing (check,
 * diff) never pay for it. Only the pieces a transport uses: undici's index module loads
 * every dispatcher, mock, cache and WebSocket class it has, which costs about twice as
 * much. Should a release move those files, the index module stands in.
 */
interface Undici {
  Agent: typeof Agent;
  errors: typeof UndiciErrors;
  request(dispatcher: Dispatcher, opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
}
let undiciModules: Undici | undefined;
function undici(): Undici {
  if (undiciModules) return undiciModules;
  try {
    const api = require("undici/lib/api") as { request(this: Dispatcher, opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> };
    undiciModules = {
      Agent: require("undici/lib/dispatcher/agent"),
      errors: require("undici/lib/core/errors"),
      request: (d, opts) => api.request.call(d, opts),
    };
  } catch {
    const index = require("undici") as typeof import("undici");
    undiciModules = { Agent: index.Agent, errors: index.errors, request: (d, opts) => d.request(opts) };
  }
  return undiciModules;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff delay; doubles each attempt, with jitter. */
  baseDelayMs: number;
  /** Cap on one backoff delay. */
  maxDelayMs: number;
  /** Cap on one Retry-After wait; a longer request is honoured up to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
};

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpRequest {
  method: Method;
  /** Path below the base URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: string;
  /** Safe to send twice: reads, deletes, the PUT actions, read-only RPC actions. */
  idempotent: boolean;
  /** How the request is named in errors and logs, e.g. `GET /gpus/v2/instances/{id}`. */
  operation: string;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  requestId?: string;
  retryAfterSeconds?: number;
}

/** Turns a response into a value, or throws the cloud's typed error. */
export type Interpret<T> = (res: RawResponse) => T;

export interface TransportOptions {
  cloud: Cloud;
  baseUrl: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  redactor?: Redactor;
  /** Header that carries the cloud's request id. */
  requestIdHeader?: string;
  /** Where retry notices go (Pulumi shows a provider's stderr). Default: nowhere. */
  log?: (line: string) => void;
  userAgent?: string;
}

const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Parses a Retry-After header (seconds or an HTTP date) into seconds. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

export class HttpTransport {
  readonly cloud: Cloud;
  readonly baseUrl: string;
  readonly redactor: Redactor;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly requestIdHeader: string;
  private readonly log: (line: string) => void;
  private readonly userAgent: string;
  /** While the cloud throttles us, every request to it waits until this instant. */
  private pausedUntil = 0;
  private throttles = 0;

  constructor(opts: TransportOptions) {
    this.cloud = opts.cloud;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.redactor = opts.redactor ?? new Redactor();
    this.requestIdHeader = (opts.requestIdHeader ?? "x-request-id").toLowerCase();
    this.log = opts.log ?? (() => {});
    this.userAgent = opts.userAgent ?? "pulumi-gpu-cloud";
    this.dispatcher = new (undici().Agent)({ keepAliveTimeout: 4_000, connections: 32 });
  }

  /** Throttling answers received so far: the poller slows down when this grows. */
  get throttleCount(): number {
    return this.throttles;
  }

  /** Milliseconds until throttling ends for this cloud (0 when not throttled). */
  get throttledForMs(): number {
    return Math.max(0, this.pausedUntil - Date.now());
  }

  async send<T>(req: HttpRequest, interpret: Interpret<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) await sleep(pause);
      let error: GpuCloudError;
      try {
        const raw = await this.once(req);
        return interpret(raw);
      } catch (e) {
        if (!(e instanceof GpuCloudError)) throw e;
        error = e;
      }
      if (error instanceof RateLimitError) this.throttles++;
      const retryable =
        error instanceof RateLimitError ||
        (error instanceof NetworkError && !error.mayHaveSucceeded) ||
        (error.transient && req.idempotent);
      if (!retryable || attempt >= this.retry.maxAttempts) throw error;
      const delay = this.delayFor(attempt, error);
      if (error instanceof RateLimitError) {
        // Throttling is about the account, not this request: slow everyone down.
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
      }
      this.log(
        this.redactor.redact(
          `${this.cloud} ${req.operation}: ${error.constructor.name} (${error.code ?? error.status ?? "no response"}); ` +
            `retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1} of ${this.retry.maxAttempts})`,
        ),
      );
      await sleep(delay);
    }
  }

  private delayFor(attempt: number, error: GpuCloudError): number {
    if (error.retryAfterSeconds !== undefined) {
      return Math.min(error.retryAfterSeconds * 1000, this.retry.maxRetryAfterMs);
    }
    const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    // "Equal jitter": never less than half the exponential step, so retries stay spread out.
    return exp / 2 + Math.random() * (exp / 2);
  }

  private async once(req: HttpRequest): Promise<RawResponse> {
    const url = new URL(this.baseUrl + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    try {
      const res = await undici().request(this.dispatcher, {
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: { "user-agent": this.userAgent, ...req.headers },
        body: req.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      const rid = res.headers[this.requestIdHeader];
      return {
        status: res.statusCode,
        headers: res.headers,
        text,
        requestId: Array.isArray(rid) ? rid[0] : rid,
        retryAfterSeconds: parseRetryAfter(res.headers["retry-after"]),
      };
    } catch (e) {
      throw this.networkError(req, e, timeoutMs);
    }
  }

  private networkError(req: HttpRequest, e: unknown, timeoutMs: number): GpuCloudError {
    const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    const details = { cloud: this.cloud, operation: req.operation };
    const timedOut =
      err.name === "TimeoutError" ||
      err instanceof undici().errors.HeadersTimeoutError ||
      err instanceof undici().errors.BodyTimeoutError;
    if (timedOut) {
      return new TimeoutError(`no response within ${timeoutMs / 1000}s`, {
        ...details,
        mayHaveSucceeded: true,
        hint: "The request may still have been executed",
      });
    }
    const notSent = code !== undefined && NOT_SENT_CODES.has(code);
    const reason = this.redactor.redact(String(err.message ?? e));
    return new NetworkError(`connection failed (${code ?? reason})`, {
      ...details,
      mayHaveSucceeded: !notSent,
      hint: notSent
        ? `Check that ${this.baseUrl} is reachable`
        : "The connection dropped after the request was sent; it may have been executed",
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

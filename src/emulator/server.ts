// One node:http server that fakes both clouds. It is an independent implementation of the
// wire contract: nothing here may import the clients (src/ppio, src/compshare, src/core), so a
// client bug cannot be masked by the same bug on this side.

import http from "node:http";
import type { Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { PpioModel, createPpioService } from "./ppio/index";
import { CompShareModel, createCompShareService } from "./compshare";
import type {
  CloudName,
  CloudService,
  CompShareTimings,
  FaultRule,
  IncomingRequest,
  PpioTimings,
  Reply,
  RequestRecord,
  ResolvedRoute,
  Timings,
} from "./types";

export type { CloudName, CompShareTimings, FaultRule, PpioTimings, RequestRecord, Timings } from "./types";

// ---------------------------------------------------------------------------------------------
// Timings

// Short enough for unit tests, long enough that a poller sees at least one transitional status.
export const FAST_TIMINGS: Timings = Object.freeze({
  ppio: Object.freeze({
    provisionMs: 240,
    startMs: 160,
    stopMs: 160,
    restartMs: 160,
    upgradeMs: 240,
    deleteMs: 160,
    endpointCreateMs: 240,
    endpointUpdateMs: 240,
    endpointDeleteMs: 160,
  }),
  compshare: Object.freeze({
    provisionMs: 240,
    startMs: 160,
    stopMs: 160,
    rebootMs: 160,
    resizeMs: 160,
    terminateMs: 160,
  }),
});

// Slow enough that a demo shows progress lines, fast enough that nobody gets bored.
export const REALISTIC_TIMINGS: Timings = Object.freeze({
  ppio: Object.freeze({
    provisionMs: 8000,
    startMs: 4000,
    stopMs: 3000,
    restartMs: 5000,
    upgradeMs: 6000,
    deleteMs: 3000,
    endpointCreateMs: 10000,
    endpointUpdateMs: 6000,
    endpointDeleteMs: 3000,
  }),
  compshare: Object.freeze({
    provisionMs: 10000,
    startMs: 5000,
    stopMs: 4000,
    rebootMs: 6000,
    resizeMs: 4000,
    terminateMs: 3000,
  }),
});

// ---------------------------------------------------------------------------------------------
// Public types

export interface EmulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  timings?: { ppio?: Partial<PpioTimings>; compshare?: Partial<CompShareTimings> };
  /** Key pair the CompShare side accepts (default emulator-compshare-public / emulator-compshare-private). */
  compshare?: { publicKey?: string; privateKey?: string; timings?: Partial<CompShareTimings> };
  log?: (line: string) => void;
}

export interface FaultHandle {
  readonly remaining: number;
  cancel(): void;
}

export interface Emulator {
  url: string;
  port: number;
  apiKey: string;
  ppio: PpioModel;
  /** CompShare's state and test controls (stock, quota, holds, Install Fail, lock). */
  compshare: CompShareModel;
  compsharePublicKey: string;
  compsharePrivateKey: string;
  faults: { add(rule: FaultRule): FaultHandle; clear(): void };
  requests: RequestRecord[];
  resetRequests(): void;
  close(): Promise<void>;
}

// Routes that belong to the emulator itself rather than to a cloud.
function resolveOwnRoute(req: IncomingRequest): ResolvedRoute {
  if (req.method === "GET" && req.pathname === "/_emulator/health") {
    return { route: "GET /_emulator/health", handle: () => ({ status: 200, body: { status: "ok" } }) };
  }
  return {
    route: `${req.method} (unknown)`,
    handle: () => ({
      status: 404,
      body: { code: 404, reason: "NOT_FOUND", message: `no route ${req.method} ${req.pathname}`, metadata: {} },
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Faults

interface ActiveFault {
  rule: FaultRule;
  remaining: number;
}

function faultMatches(f: ActiveFault, cloud: CloudName | "emulator", req: IncomingRequest, action: string | undefined): boolean {
  const { rule } = f;
  if (f.remaining <= 0) return false;
  if (rule.cloud !== undefined && rule.cloud !== cloud) return false;
  if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) return false;
  if (rule.path !== undefined) {
    if (typeof rule.path === "string") {
      if (rule.path !== req.pathname) return false;
    } else {
      // a /g or /y RegExp keeps lastIndex between calls, which would make matching flaky
      rule.path.lastIndex = 0;
      if (!rule.path.test(req.pathname)) return false;
    }
  }
  if (rule.action !== undefined && cloud === "compshare" && rule.action !== action) return false;
  return true;
}

function describeFault(rule: FaultRule): string {
  const parts: string[] = [];
  if (rule.delayMs) parts.push(`delay=${rule.delayMs}ms`);
  if (rule.dropConnection) parts.push(`drop=${rule.dropConnection}`);
  else if (rule.status !== undefined) parts.push(`status=${rule.status}`);
  else if (rule.retCode !== undefined) parts.push(`retCode=${rule.retCode}`);
  return parts.length ? parts.join(",") : "noop";
}

// ---------------------------------------------------------------------------------------------

const MAX_BODY_BYTES = 8 * 1024 * 1024;

function mergePpioTimings(over: Partial<PpioTimings> | undefined): PpioTimings {
  const merged: PpioTimings = { ...FAST_TIMINGS.ppio };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) merged[k as keyof PpioTimings] = v;
  }
  return merged;
}

function mergeCompShareTimings(over: Partial<CompShareTimings> | undefined): CompShareTimings {
  const merged: CompShareTimings = { ...FAST_TIMINGS.compshare };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) merged[k as keyof CompShareTimings] = v;
  }
  return merged;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? "emulator-ppio-key";
  const log = opts.log;
  const ppio = new PpioModel(mergePpioTimings(opts.timings?.ppio));
  const ppioService = createPpioService(ppio, apiKey);
  const compsharePublicKey = opts.compshare?.publicKey ?? "emulator-compshare-public";
  const compsharePrivateKey = opts.compshare?.privateKey ?? "emulator-compshare-private";
  const compshare = new CompShareModel(
    mergeCompShareTimings({ ...opts.timings?.compshare, ...opts.compshare?.timings }),
  );
  const compshareService = createCompShareService(compshare, { publicKey: compsharePublicKey, privateKey: compsharePrivateKey });
  const services: CloudService[] = [ppioService, compshareService];

  const requests: RequestRecord[] = [];
  const faults: ActiveFault[] = [];
  const sockets = new Set<Socket>();
  const pendingDelays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          pendingDelays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      pendingDelays.add(entry);
    });

  function send(res: http.ServerResponse, reply: Reply, requestId: string, cloud?: CloudName): void {
    const text = JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, {
      ...reply.headers,
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      "x-request-id": requestId,
      // UCloud's gateway names its request id this way; the SDKs read it from here.
      ...(cloud === "compshare" && { "x-ucloud-request-uuid": requestId }),
    });
    res.end(text);
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? "/", "http://emulator.local");
    const incoming: IncomingRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      pathname: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };

    let service: CloudService | undefined;
    let route: ResolvedRoute | undefined;
    for (const s of services) {
      route = s.resolve(incoming);
      if (route) {
        service = s;
        break;
      }
    }
    route ??= resolveOwnRoute(incoming);
    const cloud = service?.cloud ?? "emulator";

    const record: RequestRecord = {
      cloud,
      method: incoming.method,
      path: incoming.pathname,
      route: route.route,
      status: 0,
      at: started,
    };
    if (route.action !== undefined) record.action = route.action;
    requests.push(record);

    const fault = faults.find((f) => faultMatches(f, cloud, incoming, route.action));
    if (fault) {
      fault.remaining -= 1;
      record.fault = describeFault(fault.rule);
    }
    const requestId = randomUUID();
    const finish = () =>
      log?.(
        `${record.cloud} ${record.method} ${record.path}${record.action ? ` Action=${record.action}` : ""} -> ` +
          `${record.status || "no response"} ${Date.now() - started}ms${record.fault ? ` fault=${record.fault}` : ""}`,
      );

    const rule = fault?.rule;
    if (rule?.delayMs && rule.delayMs > 0) {
      await sleep(rule.delayMs);
      if (closed) return;
    }
    if (rule?.dropConnection === "before") {
      req.socket.destroy();
      finish();
      return;
    }
    if (rule && rule.dropConnection !== "after") {
      // unknown routes and the emulator's own routes answer faults in PPIO's error shape
      const injected = (service ?? ppioService).injectedReply(rule, route.action);
      if (injected) {
        const headers: Record<string, string> = { ...injected.headers, ...rule.headers };
        if (rule.retryAfter !== undefined) headers["retry-after"] = String(rule.retryAfter);
        record.status = injected.status;
        send(res, { ...injected, headers }, requestId, cloud === "emulator" ? undefined : cloud);
        finish();
        return;
      }
    }

    let reply: Reply;
    try {
      reply = await route.handle();
    } catch (err) {
      reply = {
        status: 500,
        body: { code: 500, reason: "UNKNOWN", message: `emulator bug: ${(err as Error).message}`, metadata: {} },
      };
    }
    record.status = reply.status;
    if (rule?.dropConnection === "after") {
      // the state change already happened; the client must not learn its outcome
      req.socket.destroy();
    } else {
      send(res, reply, requestId, cloud === "emulator" ? undefined : cloud);
    }
    finish();
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("error", () => req.socket.destroy());
    req.on("end", () => {
      if (closed) return;
      if (tooLarge) {
        send(res, { status: 413, body: { code: 413, reason: "REQUEST", message: "request body too large", metadata: {} } }, randomUUID());
        return;
      }
      serve(req, res, Buffer.concat(chunks)).catch(() => req.socket.destroy());
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("emulator: server has no TCP address");
  const port = address.port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    apiKey,
    ppio,
    compshare,
    compsharePublicKey,
    compsharePrivateKey,
    faults: {
      add(rule: FaultRule): FaultHandle {
        const entry: ActiveFault = { rule, remaining: rule.times ?? 1 };
        faults.push(entry);
        return {
          get remaining() {
            return Math.max(0, entry.remaining);
          },
          cancel() {
            entry.remaining = 0;
          },
        };
      },
      clear() {
        for (const f of faults) f.remaining = 0;
        faults.length = 0;
      },
    },
    requests,
    resetRequests() {
      // keep the same array so callers holding `emulator.requests` see the reset
      requests.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const d of pendingDelays) {
          clearTimeout(d.timer);
          d.resolve();
        }
        pendingDelays.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

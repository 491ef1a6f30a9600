// The PPIO wire layer: routing, auth, JSON bodies, error bodies, and the JSON form of each
// record. A route parses its request with the wire schemas, calls one model operation and
// shapes the answer; the state and its rules live in instances.ts and endpoints.ts.

import type { CloudService, FaultRule, IncomingRequest, Reply, ResolvedRoute } from "../types";
import type { PpioEndpointRecord } from "./endpoints";
import { PpioApiError, errorBody, invalid } from "./errors";
import type { PpioInstanceRecord, PpioModel } from "./instances";
import { type Page, page } from "./paging";
import {
  createEndpointSchema,
  createInstanceSchema,
  endpointListQuery,
  instanceListQuery,
  portsSchema,
  productListQuery,
  queryObject,
  regionListQuery,
  read,
  rootfsExpandSchema,
  updateEndpointSchema,
  upgradeSchema,
} from "./schemas";

// ---- the JSON form of records ----------------------------------------------------------------
// The API answers protobuf-JSON: 64-bit integers are strings, 32-bit ones numbers. Which is
// which follows the real list capture (test/wire/ppio/list-instances.response.json) for
// instances, and the corpus's Get-endpoint example for endpoints, so clients meet both forms.

const s = (n: number) => String(n);

function instanceJson(r: PpioInstanceRecord) {
  const prepaid = r.billing.prepaid;
  return {
    ...r,
    billing: prepaid ? { ...r.billing, prepaid: { ...prepaid, end_time: s(prepaid.end_time) } } : r.billing,
    resource_specs: { ...r.resource_specs, rootfs_size_gb: s(r.resource_specs.rootfs_size_gb), memory_gb: s(r.resource_specs.memory_gb) },
    created_at: s(r.created_at),
    last_started_at: s(r.last_started_at),
    last_stopped_at: s(r.last_stopped_at),
  };
}

function endpointJson(r: PpioEndpointRecord) {
  const w = r.worker_config;
  return {
    ...r,
    worker_config: {
      ...w,
      min_replicas: s(w.min_replicas),
      max_replicas: s(w.max_replicas),
      idle_timeout: s(w.idle_timeout),
      max_concurrent_per_worker: s(w.max_concurrent_per_worker),
      gpu_num: s(w.gpu_num),
      rootfs_size_gb: s(w.rootfs_size_gb),
      request_timeout: s(w.request_timeout),
    },
    policy: { ...r.policy, value: s(r.policy.value) },
    // a network volume is shown without a size (the docs' Get example); a local one with it
    volumes: r.volumes.map(({ size, ...v }) => (v.type === "local" && size !== undefined ? { ...v, size: s(size) } : v)),
    created_at: s(r.created_at),
  };
}

const pageJson = <T, J>(p: Page<T>, json: (t: T) => J) => ({ ...p, data: p.data.map(json) });

// ---- requests ------------------------------------------------------------------------------

function jsonBody(req: IncomingRequest): Record<string, unknown> {
  const text = req.body.toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid("request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid("request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

interface Route {
  method: string;
  pattern: RegExp;
  template: string;
  run(req: IncomingRequest, id: string): unknown;
}

const PREFIX = "/gpus/v2";

/** A route from its path below the prefix; `{id}` is the one path parameter. */
const route = (method: string, path: string, run: Route["run"]): Route => ({
  method,
  pattern: new RegExp(`^${path.replace("{id}", "([^/]+)")}$`),
  template: `${method} ${PREFIX}${path}`,
  run,
});

/** A PUT action on an instance that answers `{}`. */
const instanceAction = (name: string, run: (req: IncomingRequest, id: string) => void): Route =>
  route("PUT", `/instances/{id}/${name}`, (req, id) => (run(req, id), {}));

function routes(model: PpioModel): Route[] {
  const endpoints = model.endpointBook;
  return [
    route("GET", "/instances", (req) => {
      const { cursor, limit, ...filter } = read(instanceListQuery, queryObject(req.query));
      return pageJson(model.list(filter, cursor, limit), instanceJson);
    }),
    route("POST", "/instances", (req) => ({ id: model.create(read(createInstanceSchema, jsonBody(req))) })),
    route("GET", "/instances/{id}", (_req, id) => instanceJson(model.describe(id))),
    route("DELETE", "/instances/{id}", (_req, id) => (model.remove(id), {})),
    instanceAction("start", (_req, id) => model.start(id)),
    instanceAction("stop", (_req, id) => model.stop(id)),
    instanceAction("restart", (_req, id) => model.restart(id)),
    // bodies are read before the state lookup, so a bad body never depends on instance state
    instanceAction("upgrade", (req, id) => model.upgrade(id, read(upgradeSchema, jsonBody(req)))),
    instanceAction("ports", (req, id) => model.replacePorts(id, read(portsSchema, jsonBody(req)).ports)),
    instanceAction("rootfs-expand", (req, id) =>
      model.expandRootfs(id, read(rootfsExpandSchema, jsonBody(req)).rootfs_size_expand_gb),
    ),
    route("GET", "/endpoints", (req) => {
      const { keyword, cursor, limit } = read(endpointListQuery, queryObject(req.query));
      return pageJson(endpoints.list(keyword, cursor, limit), endpointJson);
    }),
    route("POST", "/endpoints", (req) => ({ id: endpoints.create(read(createEndpointSchema, jsonBody(req))) })),
    route("GET", "/endpoints/{id}", (_req, id) => endpointJson(endpoints.describe(id))),
    route("PUT", "/endpoints/{id}", (req, id) => {
      const body = jsonBody(req);
      endpoints.update(id, read(updateEndpointSchema, body), body);
      return {};
    }),
    route("DELETE", "/endpoints/{id}", (_req, id) => (endpoints.remove(id), {})),
    route("GET", "/products", (req) => {
      const { limit, cursor, ...query } = read(productListQuery, queryObject(req.query));
      const items = model.catalogue.list(query).map((p, i) => ({ seq: i + 1, p }));
      return page(items, cursor, limit || items.length || 1, (x) => x.p);
    }),
    route("GET", "/regions", (req) => {
      const { limit, cursor } = read(regionListQuery, queryObject(req.query));
      const items = model.catalogue.regions().map((r, i) => ({ seq: i + 1, r }));
      return page(items, cursor, limit, (x) => x.r);
    }),
  ];
}

function defaultFaultReason(status: number): string {
  if (status === 429) return "RATE_LIMIT_EXCEEDED";
  if (status === 401) return "UNAUTHORIZED";
  if (status >= 500) return "UNKNOWN";
  return "REQUEST";
}

export function createPpioService(model: PpioModel, apiKey: string): CloudService {
  const table = routes(model);

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
      for (const route of table) {
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
      return { status: rule.status, body: rule.body ?? errorBody(rule.status, defaultFaultReason(rule.status), "injected fault") };
    },
  };
}

/**
 * The fault matrix: one row per scenario. Each row names the resource, the lifecycle step
 * the fault hits, how the fault is injected through the emulator's hooks, and what the user
 * must get: success (the fault is ridden out), a typed error, or a partial failure (the
 * object exists and is handed to the engine). `sees` is what the user reads: for errors the
 * message, for successes the progress lines on stderr.
 *
 * Steps: `create` faults hit the create request itself; `wait` faults hit the wait that
 * follows it (reads, provisioning, deadlines); `update`, `delete` and `read` run against an
 * object created cleanly first.
 */
import { expect } from "vitest";
import {
  AuthenticationError,
  CapacityError,
  NotFoundError,
  QuotaError,
  TimeoutError,
} from "../../src/core/errors";
import type { Emulator, FaultRule } from "../../src/emulator/server";
import { CANARY, type Props, type ResourceName } from "./drivers";

export type Step = "create" | "wait" | "update" | "delete" | "read";

export type Expected =
  | { outcome: "success"; sees?: RegExp }
  | { outcome: "error"; error: abstract new (...args: never[]) => Error; sees: RegExp }
  | { outcome: "partial"; sees: RegExp };

export interface FaultContext {
  emu: Emulator;
  /** The object the step acts on (update, delete, read). */
  id?: string;
}

/** What a scenario's own `verify` can look at, after the step and before the cleanup. */
export interface StepRun extends FaultContext {
  /** The step's value: `{id, outs}` of a create, `{outs}` of an update, `{id, props}` of a read. */
  value?: unknown;
  error?: unknown;
  /** Creates the emulator executed during the step. */
  createdDuringStep: number;
  stderr: string;
}

export interface Scenario {
  id: string;
  resource: ResourceName;
  step: Step;
  /** The fault, in a few words, as the report shows it. */
  fault: string;
  /** Overrides of the driver's base inputs for the create. */
  inputs?: Props;
  /** Update only: overrides of the created inputs that the update applies. */
  change?: Props;
  /** Injects the fault just before the step. */
  setup?(ctx: FaultContext): void;
  /** Stack config overrides in force during the step (wrong credentials). */
  config?: Record<string, string>;
  expect: Expected;
  /** Extra assertions about the run (throwing marks the scenario failed). */
  verify?(run: StepRun): void;
}

// ---- fault shorthands ------------------------------------------------------------------

const INSTANCES = "/gpus/v2/instances";
const INSTANCE = /^\/gpus\/v2\/instances\/[^/]+$/;
const ACTION = (suffix: string) => new RegExp(`^/gpus/v2/instances/[^/]+/${suffix}$`);
const ENDPOINTS = "/gpus/v2/endpoints";
const ENDPOINT = /^\/gpus\/v2\/endpoints\/[^/]+$/;

const add =
  (...rules: FaultRule[]) =>
  ({ emu }: FaultContext) => {
    for (const r of rules) emu.faults.add(r);
  };
const ppio = (method: string, path: string | RegExp, rule: Omit<FaultRule, "cloud" | "method" | "path">) =>
  add({ cloud: "ppio", method, path, ...rule });
const cs = (action: string, rule: Omit<FaultRule, "cloud" | "action">) => add({ cloud: "compshare", action, ...rule });
const ppioError = (status: number, reason: string, message: string) => ({ status, body: { code: status, reason, message } });

const success = (sees?: RegExp): Expected => ({ outcome: "success", sees });
const error = (e: abstract new (...args: never[]) => Error, sees: RegExp): Expected => ({ outcome: "error", error: e, sees });
const partial = (sees: RegExp): Expected => ({ outcome: "partial", sees });

/** The lines a user reads when an ambiguous create is resolved by a lookup. */
const ADOPTED = /create outcome unknown[\s\S]*looking it up by name[\s\S]*adopting it/;
const RESENT = /create outcome unknown[\s\S]*looking it up by name[\s\S]*was made; sending the create again/;
const RETRIED = (what: RegExp | string, after?: string) =>
  new RegExp(`${typeof what === "string" ? what : what.source}.*retrying in ${after ? after.replace(".", "\\.") : "\\d"}`);
const RECORDED = /is recorded in the stack: the next `pulumi up`/;

function exactlyOneCreate(run: StepRun): void {
  expect(run.createdDuringStep, "creates the emulator executed").toBe(1);
}

const outsOf = (run: StepRun) => (run.value as { outs: Props }).outs;

/** Statuses the cloud answered on a route: a lost answer shows as the status it never delivered. */
const answered = (run: StepRun, route: string) => run.emu.requests.filter((r) => r.route === route).map((r) => r.status);

// ---- the table -------------------------------------------------------------------------

const PI = "PpioInstance" as const;
const PE = "PpioEndpoint" as const;
const CS = "CompShareInstance" as const;

export const SCENARIOS: Scenario[] = [
  // PpioInstance: create
  {
    id: "pi-create-500",
    resource: PI,
    step: "create",
    fault: "POST 500 (not executed)",
    setup: ppio("POST", INSTANCES, { status: 500 }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-create-502x2",
    resource: PI,
    step: "create",
    fault: "POST 502, twice",
    setup: ppio("POST", INSTANCES, { status: 502, times: 2 }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-create-429-retry-after",
    resource: PI,
    step: "create",
    fault: "POST 429 with Retry-After: 1",
    setup: ppio("POST", INSTANCES, { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("POST /gpus/v2/instances: RateLimitError", "1.0")),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-create-429",
    resource: PI,
    step: "create",
    fault: "POST 429 without Retry-After",
    setup: ppio("POST", INSTANCES, { status: 429 }),
    expect: success(RETRIED("POST /gpus/v2/instances: RateLimitError")),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-create-reset-before",
    resource: PI,
    step: "create",
    fault: "POST connection reset before the cloud handled it",
    setup: ppio("POST", INSTANCES, { dropConnection: "before" }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-create-response-lost",
    resource: PI,
    step: "create",
    fault: "POST response lost (the cloud created it)",
    setup: ppio("POST", INSTANCES, { dropConnection: "after" }),
    expect: success(ADOPTED),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-create-capacity",
    resource: PI,
    step: "create",
    fault: "INSUFFICIENT_RESOURCE",
    setup: ppio("POST", INSTANCES, ppioError(400, "INSUFFICIENT_RESOURCE", "no 4090 left in the selected regions")),
    expect: error(CapacityError, /INSUFFICIENT_RESOURCE.*try another productId or candidateRegions/),
  },
  {
    id: "pi-create-balance",
    resource: PI,
    step: "create",
    fault: "BALANCE_NOT_ENOUGH",
    setup: ppio("POST", INSTANCES, ppioError(400, "BALANCE_NOT_ENOUGH", "balance not enough")),
    expect: error(QuotaError, /BALANCE_NOT_ENOUGH.*Top up the PPIO account balance/),
  },
  {
    id: "pi-create-quota",
    resource: PI,
    step: "create",
    fault: "CREATE_INSTANCE_LIMIT",
    setup: ppio("POST", INSTANCES, ppioError(400, "CREATE_INSTANCE_LIMIT", "instance limit reached")),
    expect: error(QuotaError, /instance quota is used up/),
  },
  {
    id: "pi-create-401",
    resource: PI,
    step: "create",
    fault: "wrong API key (401)",
    config: { "ppio:apiKey": CANARY.ppioWrongKey },
    expect: error(AuthenticationError, /HTTP 401.*Check ppio:apiKey \(stack config\) or PPIO_API_KEY/),
  },

  // PpioInstance: wait
  {
    id: "pi-wait-500x3",
    resource: PI,
    step: "wait",
    fault: "GET 500/502/503 while waiting",
    setup: add(
      { cloud: "ppio", method: "GET", path: INSTANCE, status: 500 },
      { cloud: "ppio", method: "GET", path: INSTANCE, status: 502 },
      { cloud: "ppio", method: "GET", path: INSTANCE, status: 503 },
    ),
    expect: success(RETRIED("GET /gpus/v2/instances/\\{id\\}: ServerError")),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-wait-reset",
    resource: PI,
    step: "wait",
    fault: "GET connection resets while waiting",
    setup: ppio("GET", INSTANCE, { dropConnection: "before", times: 2 }),
    expect: success(RETRIED("GET /gpus/v2/instances/\\{id\\}: NetworkError")),
    verify: exactlyOneCreate,
  },
  {
    id: "pi-wait-429",
    resource: PI,
    step: "wait",
    fault: "GET 429 with Retry-After: 1 while waiting",
    setup: ppio("GET", INSTANCE, { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("GET /gpus/v2/instances/\\{id\\}: RateLimitError", "1.0")),
  },
  {
    id: "pi-wait-failed",
    resource: PI,
    step: "wait",
    fault: "provisioning fails (status.error while pulling)",
    setup: ({ emu }) => emu.ppio.failNextProvisioning({ error: "IMAGE_PULL_FAILED", message: "manifest unknown" }),
    expect: partial(/is pulling \(IMAGE_PULL_FAILED: manifest unknown\)[\s\S]*is recorded in the stack/),
  },
  {
    id: "pi-wait-deadline",
    resource: PI,
    step: "wait",
    fault: "stuck pulling past timeouts.create",
    inputs: { timeouts: { create: "1s" } },
    setup: ({ emu }) => emu.ppio.holdNewInstances(true),
    expect: partial(/still pulling after \d+s waiting to become running.*Raise timeouts\.create[\s\S]*is recorded in the stack/),
  },
  {
    id: "pi-wait-stop-503",
    resource: PI,
    step: "wait",
    fault: "PUT /stop 503 (create with powerState stopped)",
    inputs: { powerState: "stopped" },
    setup: ppio("PUT", ACTION("stop"), { status: 503 }),
    expect: success(RETRIED("PUT /gpus/v2/instances/\\{id\\}/stop: ServerError")),
    verify: (run) => expect(outsOf(run).status).toBe("exited"),
  },

  // PpioInstance: update
  {
    id: "pi-update-upgrade-503",
    resource: PI,
    step: "update",
    fault: "PUT /upgrade 503",
    change: { image: "nginx:1.28" },
    setup: ppio("PUT", ACTION("upgrade"), { status: 503 }),
    expect: success(RETRIED("PUT /gpus/v2/instances/\\{id\\}/upgrade: ServerError")),
    verify: (run) => expect(run.emu.ppio.get(run.id!)?.image).toBe("nginx:1.28"),
  },
  {
    id: "pi-update-ports-reset",
    resource: PI,
    step: "update",
    fault: "PUT /ports connection reset",
    change: { ports: [{ port: 8080, protocol: "http" }] },
    setup: ppio("PUT", ACTION("ports"), { dropConnection: "before" }),
    expect: success(RETRIED("PUT /gpus/v2/instances/\\{id\\}/ports: NetworkError")),
    verify: (run) => expect(outsOf(run).ports).toEqual([{ port: 8080, protocol: "http" }]),
  },
  {
    id: "pi-update-stop-lost",
    resource: PI,
    step: "update",
    fault: "PUT /stop response lost (the cloud stopped it)",
    change: { powerState: "stopped" },
    setup: ppio("PUT", ACTION("stop"), { dropConnection: "after" }),
    expect: success(),
    verify: (run) => {
      expect(answered(run, "PUT /gpus/v2/instances/{id}/stop")).toEqual([200, 400]);
      expect(outsOf(run)).toMatchObject({ status: "exited", powerState: "stopped" });
    },
  },
  {
    id: "pi-update-upgrade-lost",
    resource: PI,
    step: "update",
    fault: "PUT /upgrade response lost (the cloud upgraded it)",
    change: { image: "nginx:1.28", envs: { MODE: "serve" } },
    setup: ({ emu }) => {
      // A slow re-create, as real image pulls are: the re-sent PUT lands while it runs.
      emu.ppio.setTimings({ upgradeMs: 3000 });
      emu.faults.add({ cloud: "ppio", method: "PUT", path: ACTION("upgrade"), dropConnection: "after" });
    },
    expect: success(RETRIED("PUT /gpus/v2/instances/\\{id\\}/upgrade: NetworkError")),
    verify: (run) => {
      // The re-sent PUT was refused as a duplicate of the one the cloud had taken.
      expect(answered(run, "PUT /gpus/v2/instances/{id}/upgrade")).toEqual([200, 400]);
      expect(outsOf(run)).toMatchObject({ image: "nginx:1.28", envs: { MODE: "serve" }, status: "running" });
    },
  },
  {
    id: "pi-update-start-lost",
    resource: PI,
    step: "update",
    fault: "PUT /start response lost (the cloud started it)",
    inputs: { powerState: "stopped" },
    change: { powerState: "running" },
    setup: ppio("PUT", ACTION("start"), { dropConnection: "after" }),
    expect: success(),
    verify: (run) => {
      expect(answered(run, "PUT /gpus/v2/instances/{id}/start")).toEqual([200, 400]);
      expect(outsOf(run)).toMatchObject({ status: "running", powerState: "running" });
    },
  },
  {
    id: "pi-update-stop-429",
    resource: PI,
    step: "update",
    fault: "PUT /stop 429 without Retry-After",
    change: { powerState: "stopped" },
    setup: ppio("PUT", ACTION("stop"), { status: 429 }),
    expect: success(RETRIED("PUT /gpus/v2/instances/\\{id\\}/stop: RateLimitError")),
  },
  {
    id: "pi-update-deadline",
    resource: PI,
    step: "update",
    fault: "upgrade stuck past timeouts.update",
    inputs: { timeouts: { update: "1s" } },
    change: { image: "nginx:1.28" },
    setup: ({ emu, id }) => emu.ppio.hold(id!),
    expect: partial(/update did not finish.*still toReset after \d+s.*Raise timeouts\.update[\s\S]*is recorded in the stack/),
  },
  {
    id: "pi-update-gone",
    resource: PI,
    step: "update",
    fault: "deleted behind Pulumi's back",
    change: { image: "nginx:1.28" },
    setup: ({ emu, id }) => emu.ppio.deleteBehindBack(id!),
    expect: error(NotFoundError, /no longer exists.*run `pulumi refresh`, then `pulumi up`/),
  },

  // PpioInstance: delete
  {
    id: "pi-delete-503x2",
    resource: PI,
    step: "delete",
    fault: "DELETE 503, twice",
    setup: ppio("DELETE", INSTANCE, { status: 503, times: 2 }),
    expect: success(RETRIED("DELETE /gpus/v2/instances/\\{id\\}: ServerError")),
  },
  {
    id: "pi-delete-lost",
    resource: PI,
    step: "delete",
    fault: "DELETE response lost (the cloud deleted it)",
    setup: ppio("DELETE", INSTANCE, { dropConnection: "after" }),
    expect: success(RETRIED("DELETE /gpus/v2/instances/\\{id\\}: NetworkError")),
  },
  {
    id: "pi-delete-429",
    resource: PI,
    step: "delete",
    fault: "DELETE 429 with Retry-After: 1",
    setup: ppio("DELETE", INSTANCE, { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("DELETE /gpus/v2/instances/\\{id\\}: RateLimitError", "1.0")),
  },
  {
    id: "pi-delete-wait-502",
    resource: PI,
    step: "delete",
    fault: "GET 502 while waiting for the delete",
    setup: ppio("GET", INSTANCE, { status: 502, times: 2 }),
    expect: success(),
  },
  {
    id: "pi-delete-deadline",
    resource: PI,
    step: "delete",
    fault: "stuck removing past timeouts.delete",
    inputs: { timeouts: { delete: "1s" } },
    setup: ({ emu, id }) => emu.ppio.hold(id!),
    expect: error(TimeoutError, /still toRemove after \d+s waiting to become deleted.*Raise timeouts\.delete/),
  },
  {
    id: "pi-delete-gone",
    resource: PI,
    step: "delete",
    fault: "deleted behind Pulumi's back",
    setup: ({ emu, id }) => emu.ppio.deleteBehindBack(id!),
    expect: success(),
  },

  // PpioInstance: read
  {
    id: "pi-read-503",
    resource: PI,
    step: "read",
    fault: "GET 503, twice",
    setup: ppio("GET", INSTANCE, { status: 503, times: 2 }),
    expect: success(RETRIED("GET /gpus/v2/instances/\\{id\\}: ServerError")),
  },
  {
    id: "pi-read-gone",
    resource: PI,
    step: "read",
    fault: "deleted behind Pulumi's back",
    setup: ({ emu, id }) => emu.ppio.deleteBehindBack(id!),
    expect: success(),
    verify: (run) => expect((run.value as { id: string }).id).toBe(""),
  },
  {
    id: "pi-read-401",
    resource: PI,
    step: "read",
    fault: "wrong API key (401)",
    config: { "ppio:apiKey": CANARY.ppioWrongKey },
    expect: error(AuthenticationError, /Check ppio:apiKey/),
  },

  // PpioEndpoint
  {
    id: "pe-create-503",
    resource: PE,
    step: "create",
    fault: "POST 503 (not executed)",
    setup: ppio("POST", ENDPOINTS, { status: 503 }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "pe-create-429-retry-after",
    resource: PE,
    step: "create",
    fault: "POST 429 with Retry-After: 1",
    setup: ppio("POST", ENDPOINTS, { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("POST /gpus/v2/endpoints: RateLimitError", "1.0")),
    verify: exactlyOneCreate,
  },
  {
    id: "pe-create-reset-before",
    resource: PE,
    step: "create",
    fault: "POST connection reset before the cloud handled it",
    setup: ppio("POST", ENDPOINTS, { dropConnection: "before" }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "pe-create-response-lost",
    resource: PE,
    step: "create",
    fault: "POST response lost (the cloud created it)",
    setup: ppio("POST", ENDPOINTS, { dropConnection: "after" }),
    expect: success(ADOPTED),
    verify: exactlyOneCreate,
  },
  {
    id: "pe-create-capacity",
    resource: PE,
    step: "create",
    fault: "INSUFFICIENT_RESOURCE",
    setup: ppio("POST", ENDPOINTS, ppioError(400, "INSUFFICIENT_RESOURCE", "no serverless capacity")),
    expect: error(CapacityError, /INSUFFICIENT_RESOURCE.*try another productId/),
  },
  {
    id: "pe-create-balance",
    resource: PE,
    step: "create",
    fault: "NOT_ENOUGH_BALANCE",
    setup: ppio("POST", ENDPOINTS, ppioError(400, "NOT_ENOUGH_BALANCE", "not enough balance")),
    expect: error(QuotaError, /Top up the PPIO account balance/),
  },
  {
    id: "pe-create-401",
    resource: PE,
    step: "create",
    fault: "wrong API key (401)",
    config: { "ppio:apiKey": CANARY.ppioWrongKey },
    expect: error(AuthenticationError, /Check ppio:apiKey \(stack config\) or PPIO_API_KEY/),
  },
  {
    id: "pe-wait-502x3",
    resource: PE,
    step: "wait",
    fault: "GET 502 while waiting, three times",
    setup: ppio("GET", ENDPOINT, { status: 502, times: 3 }),
    expect: success(RETRIED("GET /gpus/v2/endpoints/\\{id\\}: ServerError")),
    verify: exactlyOneCreate,
  },
  {
    id: "pe-wait-failed",
    resource: PE,
    step: "wait",
    fault: "workers fail to start",
    setup: ({ emu }) => emu.ppio.failNextEndpoint({ error: "WORKER_START_FAILED", message: "cannot pull image" }),
    expect: partial(/is failed \(WORKER_START_FAILED: cannot pull image\)[\s\S]*is recorded in the stack/),
  },
  {
    id: "pe-wait-deadline",
    resource: PE,
    step: "wait",
    fault: "stuck creating past timeouts.create",
    inputs: { timeouts: { create: "1s" } },
    setup: ({ emu }) => emu.ppio.holdNewEndpoints(true),
    expect: partial(/still creating after \d+s.*Raise timeouts\.create[\s\S]*is recorded in the stack/),
  },
  {
    id: "pe-update-500",
    resource: PE,
    step: "update",
    fault: "PUT 500",
    change: { workerConfig: { minReplicas: 0, maxReplicas: 4 } },
    setup: ppio("PUT", ENDPOINT, { status: 500 }),
    expect: success(RETRIED("PUT /gpus/v2/endpoints/\\{id\\}: ServerError")),
    verify: (run) => expect(run.emu.ppio.getEndpoint(run.id!)?.worker_config.max_replicas).toBe(4),
  },
  {
    id: "pe-update-lost",
    resource: PE,
    step: "update",
    fault: "PUT response lost (the cloud applied it)",
    change: { image: "vllm/vllm-openai:v0.7.0" },
    setup: ppio("PUT", ENDPOINT, { dropConnection: "after" }),
    expect: success(RETRIED("PUT /gpus/v2/endpoints/\\{id\\}: NetworkError")),
    verify: (run) => expect(outsOf(run)).toMatchObject({ image: "vllm/vllm-openai:v0.7.0", status: "running" }),
  },
  {
    id: "pe-update-429",
    resource: PE,
    step: "update",
    fault: "PUT 429 with Retry-After: 1",
    change: { envs: { MODE: "serve" } },
    setup: ppio("PUT", ENDPOINT, { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("PUT /gpus/v2/endpoints/\\{id\\}: RateLimitError", "1.0")),
  },
  {
    id: "pe-update-gone",
    resource: PE,
    step: "update",
    fault: "deleted behind Pulumi's back",
    change: { image: "vllm/vllm-openai:v0.7.0" },
    setup: ({ emu, id }) => emu.ppio.deleteEndpointBehindBack(id!),
    expect: error(NotFoundError, /endpoint .* no longer exists.*run `pulumi refresh`/),
  },
  {
    id: "pe-delete-502",
    resource: PE,
    step: "delete",
    fault: "DELETE 502",
    setup: ppio("DELETE", ENDPOINT, { status: 502 }),
    expect: success(RETRIED("DELETE /gpus/v2/endpoints/\\{id\\}: ServerError")),
  },
  {
    id: "pe-delete-429",
    resource: PE,
    step: "delete",
    fault: "DELETE 429 without Retry-After",
    setup: ppio("DELETE", ENDPOINT, { status: 429 }),
    expect: success(RETRIED("DELETE /gpus/v2/endpoints/\\{id\\}: RateLimitError")),
  },
  {
    id: "pe-delete-deadline",
    resource: PE,
    step: "delete",
    fault: "stuck deleting past timeouts.delete",
    inputs: { timeouts: { delete: "1s" } },
    setup: ({ emu, id }) => emu.ppio.holdEndpoint(id!),
    expect: error(TimeoutError, /still deleting after \d+s.*Raise timeouts\.delete/),
  },
  {
    id: "pe-delete-gone",
    resource: PE,
    step: "delete",
    fault: "deleted behind Pulumi's back",
    setup: ({ emu, id }) => emu.ppio.deleteEndpointBehindBack(id!),
    expect: success(),
  },
  {
    id: "pe-read-reset",
    resource: PE,
    step: "read",
    fault: "GET connection reset",
    setup: ppio("GET", ENDPOINT, { dropConnection: "before" }),
    expect: success(RETRIED("GET /gpus/v2/endpoints/\\{id\\}: NetworkError")),
  },

  {
    id: "pe-read-429",
    resource: PE,
    step: "read",
    fault: "GET 429 without Retry-After",
    setup: ppio("GET", ENDPOINT, { status: 429 }),
    expect: success(RETRIED("GET /gpus/v2/endpoints/\\{id\\}: RateLimitError")),
  },

  // CompShareInstance: create
  {
    id: "cs-create-153",
    resource: CS,
    step: "create",
    fault: "RetCode 153 (throttled) on the create",
    setup: cs("CreateCompShareInstance", { retCode: 153 }),
    expect: success(RETRIED("CreateCompShareInstance: RateLimitError \\(153\\)")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-429-retry-after",
    resource: CS,
    step: "create",
    fault: "HTTP 429 with Retry-After: 1 on the create",
    setup: cs("CreateCompShareInstance", { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("CreateCompShareInstance: RateLimitError", "1.0")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-429-precheck",
    resource: CS,
    step: "create",
    fault: "HTTP 429 without Retry-After on the capacity check",
    setup: cs("CheckCompShareResourceCapacity", { status: 429 }),
    expect: success(RETRIED("CheckCompShareResourceCapacity: RateLimitError")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-502",
    resource: CS,
    step: "create",
    fault: "HTTP 502 on the create (not executed)",
    setup: cs("CreateCompShareInstance", { status: 502 }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-150",
    resource: CS,
    step: "create",
    fault: "RetCode 150 (unavailable) on the create",
    setup: cs("CreateCompShareInstance", { retCode: 150 }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-reset-before",
    resource: CS,
    step: "create",
    fault: "create connection reset before the cloud handled it",
    setup: cs("CreateCompShareInstance", { dropConnection: "before" }),
    expect: success(RESENT),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-response-lost",
    resource: CS,
    step: "create",
    fault: "create response lost (the cloud created it)",
    setup: cs("CreateCompShareInstance", { dropConnection: "after" }),
    expect: success(ADOPTED),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-create-sold-out-precheck",
    resource: CS,
    step: "create",
    fault: "sold out, found by the capacity check",
    setup: ({ emu }) => emu.compshare.setStock("4090", 0),
    expect: error(CapacityError, /no capacity for gpuType 4090.*Nothing was bought/),
  },
  {
    id: "cs-create-8357",
    resource: CS,
    step: "create",
    fault: "RetCode 8357 (sold out) on the create",
    inputs: { checkCapacity: false },
    setup: ({ emu }) => emu.compshare.setStock("4090", 0),
    expect: error(CapacityError, /code 8357.*try another zone or gpuType/),
  },
  {
    id: "cs-create-226604",
    resource: CS,
    step: "create",
    fault: "RetCode 226604 (no stock) on the create",
    setup: cs("CreateCompShareInstance", { retCode: 226604, message: "resource insufficient" }),
    expect: error(CapacityError, /code 226604.*try another zone or gpuType/),
  },
  {
    id: "cs-create-quota",
    resource: CS,
    step: "create",
    fault: "RetCode 8095 (instance quota)",
    setup: ({ emu }) => emu.compshare.setQuota(0),
    expect: error(QuotaError, /code 8095.*instance quota is used up/),
  },
  {
    id: "cs-create-balance",
    resource: CS,
    step: "create",
    fault: "RetCode 226601 (balance)",
    setup: cs("CreateCompShareInstance", { retCode: 226601, message: "account balance not enough" }),
    expect: error(QuotaError, /code 226601.*Top up/),
  },
  {
    id: "cs-create-171",
    resource: CS,
    step: "create",
    fault: "wrong private key (RetCode 171)",
    config: { "compshare:privateKey": CANARY.csWrongPrivate },
    expect: error(AuthenticationError, /code 171.*Check compshare:publicKey and compshare:privateKey/),
  },
  {
    id: "cs-create-172",
    resource: CS,
    step: "create",
    fault: "unknown public key (RetCode 172)",
    config: { "compshare:publicKey": CANARY.csWrongPublic },
    expect: error(AuthenticationError, /code 172.*COMPSHARE_PUBLIC_KEY and COMPSHARE_PRIVATE_KEY/),
  },

  // CompShareInstance: wait
  {
    id: "cs-wait-153",
    resource: CS,
    step: "wait",
    fault: "RetCode 153 on Describe while waiting, three times",
    setup: cs("DescribeCompShareInstance", { retCode: 153, times: 3 }),
    expect: success(RETRIED("DescribeCompShareInstance: RateLimitError \\(153\\)")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-wait-503",
    resource: CS,
    step: "wait",
    fault: "HTTP 503 on Describe while waiting, twice",
    setup: cs("DescribeCompShareInstance", { status: 503, times: 2 }),
    expect: success(RETRIED("DescribeCompShareInstance: ServerError")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-wait-reset",
    resource: CS,
    step: "wait",
    fault: "Describe connection reset while waiting",
    setup: cs("DescribeCompShareInstance", { dropConnection: "before" }),
    expect: success(RETRIED("DescribeCompShareInstance: NetworkError")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-wait-429",
    resource: CS,
    step: "wait",
    fault: "HTTP 429 without Retry-After on Describe while waiting",
    setup: cs("DescribeCompShareInstance", { status: 429, times: 2 }),
    expect: success(RETRIED("DescribeCompShareInstance: RateLimitError")),
    verify: exactlyOneCreate,
  },
  {
    id: "cs-wait-install-fail",
    resource: CS,
    step: "wait",
    fault: "provisioning ends Install Fail",
    setup: ({ emu }) => emu.compshare.failNextCreate(),
    expect: partial(/is Install Fail \(CompShare could not install it\)[\s\S]*is recorded in the stack/),
  },
  {
    id: "cs-wait-deadline",
    resource: CS,
    step: "wait",
    fault: "stuck Initializing past timeouts.create",
    inputs: { timeouts: { create: "1s" } },
    setup: ({ emu }) => emu.compshare.holdNewInstances(true),
    expect: partial(/still Initializing after \d+s.*Raise timeouts\.create[\s\S]*is recorded in the stack/),
  },

  // CompShareInstance: update
  {
    id: "cs-update-lock",
    resource: CS,
    step: "update",
    fault: "operation lock (RetCode 8903) on the resize",
    change: { gpu: 2, cpu: 32, memory: 131072 },
    setup: ({ emu, id }) => emu.compshare.lockFor(id!, 1200),
    expect: success(/another operation is in progress; retrying once it is stable/),
    verify: (run) => expect(run.emu.compshare.get(run.id!)).toMatchObject({ GPU: 2, State: "Running" }),
  },
  {
    id: "cs-update-153",
    resource: CS,
    step: "update",
    fault: "RetCode 153 on the resize",
    change: { gpu: 2, cpu: 32, memory: 131072 },
    setup: cs("ResizeCompShareInstance", { retCode: 153 }),
    expect: success(RETRIED("ResizeCompShareInstance: RateLimitError \\(153\\)")),
  },
  {
    id: "cs-update-stop-502",
    resource: CS,
    step: "update",
    fault: "HTTP 502 on Stop (not executed)",
    change: { powerState: "stopped" },
    setup: cs("StopCompShareInstance", { status: 502 }),
    expect: success(),
    verify: (run) => expect(outsOf(run)).toMatchObject({ state: "Stopped", powerState: "stopped" }),
  },
  {
    id: "cs-update-stop-lost",
    resource: CS,
    step: "update",
    fault: "Stop response lost (the cloud stopped it)",
    change: { powerState: "stopped" },
    setup: cs("StopCompShareInstance", { dropConnection: "after" }),
    expect: success(),
    verify: (run) => expect(outsOf(run)).toMatchObject({ state: "Stopped", powerState: "stopped" }),
  },
  {
    id: "cs-update-resize-lost",
    resource: CS,
    step: "update",
    fault: "Resize response lost (the cloud resized it)",
    inputs: { powerState: "stopped" },
    change: { gpu: 2, cpu: 32, memory: 131072 },
    setup: cs("ResizeCompShareInstance", { dropConnection: "after" }),
    expect: success(),
    verify: (run) => expect(outsOf(run)).toMatchObject({ gpu: 2, cpu: 32, memory: 131072, state: "Stopped" }),
  },
  {
    id: "cs-update-rename-150",
    resource: CS,
    step: "update",
    fault: "RetCode 150 (unavailable) on ModifyName",
    change: { name: "renamed" },
    setup: cs("ModifyCompShareInstanceName", { retCode: 150 }),
    expect: success(/ModifyCompShareInstanceName outcome unknown/),
    verify: (run) => expect(run.emu.compshare.get(run.id!)?.Name).toBe("renamed"),
  },
  {
    id: "cs-update-deadline",
    resource: CS,
    step: "update",
    fault: "resize stuck past timeouts.update",
    inputs: { timeouts: { update: "1s" } },
    change: { gpu: 2, cpu: 32, memory: 131072 },
    setup: ({ emu, id }) => emu.compshare.hold(id!),
    expect: partial(/update did not finish.*still Stopping after \d+s.*Raise timeouts\.update[\s\S]*is recorded in the stack/),
  },
  {
    id: "cs-update-gone",
    resource: CS,
    step: "update",
    fault: "deleted behind Pulumi's back",
    change: { name: "renamed" },
    setup: ({ emu, id }) => emu.compshare.deleteBehindBack(id!),
    expect: error(NotFoundError, /no longer exists.*run `pulumi refresh`, then `pulumi up`/),
  },

  // CompShareInstance: delete
  {
    id: "cs-delete-153",
    resource: CS,
    step: "delete",
    fault: "RetCode 153 on Terminate",
    setup: cs("TerminateCompShareInstance", { retCode: 153 }),
    expect: success(RETRIED("TerminateCompShareInstance: RateLimitError \\(153\\)")),
  },
  {
    id: "cs-delete-stop-429",
    resource: CS,
    step: "delete",
    fault: "HTTP 429 with Retry-After: 1 on Stop",
    setup: cs("StopCompShareInstance", { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("StopCompShareInstance: RateLimitError", "1.0")),
  },
  {
    id: "cs-delete-terminate-503",
    resource: CS,
    step: "delete",
    fault: "HTTP 503 on Terminate (not executed)",
    setup: cs("TerminateCompShareInstance", { status: 503 }),
    expect: success(),
  },
  {
    id: "cs-delete-terminate-lost",
    resource: CS,
    step: "delete",
    fault: "Terminate response lost (the cloud terminated it)",
    setup: cs("TerminateCompShareInstance", { dropConnection: "after" }),
    expect: success(),
  },
  {
    id: "cs-delete-lock",
    resource: CS,
    step: "delete",
    fault: "operation lock (RetCode 8903)",
    setup: ({ emu, id }) => emu.compshare.lockFor(id!, 1200),
    expect: success(/another operation is in progress; retrying once it is stable/),
  },
  {
    id: "cs-delete-deadline",
    resource: CS,
    step: "delete",
    fault: "stuck Stopping past timeouts.delete",
    inputs: { timeouts: { delete: "1s" } },
    setup: ({ emu, id }) => emu.compshare.hold(id!),
    expect: error(TimeoutError, /still Stopping after \d+s waiting to become Stopped.*Raise timeouts\.delete/),
  },
  {
    id: "cs-delete-gone",
    resource: CS,
    step: "delete",
    fault: "deleted behind Pulumi's back",
    setup: ({ emu, id }) => emu.compshare.deleteBehindBack(id!),
    expect: success(),
  },

  // CompShareInstance: read
  {
    id: "cs-read-153",
    resource: CS,
    step: "read",
    fault: "RetCode 153 on Describe",
    setup: cs("DescribeCompShareInstance", { retCode: 153 }),
    expect: success(RETRIED("DescribeCompShareInstance: RateLimitError \\(153\\)")),
  },
  {
    id: "cs-read-429",
    resource: CS,
    step: "read",
    fault: "HTTP 429 with Retry-After: 1 on Describe",
    setup: cs("DescribeCompShareInstance", { status: 429, retryAfter: 1 }),
    expect: success(RETRIED("DescribeCompShareInstance: RateLimitError", "1.0")),
  },
  {
    id: "cs-read-172",
    resource: CS,
    step: "read",
    fault: "unknown public key (RetCode 172)",
    config: { "compshare:publicKey": CANARY.csWrongPublic },
    expect: error(AuthenticationError, /code 172.*Check compshare:publicKey/),
  },
  {
    id: "cs-read-gone",
    resource: CS,
    step: "read",
    fault: "deleted behind Pulumi's back",
    setup: ({ emu, id }) => emu.compshare.deleteBehindBack(id!),
    expect: success(),
    verify: (run) => expect((run.value as { id: string }).id).toBe(""),
  },
];

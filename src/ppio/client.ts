/**
 * A typed client for the PPIO (Novita) GPU API v2. Every call goes through the shared
 * transport; every response is validated; every error body becomes a typed error.
 */
import type { z } from "zod";
import {
  AuthenticationError,
  CapacityError,
  ConflictError,
  type ErrorDetails,
  GpuCloudError,
  NotFoundError,
  PermissionError,
  QuotaError,
  RateLimitError,
  Redactor,
  ServerError,
  ValidationError,
} from "../core/errors";
import { HttpTransport, type HttpRequest, type Method, type RawResponse, type RetryPolicy } from "../core/http";
import {
  type ApiEndpoint,
  apiEndpointSchema,
  type ApiInstance,
  apiInstanceSchema,
  type ApiProduct,
  apiProductSchema,
  type ApiRegion,
  apiRegionSchema,
  type CreateEndpointBody,
  type CreateInstanceBody,
  createdSchema,
  errorBodySchema,
  listSchema,
  type RootfsExpandBody,
  type UpdateEndpointBody,
  type UpgradeInstanceBody,
} from "./schemas";

/** The query of `GET /gpus/v2/products`, camelCased. */
export interface ProductQuery {
  type: "gpu" | "cpu";
  category: "instance" | "serverless";
  regionIds?: string[];
  billingMethod?: "postpaid" | "prepaid" | "spot";
  cpu?: number;
  memoryGb?: number;
  rootfsSizeGb?: number;
}

export const PPIO_DEFAULT_BASE_URL = "https://api.ppio.com";

export interface PpioClientOptions {
  apiKey: string;
  baseUrl?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
}

type ErrorClass = new (message: string, details: ErrorDetails) => GpuCloudError;

/** Reasons whose meaning is "the object you named is gone" (anything else *_NOT_FOUND is a bad reference). */
const GONE = new Set(["RESOURCE_NOT_FOUND", "SERVERLESS_ENDPOINT_NOT_FOUND"]);

const BY_REASON: Record<string, [ErrorClass, string?]> = {
  VALIDATOR_PARAM: [ValidationError],
  INVALID_COMMAND_PARAM: [ValidationError],
  REQUEST: [ValidationError],
  IMAGE_NOT_FOUND: [ValidationError, "Check the image reference and registryAuthId"],
  IMAGE_URL_OR_AUTH_ERROR: [ValidationError, "Check the image reference and registryAuthId"],
  CUDA_VERSION_INCOMPATIBLE: [ValidationError, "Lower resource.minCudaVersion (workerConfig.minCudaVersion for an endpoint) or choose another product"],
  SERVERLESS_PRODUCT_NOT_FOUND: [ValidationError, "Check productId"],
  NETWORK_NOT_FOUND: [ValidationError, "Check network.id"],
  NETWORK_STORAGE_NOT_FOUND: [ValidationError, "Check volumes[].id"],
  TEMPLATE_NOT_FOUND: [ValidationError],
  CONFLICT: [ConflictError],
  OPERATION_LIMIT: [ConflictError, "The instance or endpoint is busy with another operation; retry when it is stable"],
  DEPENDENT_RESOURCE_STATE: [ConflictError],
  CLUSTER_STATUS: [ConflictError],
  NODE_STATUS: [ConflictError],
  SERVERLESS_APP_NAME_IS_EXIST: [ConflictError, "appName must be unique in the account: choose another appName, or delete the endpoint that uses it"],
  INSUFFICIENT_RESOURCE: [CapacityError, "No capacity for this product now; try another productId or candidateRegions, or retry later"],
  MIGRATE_INSUFFICIENT_RESOURCE: [CapacityError],
  BALANCE_NOT_ENOUGH: [QuotaError, "Top up the PPIO account balance"],
  NOT_ENOUGH_BALANCE: [QuotaError, "Top up the PPIO account balance"],
  EXPIRED_OR_BALANCE_NOT_ENOUGH: [QuotaError, "Top up or renew the PPIO account"],
  CREATE_INSTANCE_LIMIT: [QuotaError, "The account's instance quota is used up; delete instances or ask PPIO for more"],
  CREATE_GPU_NUM_LIMIT: [QuotaError, "The account's GPU quota is used up; ask PPIO for more"],
  UNSUPPORTED_BILLING_MODE: [ValidationError, "Choose another billing.mode for this product"],
  PREPAID_INSTANCE_NOT_SUPPORT_RELEASE: [ConflictError, "A prepaid instance cannot be released before its term ends"],
};

export class PpioClient {
  readonly transport: HttpTransport;
  private readonly apiKey: string;

  constructor(opts: PpioClientOptions) {
    if (!opts.apiKey) throw new Error("PpioClient needs an apiKey");
    this.apiKey = opts.apiKey;
    const redactor = new Redactor();
    redactor.add(opts.apiKey);
    this.transport = new HttpTransport({
      cloud: "ppio",
      baseUrl: opts.baseUrl ?? PPIO_DEFAULT_BASE_URL,
      timeoutMs: opts.timeoutMs,
      retry: opts.retry,
      redactor,
      requestIdHeader: "x-request-id",
      log: opts.log,
    });
  }

  // ---- instances ------------------------------------------------------------------

  /** Sends the create exactly once; an ambiguous failure surfaces with `mayHaveSucceeded`. */
  async createInstance(body: CreateInstanceBody): Promise<string> {
    const res = await this.call("POST", "/gpus/v2/instances", createdSchema, { body, idempotent: false });
    return res.id;
  }

  getInstance(id: string): Promise<ApiInstance> {
    return this.call("GET", `/gpus/v2/instances/${enc(id)}`, apiInstanceSchema, { operation: "GET /gpus/v2/instances/{id}" });
  }

  /** The instance, or `null` when PPIO no longer knows it. */
  async findInstance(id: string): Promise<ApiInstance | null> {
    try {
      return await this.getInstance(id);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** Every instance matching the filters, following `next_cursor` to the end. */
  async listInstances(filter: { name?: string; status?: string; pageSize?: number } = {}): Promise<ApiInstance[]> {
    const out: ApiInstance[] = [];
    let cursor = "";
    const page = listSchema(apiInstanceSchema);
    for (;;) {
      const res = await this.call("GET", "/gpus/v2/instances", page, {
        query: { limit: filter.pageSize ?? 100, cursor: cursor || undefined, name: filter.name, status: filter.status },
      });
      out.push(...res.data);
      if (!res.has_more || !res.next_cursor) return out;
      cursor = res.next_cursor;
    }
  }

  async deleteInstance(id: string): Promise<void> {
    await this.action("DELETE", id, "");
  }

  // Real callers send start and stop with a `{}` JSON body (ppio-api.md §10).
  async startInstance(id: string): Promise<void> {
    await this.action("PUT", id, "/start", {});
  }

  async stopInstance(id: string): Promise<void> {
    await this.action("PUT", id, "/stop", {});
  }

  async restartInstance(id: string): Promise<void> {
    await this.action("PUT", id, "/restart");
  }

  /** Replaces image, entrypoint, command and envs; PPIO re-creates the container. */
  async upgradeInstance(id: string, body: UpgradeInstanceBody): Promise<void> {
    await this.action("PUT", id, "/upgrade", body);
  }

  /**
   * Grows the root filesystem by `gb` (the body carries the increment: ppio-api.md §4.8).
   * Not safe to repeat, since a second delivery would grow it again: a lost answer surfaces
   * with `mayHaveSucceeded` and the caller reads the size back.
   */
  async expandRootfs(id: string, gb: number): Promise<void> {
    const body: RootfsExpandBody = { rootfs_size_expand_gb: gb };
    await this.call("PUT", `/gpus/v2/instances/${enc(id)}/rootfs-expand`, undefined, {
      body,
      idempotent: false,
      operation: "PUT /gpus/v2/instances/{id}/rootfs-expand",
    });
  }

  /** Replaces the whole set of exposed ports. */
  async replacePorts(id: string, ports: { port: number; protocol: string }[]): Promise<void> {
    await this.action("PUT", id, "/ports", { ports });
  }

  // ---- serverless endpoints -------------------------------------------------------

  /** Sends the create exactly once; an ambiguous failure surfaces with `mayHaveSucceeded`. */
  async createEndpoint(body: CreateEndpointBody): Promise<string> {
    const res = await this.call("POST", "/gpus/v2/endpoints", createdSchema, { body, idempotent: false });
    return res.id;
  }

  getEndpoint(id: string): Promise<ApiEndpoint> {
    return this.call("GET", `/gpus/v2/endpoints/${enc(id)}`, apiEndpointSchema, { operation: "GET /gpus/v2/endpoints/{id}" });
  }

  /** The endpoint, or `null` when PPIO no longer knows it. */
  async findEndpoint(id: string): Promise<ApiEndpoint | null> {
    try {
      return await this.getEndpoint(id);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** Every endpoint matching `keyword` (PPIO's free-text search), following `next_cursor` to the end. */
  async listEndpoints(filter: { keyword?: string; pageSize?: number } = {}): Promise<ApiEndpoint[]> {
    const out: ApiEndpoint[] = [];
    let cursor = "";
    const page = listSchema(apiEndpointSchema);
    for (;;) {
      const res = await this.call("GET", "/gpus/v2/endpoints", page, {
        query: { limit: filter.pageSize ?? 100, cursor: cursor || undefined, keyword: filter.keyword },
      });
      out.push(...res.data);
      if (!res.has_more || !res.next_cursor) return out;
      cursor = res.next_cursor;
    }
  }

  /**
   * Sets the endpoint's spec. Safe to repeat (the default for PUT) because callers send the
   * complete desired spec, so a second delivery changes nothing.
   */
  async updateEndpoint(id: string, body: UpdateEndpointBody): Promise<void> {
    await this.call("PUT", `/gpus/v2/endpoints/${enc(id)}`, undefined, { body, operation: "PUT /gpus/v2/endpoints/{id}" });
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.call("DELETE", `/gpus/v2/endpoints/${enc(id)}`, undefined, { operation: "DELETE /gpus/v2/endpoints/{id}" });
  }

  // ---- catalogue ------------------------------------------------------------------

  /**
   * The products of one type and category (`GET /gpus/v2/products`; both are required,
   * ppio-api.md §6.1). The docs show no paging for this call; a `next_cursor` with
   * `has_more` in an answer is followed all the same (inferred from the other lists).
   */
  listProducts(query: ProductQuery): Promise<ApiProduct[]> {
    return this.all("/gpus/v2/products", apiProductSchema, {
      type: query.type,
      category: query.category,
      // Comma-separated: inferred, the docs' text is cut off at `region_ids` (ppio-api.md §6.1).
      region_ids: query.regionIds && query.regionIds.length > 0 ? query.regionIds.join(",") : undefined,
      billing_method: query.billingMethod,
      cpu: query.cpu,
      memory_gb: query.memoryGb,
      rootfs_size: query.rootfsSizeGb,
    });
  }

  /** The public regions (`GET /gpus/v2/regions`, ppio-api.md §6.2), following `next_cursor` to the end. */
  listRegions(): Promise<ApiRegion[]> {
    return this.all("/gpus/v2/regions", apiRegionSchema, {});
  }

  /** Every page of a cursor-paged list; a cursor seen twice ends it (a server that never stops is not followed forever). */
  private async all<S extends z.ZodType>(path: string, item: S, query: NonNullable<HttpRequest["query"]>): Promise<z.output<S>[]> {
    const out: z.output<S>[] = [];
    const page = listSchema(item);
    const seen = new Set<string>();
    let cursor = "";
    for (;;) {
      const res = await this.call("GET", path, page, { query: { ...query, cursor: cursor || undefined } });
      out.push(...(res.data as z.output<S>[]));
      if (!res.has_more || !res.next_cursor || seen.has(res.next_cursor)) return out;
      seen.add(res.next_cursor);
      cursor = res.next_cursor;
    }
  }

  // ---- plumbing -------------------------------------------------------------------

  private async action(method: Method, id: string, suffix: string, body?: unknown): Promise<void> {
    await this.call(method, `/gpus/v2/instances/${enc(id)}${suffix}`, undefined, {
      body,
      operation: `${method} /gpus/v2/instances/{id}${suffix}`,
    });
  }

  /** One API call. Reads, deletes and PUT actions are idempotent unless said otherwise. */
  async call<S extends z.ZodType | undefined>(
    method: Method,
    path: string,
    schema: S,
    opts: { body?: unknown; query?: HttpRequest["query"]; idempotent?: boolean; operation?: string } = {},
  ): Promise<S extends z.ZodType ? z.infer<S> : undefined> {
    const operation = opts.operation ?? `${method} ${path}`;
    const req: HttpRequest = {
      method,
      path,
      query: opts.query,
      operation,
      idempotent: opts.idempotent ?? method !== "POST",
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        accept: "application/json",
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    };
    return this.transport.send(req, (res) => {
      if (res.status >= 200 && res.status < 300) {
        if (!schema) return undefined as never;
        const parsed = schema.safeParse(parseJson(res.text));
        if (!parsed.success) {
          throw new ServerError(`unexpected response shape: ${parsed.error.issues[0]?.message ?? "invalid"}`, {
            cloud: "ppio",
            operation,
            status: res.status,
            requestId: res.requestId,
          });
        }
        return parsed.data;
      }
      throw this.toError(res, operation, req.idempotent);
    }) as never;
  }

  private toError(res: RawResponse, operation: string, idempotent: boolean): GpuCloudError {
    const body = errorBodySchema.safeParse(parseJson(res.text));
    const reason = body.success ? body.data.reason : undefined;
    // Redact before cutting to length: a cut through a key leaves a piece no redaction finds.
    const message = this.transport.redactor.redact(
      (body.success ? body.data.message : undefined) || this.transport.redactor.redact(res.text).slice(0, 200) || `HTTP ${res.status}`,
    );
    const details: ErrorDetails = {
      cloud: "ppio",
      operation,
      status: res.status,
      code: reason,
      requestId: res.requestId,
      retryAfterSeconds: res.retryAfterSeconds,
    };
    if (res.status === 401) {
      return new AuthenticationError(message, { ...details, hint: "Check ppio:apiKey (stack config) or PPIO_API_KEY" });
    }
    if (res.status === 429) return new RateLimitError(message, details);
    if (res.status >= 500) {
      // A 5xx after a mutating request leaves its outcome unknown.
      return new ServerError(message, { ...details, mayHaveSucceeded: !idempotent });
    }
    if (reason && GONE.has(reason)) return new NotFoundError(message, details);
    const mapped = reason ? BY_REASON[reason] : undefined;
    if (mapped) return new mapped[0](message, { ...details, hint: mapped[1] });
    if (res.status === 403) return new PermissionError(message, { ...details, hint: "The API key may not do this" });
    if (res.status === 404) {
      // A 404 without a reason comes from the gateway (unknown path), never from a deleted
      // object: treating it as "gone" would make a wrong base URL erase resources on refresh.
      return new ValidationError(`no such API route (${message})`, {
        ...details,
        hint: "Check ppio:baseUrl (or PPIO_BASE_URL)",
      });
    }
    return new ValidationError(message, details);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

const enc = encodeURIComponent;

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return undefined;
  }
}

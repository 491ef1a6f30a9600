/**
 * A typed client for UCloud CompShare (优云智算). Every call is one signed form POST to `/`
 * through the shared transport; every answer is an envelope whose `RetCode` decides between
 * the body and one of our typed errors.
 *
 * Retry rules on top of the transport's: RetCode 153 (throttled) means the gateway did not
 * run the action, so any action is sent again after a pause; RetCode 150 and HTTP 5xx are
 * transient, so only read actions (`Describe*`, `Get*`, `Check*`) are sent again and a
 * mutating action surfaces with `mayHaveSucceeded`. No mutating action is re-sent blindly.
 */
import type { z } from "zod";
import {
  AuthenticationError,
  CapacityError,
  ConflictError,
  type ErrorDetails,
  GpuCloudError,
  PermissionError,
  QuotaError,
  RateLimitError,
  Redactor,
  ServerError,
  ValidationError,
} from "../core/errors";
import { HttpTransport, type RawResponse, type RetryPolicy } from "../core/http";
import {
  type ApiInstance,
  type AvailableType,
  type AvailableTypesParams,
  availableTypesResponseSchema,
  type CapacityParams,
  capacityResponseSchema,
  type CapacitySpec,
  type CreateParams,
  createResponseSchema,
  type ApiImage,
  type DeleteStopSchedulerParams,
  type DescribeParams,
  describeResponseSchema,
  type ImagesParams,
  regionsResponseSchema,
  imagesResponseSchema,
  type StopSchedulerParams,
  type SupportZone,
  supportZoneResponseSchema,
  type ZoneImagesParams,
  type Envelope,
  envelopeSchema,
  type ModifyNameParams,
  type PriceDetail,
  type PriceParams,
  priceResponseSchema,
  type ResizeParams,
  type StopParams,
  type TargetParams,
  type TerminateParams,
} from "./schemas";
import { flatten, formEncode, type Params, sign } from "./signature";

export const COMPSHARE_DEFAULT_BASE_URL = "https://api.compshare.cn";

/** Most ids one DescribeCompShareInstance accepts, and its largest page. */
export const DESCRIBE_MAX_IDS = 100;

export interface CompShareClientOptions {
  publicKey: string;
  privateKey: string;
  /** Added to every request when set; required for sub-accounts. */
  projectId?: string;
  baseUrl?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
}

export interface CallOptions {
  /** Safe to send twice; default: true for `Describe*`, `Get*` and `Check*` actions. */
  idempotent?: boolean;
  timeoutMs?: number;
}

/** The signed request exactly as it goes on the wire. */
export interface SignedRequest {
  /** Every parameter, flattened and stringified, including `Signature`. */
  fields: Record<string, string>;
  /** The form body: `fields`, URL-encoded, nothing else. */
  body: string;
}

/** RetCode of CompShare's per-instance operation lock (`InstanceOperationInProgress`). */
export const OPERATION_IN_PROGRESS = 8903;

const CREDENTIALS_HINT =
  "Check compshare:publicKey and compshare:privateKey (stack config) or COMPSHARE_PUBLIC_KEY and COMPSHARE_PRIVATE_KEY; " +
  "CompShare keys work only on api.compshare.cn";
const CAPACITY_HINT = "This GPU type is sold out in this zone right now; try another zone or gpuType, or retry later";
const BILLING_HINT = "Top up, pay the unpaid order or renew in the CompShare console";

type ErrorClass = new (message: string, details: ErrorDetails) => GpuCloudError;

const BY_RETCODE: Record<number, [ErrorClass, string?]> = {
  160: [ValidationError, "The request has no Action (a client bug)"],
  161: [ValidationError, "CompShare does not offer this Action"],
  230: [ValidationError],
  292: [PermissionError, "Check compshare:projectId (or COMPSHARE_PROJECT_ID)"],
  293: [PermissionError, "The account may not use this zone"],
  294: [PermissionError, "The API key's IP allow-list refused this machine"],
  295: [PermissionError],
  299: [PermissionError, "The key's IAM policy does not allow this action"],
  8333: [ValidationError, "The zone does not offer this GPU type, or the CPU:memory ratio is outside 2:1–1:12"],
  8357: [CapacityError, CAPACITY_HINT],
  226604: [CapacityError, CAPACITY_HINT],
  8095: [QuotaError, "The account's instance quota is used up; delete instances or raise the account level"],
  8429: [QuotaError, BILLING_HINT],
  226601: [QuotaError, BILLING_HINT],
  226602: [QuotaError, BILLING_HINT],
  226603: [ValidationError, "The image does not support this GPU type"],
  226606: [PermissionError, "The account needs real-name verification in the CompShare console"],
  [OPERATION_IN_PROGRESS]: [ConflictError, "Another operation on the instance is still running; retry once it is stable"],
};

/** Read-only actions by name: safe to send again after a transient failure. */
export const isReadAction = (action: string): boolean => /^(Describe|Get|Check)/.test(action);

export class CompShareClient {
  readonly transport: HttpTransport;
  readonly projectId?: string;
  private readonly publicKey: string;
  private readonly privateKey: string;

  constructor(opts: CompShareClientOptions) {
    if (!opts.publicKey || !opts.privateKey) throw new Error("CompShareClient needs a publicKey and a privateKey");
    this.publicKey = opts.publicKey;
    this.privateKey = opts.privateKey;
    this.projectId = opts.projectId || undefined;
    const redactor = new Redactor();
    redactor.add(opts.publicKey, opts.privateKey);
    this.transport = new HttpTransport({
      cloud: "compshare",
      baseUrl: opts.baseUrl ?? COMPSHARE_DEFAULT_BASE_URL,
      timeoutMs: opts.timeoutMs,
      retry: opts.retry,
      redactor,
      requestIdHeader: "x-ucloud-request-uuid",
      log: opts.log,
    });
  }

  // ---- instances ------------------------------------------------------------------

  /** Sends the create exactly once; an ambiguous failure surfaces with `mayHaveSucceeded`. */
  async createInstance(params: CreateParams): Promise<string[]> {
    const res = await this.callParsed("CreateCompShareInstance", params, createResponseSchema);
    return res.UHostIds;
  }

  /** One page of instances (`UHostIds.N` at most 100 ids, `Limit` at most 100). */
  async describeInstances(params: DescribeParams = {}): Promise<{ totalCount: number; instances: ApiInstance[] }> {
    if ((params.UHostIds?.length ?? 0) > DESCRIBE_MAX_IDS) {
      throw new Error(`DescribeCompShareInstance takes at most ${DESCRIBE_MAX_IDS} ids per call`);
    }
    const res = await this.callParsed("DescribeCompShareInstance", params, describeResponseSchema);
    return { totalCount: res.TotalCount ?? res.UHostSet.length, instances: res.UHostSet };
  }

  /**
   * The instances with these ids, in ceil(n/100) calls; ids CompShare does not know are
   * simply absent (Describe answers unknown ids with an empty set, not an error).
   */
  async describeByIds(ids: string[], where: { Region?: string; Zone?: string } = {}): Promise<ApiInstance[]> {
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += DESCRIBE_MAX_IDS) chunks.push(unique.slice(i, i + DESCRIBE_MAX_IDS));
    const pages = await Promise.all(
      chunks.map((chunk) => this.describeInstances({ ...where, UHostIds: chunk, Limit: DESCRIBE_MAX_IDS })),
    );
    return pages.flatMap((p) => p.instances);
  }

  /** The instance, or `null` when CompShare no longer returns it. */
  async findInstance(id: string, region?: string): Promise<ApiInstance | null> {
    const [found] = (await this.describeByIds([id], { Region: region })).filter((i) => i.UHostId === id);
    return found ?? null;
  }

  /** Every instance in the region (or zone), 100 per page until a short page or the total. */
  async describeAll(where: { Region?: string; Zone?: string } = {}): Promise<ApiInstance[]> {
    const out: ApiInstance[] = [];
    for (let offset = 0; ; offset += DESCRIBE_MAX_IDS) {
      const page = await this.describeInstances({ ...where, Limit: DESCRIBE_MAX_IDS, Offset: offset });
      out.push(...page.instances);
      if (page.instances.length < DESCRIBE_MAX_IDS || offset + DESCRIBE_MAX_IDS >= page.totalCount) return out;
    }
  }

  async startInstance(params: TargetParams): Promise<void> {
    await this.call("StartCompShareInstance", params);
  }

  /** `Force` is needed for Spot instances. */
  async stopInstance(params: StopParams): Promise<void> {
    await this.call("StopCompShareInstance", params);
  }

  async rebootInstance(params: TargetParams): Promise<void> {
    await this.call("RebootCompShareInstance", params);
  }

  /** The instance must be Stopped (or `Install Fail`). */
  async terminateInstance(params: TerminateParams): Promise<void> {
    await this.call("TerminateCompShareInstance", params);
  }

  async modifyInstanceName(params: ModifyNameParams): Promise<void> {
    await this.call("ModifyCompShareInstanceName", params);
  }

  /** Changes GPU count, vCPUs and memory (MB) together; the instance must be Stopped and stays Stopped. */
  async resizeInstance(params: ResizeParams): Promise<void> {
    await this.call("ResizeCompShareInstance", params);
  }

  /** Schedules a stop at `StopTime` (Unix seconds, ≥ 300 s ahead); a later call moves it. Not for Spot. */
  async updateStopScheduler(params: StopSchedulerParams): Promise<void> {
    await this.call("UpdateCompShareStopScheduler", params);
  }

  async deleteStopScheduler(params: DeleteStopSchedulerParams): Promise<void> {
    await this.call("DeleteCompShareStopScheduler", params);
  }

  // ---- catalogue ------------------------------------------------------------------

  /** The regions the account may use (GetRegion, gateway-wide): each once, in the order listed. */
  async describeRegions(): Promise<string[]> {
    const res = await this.callParsed("GetRegion", {}, regionsResponseSchema);
    return [...new Set(res.Regions.map((r) => r.Region))];
  }

  /** The zones of a region that offer CompShare. */
  async describeSupportZones(params: { Region: string }): Promise<SupportZone[]> {
    const res = await this.callParsed("DescribeCompShareSupportZone", params, supportZoneResponseSchema);
    return res.ZoneInfo;
  }

  /** One page of platform images (`System` by default, or `App`). */
  async describeImages(params: ImagesParams): Promise<{ totalCount: number; images: ApiImage[] }> {
    const res = await this.callParsed("DescribeCompShareImages", params, imagesResponseSchema);
    return { totalCount: res.TotalCount ?? res.ImageSet.length, images: res.ImageSet };
  }

  /** One page of the account's own images in the zone. */
  async describeCustomImages(params: ZoneImagesParams): Promise<{ totalCount: number; images: ApiImage[] }> {
    const { Name, Author, Tag, ...rest } = params;
    void Name, void Author, void Tag;
    const res = await this.callParsed("DescribeCompShareCustomImages", rest, imagesResponseSchema);
    return { totalCount: res.TotalCount ?? res.ImageSet.length, images: res.ImageSet };
  }

  /** One page of community images in the zone. */
  async describeCommunityImages(params: ZoneImagesParams): Promise<{ totalCount: number; images: ApiImage[] }> {
    const res = await this.callParsed("DescribeCommunityImages", params, imagesResponseSchema);
    return { totalCount: res.TotalCount ?? res.ImageSet.length, images: res.ImageSet };
  }

  /**
   * Every image of a kind, 100 a page until a short page or the total. CompShare was seen
   * refusing `Limit` on DescribeCompShareImages with 230 (the reference notes, §3.2): then the
   * pages are asked for without it, at the default size of 20.
   */
  async allImages(
    page: (p: { Offset: number; Limit?: number }) => Promise<{ totalCount: number; images: ApiImage[] }>,
  ): Promise<ApiImage[]> {
    const out: ApiImage[] = [];
    let size: number | undefined = 100;
    for (let offset = 0; ; ) {
      let answer;
      try {
        answer = await page({ Offset: offset, ...(size !== undefined && { Limit: size }) });
      } catch (e) {
        if (size !== undefined && e instanceof ValidationError && e.code === "230" && /\bLimit\b/.test(e.message)) {
          size = undefined;
          continue;
        }
        throw e;
      }
      out.push(...answer.images);
      const step = size ?? 20;
      offset += answer.images.length;
      if (answer.images.length === 0 || answer.images.length < step || offset >= answer.totalCount) return out;
    }
  }

  /** One entry per legal GPU/CPU/memory combination of the type; `Mem` is in GB. */
  async checkResourceCapacity(params: CapacityParams): Promise<CapacitySpec[]> {
    const res = await this.callParsed("CheckCompShareResourceCapacity", params, capacityResponseSchema);
    return res.Specs;
  }

  async describeAvailableInstanceTypes(params: AvailableTypesParams): Promise<AvailableType[]> {
    const res = await this.callParsed("DescribeAvailableCompShareInstanceTypes", params, availableTypesResponseSchema);
    return res.AvailableInstanceTypes;
  }

  async getInstancePrice(params: PriceParams): Promise<PriceDetail[]> {
    const res = await this.callParsed("GetCompShareInstancePrice", params, priceResponseSchema);
    return res.details;
  }

  // ---- plumbing -------------------------------------------------------------------

  /**
   * The request for an action: parameters flattened and stringified once, `Action`,
   * `PublicKey` and (when configured) `ProjectId` added, signed, and URL-encoded from the
   * very same map.
   */
  signedRequest(action: string, params: Params = {}): SignedRequest {
    const withCommon: Params = {
      ...(this.projectId !== undefined && { ProjectId: this.projectId }),
      ...params,
      Action: action,
      PublicKey: this.publicKey,
    };
    const flat = flatten(withCommon);
    delete flat.Signature;
    const fields = { ...flat, Signature: sign(flat, this.privateKey) };
    return { fields, body: formEncode(fields) };
  }

  /** One action; returns the whole answer when `RetCode` is 0, else throws a typed error. */
  async call(action: string, params: Params = {}, opts: CallOptions = {}): Promise<Envelope> {
    const idempotent = opts.idempotent ?? isReadAction(action);
    const { body } = this.signedRequest(action, params);
    return this.transport.send(
      {
        method: "POST",
        path: "/",
        operation: action,
        idempotent,
        timeoutMs: opts.timeoutMs,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body,
      },
      (res) => this.interpret(res, action, idempotent),
    );
  }

  private async callParsed<S extends z.ZodType>(action: string, params: Params, schema: S, opts?: CallOptions): Promise<z.infer<S>> {
    const res = await this.call(action, params, opts);
    const parsed = schema.safeParse(res);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ServerError(`unexpected response shape: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`, {
        cloud: "compshare",
        operation: action,
      });
    }
    return parsed.data;
  }

  private interpret(res: RawResponse, action: string, idempotent: boolean): Envelope {
    const details: ErrorDetails = {
      cloud: "compshare",
      operation: action,
      status: res.status,
      requestId: res.requestId,
      retryAfterSeconds: res.retryAfterSeconds,
    };
    if (res.status < 200 || res.status >= 300) throw this.httpError(res, details, idempotent);
    const envelope = envelopeSchema.safeParse(parseJson(res.text));
    if (!envelope.success) {
      // No envelope: not a CompShare gateway, or a broken answer. Its outcome is unknown.
      // Redact before cutting to length: a cut through a key leaves a piece no redaction finds.
      throw new ServerError(`answer without a RetCode envelope: ${this.redact(res.text).slice(0, 200) || "(empty)"}`, {
        ...details,
        mayHaveSucceeded: !idempotent,
        hint: "Check compshare:baseUrl (or COMPSHARE_BASE_URL)",
      });
    }
    const retCode = envelope.data.RetCode;
    if (retCode === 0) return envelope.data;
    throw this.retCodeError(retCode, this.redact(envelope.data.Message || `RetCode ${retCode}`), details, idempotent);
  }

  private retCodeError(retCode: number, message: string, base: ErrorDetails, idempotent: boolean): GpuCloudError {
    const details: ErrorDetails = { ...base, code: String(retCode) };
    if (retCode >= 170 && retCode <= 174) return new AuthenticationError(message, { ...details, hint: CREDENTIALS_HINT });
    // Throttled: the gateway refused before running the action, so even a create may be sent again.
    if (retCode === 153) return new RateLimitError(message, details);
    const mapped = BY_RETCODE[retCode];
    if (mapped) return new mapped[0](message, { ...details, hint: mapped[1] });
    if (retCode === 150 || retCode === 110 || retCode === 130) {
      // "Unavailable" / gateway timeout / gateway failure: transient, and after a mutating
      // action we cannot tell whether it ran.
      return new ServerError(message, { ...details, mayHaveSucceeded: !idempotent });
    }
    return new GpuCloudError(message, details);
  }

  private httpError(res: RawResponse, details: ErrorDetails, idempotent: boolean): GpuCloudError {
    const envelope = envelopeSchema.safeParse(parseJson(res.text));
    const message = this.redact((envelope.success ? envelope.data.Message : undefined) || this.redact(res.text).slice(0, 200) || `HTTP ${res.status}`);
    const withCode = envelope.success ? { ...details, code: String(envelope.data.RetCode) } : details;
    if (res.status === 429) return new RateLimitError(message, withCode);
    if (res.status >= 500) return new ServerError(message, { ...withCode, mayHaveSucceeded: !idempotent });
    if (res.status === 401) return new AuthenticationError(message, { ...withCode, hint: CREDENTIALS_HINT });
    if (res.status === 403) return new PermissionError(message, withCode);
    return new ValidationError(message, { ...withCode, hint: "Check compshare:baseUrl (or COMPSHARE_BASE_URL)" });
  }

  private redact(text: string): string {
    return this.transport.redactor.redact(text);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

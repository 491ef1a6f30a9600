// UCloud CompShare emulation, split as moto splits a service: model.ts holds state and the
// cloud's rules, actions.ts reads parameters (schemas.ts) and shapes answers, catalogue.ts is
// the data, and this file is the gateway: route by Action, check the signature
// (signature.ts), wrap every answer in the `{Action, RetCode, Message}` envelope. Written from
// the reference notes and the Go SDK's types, never from our client.

import type { CloudService, FaultRule, Reply, ResolvedRoute } from "../types";
import { actions } from "./actions";
import { CompShareApiError, type CompShareModel, RET } from "./model";
import { expectedSignature, type ParsedRequest, parseRequest } from "./signature";

export { CompShareApiError, CompShareModel, RET, type CompShareInstanceRecord, type CompShareState, type CompShareTimings } from "./model";

export interface CompShareKeys {
  publicKey: string;
  privateKey: string;
}

const FAULT_MESSAGES: Record<number, string> = {
  150: "Service temporarily unavailable",
  153: "Request throttled, please retry later",
  [RET.soldOut]: "Resource not enough",
  [RET.quota]: "Quota exceeded",
  [RET.operationInProgress]: "InstanceOperationInProgress",
};

const envelope = (action: string, retCode: number, message: string, extra: Record<string, unknown> = {}) => ({
  ...extra,
  Action: `${action}Response`,
  RetCode: retCode,
  ...(message && { Message: message }),
});

export function createCompShareService(model: CompShareModel, keys: CompShareKeys): CloudService {
  const table = actions(model);
  const privateKeyOf = (publicKey: string) => (publicKey === keys.publicKey ? keys.privateKey : undefined);

  function run(action: string, parsed: ParsedRequest): Reply {
    const fail = (retCode: number, message: string): Reply => ({ status: 200, body: envelope(action, retCode, message) });
    if (parsed.malformed) return fail(RET.invalidParam, parsed.malformed);
    if (!action) return fail(RET.missingAction, "Missing Action");
    // The gateway routes by Action before it authenticates: an unknown Action is 161 even unsigned.
    const handler = table[action];
    if (!handler) return fail(RET.unknownAction, `Action [${action}] not found`);
    const signature = parsed.params.get("Signature");
    if (!signature) return fail(RET.missingSignature, "Missing signature");
    const privateKey = privateKeyOf(parsed.params.get("PublicKey") ?? "");
    if (privateKey === undefined) return fail(RET.unknownUser, "User Not Exists");
    if (signature.toLowerCase() !== expectedSignature(parsed.signed, privateKey)) return fail(RET.badSignature, "Signature VerifyAC Error");
    try {
      return { status: 200, body: envelope(action, 0, "", handler(parsed.params)) };
    } catch (err) {
      if (err instanceof CompShareApiError) return fail(err.retCode, err.message);
      throw err;
    }
  }

  return {
    cloud: "compshare",
    resolve(req): ResolvedRoute | undefined {
      if (req.pathname !== "/") return undefined;
      if (req.method !== "POST" && !(req.method === "GET" && req.query.has("Action"))) return undefined;
      const parsed = parseRequest(req);
      const action = parsed.params.get("Action") ?? "";
      return { route: `${req.method} /`, action, handle: () => run(action, parsed) };
    },
    injectedReply(rule: FaultRule, action?: string): Reply | undefined {
      const act = action ?? "";
      if (rule.status !== undefined) {
        const retCode = rule.retCode ?? (rule.status >= 500 ? 150 : rule.status);
        return { status: rule.status, body: rule.body ?? envelope(act, retCode, rule.message ?? "injected fault") };
      }
      if (rule.retCode !== undefined) {
        return {
          status: 200,
          body: rule.body ?? envelope(act, rule.retCode, rule.message ?? FAULT_MESSAGES[rule.retCode] ?? "injected fault"),
        };
      }
      return undefined;
    },
  };
}

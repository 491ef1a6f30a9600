/**
 * One CompShare client and one poller per account (base URL + key pair + project) per
 * provider process. Each poll tick is one DescribeCompShareInstance per region carrying up
 * to 100 `UHostIds.N`, however many resources are waiting: 5 waiters cost one request, 250
 * cost three.
 */
import { createHash } from "node:crypto";
import { CredentialsError } from "../core/errors";
import { progress, type Settings, settings } from "../core/provider";
import { type Observed, Poller, pollerOptionsFromEnv } from "../core/wait";
import { COMPSHARE_DEFAULT_BASE_URL, CompShareClient, type CompShareClientOptions, DESCRIBE_MAX_IDS } from "./client";
import type { ApiInstance } from "./schemas";

export interface CompShareSession {
  client: CompShareClient;
  instances: Poller<ApiInstance>;
  /** Tells the poller which region to describe an id in (Describe is per region). */
  track(id: string, region: string): void;
}

const sessions = new Map<string, CompShareSession>();

/**
 * The account's key pair, project and base URL from stack config, then the environment; the
 * provider reads them from its own settings, a program-side look-up from `lookupSettings()`.
 */
export function compShareClientOptions(from: Settings = settings): CompShareClientOptions & { baseUrl: string } {
  const publicKey = from.get("compshare:publicKey", "COMPSHARE_PUBLIC_KEY");
  const privateKey = from.get("compshare:privateKey", "COMPSHARE_PRIVATE_KEY");
  const projectId = from.get("compshare:projectId", "COMPSHARE_PROJECT_ID");
  const baseUrl = from.get("compshare:baseUrl", "COMPSHARE_BASE_URL") ?? COMPSHARE_DEFAULT_BASE_URL;
  if (!publicKey || !privateKey) {
    const missing = [!publicKey && "public key", !privateKey && "private key"].filter(Boolean).join(" and ");
    throw new CredentialsError(`no ${missing}`, {
      cloud: "compshare",
      hint:
        "Set them with `pulumi config set compshare:publicKey <key>` and `pulumi config set --secret compshare:privateKey <key>`, " +
        "or the environment variables COMPSHARE_PUBLIC_KEY and COMPSHARE_PRIVATE_KEY",
    });
  }
  return { publicKey, privateKey, projectId, baseUrl };
}

export function compShareSession(from: Settings = settings): CompShareSession {
  const { publicKey, privateKey, projectId, baseUrl } = compShareClientOptions(from);
  const key = [baseUrl, publicKey, createHash("sha256").update(privateKey).digest("hex"), projectId ?? ""].join("\0");
  let session = sessions.get(key);
  if (!session) {
    const client = new CompShareClient({ publicKey, privateKey, projectId, baseUrl, log: progress });
    const regions = new Map<string, string>();
    const instances = new Poller<ApiInstance>(
      { fetch: (ids) => describeTick(client, regions, ids), cost: (ids) => describeCalls(regions, ids) },
      {
        name: "compshare instances",
        throttledForMs: () => client.transport.throttledForMs,
        throttles: () => client.transport.throttleCount,
        ...pollerOptionsFromEnv(),
      },
    );
    session = { client, instances, track: (id, region) => regions.set(id, region) };
    sessions.set(key, session);
  }
  return session;
}

function byRegion(regions: Map<string, string>, ids: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const region = regions.get(id) ?? "";
    groups.set(region, [...(groups.get(region) ?? []), id]);
  }
  return groups;
}

/** Describe calls a tick for these ids sends. */
function describeCalls(regions: Map<string, string>, ids: string[]): number {
  let calls = 0;
  for (const group of byRegion(regions, ids).values()) calls += Math.ceil(group.length / DESCRIBE_MAX_IDS);
  return calls;
}

/** One poll tick: the due ids grouped by region, each group described 100 ids per call. */
async function describeTick(client: CompShareClient, regions: Map<string, string>, ids: string[]): Promise<Map<string, Observed<ApiInstance>>> {
  const out = new Map<string, Observed<ApiInstance>>(ids.map((id) => [id, null]));
  await Promise.all(
    [...byRegion(regions, ids)].map(async ([region, group]) => {
      for (const found of await client.describeByIds(group, { Region: region || undefined })) out.set(found.UHostId, found);
    }),
  );
  return out;
}

/**
 * The instance as CompShare describes it now, from the tick shared with every read and wait
 * of the moment: a refresh of 100 instances in one region costs one Describe, not 100.
 * `null`: CompShare does not return it (Describe answers unknown ids with an empty set).
 */
export function readInstance(s: CompShareSession, id: string, region?: string): Promise<Observed<ApiInstance>> {
  if (region) s.track(id, region);
  return s.instances.read(id);
}

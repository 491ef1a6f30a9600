/**
 * One PPIO client and one poller per account (base URL + key) per provider process, so
 * every resource waiting on that account shares the poll ticks and the rate-limit pause.
 */
import { createHash } from "node:crypto";
import { CredentialsError, NotFoundError } from "../core/errors";
import { progress, settings } from "../core/provider";
import { type Observed, Poller, pollerOptionsFromEnv, type PollSource } from "../core/wait";
import { PPIO_DEFAULT_BASE_URL, PpioClient } from "./client";
import type { ApiEndpoint, ApiInstance } from "./schemas";

export interface PpioSession {
  client: PpioClient;
  instances: Poller<ApiInstance>;
  endpoints: Poller<ApiEndpoint>;
}

const sessions = new Map<string, PpioSession>();

/** Reads of one tick run at most this many at a time. */
const GET_CONCURRENCY = 8;

export function ppioSession(): PpioSession {
  const apiKey = settings.get("ppio:apiKey", "PPIO_API_KEY");
  const baseUrl = settings.get("ppio:baseUrl", "PPIO_BASE_URL") ?? PPIO_DEFAULT_BASE_URL;
  if (!apiKey) {
    throw new CredentialsError("no API key", {
      cloud: "ppio",
      hint: "Set it with `pulumi config set --secret ppio:apiKey <key>` or the environment variable PPIO_API_KEY",
    });
  }
  const key = `${baseUrl}\0${createHash("sha256").update(apiKey).digest("hex")}`;
  let session = sessions.get(key);
  if (!session) {
    const client = new PpioClient({ apiKey, baseUrl, log: progress });
    const instances = new Poller<ApiInstance>(
      listOrGet((id) => client.getInstance(id), () => client.listInstances({ pageSize: PAGE })),
      {
        name: "ppio instances",
        throttledForMs: () => client.transport.throttledForMs,
        throttles: () => client.transport.throttleCount,
        ...pollerOptionsFromEnv(),
      },
    );
    const endpoints = new Poller<ApiEndpoint>(
      listOrGet((id) => client.getEndpoint(id), () => client.listEndpoints({ pageSize: PAGE })),
      {
        name: "ppio endpoints",
        throttledForMs: () => client.transport.throttledForMs,
        throttles: () => client.transport.throttleCount,
        ...pollerOptionsFromEnv(),
      },
    );
    session = { client, instances, endpoints };
    sessions.set(key, session);
  }
  return session;
}

const PAGE = 100;

/**
 * A poll source that, each tick, takes whichever costs fewer requests: one GET per id, or
 * the account's list (cursor-paged, 100 a page; the cost is learnt from the last listing).
 * Ids absent from a listing are confirmed by GET, so an object not yet listed is never
 * taken for a deleted one.
 */
export function listOrGet<S extends { id: string }>(
  get: (id: string) => Promise<S>,
  list: () => Promise<S[]>,
): PollSource<S> {
  let pages = 1;
  return {
    cost: (ids) => Math.min(ids.length, pages),
    async fetch(ids) {
      if (ids.length <= pages) return fetchEach(ids, get);
      const listed = await list();
      pages = Math.max(1, Math.ceil(listed.length / PAGE));
      const wanted = new Set(ids);
      const out = new Map<string, Observed<S>>();
      for (const item of listed) if (wanted.has(item.id)) out.set(item.id, item);
      const missing = ids.filter((id) => !out.has(id));
      if (missing.length > 0) for (const [id, s] of await fetchEach(missing, get)) out.set(id, s);
      return out;
    },
  };
}

/** GETs each id with bounded concurrency; ids PPIO no longer knows map to null. */
export async function fetchEach<S>(ids: string[], get: (id: string) => Promise<S>): Promise<Map<string, Observed<S>>> {
  const out = new Map<string, Observed<S>>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        out.set(id, await get(id));
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        out.set(id, null);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(GET_CONCURRENCY, ids.length) }, worker));
  return out;
}

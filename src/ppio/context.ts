/**
 * One PPIO client and one poller per account (base URL + key) per provider process, so
 * every resource waiting on that account shares the poll ticks and the rate-limit pause.
 */
import { createHash } from "node:crypto";
import { CredentialsError, NotFoundError } from "../core/errors";
import { progress, settings } from "../core/provider";
import { type Observed, Poller } from "../core/wait";
import { PPIO_DEFAULT_BASE_URL, PpioClient } from "./client";
import type { ApiInstance } from "./schemas";

export interface PpioSession {
  client: PpioClient;
  instances: Poller<ApiInstance>;
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
      { fetch: (ids) => fetchEach(ids, (id) => client.getInstance(id)) },
      { throttledForMs: () => client.transport.throttledForMs, ...pollerTuning() },
    );
    session = { client, instances };
    sessions.set(key, session);
  }
  return session;
}

/** Test and benchmark knob: GPU_CLOUD_POLL_MIN_MS shortens the first poll (default 500 ms). */
export function pollerTuning(): { minIntervalMs?: number } {
  const min = Number(process.env.GPU_CLOUD_POLL_MIN_MS);
  return Number.isFinite(min) && min > 0 ? { minIntervalMs: min } : {};
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

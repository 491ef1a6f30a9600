/**
 * One PPIO client and one poller per account (base URL + key) per provider process, so
 * every resource waiting on that account shares the poll ticks and the rate-limit pause.
 */
import { createHash } from "node:crypto";
import { CredentialsError, NotFoundError } from "../core/errors";
import { progress, type Settings, settings } from "../core/provider";
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

/** The API key and base URL: stack config (`ppio:apiKey`, `ppio:baseUrl`), then the environment. */
export function ppioCredentials(from: Settings = settings): { apiKey: string; baseUrl: string } {
  const apiKey = from.get("ppio:apiKey", "PPIO_API_KEY");
  const baseUrl = from.get("ppio:baseUrl", "PPIO_BASE_URL") ?? PPIO_DEFAULT_BASE_URL;
  if (!apiKey) {
    throw new CredentialsError("no API key", {
      cloud: "ppio",
      hint: "Set it with `pulumi config set --secret ppio:apiKey <key>` or the environment variable PPIO_API_KEY",
    });
  }
  return { apiKey, baseUrl };
}

/** The session of the account `from` names (the provider's settings unless given). */
export function ppioSession(from: Settings = settings): PpioSession {
  const { apiKey, baseUrl } = ppioCredentials(from);
  const key = `${baseUrl}\0${createHash("sha256").update(apiKey).digest("hex")}`;
  let session = sessions.get(key);
  if (!session) {
    const client = new PpioClient({ apiKey, baseUrl, log: progress });
    const instances = new Poller<ApiInstance>(
      listOrGet((id) => client.getInstance(id), () => client.listInstances({ pageSize: PAGE }), instanceRemoved),
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
 * A deleted instance may stay listed (and readable) with status `removed` for a while
 * (ppio-api.md §10): it is gone all the same, for reads and for waits.
 */
const instanceRemoved = (i: ApiInstance) => i.status.status === "removed";

/**
 * A poll source that, each tick, takes whichever costs fewer requests: one GET per id, or
 * the account's list (cursor-paged, 100 a page; the cost is learnt from the last listing).
 * An id absent from a listing is confirmed by GET, so an object not yet listed is never
 * taken for a deleted one, unless the previous listing showed it and it is not a read's:
 * an object the list showed and no longer shows was deleted (inferred: the list returns
 * every instance of the account), which lets a fleet's delete waits end without one GET
 * each. A read always confirms, since its `null` drops the object from the stack. Records
 * `gone` says are deleted map to `null`, as unknown ids do.
 */
export function listOrGet<S extends { id: string }>(
  get: (id: string) => Promise<S>,
  list: () => Promise<S[]>,
  gone: (s: S) => boolean = () => false,
): PollSource<S> {
  let pages = 1;
  let lastListed = new Set<string>();
  const seen = (s: Observed<S>) => (s && gone(s) ? null : s);
  return {
    cost: (ids) => Math.min(ids.length, pages),
    async fetch(ids, reads = new Set()) {
      const out = new Map<string, Observed<S>>();
      if (ids.length <= pages) {
        for (const [id, s] of await fetchEach(ids, get)) out.set(id, seen(s));
        return out;
      }
      const listed = await list();
      pages = Math.max(1, Math.ceil(listed.length / PAGE));
      const before = lastListed;
      lastListed = new Set(listed.map((item) => item.id));
      const wanted = new Set(ids);
      for (const item of listed) if (wanted.has(item.id)) out.set(item.id, seen(item));
      for (const id of ids) if (!out.has(id) && before.has(id) && !reads.has(id)) out.set(id, null);
      const missing = ids.filter((id) => !out.has(id));
      if (missing.length > 0) for (const [id, s] of await fetchEach(missing, get)) out.set(id, seen(s));
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

/** What a previous read or create recorded about an instance (its outputs). */
type Recorded = Record<string, unknown>;

/**
 * The instance for a `read`: from the poll shared with every read and wait of the moment
 * (one list page per 100 instances), and a GET of its own only for what only GET returns.
 * List items leave out `tools` (ppio-api.md §2). The SSH port and password are assigned to
 * an instance once [3P] and the proxy host names its region, so while the instance shows
 * the status and region recorded with them, the recorded connection details still hold
 * (inferred: no source says when PPIO reassigns them). When nothing was recorded (an
 * import, an instance created stopped) or the status or region moved, GET reads them anew.
 */
export async function readInstance(s: PpioSession, id: string, recorded: Recorded): Promise<ApiInstance | null> {
  const sshCommand = typeof recorded.sshCommand === "string" ? recorded.sshCommand : "";
  const get = async () => {
    const live = await s.client.findInstance(id);
    return live && !instanceRemoved(live) ? live : null;
  };
  if (!sshCommand) return get();
  const live = await s.instances.read(id);
  if (!live || live.tools) return live;
  if (live.status.status !== recorded.status || live.region !== recorded.region) return get();
  const text = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  const jupyterUrl = text(recorded.jupyterUrl);
  const webTerminalUrl = text(recorded.webTerminalUrl);
  const instanceLog = text(recorded.instanceLogUrl);
  const systemLog = text(recorded.systemLogUrl);
  return {
    ...live,
    tools: {
      ssh: { command: sshCommand, username: undefined, password: text(recorded.sshPassword) },
      jupyter: jupyterUrl ? { endpoint: jupyterUrl, enabled: true, port: undefined } : undefined,
      web_terminal: webTerminalUrl ? { endpoint: webTerminalUrl, enabled: true } : undefined,
      log: instanceLog || systemLog ? { instance_endpoint: instanceLog, system_endpoint: systemLog } : undefined,
    },
  };
}

/** The endpoint for a `read`, from the shared poll (List and GET return the same object). */
export function readEndpoint(s: PpioSession, id: string): Promise<ApiEndpoint | null> {
  return s.endpoints.read(id);
}

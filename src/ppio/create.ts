/**
 * The one way a PPIO create POST is sent (invariants 2 and 10). PPIO has no idempotency key,
 * so the object is found by what the create wrote into it:
 *
 * - before the POST, an object carrying this resource's marker (an env var) is one that a
 *   killed `pulumi up` made: it is adopted, nothing is bought;
 * - after an ambiguous failure (lost response, timeout, 5xx) the same lookup runs before
 *   anything else, and the POST is sent again only once it proved that nothing was made.
 *
 * Without a marker (inputs from an older release, direct provider calls) the lookup after an
 * ambiguous failure matches by the unique name instead, as before.
 */
import { assertEngineAlive, watchEngine } from "../core/engine";
import { GpuCloudError } from "../core/errors";
import { progress } from "../core/provider";

export interface CreateOnce<T extends { id: string; created_at?: number | string }> {
  /** `instance` or `endpoint`, as progress lines and errors name it. */
  noun: string;
  /** The name the create carries; the list filter. */
  name: string;
  /** The POST, named in errors: `POST /gpus/v2/instances`. */
  operation: string;
  send(): Promise<string>;
  /** Candidates from a list call narrowed by name (PPIO's filters are fuzzy). */
  list(): Promise<T[]>;
  /** Without a marker: whether a candidate matches what the lost request asked for. */
  isOurs(item: T): boolean;
  /** The marker the create writes into the object (see core/identity.ts). */
  marker?: string;
  /** The marker a candidate carries (may ask the cloud when a list item lacks its env vars). */
  markerOf(item: T): Promise<string | undefined>;
  /** Objects on their way out are never adopted. */
  leaving(item: T): boolean;
  /** False for the ids the state records for this resource: a replacement never adopts the live object. */
  mayAdopt(id: string): boolean;
}

/** A create older than this cannot have come from the request just sent. */
const RECENT_MS = 10 * 60_000;

async function carriers<T extends { id: string; created_at?: number | string }>(c: CreateOnce<T>): Promise<T[]> {
  const found: T[] = [];
  for (const item of await c.list()) {
    if (c.leaving(item) || !c.mayAdopt(item.id)) continue;
    if ((await c.markerOf(item)) === c.marker) found.push(item);
  }
  return found;
}

function adopt<T extends { id: string }>(kind: string, c: CreateOnce<T & { created_at?: number | string }>, found: T[], why: string): string {
  if (found.length > 1) {
    progress(`${kind} "${c.name}": ${found.length} ${c.noun}s carry this resource's marker; adopting ${found[0].id}, check ${found.slice(1).map((i) => i.id).join(", ")}`);
  }
  progress(`${kind} "${c.name}": found ${found[0].id}; adopting it (${why})`);
  return found[0].id;
}

/**
 * Adopts the object a killed run made, if any (`resumed`: it may be in any state); else sends the create; if its outcome is
 * unknown, adopts the object if the lookup finds it, and sends again only once the lookup
 * proved that nothing was made.
 */
export async function createExactlyOnce<T extends { id: string; created_at?: number | string }>(
  c: CreateOnce<T>,
): Promise<{ id: string; resumed: boolean }> {
  const kind = `ppio ${c.noun}`;
  watchEngine(progress);
  if (c.marker) {
    let found: T[];
    try {
      found = await carriers(c);
    } catch (e) {
      throw new GpuCloudError(
        `could not look for an ${c.noun} left by an interrupted run before creating one (${(e as Error).message}); nothing was created`,
        { cloud: "ppio", operation: c.operation, hint: "Run pulumi up again", cause: e },
      );
    }
    if (found.length > 0) return { id: adopt(kind, c, found, "made for this resource by an interrupted `pulumi up`"), resumed: true };
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await assertEngineAlive(`the ${c.noun} create`);
    const sentAt = Date.now();
    try {
      return { id: await c.send(), resumed: false };
    } catch (e) {
      if (!(e instanceof GpuCloudError) || !e.mayHaveSucceeded) throw e;
      lastError = e;
      progress(`${kind} "${c.name}": create outcome unknown (${e.message}); looking it up by name`);
      let found: T[];
      try {
        found = c.marker
          ? await carriers(c)
          : (await c.list()).filter(
              (item) => c.isOurs(item) && (typeof item.created_at !== "number" || item.created_at * 1000 >= sentAt - RECENT_MS),
            );
      } catch (lookupError) {
        throw new GpuCloudError(
          `the create request's outcome is unknown and the lookup by name failed (${(lookupError as Error).message}); ` +
            `an ${c.noun} named "${c.name}" may exist`,
          { cloud: "ppio", operation: c.operation, hint: "Check the PPIO console before running pulumi up again", cause: e },
        );
      }
      if (found.length > 0) return { id: adopt(kind, c, found, "made by the request whose answer was lost"), resumed: false };
      progress(`${kind} "${c.name}": no ${c.noun} was made; sending the create again`);
    }
  }
  throw lastError;
}

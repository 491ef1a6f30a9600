/**
 * The one way a PPIO create POST is sent (invariant 2): at most once per proof that nothing
 * was made. PPIO has no idempotency key, so an ambiguous failure (lost response, timeout,
 * 5xx) is resolved by looking the object up by its unique name before anything else.
 */
import { GpuCloudError } from "../core/errors";
import { progress } from "../core/provider";

export interface CreateOnce<T extends { id: string; created_at?: number | string }> {
  /** `instance` or `endpoint`, as progress lines and errors name it. */
  noun: string;
  /** The unique name the create carries; the lookup key. */
  name: string;
  /** The POST, named in errors: `POST /gpus/v2/instances`. */
  operation: string;
  send(): Promise<string>;
  /** Candidates from a list call narrowed by name (PPIO's filters are fuzzy). */
  list(): Promise<T[]>;
  /** Whether a candidate matches what the lost request asked for. */
  isOurs(item: T): boolean;
}

/** A create older than this cannot have come from the request just sent. */
const RECENT_MS = 10 * 60_000;

/**
 * Sends the create; if its outcome is unknown, adopts the object if the lookup finds it,
 * and sends again only once the lookup proved that nothing was made.
 */
export async function createExactlyOnce<T extends { id: string; created_at?: number | string }>(c: CreateOnce<T>): Promise<string> {
  const kind = `ppio ${c.noun}`;
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const sentAt = Date.now();
    try {
      return await c.send();
    } catch (e) {
      if (!(e instanceof GpuCloudError) || !e.mayHaveSucceeded) throw e;
      lastError = e;
      progress(`${kind} "${c.name}": create outcome unknown (${e.message}); looking it up by name`);
      let found: T[];
      try {
        found = (await c.list()).filter(
          (item) => c.isOurs(item) && (typeof item.created_at !== "number" || item.created_at * 1000 >= sentAt - RECENT_MS),
        );
      } catch (lookupError) {
        throw new GpuCloudError(
          `the create request's outcome is unknown and the lookup by name failed (${(lookupError as Error).message}); ` +
            `an ${c.noun} named "${c.name}" may exist`,
          { cloud: "ppio", operation: c.operation, hint: "Check the PPIO console before running pulumi up again", cause: e },
        );
      }
      if (found.length > 0) {
        if (found.length > 1) {
          progress(
            `${kind} "${c.name}": ${found.length} ${c.noun}s carry this name; adopting ${found[0].id}, ` +
              `check ${found.slice(1).map((i) => i.id).join(", ")}`,
          );
        }
        progress(`${kind} "${c.name}": found ${found[0].id}; adopting it`);
        return found[0].id;
      }
      progress(`${kind} "${c.name}": no ${c.noun} was made; sending the create again`);
    }
  }
  throw lastError;
}

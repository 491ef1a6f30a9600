// Cursor paging, shared by every list call (ppio-api.md §1): `limit` and an opaque `cursor`
// in, `{data, next_cursor, has_more, total}` out. A cursor must survive deletions, so it carries
// the creation sequence number of the last item given rather than an offset or an id.

import { invalid } from "./errors";

export interface Page<T> {
  data: T[];
  next_cursor: string;
  has_more: boolean;
  /** Every match, across all pages (the real list answer carries it). */
  total: number;
}

const encodeCursor = (afterSeq: number) => Buffer.from(JSON.stringify({ after: afterSeq }), "utf8").toString("base64");

/** The sequence number a cursor continues after; 0 for the first page. */
export function afterSeq(cursor: string | undefined): number {
  if (!cursor) return 0;
  if (cursor.length <= 1024 && /^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) {
    try {
      const after = (JSON.parse(Buffer.from(cursor, "base64").toString("utf8")) as { after?: unknown } | null)?.after;
      if (typeof after === "number" && Number.isInteger(after) && after >= 0) return after;
    } catch {
      // not one of ours
    }
  }
  throw invalid("cursor: is not a cursor returned by this API");
}

/** One page of `matching` (in creation order) after the cursor's position. */
export function page<S extends { seq: number }, T>(matching: S[], cursor: string | undefined, limit: number, view: (s: S) => T): Page<T> {
  const after = afterSeq(cursor);
  const rest = matching.filter((s) => s.seq > after);
  const items = rest.slice(0, limit);
  const hasMore = rest.length > items.length;
  return {
    data: items.map(view),
    next_cursor: hasMore ? encodeCursor(items[items.length - 1].seq) : "",
    has_more: hasMore,
    total: matching.length,
  };
}

/**
 * Before a CompShare create: the instance a killed `pulumi up` made for this resource, found
 * by the marker at the end of its Remark (see core/identity.ts). Adopting it is what keeps a
 * rerun from buying a second GPU.
 */
import { GpuCloudError } from "../core/errors";
import { markerInRemark, mayAdopt } from "../core/identity";
import { progress, reasonOf } from "../core/provider";
import type { CompShareClient } from "./client";
import type { ApiInstance } from "./schemas";

/** States of an instance on its way out: never adopted. Inferred: CompShare documents no deleting state by name. */
const LEAVING = /delet|terminat|releas/i;

/**
 * How long one listing of a region serves the pre-create lookups that arrive after it. An
 * instance a killed run made existed before this provider process started, so any listing
 * the process takes shows it: the creates of a fleet, which the engine sends within a second
 * or two, can share one listing instead of each paging through the whole region (200 creates
 * cost 200 × 2 pages before). The bound keeps a listing from outliving the burst it served.
 * A listing older than this process's own last create for the marker looked for is never
 * used: that create may have made the very instance the lookup is for.
 */
export const LISTING_SHARED_MS = 2_000;

const listings = new WeakMap<CompShareClient, Map<string, { at: number; list: Promise<ApiInstance[]> }>>();

/** When this process last sent a create carrying each marker. */
const sentAt = new Map<string, number>();

/** Called right before a create carrying `marker` is sent. */
export function noteCreateSent(marker: string): void {
  sentAt.set(marker, Date.now());
}

/** Every instance of the region, from a listing started at most `LISTING_SHARED_MS` ago and after our last create for `marker`. */
function regionListing(client: CompShareClient, region: string, marker: string): Promise<ApiInstance[]> {
  let byRegion = listings.get(client);
  if (!byRegion) listings.set(client, (byRegion = new Map()));
  const now = Date.now();
  const recent = byRegion.get(region);
  const sent = sentAt.get(marker);
  if (recent && now - recent.at <= LISTING_SHARED_MS && (sent === undefined || recent.at > sent)) return recent.list;
  const list = client.describeAll({ Region: region });
  const entry = { at: now, list };
  byRegion.set(region, entry);
  // A failed listing is not shared: the next lookup asks again.
  list.catch(() => {
    if (byRegion.get(region) === entry) byRegion.delete(region);
  });
  return list;
}

/**
 * The instances in the region, in any of `zones` (every zone a candidate of the resource buys
 * in: a fallback may have moved it), whose Remark carries `marker`, that these inputs may adopt.
 */
export async function marked(client: CompShareClient, region: string, zones: readonly string[], marker: string, inputs: Record<string, unknown>): Promise<ApiInstance[]> {
  return (await regionListing(client, region, marker)).filter(
    (i) => markerInRemark(i.Remark) === marker && (!i.Zone || zones.includes(i.Zone)) && !LEAVING.test(i.State ?? "") && mayAdopt(inputs, i.UHostId),
  );
}

/** The instance an interrupted run left for this resource, or undefined. */
export async function leftBehind(
  client: CompShareClient,
  where: { region: string; zones: readonly string[]; name: string },
  marker: string,
  inputs: Record<string, unknown>,
): Promise<ApiInstance | undefined> {
  let found: ApiInstance[];
  try {
    found = await marked(client, where.region, where.zones, marker, inputs);
  } catch (e) {
    throw new GpuCloudError(
      `could not look for an instance left by an interrupted run before buying one (${reasonOf(e)}); nothing was bought`,
      { cloud: "compshare", operation: "DescribeCompShareInstance", hint: "Run pulumi up again", cause: e },
    );
  }
  if (found.length === 0) return undefined;
  const kind = "compshare instance";
  if (found.length > 1) {
    progress(`${kind} "${where.name}": ${found.length} instances carry this resource's marker; adopting ${found[0].UHostId}, check ${found.slice(1).map((i) => i.UHostId).join(", ")}`);
  }
  progress(`${kind} "${where.name}": found ${found[0].UHostId}; adopting it (made for this resource by an interrupted \`pulumi up\`)`);
  return found[0];
}

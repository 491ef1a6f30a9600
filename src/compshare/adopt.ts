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
 * The instances in the region, in any of `zones` (every zone a candidate of the resource buys
 * in: a fallback may have moved it), whose Remark carries `marker`, that these inputs may adopt.
 */
export async function marked(client: CompShareClient, region: string, zones: readonly string[], marker: string, inputs: Record<string, unknown>): Promise<ApiInstance[]> {
  return (await client.describeAll({ Region: region })).filter(
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

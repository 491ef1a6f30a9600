/**
 * CompShare's images of each kind, as the look-up and the unknown-image error list them:
 * platform images (`System` and `App`, DescribeCompShareImages), the account's own
 * (DescribeCompShareCustomImages) and community ones (DescribeCommunityImages), the last two
 * per zone.
 */
import type { CompShareClient } from "./client";
import type { ApiImage } from "./schemas";

export type CompShareImageKind = "system" | "custom" | "community";

/** Every image of the kind as CompShare lists it (no name filter). */
export async function listImages(client: CompShareClient, where: { region: string; zone?: string }, kind: CompShareImageKind, name?: string): Promise<ApiImage[]> {
  const { region, zone } = where;
  switch (kind) {
    case "system": {
      const of = (ImageType: string) => client.allImages((p) => client.describeImages({ Region: region, Zone: zone, ImageType, Name: name, ...p }));
      return [...(await of("System")), ...(await of("App"))];
    }
    case "custom":
      return client.allImages((p) => client.describeCustomImages({ Region: region, Zone: zone!, ...p }));
    case "community":
      return client.allImages((p) => client.describeCommunityImages({ Region: region, Zone: zone!, Name: name, ...p }));
  }
}


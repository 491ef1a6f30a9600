/**
 * Program-side look-ups of CompShare's catalogue: zones, images, instance types and prices.
 * They run in the Pulumi program (not the provider), read the credentials exactly as the
 * provider does (`compshare:publicKey`, … from stack config, then the environment) and close
 * their HTTP client after each call, so a program's process is never kept alive by them.
 */
import type * as pulumi from "@pulumi/pulumi";
import { GpuCloudError, ValidationError } from "../core/errors";
import { lookupSettings, outputOf, withClosed } from "../core/lookup";
import { CompShareClient } from "./client";
import { compShareClientOptions } from "./context";
import { type PriceQuote, type PriceShape, quotePrice } from "./price";
import { type CompShareImageKind, listImages } from "./images";
import type { ApiImage, AvailableType } from "./schemas";

export type { CompShareImageKind };

/** A fresh client from the look-up settings, closed when `run` settles; a missing key rejects, like any failure. */
const withClient = async <T>(run: (client: CompShareClient) => Promise<T>): Promise<T> =>
  withClosed(new CompShareClient(compShareClientOptions(lookupSettings())), run);

const argError = (fn: string, message: string, hint: string) => new ValidationError(`${fn}: ${message}`, { cloud: "compshare", operation: fn, hint });

// ---- zones ------------------------------------------------------------------------------

export interface GetCompShareZonesArgs {
  /** e.g. `cn-wlcb`. Omitted: every region the account has (GetRegion), those without CompShare left out. */
  region?: string;
}

export interface CompShareZone {
  region: string;
  /** e.g. `cn-wlcb-01`: the resource's `zone` input. */
  zone: string;
  /** CompShare's display name (`Describe`), e.g. 乌兰察布A. */
  name?: string;
  regionId?: number;
  zoneId?: number;
}

export interface GetCompShareZonesResult {
  region?: string;
  zones: CompShareZone[];
}

export async function getCompShareZones(args: GetCompShareZonesArgs = {}): Promise<GetCompShareZonesResult> {
  return withClient(async (client) => {
    let regions: string[];
    if (args.region) regions = [args.region];
    else {
      try {
        regions = await client.describeRegions();
      } catch (e) {
        throw new GpuCloudError(`getCompShareZones: could not list the account's regions (GetRegion: ${e instanceof Error ? e.message : String(e)})`, {
          cloud: "compshare",
          operation: "GetRegion",
          hint: 'Pass region, e.g. getCompShareZones({ region: "cn-wlcb" })',
          cause: e,
        });
      }
    }
    const zones: CompShareZone[] = [];
    for (const region of regions) {
      let found;
      try {
        found = await client.describeSupportZones({ Region: region });
      } catch (e) {
        // A region of the account without CompShare is refused as a bad parameter; only skip it when we listed the regions ourselves.
        if (!args.region && e instanceof ValidationError && e.code === "230") continue;
        throw e;
      }
      for (const z of found) {
        zones.push({ region: z.Region || region, zone: z.Zone, name: z.Describe || undefined, regionId: z.RegionId, zoneId: z.ZoneId });
      }
    }
    return { ...(args.region !== undefined && { region: args.region }), zones };
  });
}

// ---- images -----------------------------------------------------------------------------


export interface GetCompShareImagesArgs {
  region: string;
  /** Required for `custom` and `community`. */
  zone?: string;
  /** `system` (default): CompShare's platform images, `System` and `App`; `custom`: the account's own; `community`. */
  kind?: CompShareImageKind;
  /** Case-insensitive part of the name. */
  name?: string;
}

export interface CompShareImage {
  /** The resource's `compShareImageId`. */
  id: string;
  name: string;
  /** CompShare's `ImageType`: `System`, `App`, `Custom` or `Community`. */
  imageType?: string;
  /** CompShare's `Status`: only `Available` images can be bought. */
  status?: string;
  available: boolean;
  author?: string;
  description?: string;
  /** MB. */
  size?: number;
  /** CNY, 0 or absent for free images. */
  price?: number;
  tags: string[];
  framework?: string;
  frameworkVersion?: string;
  cudaVersion?: string;
}

export interface GetCompShareImagesResult {
  region: string;
  zone?: string;
  kind: CompShareImageKind;
  images: CompShareImage[];
}

const KINDS: readonly CompShareImageKind[] = ["system", "custom", "community"];

function imageOf(i: ApiImage): CompShareImage {
  const sw = i.Softwares;
  return {
    id: i.CompShareImageId,
    name: i.Name ?? i.CompShareImageId,
    imageType: i.ImageType,
    status: i.Status,
    available: i.Status === undefined || i.Status === "Available",
    author: i.Author || undefined,
    description: i.Description || undefined,
    size: i.Size,
    price: i.Price,
    tags: i.Tags,
    framework: sw?.Framework || undefined,
    frameworkVersion: sw?.FrameworkVersion || undefined,
    cudaVersion: sw?.CUDAVersion || undefined,
  };
}

export async function getCompShareImages(args: GetCompShareImagesArgs): Promise<GetCompShareImagesResult> {
  const fn = "getCompShareImages";
  const kind = args.kind ?? "system";
  if (!args.region) throw argError(fn, "region is required", 'e.g. getCompShareImages({ region: "cn-wlcb" })');
  if (!KINDS.includes(kind)) throw argError(fn, `kind must be one of ${KINDS.map((k) => `"${k}"`).join(", ")}, not ${JSON.stringify(kind)}`, 'Use kind: "system" (the default)');
  if (kind !== "system" && !args.zone) {
    throw argError(fn, `kind "${kind}" needs zone: CompShare lists ${kind} images per zone`, `Pass zone, e.g. getCompShareImages({ region: "${args.region}", zone: "${args.region}-01", kind: "${kind}" }); getCompShareZones lists the zones`);
  }
  const found = await withClient((client) => listImages(client, { region: args.region, zone: args.zone }, kind, args.name || undefined));
  // `Name` is a fuzzy match on CompShare's side; custom images take no name, so the filter runs here too.
  const wanted = args.name?.toLowerCase();
  const images = found.map(imageOf).filter((i) => !wanted || i.name.toLowerCase().includes(wanted));
  return { region: args.region, ...(args.zone !== undefined && { zone: args.zone }), kind, images };
}

// ---- instance types -----------------------------------------------------------------------

export interface GetCompShareInstanceTypesArgs {
  region: string;
  zone: string;
  /** Only this GPU type (CompShare's `MachineTypes.N` filter), e.g. `4090`. */
  gpuType?: string;
}

/** One GPU/CPU/memory combination CompShare sells in the zone. */
export interface CompShareInstanceType {
  gpuType: string;
  zone: string;
  gpu: number;
  cpu: number;
  /** GB, as CompShare's catalogue reports it. */
  memoryGb: number;
  /** MB, as the resource's `memory` input takes it. */
  memory: number;
  /** The GPU type's `Status`: `Normal`, `Beta`, `Soldout`, `Hidden` or a new word. */
  status?: string;
  /** False when CompShare reports the GPU type sold out in the zone. */
  inStock: boolean;
  /** Card memory, GB. */
  graphicsMemoryGb?: number;
  /** The `minimalCpuPlatform` values CompShare lists for the type, by vendor. */
  cpuPlatforms?: Record<string, string[]>;
}

export interface GetCompShareInstanceTypesResult {
  region: string;
  zone: string;
  gpuType?: string;
  types: CompShareInstanceType[];
}

const soldOut = (status: string | undefined) => !!status && /^sold\s*out$/i.test(status.trim());

/** Every legal combination of a type, flattened from `MachineSizes[].Collection[].Memory[]`. */
export function flattenTypes(types: AvailableType[], zone: string): CompShareInstanceType[] {
  return types.flatMap((t) =>
    t.MachineSizes.flatMap((size) =>
      size.Collection.flatMap((c) =>
        c.Memory.map((memoryGb) => ({
          gpuType: t.Name,
          zone: t.Zone || zone,
          gpu: size.Gpu,
          cpu: c.Cpu,
          memoryGb,
          memory: memoryGb * 1024,
          status: t.Status,
          inStock: !soldOut(t.Status),
          graphicsMemoryGb: t.GraphicsMemory?.Value,
          cpuPlatforms: t.CpuPlatforms,
        })),
      ),
    ),
  );
}

export async function getCompShareInstanceTypes(args: GetCompShareInstanceTypesArgs): Promise<GetCompShareInstanceTypesResult> {
  const fn = "getCompShareInstanceTypes";
  if (!args.region) throw argError(fn, "region is required", 'e.g. getCompShareInstanceTypes({ region: "cn-wlcb", zone: "cn-wlcb-01" })');
  if (!args.zone) throw argError(fn, "zone is required", "getCompShareZones lists the zones of a region");
  const found = await withClient((client) =>
    client.describeAvailableInstanceTypes({ Region: args.region, Zone: args.zone, MachineTypes: args.gpuType ? [args.gpuType] : undefined }),
  );
  const types = flattenTypes(
    found.filter((t) => (!t.Zone || t.Zone === args.zone) && (!args.gpuType || t.Name === args.gpuType)),
    args.zone,
  );
  return { region: args.region, zone: args.zone, ...(args.gpuType !== undefined && { gpuType: args.gpuType }), types };
}

// ---- price ----------------------------------------------------------------------------------

/**
 * The shape to price, spelt as the resource's inputs (`memory` in MB; `disks` as the `disks`
 * input; a paid `compShareImageId` adds its price per GPU-hour). `chargeType` is required
 * here: `Month`, `Day`, `Dynamic`, `Postpay`, `Spot`, or `Year`, which the quote also takes.
 */
export interface GetCompSharePriceArgs extends PriceShape {
  chargeType: string;
}

export type GetCompSharePriceResult = GetCompSharePriceArgs & PriceQuote;

export async function getCompSharePrice(args: GetCompSharePriceArgs): Promise<GetCompSharePriceResult> {
  const fn = "getCompSharePrice";
  for (const f of ["region", "zone", "gpuType", "chargeType"] as const) {
    if (!args[f]) throw argError(fn, `${f} is required`, "getCompShareInstanceTypes lists what a zone sells");
  }
  for (const f of ["gpu", "cpu", "memory"] as const) {
    if (!Number.isInteger(args[f]) || args[f] < 1) throw argError(fn, `${f} must be a whole number ≥ 1`, "memory is in MB, e.g. 65536 for 64 GB");
  }
  const quote = await withClient((client) => quotePrice(client, args));
  if (!quote) {
    throw new GpuCloudError(`${fn}: CompShare answered without a price for ${args.gpuType} × ${args.gpu} (${args.chargeType})`, {
      cloud: "compshare",
      operation: "GetCompShareInstancePrice",
    });
  }
  return { ...args, ...quote };
}

// ---- Output forms -------------------------------------------------------------------------

export const getCompShareZonesOutput: (args?: pulumi.Input<GetCompShareZonesArgs>) => pulumi.Output<GetCompShareZonesResult> = (args = {}) =>
  outputOf(getCompShareZones)(args);
export const getCompShareImagesOutput = outputOf(getCompShareImages);
export const getCompShareInstanceTypesOutput = outputOf(getCompShareInstanceTypes);
export const getCompSharePriceOutput = outputOf(getCompSharePrice);

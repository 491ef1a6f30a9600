/**
 * Look-ups for Pulumi programs: PPIO's products and regions, in Pulumi's `getX` /
 * `getXOutput` convention. They run in the program, read credentials as the providers do
 * (stack config `ppio:apiKey` / `ppio:baseUrl`, then `PPIO_API_KEY` / `PPIO_BASE_URL`), and
 * close their client when done, so no idle connection keeps the program alive.
 */
import type * as pulumi from "@pulumi/pulumi";
import { lookupSettings, outputOf, withClosed } from "../core/lookup";
import { PpioClient } from "./client";
import { ppioCredentials } from "./context";
import { type PpioProduct, toPpioProduct } from "./products";

export type { PpioProduct, PpioRawPrice } from "./products";

export interface GetPpioProductsArgs {
  /** `instance` (PpioInstance) or `serverless` (PpioEndpoint); both when omitted. */
  category?: "instance" | "serverless";
  /** `gpu` or `cpu` products; both when omitted (gpu only when `gpu` is given). */
  type?: "gpu" | "cpu";
  /** A GPU model to match, case-insensitively, in the GPU name, the product id or its name: `"4090"`, `"H100"`. */
  gpu?: string;
  /** Only products offered in this region. */
  regionId?: string;
  /** Only products that can be bought now. */
  availableOnly?: boolean;
}

/** The answer of {@link getPpioProducts}: the arguments it was asked with, and the products. */
export interface GetPpioProductsResult extends GetPpioProductsArgs {
  products: PpioProduct[];
}

/** The answer of {@link getPpioRegions}. */
export interface GetPpioRegionsResult {
  regions: PpioRegion[];
}

export interface PpioRegion {
  id: string;
  name: string;
  /** The GPU models offered there. */
  gpus: string[];
  /** Whether the region offers network volumes (`feature.network_volume`). */
  networkVolume?: boolean;
  /** Whether instances there may join a VPC (`feature.instance_vpc_network`). */
  instanceVpcNetwork?: boolean;
}

/** A fresh client from the look-up settings, closed when `use` settles; a missing key rejects, like any failure. */
const withClient = async <T>(use: (client: PpioClient) => Promise<T>): Promise<T> => withClosed(new PpioClient(ppioCredentials(lookupSettings())), use);

const matchesGpu = (p: PpioProduct, gpu: string) => {
  const want = gpu.toLowerCase();
  return [p.gpu, p.id, p.name].some((x) => x !== undefined && x.toLowerCase().includes(want));
};

/**
 * PPIO's products with their prices (`pricePerHour`: one GPU for one hour, pay-as-you-go, in
 * the account's currency), regions, bounds and availability, in the catalogue's order.
 */
export function getPpioProducts(args: GetPpioProductsArgs = {}): Promise<GetPpioProductsResult> {
  const categories = args.category ? [args.category] : (["instance", "serverless"] as const);
  const types = args.type ? [args.type] : args.gpu !== undefined ? (["gpu"] as const) : (["gpu", "cpu"] as const);
  return withClient(async (client) => {
    const out: PpioProduct[] = [];
    for (const category of categories) {
      for (const type of types) {
        const listed = await client.listProducts({ type, category, regionIds: args.regionId ? [args.regionId] : undefined });
        out.push(...listed.map(toPpioProduct));
      }
    }
    // The filters hold here too, whatever the server made of the query.
    const products = out.filter(
      (p) =>
        (!args.regionId || p.regionIds.length === 0 || p.regionIds.includes(args.regionId)) &&
        (args.gpu === undefined || matchesGpu(p, args.gpu)) &&
        (!args.availableOnly || p.available),
    );
    return { ...args, products };
  });
}

/** PPIO's public regions, with the GPU models each offers. */
export function getPpioRegions(): Promise<GetPpioRegionsResult> {
  return withClient(async (client) => ({
    regions: (await client.listRegions()).map((r) => ({
      id: r.id,
      name: r.name ?? r.id,
      gpus: r.gpus ?? [],
      networkVolume: r.feature?.network_volume,
      instanceVpcNetwork: r.feature?.instance_vpc_network,
    })),
  }));
}

/** {@link getPpioProducts} with Output arguments and an Output answer. */
export const getPpioProductsOutput = (args: pulumi.Input<GetPpioProductsArgs> = {}): pulumi.Output<GetPpioProductsResult> =>
  outputOf(getPpioProducts)(args);

/** {@link getPpioRegions} as an Output. */
export const getPpioRegionsOutput = (): pulumi.Output<GetPpioRegionsResult> => outputOf((_: object) => getPpioRegions())({});

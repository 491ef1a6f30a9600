/**
 * PPIO's catalogue as this package shows it: products read from `GET /gpus/v2/products`
 * (ppio-api.md §6.1) in camelCase with prices as numbers, and the questions the providers
 * ask of it at create (what one hour of a candidate costs; which ids are near an unknown
 * one). No Pulumi import: the runtime providers load this.
 */
import { CapacityError, GpuCloudError, QuotaError, ValidationError } from "../core/errors";
import { isRefusal } from "../core/choose";
import { listChoices, nearest } from "../core/suggest";
import type { PpioClient } from "./client";
import type { ApiProduct } from "./schemas";

/** A price as the API gives it: an integer in units of 10^-precision, per `unit`. */
export interface PpioRawPrice {
  /** `final_price`, the price after discounts, as sent. */
  value: number;
  /** `base_price`, the list price, as sent. */
  baseValue?: number;
  precision: number;
  /** `per_hour` in the docs' example. */
  unit?: string;
}

export interface PpioProduct {
  id: string;
  name: string;
  /** `gpu` or `cpu`. */
  type?: string;
  /** `instance` or `serverless`. */
  category?: string;
  /** The GPU model, e.g. `RTX 4090` (`resource_spec.gpu.name`); undefined for a cpu product. */
  gpu?: string;
  gpuMemoryGb?: number;
  /** vCPUs (per GPU for a gpu product, as the catalogue lists them). */
  cpu?: number;
  memoryGb?: number;
  /** Pay-as-you-go price of one GPU for one hour (one instance, for a cpu product), in the account's currency. */
  pricePerHour?: number;
  /** The API's postpaid price that `pricePerHour` is read from. */
  price?: PpioRawPrice;
  /** Spot price of one GPU for one hour, when the product offers spot. */
  spotPricePerHour?: number;
  spotPrice?: PpioRawPrice;
  /** Regions where the product is offered (`region_ids`). */
  regionIds: string[];
  /** `postpaid`, `prepaid`, `spot`, as the product offers them. */
  billingMethods: string[];
  /** How many GPUs one instance of it may have (`resource_spec.gpu.min/max`). */
  gpuNum?: { min?: number; max?: number };
  /** Root filesystem bounds in GB (`resource_spec.rootfs`). */
  rootfsGb?: { min?: number; max?: number; free?: number };
  /** `inventory_state`: `none`, `low`, `normal`, `high`, or whatever PPIO sends. */
  inventoryState?: string;
  /** Whether it can be bought now: deployable, not out of stock, purchasable. */
  available: boolean;
}

type Mode = "postpaid" | "spot";

/** A price in the account's currency: the integer over 10^precision. */
function raw(p: ApiProduct, mode: Mode): PpioRawPrice | undefined {
  const price = p.pricing?.[mode];
  if (!price || price.final_price === undefined) return undefined;
  return { value: price.final_price, baseValue: price.base_price, precision: p.pricing?.precision ?? 0, unit: price.unit };
}

const amount = (r: PpioRawPrice | undefined) => (r ? r.value / 10 ** r.precision : undefined);

/** The hourly price of one GPU (one instance, cpu) in a billing mode; undefined when the catalogue does not say. */
export function hourlyPrice(p: ApiProduct, mode: Mode): number | undefined {
  const r = raw(p, mode);
  // Only a per-hour unit is read as hourly; a missing unit is taken as the docs' `per_hour` (inferred).
  if (!r || (r.unit !== undefined && r.unit !== "per_hour")) return undefined;
  return amount(r);
}

export function toPpioProduct(p: ApiProduct): PpioProduct {
  const gpu = p.resource_spec?.gpu;
  const rootfs = p.resource_spec?.rootfs;
  const price = raw(p, "postpaid");
  const spot = raw(p, "spot");
  const available =
    p.deployable !== false && p.inventory_state !== "none" && p.activity?.purchasable !== false && (gpu?.available === undefined || gpu.available > 0);
  return {
    id: p.id,
    name: p.name ?? p.id,
    type: p.type,
    category: p.category,
    gpu: gpu?.name,
    gpuMemoryGb: gpu?.memory_gb,
    cpu: p.resource_spec?.cpu,
    memoryGb: p.resource_spec?.memory_gb,
    pricePerHour: amount(price),
    price,
    spotPricePerHour: amount(spot),
    spotPrice: spot,
    regionIds: p.region_ids ?? [],
    billingMethods: p.billing_methods ?? [],
    gpuNum: gpu && { min: gpu.min, max: gpu.max },
    rootfsGb: rootfs && { min: rootfs.min_gb, max: rootfs.max_gb, free: rootfs.free_gb },
    inventoryState: p.inventory_state,
    available,
  };
}

/**
 * The products of one category, listed at most once per create: the price of each
 * candidate and the explanation of a refusal share one answer. A failed listing is
 * remembered as unknown (undefined), so it is not asked again either.
 */
export function productCatalogue(client: PpioClient, category: "instance" | "serverless", log: (line: string) => void) {
  const byType = new Map<string, Promise<ApiProduct[] | undefined>>();
  return (type: "gpu" | "cpu"): Promise<ApiProduct[] | undefined> => {
    let listed = byType.get(type);
    if (!listed) {
      listed = client.listProducts({ type, category }).catch((e) => {
        log(`ppio: could not list the ${category} products (${(e as Error).message})`);
        return undefined;
      });
      byType.set(type, listed);
    }
    return listed;
  };
}

/**
 * After the cloud refused a create: if the product it names is not in the catalogue, an
 * error naming `property` and the nearest products; else (or when the catalogue cannot be
 * read) the cloud's own error. Asked after any refusal but those about capacity, balance
 * or quota, since PPIO documents no reason for an unknown instance product (ppio-api.md §8.3).
 */
export async function explainUnknownProduct(
  e: unknown,
  o: { productId: string; property: string; list: () => Promise<ApiProduct[] | undefined> },
): Promise<unknown> {
  if (!isRefusal(e) || e instanceof CapacityError || e instanceof QuotaError) return e;
  const status = (e as GpuCloudError).status;
  if (status === undefined || status < 400 || status >= 500 || status === 401 || status === 403 || status === 429) return e;
  const products = await o.list().catch(() => undefined);
  if (!products || products.length === 0 || products.some((p) => p.id === o.productId)) return e;
  const near = nearest(
    o.productId,
    products.map((p) => ({ id: p.id, name: p.name })),
    3,
  );
  return new ValidationError(`unknown ${o.property} "${o.productId}"; nearest: ${listChoices(near)}`, {
    cloud: "ppio",
    operation: e.operation,
    status: e.status,
    code: e.code,
    requestId: e.requestId,
    hint: `Set ${o.property} to a product id from the catalogue (getPpioProducts lists them); nothing was created`,
    cause: e,
  });
}

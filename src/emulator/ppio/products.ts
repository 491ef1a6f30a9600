// The PPIO catalogue: products with prices, regions, and the stock each product has left.
// Data in products.json; the JSON form of an item follows ppio-api.md §6.1 (products) and
// §6.2 (regions). No HTTP here: the wire layer (wire.ts) parses the query and shapes nothing.

import { PpioApiError } from "./errors";
import data from "./products.json";

interface Price {
  base_price: number;
  final_price: number;
}

/** A product as products.json holds it. */
export interface ProductData {
  id: string;
  name: string;
  type: string;
  category: string;
  description: string;
  region_ids: string[];
  gpu?: { spec_id: string; name: string; memory_gb: number; min: number; max: number };
  cpu: number;
  memory_gb: number;
  rootfs: { min_gb: number; max_gb: number; free_gb: number };
  precision: number;
  postpaid: Price;
  spot?: Price;
  prepaid: Array<Price & { spec_id: string; duration_months: number }>;
  storage_price_per_gb: number;
  stock: number;
}

const products = data.products as ProductData[];

export interface ProductQuery {
  type: "gpu" | "cpu";
  category: "instance" | "serverless";
  region_ids?: string[];
  billing_method?: string;
  cpu?: number;
  memory_gb?: number;
  rootfs_size?: number;
}

const s = (n: number) => String(n);

/**
 * How the stock reads in `inventory_state` (the docs' example is `normal`; v1's enum is
 * `none|low|normal|high`, ppio-api.md §6.1). The thresholds are the emulator's own.
 */
function inventoryState(stock: number): string {
  if (stock <= 0) return "none";
  if (stock < 8) return "low";
  if (stock < 64) return "normal";
  return "high";
}

export class PpioCatalogue {
  private readonly stock = new Map<string, number>();

  constructor() {
    for (const p of products) this.stock.set(p.id, p.stock);
  }

  // ----- test-facing controls -----

  /** How many GPUs (instances, for a cpu product) of a product can still be placed; 0 sells it out. */
  setStock(productId: string, n: number): void {
    if (!this.stock.has(productId)) throw new Error(`PpioCatalogue.setStock: no product ${productId}`);
    this.stock.set(productId, Math.max(0, Math.floor(n)));
  }

  stockOf(productId: string): number | undefined {
    return this.stock.get(productId);
  }

  /** Every product id, as the catalogue lists them. */
  productIds(category?: "instance" | "serverless"): string[] {
    return products.filter((p) => !category || p.category === category).map((p) => p.id);
  }

  // ----- API operations -----

  product(id: string): ProductData | undefined {
    return products.find((p) => p.id === id);
  }

  /**
   * An instance create takes `units` of the product's stock, or is refused with
   * INSUFFICIENT_RESOURCE (the docs' "no capacity" reason, ppio-api.md §8.3). An unknown product
   * is refused with VALIDATOR_PARAM: no source names the reason PPIO gives an instance create
   * for an unknown product_id (inferred; the serverless create's documented one is
   * SERVERLESS_PRODUCT_NOT_FOUND).
   */
  takeForInstance(productId: string, units: number): void {
    const p = this.product(productId);
    if (!p || p.category !== "instance") throw new PpioApiError(400, "VALIDATOR_PARAM", `product_id: product ${productId} not found`);
    const left = this.stock.get(productId) ?? 0;
    if (left < units) {
      throw new PpioApiError(400, "INSUFFICIENT_RESOURCE", `insufficient resource for product ${productId}: ${left} available, ${units} requested`);
    }
    this.stock.set(productId, left - units);
  }

  /** A deleted instance gives its GPUs back. */
  giveBack(productId: string, units: number): void {
    const left = this.stock.get(productId);
    if (left !== undefined) this.stock.set(productId, left + units);
  }

  /** An endpoint names a serverless product (ppio-api.md §8.3: SERVERLESS_PRODUCT_NOT_FOUND). */
  assertServerless(productId: string): void {
    const p = this.product(productId);
    if (!p || p.category !== "serverless") {
      throw new PpioApiError(400, "SERVERLESS_PRODUCT_NOT_FOUND", `serverless product ${productId} not found`);
    }
  }

  list(q: ProductQuery): Record<string, unknown>[] {
    return products
      .filter((p) => p.type === q.type && p.category === q.category)
      .filter((p) => !q.region_ids || q.region_ids.length === 0 || p.region_ids.some((r) => q.region_ids!.includes(r)))
      .filter((p) => !q.billing_method || this.billingMethods(p).includes(q.billing_method))
      // cpu, memory_gb and rootfs_size read as lower bounds (inferred: the docs give only their type)
      .filter((p) => q.cpu === undefined || p.cpu >= q.cpu)
      .filter((p) => q.memory_gb === undefined || p.memory_gb >= q.memory_gb)
      .filter((p) => q.rootfs_size === undefined || p.rootfs.max_gb >= q.rootfs_size)
      .map((p) => this.json(p));
  }

  regions(): Record<string, unknown>[] {
    return data.regions.map((r) => ({
      id: r.id,
      name: r.name,
      gpus: [...new Set(products.filter((p) => p.gpu && p.region_ids.includes(r.id)).map((p) => p.gpu!.name))],
      feature: { ...r.feature },
    }));
  }

  private billingMethods(p: ProductData): string[] {
    return ["postpaid", ...(p.spot ? ["spot"] : []), ...(p.prepaid.length > 0 ? ["prepaid"] : [])];
  }

  /**
   * The JSON form of a product. The API answers protobuf-JSON, so 64-bit integers (prices,
   * memory and disk sizes here: the emulator's choice of which are 64-bit) are strings and the
   * rest numbers, so clients meet both forms.
   */
  private json(p: ProductData): Record<string, unknown> {
    const stock = this.stock.get(p.id) ?? 0;
    const price = (x: { base_price: number; final_price: number }) => ({
      base_price: s(x.base_price),
      final_price: s(x.final_price),
      unit: "per_hour",
    });
    const gpuMin = p.gpu?.min ?? 0;
    return {
      id: p.id,
      name: p.name,
      type: p.type,
      category: p.category,
      description: p.description,
      region_ids: [...p.region_ids],
      resource_spec: {
        ...(p.gpu && {
          gpu: {
            ...p.gpu,
            available: Math.min(stock, p.gpu.max),
            max_available: stock,
          },
        }),
        cpu: p.cpu,
        memory_gb: s(p.memory_gb),
        rootfs: { min_gb: p.rootfs.min_gb, max_gb: s(p.rootfs.max_gb), free_gb: p.rootfs.free_gb },
      },
      pricing: {
        precision: p.precision,
        postpaid: price(p.postpaid),
        ...(p.spot && { spot: price(p.spot) }),
        prepaid: p.prepaid.map((x) => ({ spec_id: x.spec_id, duration_months: x.duration_months, final_price: s(x.final_price), base_price: s(x.base_price) })),
        storage_price_per_gb: s(p.storage_price_per_gb),
      },
      billing_methods: this.billingMethods(p),
      inventory_state: inventoryState(stock),
      deployable: stock >= Math.max(1, gpuMin),
      activity: { is_activity_product: false, active: false, purchasable: true },
    };
  }
}

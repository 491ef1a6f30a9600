/**
 * The hourly price of a CompShare shape, as the resource's `pricePerHour` output, its
 * `maxPricePerHour` cap and the `getCompSharePrice` look-up all compute it: one
 * GetCompShareInstancePrice for the charge type, then the instance and disks for the period
 * divided by its hours, plus the image, which the SDK quotes per GPU per hour.
 */
import type { CompShareClient } from "./client";
import type { PriceDetail } from "./schemas";

/** Hours in one unit of each charge type. */
export const PERIOD_HOURS: Readonly<Record<string, number>> = { Dynamic: 1, Postpay: 1, Spot: 1, Day: 24, Month: 24 * 30, Year: 24 * 365 };

export interface PriceShape {
  region: string;
  zone: string;
  gpuType: string;
  gpu: number;
  cpu: number;
  /** MB. */
  memory: number;
  /** Default `Month`, CompShare's default. */
  chargeType?: string;
  compShareImageId?: string;
  disks?: ReadonlyArray<{ isBoot: boolean; type: string; size: number }>;
}

export interface PriceQuote {
  /** CNY per hour: the period price over its hours, plus the image per GPU-hour times `gpu`; 4 decimals. */
  pricePerHour: number;
  /** The charge type the quote is for (as CompShare answered it). */
  chargeType: string;
  /** CNY for one unit of the charge type (an hour, a day, a month): instance + disks (+ system disks). */
  periodPrice: number;
  /** Hours in that unit. */
  periodHours: number;
  /** The image's price per GPU per hour (CNY), 0 for free images. */
  imagePerGpuHour: number;
  /** CompShare's `OriginalPrice` (before a discount), when it sends one. */
  originalPrice?: number;
  /** CompShare's `ListPrice` (a string on the wire), when it sends one. */
  listPrice?: number;
  /** `InstanceDiscountType`: 1 a night discount, 2 a holiday discount (the SDK); absent or 0: none. */
  discountType?: number;
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/** The quote for one detail of GetCompShareInstancePrice. */
export function quoteOf(d: PriceDetail, chargeType: string, gpu: number): PriceQuote {
  const period = (d.Instance ?? 0) + (d.Disks ?? 0) + (d.SystemDisks ?? 0);
  const ct = d.ChargeType ?? chargeType;
  const hours = PERIOD_HOURS[ct] ?? 1;
  const image = d.CompShareImage ?? 0;
  return {
    pricePerHour: round4(period / hours + image * gpu),
    chargeType: ct,
    periodPrice: round4(period),
    periodHours: hours,
    imagePerGpuHour: image,
    ...(d.OriginalPrice !== undefined && { originalPrice: d.OriginalPrice }),
    ...(d.ListPrice !== undefined && { listPrice: d.ListPrice }),
    ...(d.InstanceDiscountType !== undefined && { discountType: d.InstanceDiscountType }),
  };
}

/** Asks CompShare for the price of the shape; `undefined` when the answer has no detail. Errors propagate. */
export async function quotePrice(client: CompShareClient, a: PriceShape): Promise<PriceQuote | undefined> {
  const chargeType = a.chargeType ?? "Month";
  const details = await client.getInstancePrice({
    Region: a.region,
    Zone: a.zone,
    GpuType: a.gpuType,
    Gpu: a.gpu,
    Cpu: a.cpu,
    Memory: a.memory,
    ChargeType: chargeType,
    Quantity: 1,
    CompShareImageId: a.compShareImageId,
    Disks: a.disks?.map((d) => ({ IsBoot: d.isBoot, Type: d.type, Size: d.size })),
  });
  const d = details.find((x) => x.ChargeType === chargeType) ?? details[0];
  return d ? quoteOf(d, chargeType, a.gpu) : undefined;
}

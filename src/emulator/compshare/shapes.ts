// What the catalogue implies: the legal CPU/memory sizes of a GPU type, the hourly price of a
// shape, and when a term ends. Pure functions over catalogue.ts.

import {
  BILLING_UTC_OFFSET_HOURS,
  DISK_GB_HOURLY,
  EXTRA_CPU_HOURLY,
  EXTRA_GB_HOURLY,
  FREE_BOOT_GB,
  GPUS,
  type GpuRow,
  PERIOD_DISCOUNT,
  PERIOD_HOURS,
  TERM_SECONDS,
} from "./catalogue";

export interface Disk {
  IsBoot: boolean;
  Type: string;
  Size: number;
}

export interface MachineSize {
  gpu: number;
  sizes: Array<{ cpu: number; memGb: number }>;
}

/** Per GPU count: 16 or 8 vCPUs per card with 4 GB per vCPU, within the type's maxima. */
export function legalSizes(r: GpuRow): MachineSize[] {
  const out: MachineSize[] = [];
  for (let gpu = 1; gpu <= r.maxGpu; gpu++) {
    const sizes = [16 * gpu, 8 * gpu]
      .map((cpu) => Math.min(cpu, r.maxCpu))
      .filter((cpu, i, all) => all.indexOf(cpu) === i)
      .map((cpu) => ({ cpu, memGb: Math.min(cpu * 4, r.maxMemGb) }));
    out.push({ gpu, sizes });
  }
  return out;
}

/** Which of GPU count, vCPUs and memory (MB) the GPU type does not allow. */
export function outOfRange(gpuType: string, gpu: number, cpu: number, memoryMb: number): Array<"gpu" | "cpu" | "memory"> {
  const r = GPUS[gpuType];
  const out: Array<"gpu" | "cpu" | "memory"> = [];
  if (gpu < 1 || gpu > r.maxGpu) out.push("gpu");
  if (cpu < 1 || cpu > r.maxCpu) out.push("cpu");
  if (memoryMb < 1024 || memoryMb % 1024 !== 0 || memoryMb > r.maxMemGb * 1024) out.push("memory");
  return out;
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Hourly list price of a shape: per card with 16 vCPU / 64 GB, plus extra CPU, RAM and disk. */
export function hourlyPrice(gpuType: string, gpu: number, cpu: number, memoryMb: number, disks: readonly Partial<Disk>[]): { instance: number; disks: number } {
  const r = GPUS[gpuType];
  const extraCpu = Math.max(0, cpu - 16 * gpu) * EXTRA_CPU_HOURLY;
  const extraMem = Math.max(0, memoryMb / 1024 - 64 * gpu) * EXTRA_GB_HOURLY;
  const disk = disks.reduce((sum, d) => sum + Math.max(0, (d.Size ?? 0) - (d.IsBoot ? FREE_BOOT_GB : 0)) * DISK_GB_HOURLY, 0);
  return { instance: r.hourly * gpu + extraCpu + extraMem, disks: disk };
}

/** The first second of the next month in CompShare's billing time zone, as Unix seconds. */
export function endOfMonth(nowSeconds: number): number {
  const offset = BILLING_UTC_OFFSET_HOURS * 3600;
  const local = new Date((nowSeconds + offset) * 1000);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 1) / 1000 - offset;
}

/** When a prepaid term bought at `fromSeconds` ends; 0 for pay-as-you-go. `Quantity: 0` with Month: the end of the month. */
export function termEnd(chargeType: string, quantity: number, fromSeconds: number): number {
  if (chargeType === "Month" && quantity === 0) return endOfMonth(fromSeconds);
  const unit = TERM_SECONDS[chargeType];
  return unit ? fromSeconds + unit * quantity : 0;
}

export interface PriceQuote {
  gpuType: string;
  gpu: number;
  cpu: number;
  memory: number;
  chargeType?: string;
  quantity: number;
  disks: readonly Partial<Disk>[];
  nowSeconds: number;
}

/** One `CompSharePriceDetail` per charge type: what is paid, and before the term discount. */
export function priceDetails(q: PriceQuote): { paid: PriceEntry[]; original: PriceEntry[] } {
  const base = hourlyPrice(q.gpuType, q.gpu, q.cpu, q.memory, q.disks);
  const types = q.chargeType ? [q.chargeType] : ["Dynamic", "Month", "Day"];
  const entry = (ct: string, discounted: boolean): PriceEntry => {
    const hours = PERIOD_HOURS[ct] ?? 1;
    const payAsYouGo = hours === 1;
    // Quantity 0 with Month: the part of the month that is left.
    const units = payAsYouGo ? 1 : ct === "Month" && q.quantity === 0 ? (endOfMonth(q.nowSeconds) - q.nowSeconds) / (hours * 3600) : q.quantity;
    const factor = hours * units * (discounted ? (PERIOD_DISCOUNT[ct] ?? 1) : 1);
    const list = round2((base.instance + base.disks) * hours);
    return {
      ChargeType: ct,
      Instance: round2(base.instance * factor),
      Disks: round2(base.disks * factor),
      SystemDisks: 0,
      CompShareImage: 0,
      InstanceDiscountType: 0,
      ListPrice: String(list),
      OriginalPrice: round2((base.instance + base.disks) * hours * units),
    };
  };
  return { paid: types.map((ct) => entry(ct, true)), original: types.map((ct) => entry(ct, false)) };
}

export interface PriceEntry {
  ChargeType: string;
  Instance: number;
  Disks: number;
  SystemDisks: number;
  CompShareImage: number;
  InstanceDiscountType: number;
  ListPrice: string;
  OriginalPrice: number;
}

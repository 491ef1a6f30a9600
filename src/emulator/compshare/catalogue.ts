// CompShare's catalogue as the emulator sells it: data only, no logic. Sources: CompShare's
// published GPU table (maxima, CPU platforms, Spot) and the Go SDK's enums (ucloud-sdk-go
// v0.22.98, services/ucompshare); prices are plausible, not quoted; zones come from one
// account's GetRegion listing.

/** Regions and their zones. */
export const ZONES: Readonly<Record<string, readonly string[]>> = {
  "cn-wlcb": ["cn-wlcb-01"],
  "cn-sh2": ["cn-sh2-02", "cn-sh2-03"],
  "cn-bj2": ["cn-bj2-02"],
};

/** Region ids and zone display names as DescribeCompShareSupportZone's `SupportZone` carries them (invented). */
export const REGION_IDS: Readonly<Record<string, number>> = { "cn-wlcb": 1000014, "cn-sh2": 1000002, "cn-bj2": 1000001 };
export const ZONE_INFO: Readonly<Record<string, { id: number; describe: string }>> = {
  "cn-wlcb-01": { id: 10027, describe: "乌兰察布A" },
  "cn-sh2-02": { id: 4001, describe: "上海二B" },
  "cn-sh2-03": { id: 4002, describe: "上海二C" },
  "cn-bj2-02": { id: 5001, describe: "北京二B" },
};

/**
 * What GetRegion (gateway-wide, the SDK's uaccount service: `Regions[]` of `RegionInfo`) lists
 * beyond the CompShare zones: a UCloud region the account has where CompShare is not offered
 * (DescribeCompShareSupportZone refuses it with 230).
 */
export const OTHER_ACCOUNT_ZONES: readonly { Region: string; Zone: string; RegionId: number; RegionName: string }[] = [
  { Region: "hk", Zone: "hk-02", RegionId: 1000008, RegionName: "香港" },
];

export interface GpuRow {
  /** Card memory, GB. */
  graphicsGb: number;
  maxGpu: number;
  maxCpu: number;
  maxMemGb: number;
  intel: boolean;
  amd: boolean;
  spot: boolean;
  /** CNY per GPU-hour, pay-as-you-go, with 16 vCPU and 64 GB per card. */
  hourly: number;
  /** TFlops, as `Performance.Value` reports it. */
  tflops: number;
}

export const GPUS: Readonly<Record<string, GpuRow>> = {
  "4090": { graphicsGb: 24, maxGpu: 10, maxCpu: 140, maxMemGb: 680, intel: true, amd: true, spot: true, hourly: 2.05, tflops: 82.6 },
  "4090_48G": { graphicsGb: 48, maxGpu: 8, maxCpu: 124, maxMemGb: 940, intel: true, amd: false, spot: false, hourly: 3.2, tflops: 82.6 },
  "5090": { graphicsGb: 32, maxGpu: 8, maxCpu: 124, maxMemGb: 940, intel: true, amd: true, spot: true, hourly: 2.77, tflops: 104.8 },
  A100: { graphicsGb: 80, maxGpu: 8, maxCpu: 124, maxMemGb: 1024, intel: true, amd: false, spot: true, hourly: 6.5, tflops: 19.5 },
  A800: { graphicsGb: 80, maxGpu: 8, maxCpu: 124, maxMemGb: 1800, intel: true, amd: false, spot: false, hourly: 7.2, tflops: 19.5 },
  H20: { graphicsGb: 96, maxGpu: 8, maxCpu: 188, maxMemGb: 1800, intel: true, amd: false, spot: false, hourly: 8.1, tflops: 44 },
  "3090": { graphicsGb: 24, maxGpu: 8, maxCpu: 124, maxMemGb: 450, intel: false, amd: true, spot: true, hourly: 1.13, tflops: 35.6 },
  "3080Ti": { graphicsGb: 12, maxGpu: 8, maxCpu: 12, maxMemGb: 125, intel: true, amd: false, spot: true, hourly: 0.93, tflops: 34.1 },
  "2080Ti": { graphicsGb: 11, maxGpu: 8, maxCpu: 48, maxMemGb: 192, intel: true, amd: false, spot: true, hourly: 0.62, tflops: 13.4 },
  "2080": { graphicsGb: 11, maxGpu: 8, maxCpu: 92, maxMemGb: 334, intel: true, amd: false, spot: false, hourly: 0.5, tflops: 10 },
  P40: { graphicsGb: 24, maxGpu: 8, maxCpu: 48, maxMemGb: 502, intel: true, amd: false, spot: false, hourly: 0.8, tflops: 11.8 },
  V100S: { graphicsGb: 32, maxGpu: 8, maxCpu: 92, maxMemGb: 576, intel: true, amd: false, spot: true, hourly: 1.8, tflops: 16.4 },
};

export const DISK_TYPES = ["CLOUD_SSD", "CLOUD_RSSD", "CLOUD_NORMAL", "LOCAL_NORMAL", "LOCAL_SSD"] as const;

/** What Create takes (the SDK's CreateCompShareInstance doc). */
export const CHARGE_TYPES = ["Month", "Day", "Dynamic", "Postpay", "Spot"] as const;

/** What the price quote takes: Create's words and `Year` (the SDK's GetCompShareInstancePrice doc). */
export const PRICE_CHARGE_TYPES = ["Year", ...CHARGE_TYPES] as const;

/** How Describe words each charge type: the SDK's enum is Year | Month | Dynamic | Postpay. `Day` has no word there; it reads as Dynamic (inferred). */
export const DESCRIBED_CHARGE_TYPE: Readonly<Record<string, string>> = {
  Year: "Year",
  Month: "Month",
  Day: "Dynamic",
  Dynamic: "Dynamic",
  Postpay: "Postpay",
  Spot: "Postpay",
};

/** The SDK's MinimalCpuPlatform values, by vendor as `CpuPlatforms` groups them; `Auto` picks any. */
export const CPU_PLATFORMS_BY_VENDOR = {
  Intel: ["Intel/Auto", "Intel/IvyBridge", "Intel/Haswell", "Intel/Broadwell", "Intel/Skylake", "Intel/Cascadelake", "Intel/CascadelakeR", "Intel/IceLake"],
  Amd: ["Amd/Auto", "Amd/Epyc2"],
  Ampere: ["Ampere/Auto", "Ampere/Altra"],
} as const;

/** Hours in one unit of each charge type, and the discount a longer term earns. */
export const PERIOD_HOURS: Readonly<Record<string, number>> = { Dynamic: 1, Postpay: 1, Spot: 1, Day: 24, Month: 720, Year: 8760 };
export const PERIOD_DISCOUNT: Readonly<Record<string, number>> = { Dynamic: 1, Postpay: 1, Spot: 0.3, Day: 0.95, Month: 0.8, Year: 0.7 };

/** Prepaid charge types run for Quantity of these; pay-as-you-go ones never expire (ExpireTime 0). */
export const TERM_SECONDS: Readonly<Record<string, number>> = { Day: 86400, Month: 30 * 86400, Year: 365 * 86400 };

/** CompShare bills in China Standard Time: "the end of the month" is midnight UTC+8 (inferred). */
export const BILLING_UTC_OFFSET_HOURS = 8;

/** Create without `Disks` gets this boot disk (the SDK makes `Disks` optional; the default is inferred). */
export const DEFAULT_BOOT_DISK = { IsBoot: true, Type: "CLOUD_SSD", Size: 200 } as const;

/** Boot-disk GB included in the instance price; extra disk GB cost this much per hour (invented). */
export const FREE_BOOT_GB = 200;
export const DISK_GB_HOURLY = 0.0004;
/** Above 16 vCPU and 64 GB per card, each extra vCPU and GB costs this much per hour (invented). */
export const EXTRA_CPU_HOURLY = 0.02;
export const EXTRA_GB_HOURLY = 0.005;

/** A stopped pay-as-you-go instance is released this long after it stopped (`ReleaseTime`; the span is inferred). */
export const RELEASE_AFTER_STOP_SECONDS = 15 * 86400;

/** Instances an account may hold until a test says otherwise. */
export const DEFAULT_QUOTA = 20;
/** Cards per GPU type until a test sets the stock. */
export const DEFAULT_STOCK = 10_000;

/**
 * pulumi-gpu-cloud: Pulumi resources for GPU infrastructure on PPIO (Novita) and UCloud
 * CompShare, the typed API clients behind them, and a local emulator of both clouds.
 */
export { PpioInstance, type PpioInstanceArgs, type PpioInstanceShape, type PpioPortEndpoint } from "./ppio/resources";
export { PpioEndpoint, type PpioEndpointArgs, type PpioEndpointWorkers } from "./ppio/resources";
export { PpioClient, type PpioClientOptions, PPIO_DEFAULT_BASE_URL } from "./ppio/client";
export {
  getPpioProducts,
  getPpioProductsOutput,
  getPpioRegions,
  getPpioRegionsOutput,
  type GetPpioProductsArgs,
  type GetPpioProductsResult,
  type GetPpioRegionsResult,
  type PpioProduct,
  type PpioRawPrice,
  type PpioRegion,
} from "./ppio/lookups";
export { CompShareInstance, type CompShareInstanceArgs, type CompShareInstanceFallback } from "./compshare/resources";
export { CompShareClient, type CompShareClientOptions, COMPSHARE_DEFAULT_BASE_URL } from "./compshare/client";
export * from "./core/errors";
export { PartialFailureError } from "./core/provider";
export { startEmulator, type Emulator, type EmulatorOptions, FAST_TIMINGS, REALISTIC_TIMINGS } from "./emulator/server";
export {
  getCompShareZones,
  getCompShareZonesOutput,
  type GetCompShareZonesArgs,
  type GetCompShareZonesResult,
  type CompShareZone,
  getCompShareImages,
  getCompShareImagesOutput,
  type GetCompShareImagesArgs,
  type GetCompShareImagesResult,
  type CompShareImage,
  type CompShareImageKind,
  getCompShareInstanceTypes,
  getCompShareInstanceTypesOutput,
  type GetCompShareInstanceTypesArgs,
  type GetCompShareInstanceTypesResult,
  type CompShareInstanceType,
  getCompSharePrice,
  getCompSharePriceOutput,
  type GetCompSharePriceArgs,
  type GetCompSharePriceResult,
} from "./compshare/lookups";
export type { PriceQuote as CompSharePriceQuote } from "./compshare/price";

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
  type PpioProduct,
  type PpioRawPrice,
  type PpioRegion,
} from "./ppio/lookups";
export { CompShareInstance, type CompShareInstanceArgs } from "./compshare/resources";
export { CompShareClient, type CompShareClientOptions, COMPSHARE_DEFAULT_BASE_URL } from "./compshare/client";
export * from "./core/errors";
export { PartialFailureError } from "./core/provider";
export { startEmulator, type Emulator, type EmulatorOptions, FAST_TIMINGS, REALISTIC_TIMINGS } from "./emulator/server";

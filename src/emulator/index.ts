export {
  startEmulator,
  FAST_TIMINGS,
  REALISTIC_TIMINGS,
  type Emulator,
  type EmulatorOptions,
  type FaultRule,
  type FaultHandle,
  type PpioTimings,
  type RequestRecord,
  type Timings,
  type CompShareTimings,
} from "./server";
// "./ppio/index", not "./ppio": a dist/ built before ppio/ was a directory may still hold a
// ppio.js, which Node would load first.
export { PpioModel, type PpioInstanceRecord, type PpioStatus } from "./ppio/index";
export type { PpioEndpointRecord, PpioEndpointStatus } from "./ppio/index";
export { CompShareModel, type CompShareInstanceRecord, type CompShareState } from "./compshare";

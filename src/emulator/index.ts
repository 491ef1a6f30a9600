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
export { PpioModel, type PpioInstanceRecord, type PpioStatus } from "./ppio";
export type { PpioEndpointRecord, PpioEndpointStatus } from "./ppio";
export { CompShareModel, type CompShareInstanceRecord, type CompShareState } from "./compshare";

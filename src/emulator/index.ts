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
} from "./server";
export { PpioModel, type PpioInstanceRecord, type PpioStatus } from "./ppio";

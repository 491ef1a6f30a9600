// The emulated PPIO v2 API, kept as moto keeps a service: state models (instances.ts,
// endpoints.ts), the wire layer (wire.ts), the wire schemas (schemas.ts), cursor paging
// (paging.ts) and the catalogue as data (catalogue.json).

export { PpioModel, type PpioInstanceRecord, type PpioStatus } from "./instances";
export { PpioEndpoints, type PpioEndpointRecord, type PpioEndpointStatus } from "./endpoints";
export { PpioApiError } from "./errors";
export { createPpioService } from "./wire";

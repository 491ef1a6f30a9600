// The emulated PPIO v2 API, kept as moto keeps a service: state models (instances.ts,
// endpoints.ts), the wire layer (wire.ts), the wire schemas (schemas.ts), cursor paging
// (paging.ts), the account's defaults as data (catalogue.json) and the products and regions on
// sale with their stock (products.ts, data in products.json).

export { PpioModel, type PpioInstanceRecord, type PpioStatus } from "./instances";
export { PpioEndpoints, type PpioEndpointRecord, type PpioEndpointStatus } from "./endpoints";
export { PpioApiError } from "./errors";
export { PpioCatalogue } from "./products";
export { createPpioService } from "./wire";

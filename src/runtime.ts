/**
 * `pulumi-gpu-cloud/runtime`: the provider implementations that the serialized shims load
 * at call time inside Pulumi's provider process. Not meant to be imported by programs.
 */
export { ppioInstance } from "./ppio/instance";
export { ppioEndpoint } from "./ppio/endpoint";
export { compShareInstance } from "./compshare/instance";

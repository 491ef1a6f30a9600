/**
 * Type helpers that turn a zod-inferred input shape into the Pulumi argument type, so
 * the schema stays the only description of a resource's inputs.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Every member, at any depth, may be a plain value, a promise or a Pulumi Output. */
export type DeepInput<T> = T extends string | number | boolean | undefined | null
  ? pulumi.Input<T>
  : T extends readonly (infer U)[]
    ? pulumi.Input<DeepInput<U>[]>
    : T extends object
      ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
      : pulumi.Input<T>;

/** The top-level argument object: each property may be an Input. */
export type ArgsOf<T> = { [K in keyof T]: DeepInput<T[K]> };

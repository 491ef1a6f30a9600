/**
 * The Pulumi resource class for CompShare: a dynamic resource whose `__provider` is a
 * one-line module that loads the implementation from `pulumi-gpu-cloud/runtime` at call time.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../core/inputs";
import { declaredIdentity } from "../core/declare";
import { dynamicType, providerModule } from "../core/provider";
import type { CompShareInstanceInputs, SHAPE_FIELDS } from "./schemas";

type Declared = Omit<CompShareInstanceInputs, "autonamePrefix" | "identity" | "marker" | "fallbacks">;

/** A fallback: some of the shape inputs, each replacing the declared one whole. */
export type CompShareInstanceFallback = Partial<Pick<Declared, (typeof SHAPE_FIELDS)[number]>>;

/** Arguments of {@link CompShareInstance}; see the README for every field. */
export type CompShareInstanceArgs = ArgsOf<Declared & { fallbacks?: CompShareInstanceFallback[] }>;

/**
 * A CompShare (优云智算) GPU virtual machine. `pulumi up` checks capacity, buys it and waits
 * until it runs (or is stopped, with `powerState: "stopped"`); name, GPU count, vCPUs and
 * memory change in place; everything else replaces it.
 */
export class CompShareInstance extends pulumi.CustomResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly uhostId: pulumi.Output<string>;
  /** CompShare's `State`: `Initializing`, `Running`, `Stopped`, `Install Fail`, … */
  declare readonly state: pulumi.Output<string>;
  declare readonly sshLoginCommand: pulumi.Output<string | undefined>;
  /** A secret: the login password, decoded from the base64 CompShare sends. */
  declare readonly password: pulumi.Output<string | undefined>;
  declare readonly ips: pulumi.Output<string[]>;
  /** ISO 8601. */
  declare readonly createTime: pulumi.Output<string | undefined>;
  /** ISO 8601; absent for pay-as-you-go instances. */
  declare readonly expireTime: pulumi.Output<string | undefined>;
  /** CNY per hour for the shape under its charge type, when CompShare quotes it. */
  declare readonly pricePerHour: pulumi.Output<number | undefined>;
  declare readonly gpu: pulumi.Output<number>;
  declare readonly cpu: pulumi.Output<number>;
  declare readonly memory: pulumi.Output<number>;
  declare readonly powerState: pulumi.Output<"running" | "stopped" | undefined>;
  declare readonly zone: pulumi.Output<string>;
  declare readonly gpuType: pulumi.Output<string>;
  /** -1: the declared shape was bought; else the index in `fallbacks` of the one that was. */
  declare readonly chosenFallback: pulumi.Output<number>;
  /** The shape inputs (zone, gpuType, gpu, cpu, memory, chargeType, …) of what was bought. */
  declare readonly chosenShape: pulumi.Output<CompShareInstanceFallback>;
  /** ISO 8601: when CompShare will stop the instance (`autoStop`); absent when no stop is scheduled. */
  declare readonly stopSchedulerTime: pulumi.Output<string | undefined>;

  constructor(name: string, args: CompShareInstanceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      dynamicType("compshare", "Instance"),
      name,
      {
        ...args,
        identity: declaredIdentity(dynamicType("compshare", "Instance"), name, opts),
        __provider: providerModule("compShareInstance"),
        autonamePrefix: args.name === undefined ? name : undefined,
        uhostId: undefined,
        state: undefined,
        sshLoginCommand: undefined,
        password: undefined,
        ips: undefined,
        createTime: undefined,
        expireTime: undefined,
        pricePerHour: undefined,
        chosenFallback: undefined,
        chosenShape: undefined,
        stopSchedulerTime: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["password"] }),
    );
  }
}

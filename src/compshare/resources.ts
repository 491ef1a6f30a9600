/**
 * The Pulumi resource class for CompShare: a dynamic resource whose `__provider` is a
 * one-line module that loads the implementation from `pulumi-gpu-cloud/runtime` at call time.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../core/inputs";
import { declaredIdentity } from "../core/declare";
import { dynamicType, providerModule } from "../core/provider";
import type { CompShareInstanceInputs } from "./schemas";

/** Arguments of {@link CompShareInstance}; see the README for every field. */
export type CompShareInstanceArgs = ArgsOf<Omit<CompShareInstanceInputs, "autonamePrefix" | "identity" | "marker">>;

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
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["password"] }),
    );
  }
}

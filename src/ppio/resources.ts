/**
 * The Pulumi resource classes for PPIO: dynamic resources whose `__provider` is a one-line
 * module that loads the implementation from `pulumi-gpu-cloud/runtime` at call time.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../core/inputs";
import { declaredIdentity } from "../core/declare";
import { dynamicType, providerModule } from "../core/provider";
import type { INSTANCE_FIELDS, PpioEndpointInputs, PpioInstanceInputs } from "./schemas";

/** What one fallback of a {@link PpioInstance} may override: its shape. */
export type PpioInstanceShape = Partial<Pick<PpioInstanceInputs, (typeof INSTANCE_FIELDS)[number]>>;

/** Arguments of {@link PpioInstance}; see the README for every field. */
export type PpioInstanceArgs = ArgsOf<
  Omit<PpioInstanceInputs, "autonamePrefix" | "identity" | "marker" | "fallbacks"> & {
    /** Shapes to buy, in order, when the preferred one has no capacity or costs more than `maxPricePerHour`. */
    fallbacks?: PpioInstanceShape[];
  }
>;

export interface PpioPortEndpoint {
  port: number;
  protocol: string;
  endpoint: string;
}

/**
 * A PPIO GPU (or CPU) container instance. `pulumi up` creates it and waits until it runs
 * (or is stopped, with `powerState: "stopped"`); image, command and env changes upgrade
 * it in place; hardware changes replace it.
 */
export class PpioInstance extends pulumi.CustomResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<string>;
  /** PPIO's `status.status`: `running`, `exited`, `pulling`, `toRemove`, … */
  declare readonly status: pulumi.Output<string>;
  declare readonly statusMessage: pulumi.Output<string | undefined>;
  /** PPIO's `status.error`, when set: a provisioning failure shows here, not as a state. */
  declare readonly statusError: pulumi.Output<string | undefined>;
  declare readonly region: pulumi.Output<string | undefined>;
  declare readonly sshCommand: pulumi.Output<string | undefined>;
  /** A secret. */
  declare readonly sshPassword: pulumi.Output<string | undefined>;
  declare readonly jupyterUrl: pulumi.Output<string | undefined>;
  declare readonly webTerminalUrl: pulumi.Output<string | undefined>;
  /** The container's log stream (`tools.log.instance_endpoint`). */
  declare readonly instanceLogUrl: pulumi.Output<string | undefined>;
  /** The platform's log stream for the instance (`tools.log.system_endpoint`). */
  declare readonly systemLogUrl: pulumi.Output<string | undefined>;
  declare readonly portEndpoints: pulumi.Output<PpioPortEndpoint[]>;
  declare readonly createdAt: pulumi.Output<string | undefined>;
  declare readonly powerState: pulumi.Output<"running" | "stopped" | undefined>;
  /** Which shape was bought: -1 the declared one, else the index in `fallbacks`. */
  declare readonly chosenFallback: pulumi.Output<number>;
  /** The shape that was bought (`productId`, `billing`, `type`, `resource`, `candidateRegions`). */
  declare readonly chosenShape: pulumi.Output<PpioInstanceShape>;

  constructor(name: string, args: PpioInstanceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      dynamicType("ppio", "Instance"),
      name,
      {
        ...args,
        identity: declaredIdentity(dynamicType("ppio", "Instance"), name, opts),
        __provider: providerModule("ppioInstance"),
        autonamePrefix: args.name === undefined ? name : undefined,
        instanceId: undefined,
        status: undefined,
        statusMessage: undefined,
        statusError: undefined,
        region: undefined,
        sshCommand: undefined,
        sshPassword: undefined,
        jupyterUrl: undefined,
        webTerminalUrl: undefined,
        instanceLogUrl: undefined,
        systemLogUrl: undefined,
        portEndpoints: undefined,
        createdAt: undefined,
        chosenFallback: undefined,
        chosenShape: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["sshPassword"] }),
    );
  }
}

/** Arguments of {@link PpioEndpoint}; see the README for every field. */
export type PpioEndpointArgs = ArgsOf<Omit<PpioEndpointInputs, "autonamePrefix" | "identity" | "marker">>;

/** Workers of an endpoint: how many serve requests now, of how many there are. */
export interface PpioEndpointWorkers {
  ready: number;
  total: number;
}

/**
 * A PPIO serverless GPU endpoint: workers that scale between `workerConfig.minReplicas` and
 * `maxReplicas` behind one URL. `pulumi up` creates it and waits until it runs; every
 * change but `type` and `appName` updates it in place.
 */
export class PpioEndpoint extends pulumi.CustomResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly type: pulumi.Output<"sync" | "async">;
  declare readonly appName: pulumi.Output<string | undefined>;
  declare readonly endpointId: pulumi.Output<string>;
  /** PPIO's `status.status`: `creating`, `running`, `updating`, `failed`, … */
  declare readonly status: pulumi.Output<string>;
  declare readonly statusMessage: pulumi.Output<string | undefined>;
  /** PPIO's `status.error`, when set. */
  declare readonly statusError: pulumi.Output<string | undefined>;
  /** The invoke URL of a sync endpoint; async endpoints have none. */
  declare readonly url: pulumi.Output<string | undefined>;
  declare readonly workers: pulumi.Output<PpioEndpointWorkers>;
  declare readonly createdAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: PpioEndpointArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      dynamicType("ppio", "Endpoint"),
      name,
      {
        ...args,
        identity: declaredIdentity(dynamicType("ppio", "Endpoint"), name, opts),
        __provider: providerModule("ppioEndpoint"),
        autonamePrefix: args.name === undefined ? name : undefined,
        endpointId: undefined,
        status: undefined,
        statusMessage: undefined,
        statusError: undefined,
        url: undefined,
        workers: undefined,
        createdAt: undefined,
      },
      opts,
    );
  }
}

/**
 * The three resources as the reliability suites drive them: their runtime providers, a
 * valid set of inputs, and how to read the emulator's own records of what exists and what
 * was really created. Credentials are distinctive canaries so that any leak is greppable.
 */
import { compShareInstance } from "../../src/compshare/instance";
import type { ConfigReader } from "../../src/core/provider";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../src/emulator/server";
import { ppioEndpoint } from "../../src/ppio/endpoint";
import { ppioInstance } from "../../src/ppio/instance";
import { COMPSHARE_INSTANCE, fakeConfig } from "../support/fixtures";

export type Props = Record<string, unknown>;

/** Keys no real account has, long enough to be found anywhere they leak. */
export const CANARY = {
  ppioKey: "PPIO-KEY-CANARY-5e1f0a9c7b3d4e21",
  ppioWrongKey: "PPIO-KEY-CANARY-WRONG-8c2d6f4a1e9b",
  csPublic: "CS-PUBLIC-CANARY-3b7e91d0c4a2f658",
  csPrivate: "CS-PRIVATE-CANARY-d41c8e2b9f7a0635",
  csWrongPrivate: "CS-PRIVATE-CANARY-WRONG-7a5f3c1e",
  csWrongPublic: "CS-PUBLIC-CANARY-WRONG-0e6b2d9a",
} as const;

export const CANARY_EMULATOR: EmulatorOptions = {
  apiKey: CANARY.ppioKey,
  compshare: { publicKey: CANARY.csPublic, privateKey: CANARY.csPrivate },
};

export const startCanaryEmulator = (): Promise<Emulator> => startEmulator(CANARY_EMULATOR);

export interface RuntimeProvider {
  configure(req: { config: ConfigReader }): void;
  check(olds: Props | undefined, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(id: string, olds: Props, news: Props): Promise<{ changes: boolean; replaces: string[] }>;
  create(inputs: Props): Promise<{ id: string; outs: Props }>;
  read(id: string, props: Props): Promise<{ id: string; props: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(id: string, props: Props): Promise<void>;
}

export type ResourceName = "PpioInstance" | "PpioEndpoint" | "CompShareInstance";

export interface Driver {
  resource: ResourceName;
  provider: RuntimeProvider;
  /** Inputs that create a healthy object. */
  base: Props;
  /** Ids of every object of this kind the emulator holds. */
  live(emu: Emulator): string[];
  /** Creates the emulator really executed. */
  created(emu: Emulator): number;
  /** Stack config pointing at the emulator with the right keys; `over` replaces some. */
  config(emu: Emulator, over?: Record<string, string | undefined>): { config: ConfigReader };
  /** Ends every hold the scenario placed. */
  release(emu: Emulator): void;
}

export const DRIVERS: Record<ResourceName, Driver> = {
  PpioInstance: {
    resource: "PpioInstance",
    provider: ppioInstance,
    base: { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 } },
    live: (emu) => emu.ppio.instances().map((i) => i.id),
    created: (emu) => emu.ppio.createdCount,
    config: (emu, over = {}) => fakeConfig({ "ppio:apiKey": emu.apiKey, "ppio:baseUrl": emu.url, ...over }),
    release: (emu) => emu.ppio.release(),
  },
  PpioEndpoint: {
    resource: "PpioEndpoint",
    provider: ppioEndpoint,
    base: {
      type: "sync",
      productId: "4090.24g.serverless",
      image: "vllm/vllm-openai:v0.6.0",
      workerConfig: { minReplicas: 1, maxReplicas: 3 },
    },
    live: (emu) => emu.ppio.endpoints().map((e) => e.id),
    created: (emu) => emu.ppio.endpointCreatedCount,
    config: (emu, over = {}) => fakeConfig({ "ppio:apiKey": emu.apiKey, "ppio:baseUrl": emu.url, ...over }),
    release: (emu) => emu.ppio.release(),
  },
  CompShareInstance: {
    resource: "CompShareInstance",
    provider: compShareInstance,
    base: { ...COMPSHARE_INSTANCE },
    live: (emu) => emu.compshare.instances().map((i) => i.UHostId),
    created: (emu) => emu.compshare.createdCount,
    config: (emu, over = {}) =>
      fakeConfig({
        "compshare:publicKey": emu.compsharePublicKey,
        "compshare:privateKey": emu.compsharePrivateKey,
        "compshare:baseUrl": emu.url,
        ...over,
      }),
    release: (emu) => emu.compshare.release(),
  },
};

/**
 * The program side of look-up functions (`getPpioProducts`, …): they run in the Pulumi
 * program, not in the provider, and read credentials exactly as the providers do: stack
 * config first, then the environment.
 */
import * as pulumi from "@pulumi/pulumi";
import { type ConfigReader, Settings } from "./provider";

/**
 * Stack config as the program sees it. `pulumi.runtime.getConfig` reads secret values as
 * plain text without the warning `Config.get` prints for secrets; the values never leave
 * the look-up.
 */
const stackConfig: ConfigReader = {
  get(key: string): string | undefined {
    try {
      return pulumi.runtime.getConfig(key);
    } catch {
      return undefined;
    }
  },
};

/** Settings for a look-up: stack config (when run by Pulumi), then the environment. */
export function lookupSettings(): Settings {
  const s = new Settings();
  s.configure({ config: stackConfig });
  return s;
}

/** `getXOutput` from `getX`: the arguments may be Outputs; the answer is an Output. */
export function outputOf<A, R>(get: (args: A) => Promise<R>): (args: pulumi.Input<A>) => pulumi.Output<R> {
  return (args) => pulumi.output(args).apply((a) => get(a as unknown as A));
}

/**
 * Runs a look-up on a client made for it and closes the client when the look-up settles, so
 * no idle connection keeps the program alive.
 */
export async function withClosed<C extends { close(): Promise<void> }, T>(client: C, use: (client: C) => Promise<T>): Promise<T> {
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

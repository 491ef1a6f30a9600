/**
 * Whether the Pulumi engine that started this provider process is still there.
 *
 * When the CLI is killed (SIGKILL, or a second Ctrl-C), Pulumi's plugins run on: each is in
 * its own process group, and the dynamic-provider host's gRPC server keeps it alive forever.
 * A provider that outlived its engine could still send a create nobody will record, after the
 * rerun looked for it. So a create is sent only while the engine answers, and a provider
 * process whose engine is gone exits (what it made carries its marker; the next `pulumi up`
 * adopts it).
 *
 * The host is started as `node …/dynamic-provider/index.js <engine address>`; that address
 * is the engine's gRPC server, which refuses connections once the CLI is gone.
 */
import { connect } from "node:net";

/** `host:port` of the engine, when this process is Pulumi's dynamic-provider host. */
export function engineAddress(argv: readonly string[] = process.argv): { host: string; port: number } | undefined {
  if (!/dynamic-provider/.test(argv[1] ?? "")) return undefined;
  const m = /^([^\s:]+|\[[^\]]+\]):(\d+)$/.exec(argv[2] ?? "");
  return m ? { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) } : undefined;
}

/** False only when the engine's port refuses connections; true when unsure. */
export function engineAlive(address = engineAddress(), timeoutMs = 2000): Promise<boolean> {
  if (!address) return Promise.resolve(true);
  return new Promise((resolve) => {
    const socket = connect(address.port, address.host);
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.once("connect", () => done(true));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code !== "ECONNREFUSED"));
  });
}

let watching = false;

/**
 * In the provider host: exits once the engine is gone (checked every few seconds, never
 * keeping the process alive by itself). Elsewhere (tests, the orphans command): nothing.
 */
export function watchEngine(print: (line: string) => void, everyMs = 3000): void {
  const address = engineAddress();
  if (watching || !address) return;
  watching = true;
  const timer = setInterval(() => {
    void engineAlive(address).then((alive) => {
      if (alive) return;
      print("pulumi-gpu-cloud: the Pulumi engine is gone (killed, or a second Ctrl-C); this provider stops. The next `pulumi up` adopts what it made.");
      process.exit(1);
    });
  }, everyMs);
  timer.unref();
}

/** Throws before a create is sent for an engine that can no longer record it. */
export async function assertEngineAlive(what: string): Promise<void> {
  if (await engineAlive()) return;
  throw new Error(`the Pulumi engine is gone; ${what} was not sent`);
}

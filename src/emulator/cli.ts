#!/usr/bin/env node
// gpu-cloud-emulator: runs the local fake of both clouds (PPIO and UCloud CompShare) until
// interrupted. stdout carries only `export KEY=value` lines and `#` comments, so it can be
// sourced or eval'd by a POSIX shell as well as copied; the request log goes to stderr.

import { REALISTIC_TIMINGS, startEmulator, type EmulatorOptions } from "./server";

const USAGE = `Usage: gpu-cloud-emulator [options]

Runs a local emulator of both GPU clouds on one port, until Ctrl-C (SIGINT) or SIGTERM:
  PPIO (Novita)      REST API v2 under /gpus/v2/..., Bearer API key
  UCloud CompShare   signed RPC (Action=...) with a public/private key pair

Prints the environment for both clouds' clients as shell lines:
  export PPIO_BASE_URL=...  PPIO_API_KEY  COMPSHARE_BASE_URL  COMPSHARE_PUBLIC_KEY  COMPSHARE_PRIVATE_KEY
so another shell can load them with  . ./emulator.env  or  eval "$(cat emulator.env)"
after  gpu-cloud-emulator > emulator.env &

Options:
  --port N                    port to listen on (default: a random free port)
  --host H                    address to bind (default: 127.0.0.1)
  --api-key K                 PPIO bearer key the emulator accepts (default: emulator-ppio-key)
  --compshare-public-key K    CompShare public key it accepts (default: emulator-compshare-public)
  --compshare-private-key K   CompShare private key it verifies signatures with (default: emulator-compshare-private)
  --realistic                 status transitions take seconds, as on the clouds (a PPIO instance
                              provisions in ~8 s), instead of milliseconds
  --quiet                     do not log requests to stderr
  -h, --help                  show this help
`;

export interface CliArgs {
  help: boolean;
  port?: number;
  host?: string;
  apiKey?: string;
  compsharePublicKey?: string;
  compsharePrivateKey?: string;
  realistic: boolean;
  quiet: boolean;
}

export function parseCliArgs(argv: string[]): CliArgs {
  const args: CliArgs = { help: false, realistic: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h":
      case "--help":
        args.help = true;
        break;
      case "--port": {
        const raw = value();
        const port = Number(raw);
        if (!/^\d+$/.test(raw) || port > 65535) throw new Error(`--port must be an integer 0-65535, got ${raw}`);
        args.port = port;
        break;
      }
      case "--host":
        args.host = value();
        break;
      case "--api-key":
        args.apiKey = value();
        break;
      case "--compshare-public-key":
        args.compsharePublicKey = value();
        break;
      case "--compshare-private-key":
        args.compsharePrivateKey = value();
        break;
      case "--realistic":
        args.realistic = true;
        break;
      case "--quiet":
        args.quiet = true;
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return args;
}

/** A POSIX-shell word for `value`: as is when it is plainly safe, else single-quoted. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`gpu-cloud-emulator: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }

  const opts: EmulatorOptions = { port: args.port, host: args.host, apiKey: args.apiKey };
  if (args.compsharePublicKey || args.compsharePrivateKey) {
    opts.compshare = { publicKey: args.compsharePublicKey, privateKey: args.compsharePrivateKey };
  }
  if (args.realistic) opts.timings = { ppio: { ...REALISTIC_TIMINGS.ppio }, compshare: { ...REALISTIC_TIMINGS.compshare } };
  if (!args.quiet) opts.log = (line) => process.stderr.write(`[emulator] ${line}\n`);

  const emulator = await startEmulator(opts);
  const vars: [string, string][] = [
    ["PPIO_BASE_URL", emulator.url],
    ["PPIO_API_KEY", emulator.apiKey],
    ["COMPSHARE_BASE_URL", emulator.url],
    ["COMPSHARE_PUBLIC_KEY", emulator.compsharePublicKey],
    ["COMPSHARE_PRIVATE_KEY", emulator.compsharePrivateKey],
  ];
  process.stdout.write(
    vars.map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join("") +
      `# gpu-cloud-emulator: PPIO and CompShare on ${emulator.url} (${args.realistic ? "realistic" : "fast"} timings); Ctrl-C to stop\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[emulator] ${signal}: shutting down\n`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`gpu-cloud-emulator: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  });
}

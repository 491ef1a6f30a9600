#!/usr/bin/env node
// pulumi-gpu-cloud: the package's command line. One command so far: `orphans`.
import { createInterface } from "node:readline/promises";
import { orphansCommand, USAGE } from "./orphans";

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(`${question}\nno terminal to answer on: pass --yes to delete without asking\n`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "orphans") {
    return orphansCommand(rest, {
      cwd: process.cwd(),
      env: process.env,
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      confirm,
    });
  }
  const help = command === undefined || command === "--help" || command === "-h";
  (help ? process.stdout : process.stderr).write(`Usage: pulumi-gpu-cloud <command>; the one command is orphans.\n\n${USAGE}`);
  return help ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`pulumi-gpu-cloud: ${(e as Error).message}\n`);
    process.exit(2);
  },
);

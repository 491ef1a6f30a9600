#!/usr/bin/env node
// `npm run demo`: the real `pulumi up` of the root Pulumi.yaml program (examples/quickstart)
// against the embedded emulator with realistic timings, then `pulumi destroy`, then a check
// that the emulator holds nothing. State lives in a temporary directory (file backend), so
// nothing is written into the checkout and no Pulumi account is needed.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePulumi, pulumiEnv } from "./pulumi-cli.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const say = (line) => process.stdout.write(`\n\x1b[1m== ${line}\x1b[0m\n`);

function run(cmd, args, env, { capture = false } = {}) {
  return new Promise((resolvePromise, reject) => {
    // Async on purpose: the emulator serves requests from this process's event loop.
    const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"] });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

async function main() {
  if (!existsSync(join(root, "dist", "index.js"))) {
    say("building the package");
    await run("npm", ["run", "build"], process.env);
  }
  say("finding the Pulumi CLI (the first run on a machine without one builds it from Go modules: a few minutes)");
  const cli = await ensurePulumi();
  const { startEmulator, REALISTIC_TIMINGS } = require("./dist/index.js");

  const work = mkdtempSync(join(tmpdir(), "gpu-cloud-demo-"));
  const stateDir = join(work, "state");
  mkdirSync(stateDir);
  const env = {
    ...process.env,
    ...pulumiEnv({ pathDirs: cli.pathDirs ?? [cli.binDir], stateDir, home: join(work, "home") }),
  };
  const configFile = join(work, "Pulumi.demo.yaml");
  const pulumi = (...args) => run("pulumi", [...args, "--non-interactive"], env);
  const withConfig = ["--config-file", configFile, "--stack", "demo"];

  const emu = await startEmulator({ timings: REALISTIC_TIMINGS });
  say(`emulator of PPIO and CompShare listening at ${emu.url} (realistic timings)`);
  let failed = false;
  let created = false;
  try {
    await pulumi("stack", "init", "demo");
    await pulumi("config", "set", ...withConfig, "--secret", "ppio:apiKey", emu.apiKey);
    await pulumi("config", "set", ...withConfig, "ppio:baseUrl", emu.url);
    if (emu.compsharePublicKey) {
      await pulumi("config", "set", ...withConfig, "compshare:publicKey", emu.compsharePublicKey);
      await pulumi("config", "set", ...withConfig, "--secret", "compshare:privateKey", emu.compsharePrivateKey);
      await pulumi("config", "set", ...withConfig, "compshare:baseUrl", emu.url);
    }

    say("pulumi up");
    created = true;
    await pulumi("up", "--yes", ...withConfig);

    say("stack outputs");
    const outputs = JSON.parse(await run("pulumi", ["stack", "output", "--json", "--stack", "demo"], env, { capture: true }));
    for (const [key, value] of Object.entries(outputs)) {
      process.stdout.write(`  ${key.padEnd(22)} ${typeof value === "string" ? value : JSON.stringify(value)}\n`);
    }
  } catch (e) {
    failed = true;
    process.stderr.write(`\ndemo failed: ${e.message}\n`);
  } finally {
    if (created) {
      say("pulumi destroy");
      await pulumi("destroy", "--yes", ...withConfig).catch((e) => {
        failed = true;
        process.stderr.write(`destroy failed: ${e.message}\n`);
      });
    }
    const left = {
      "PPIO instances": emu.ppio.instances().length,
      "PPIO endpoints": emu.ppio.endpoints?.().length ?? 0,
      "CompShare instances": emu.compshare?.instances().length ?? 0,
    };
    say("what is left in the emulator");
    for (const [what, n] of Object.entries(left)) process.stdout.write(`  ${what.padEnd(22)} ${n}\n`);
    if (Object.values(left).some((n) => n > 0)) failed = true;
    await pulumi("stack", "rm", "--yes", "--force", "--stack", "demo").catch(() => undefined);
    await emu.close();
    rmSync(work, { recursive: true, force: true });
  }
  say(failed ? "demo FAILED" : "demo finished: created, showed, destroyed, nothing left");
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exitCode = 1;
});

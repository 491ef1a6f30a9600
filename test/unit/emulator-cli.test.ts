/** The `gpu-cloud-emulator` bin: prints shell lines that export both clouds' variables, serves, stops on SIGINT. */
import { execFileSync, spawn } from "node:child_process";
import { expect, it } from "vitest";
import { shellQuote } from "../../src/emulator/cli";

const NAMES = ["COMPSHARE_BASE_URL", "COMPSHARE_PRIVATE_KEY", "COMPSHARE_PUBLIC_KEY", "PPIO_API_KEY", "PPIO_BASE_URL"];

async function startCli(args: string[]) {
  const child = spawn(process.execPath, ["dist/emulator/cli.js", "--quiet", ...args], { cwd: process.cwd() });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ctrl-C")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  return { child, out };
}

/** What a POSIX shell has in its environment after `eval`-ing the printed lines. */
function evalInShell(printed: string): Record<string, string> {
  const env = execFileSync("sh", ["-c", 'eval "$EMULATOR_OUT"; env'], {
    env: { PATH: process.env.PATH, EMULATOR_OUT: printed },
    encoding: "utf8",
  });
  return Object.fromEntries(env.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

it("prints lines a shell can eval to export both clouds' variables, answers on them, and exits cleanly on SIGINT", async () => {
  const { child, out } = await startCli([]);
  for (const line of out.trim().split("\n")) expect(line).toMatch(/^(export [A-Z_]+=\S+|# .*)$/);
  const env = evalInShell(out);
  for (const name of NAMES) expect(env[name], name).toBeTruthy();
  expect(env.PPIO_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(env.COMPSHARE_BASE_URL).toBe(env.PPIO_BASE_URL);
  const res = await fetch(`${env.PPIO_BASE_URL}/gpus/v2/instances`, { headers: { authorization: `Bearer ${env.PPIO_API_KEY}` } });
  expect(res.status).toBe(200);
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  child.kill("SIGINT");
  expect(await exited).toBe(0);
});

it("exports keys given on the command line exactly, whatever characters they hold", async () => {
  const key = `it's a "key" with $pace & more`;
  const { child, out } = await startCli(["--api-key", key, "--compshare-public-key", "pub lic", "--compshare-private-key", "priv'ate"]);
  const env = evalInShell(out);
  expect(env.PPIO_API_KEY).toBe(key);
  expect(env.COMPSHARE_PUBLIC_KEY).toBe("pub lic");
  expect(env.COMPSHARE_PRIVATE_KEY).toBe("priv'ate");
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
});

it("describes both clouds in its help", () => {
  const help = execFileSync(process.execPath, ["dist/emulator/cli.js", "--help"], { encoding: "utf8" });
  expect(help).toMatch(/PPIO/);
  expect(help).toMatch(/CompShare/);
  expect(help).toMatch(/export PPIO_BASE_URL/);
  expect(help).toMatch(/--compshare-public-key/);
});

it("leaves plain words unquoted and single-quotes the rest", () => {
  expect(shellQuote("http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000");
  expect(shellQuote("a b")).toBe("'a b'");
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
});

/** The `gpu-cloud-emulator` bin: prints the variables to export, serves, stops on SIGINT. */
import { spawn } from "node:child_process";
import { expect, it } from "vitest";

it("prints both clouds' variables, answers on the printed URL, and exits cleanly on SIGINT", async () => {
  const child = spawn(process.execPath, ["dist/emulator/cli.js", "--quiet"], { cwd: process.cwd() });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("listening on")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  const vars = Object.fromEntries(out.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split("=") as [string, string]));
  expect(Object.keys(vars).sort()).toEqual([
    "COMPSHARE_BASE_URL",
    "COMPSHARE_PRIVATE_KEY",
    "COMPSHARE_PUBLIC_KEY",
    "PPIO_API_KEY",
    "PPIO_BASE_URL",
  ]);
  expect(vars.PPIO_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${vars.PPIO_BASE_URL}/gpus/v2/instances`, { headers: { authorization: `Bearer ${vars.PPIO_API_KEY}` } });
  expect(res.status).toBe(200);
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  child.kill("SIGINT");
  expect(await exited).toBe(0);
});

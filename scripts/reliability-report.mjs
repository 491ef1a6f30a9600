#!/usr/bin/env node
// `npm run test:reliability`: runs the reliability suites (test/reliability) and prints what
// they measured as tables that can be quoted: every fault scenario with its outcome, orphans,
// duplicates and secrets found, the killed `pulumi up` matrix, the generated bad inputs, the
// secret search, and the totals.
// The suites write their rows to test/reliability/.results; stale rows are removed first so
// the tables always describe this run.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const results = join(root, "test/reliability/.results");
rmSync(results, { recursive: true, force: true });

const started = Date.now();
const vitest = join(root, "node_modules/.bin/vitest");
// The kill matrix drives many CLI runs at once; it runs after the other suites so that it
// does not starve their (timed) engine scenarios of CPU.
const KILL = "test/reliability/kill.test.ts";
// The tables report outcomes, not timings: on a shared, loaded machine the engine scenarios
// get more time than vitest's defaults give them.
const patient = ["--testTimeout=240000", "--hookTimeout=240000"];
const first = spawnSync(vitest, ["run", "test/reliability", "--exclude", KILL, "--reporter=dot", ...patient], { cwd: root, stdio: "inherit" });
const second = spawnSync(vitest, ["run", KILL, "--reporter=dot"], { cwd: root, stdio: "inherit" });
const run = { status: first.status || second.status };
const seconds = ((Date.now() - started) / 1000).toFixed(0);

const read = (name) => {
  const file = join(results, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
};
const matrix = read("matrix.json") ?? [];
const engine = read("engine.json") ?? [];
const kill = read("kill.json") ?? [];
const check = read("check.json") ?? [];
const secrets = read("secrets.json");
const secretsInState = read("secrets-engine.json");

const cell = (v) => String(v).replaceAll("|", "\\|");
const table = (headers, rows) =>
  [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n");
const scenarioRows = (rows) =>
  rows.map((r) => [r.scenario, r.resource, r.step, r.fault, r.expected, r.outcome, r.orphans, r.duplicates, r.secretsFound, r.passed ? "pass" : "FAIL"]);
const SCENARIO_HEADERS = ["scenario", "resource", "step", "fault", "expected", "outcome", "orphans", "duplicates", "secrets", "result"];

const out = [];
out.push("", `## Fault matrix: runtime providers against the emulator (${matrix.length} scenarios)`, "");
out.push(matrix.length ? table(SCENARIO_HEADERS, scenarioRows(matrix)) : "(no results: the matrix did not run)");
out.push("", `## Through the Pulumi engine (${engine.length} scenarios)`, "");
out.push(engine.length ? table(SCENARIO_HEADERS, scenarioRows(engine)) : "(no results: the Pulumi CLI is missing; run `npm run pulumi:ensure`)");
const killScenarios = new Set(kill.map((r) => r.scenario)).size;
out.push("", `## Killed \`pulumi up\`: rerun, refresh --clear-pending-creates, destroy (${killScenarios} scenarios, ${kill.length} resources)`, "");
out.push(
  kill.length
    ? table(
        ["scenario", "resource", "killed when", "how", "expected", "outcome", "orphans", "duplicates", "left after destroy", "result"],
        kill.map((r) => [r.scenario, r.resource, r.step, r.fault, r.expected, r.outcome, r.orphans, r.duplicates, r.leftAfterDestroy, r.passed ? "pass" : "FAIL"]),
      )
    : "(no results: the Pulumi CLI is missing; run `npm run pulumi:ensure`)",
);
out.push("", "## Bad input: generated inputs through `check`", "");
out.push(
  check.length
    ? table(
        ["resource", "invalid inputs (each named a property)", "valid inputs (passed unchanged)", "requests to the cloud"],
        check.map((c) => [c.resource, c.invalid, c.valid, c.requests ?? "?"]),
      )
    : "(no results)",
);
out.push("", "## Secrets", "");
out.push(
  secrets
    ? `${secrets.paths} error and success paths driven with planted keys; ${secrets.charsSearched} characters printed, thrown or returned, ` +
        `searched for ${secrets.keys} keys and ${secrets.signatures} request signatures (whole or any 12-character piece): ${secrets.found} found` +
        (secrets.where.length ? ` in: ${secrets.where.join("; ")}` : "")
    : "(no results)",
);
out.push(
  secretsInState
    ? `Through the engine, after a good \`up\` and one ending in partial failures: ${secretsInState.values} values that must stay secret ` +
        `(keys, returned passwords, inputs wrapped in pulumi.secret) searched in ${secretsInState.stateChars} characters of state files: ` +
        `${secretsInState.plaintextFound} in plaintext`
    : "(no engine results: the Pulumi CLI is missing)",
);

const rows = [...matrix, ...engine, ...kill];
const sum = (k) => rows.reduce((n, r) => n + (r[k] ?? 0), 0);
const secretsFound = sum("secretsFound") + (secrets?.found ?? 0) + (secretsInState?.plaintextFound ?? 0);
out.push(
  "",
  `scenarios: ${rows.length} (killed runs: ${kill.length} resources in ${killScenarios} scenarios), passed: ${rows.filter((r) => r.passed).length}, orphans: ${sum("orphans")}, ` +
    `duplicates: ${sum("duplicates")}, secrets found: ${secretsFound}`,
  `(wall time ${seconds}s; vitest exit code ${run.status})`,
);
const failed = rows.filter((r) => !r.passed);
for (const r of failed) out.push(`FAILED ${r.scenario}: ${r.problems.join("; ")}`);
process.stdout.write(`${out.join("\n")}\n`);
process.exit(run.status ?? 1);

/** Invariant 4: the README shows the same replace/update table the provider diffs from. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type PolicyTable, tableRows } from "../../src/core/diff";
import { ENDPOINT_POLICY } from "../../src/ppio/endpoint";
import { INSTANCE_POLICY } from "../../src/ppio/instance";
import { INSTANCE_POLICY as COMPSHARE_INSTANCE_POLICY } from "../../src/compshare/instance";

const readme = readFileSync(`${process.cwd()}/README.md`, "utf8");

/** The rows under the heading "### Replace or update: <name>", up to the next blank line. */
function readmeRows(name: string): string[] {
  const start = readme.indexOf(`### Replace or update: ${name}`);
  expect(start, `README has no "Replace or update: ${name}" section`).toBeGreaterThan(-1);
  const lines = readme.slice(start).split("\n").slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith("|")));
  return table.slice(0, table.findIndex((l) => !l.startsWith("|"))).slice(2);
}

const tables: [string, PolicyTable][] = [
  ["PpioInstance", INSTANCE_POLICY],
  ["PpioEndpoint", ENDPOINT_POLICY],
  ["CompShareInstance", COMPSHARE_INSTANCE_POLICY],
];

describe.each(tables)("README table for %s", (name, policy) => {
  it("matches the policy table row for row", () => {
    expect(readmeRows(name)).toEqual(tableRows(policy));
  });
});

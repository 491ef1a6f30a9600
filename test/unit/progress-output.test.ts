/** Where provider progress lines go: stderr for Pulumi; in this suite, only to a test that looks. */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { progress } from "../../src/core/provider";
import { captureStderr } from "../support/fixtures";
import { unseenProgress } from "../support/quiet-progress";

it("writes each line to the provider's stderr, where Pulumi shows it", () => {
  const r = spawnSync(process.execPath, ["-e", 'require("./dist/core/provider").progress("ppio instance abc… running (3s)")'], {
    cwd: process.cwd(),
    encoding: "utf8",
  });
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe("ppio instance abc… running (3s)\n");
});

it("in this suite, keeps lines no test looks at off the terminal", () => {
  const before = unseenProgress.length;
  progress("nobody looks at this line");
  expect(unseenProgress.slice(before)).toEqual(["nobody looks at this line\n"]);
});

it("passes lines to a test that captures stderr", async () => {
  const before = unseenProgress.length;
  const { text } = await captureStderr(async () => progress("a test looks at this line"));
  expect(text).toBe("a test looks at this line\n");
  expect(unseenProgress.length).toBe(before);
});

it("keeps lines off the terminal again once a capture has ended", async () => {
  await captureStderr(async () => progress("captured"));
  const before = unseenProgress.length;
  progress("after the capture");
  expect(unseenProgress.slice(before)).toEqual(["after the capture\n"]);
});

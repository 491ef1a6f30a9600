// Makes `require("pulumi-gpu-cloud/...")` resolve inside this repository the way it does in
// a user's project: Pulumi's provider process loads our runtime by package name from the
// program directory, and our examples and end-to-end tests run programs from this checkout.
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
if (!existsSync(modules)) process.exit(0); // installed as a dependency: nothing to do
const link = join(modules, "pulumi-gpu-cloud");
try {
  if (!lstatSync(link).isSymbolicLink()) process.exit(0); // a real install is there; leave it alone
  // Already right: leave it, so a provider process loading the runtime now never misses it.
  if (readlinkSync(link) === "..") process.exit(0);
  unlinkSync(link);
} catch {
  // no link yet
}
mkdirSync(modules, { recursive: true });
symlinkSync("..", link, "dir");

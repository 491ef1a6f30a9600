/**
 * The stand-in Node.js language host that scripts/pulumi-cli.mjs installs when the official
 * one cannot be built: what `pulumi about` asks it (About, GetProgramDependencies), and the
 * flags it passes to the program, the same ones the official host passes to
 * `@pulumi/pulumi/cmd/run`. Spoken to over real gRPC, as the engine does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with the demo and CI
import { cacheRoot, findPulumi, pinnedVersion, writeFallbackLanghost } from "../../scripts/pulumi-cli.mjs";

const sdk = createRequire(createRequire(join(process.cwd(), "package.json")).resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const langrpc = sdk("./proto/language_grpc_pb.js");
const langproto = sdk("./proto/language_pb.js");

let work: string;
let host: ChildProcess;
let client: { [method: string]: (req: unknown, cb: (err: Error | null, resp: never) => void) => void; close(): void };
let program: string;
let recorded: string;

function call<T>(method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, (err, resp) => (err ? reject(err) : resolve(resp as T))));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "langhost-"));
  await writeFallbackLanghost(join(work, "host"));

  // A program whose own @pulumi/pulumi is a stand-in: its cmd/run records how it was started.
  program = join(work, "program");
  recorded = join(work, "run.json");
  const fakeSdk = join(program, "node_modules", "@pulumi", "pulumi");
  mkdirSync(join(fakeSdk, "cmd", "run"), { recursive: true });
  writeFileSync(join(fakeSdk, "package.json"), JSON.stringify({ name: "@pulumi/pulumi", version: "3.999.0" }));
  writeFileSync(
    join(fakeSdk, "cmd", "run", "index.js"),
    `require("fs").writeFileSync(${JSON.stringify(recorded)}, JSON.stringify({ argv: process.argv.slice(2), config: process.env.PULUMI_CONFIG, ts: process.env.PULUMI_NODEJS_TYPESCRIPT }));\n`,
  );
  const dep = join(program, "node_modules", "left-pad");
  mkdirSync(dep, { recursive: true });
  writeFileSync(join(dep, "package.json"), JSON.stringify({ name: "left-pad", version: "1.3.0", dependencies: { "pad-core": "^2.0.0" } }));
  const transitive = join(program, "node_modules", "pad-core");
  mkdirSync(transitive, { recursive: true });
  writeFileSync(join(transitive, "package.json"), JSON.stringify({ name: "pad-core", version: "2.1.0" }));
  writeFileSync(
    join(program, "package.json"),
    JSON.stringify({ name: "prog", main: "index.js", dependencies: { "@pulumi/pulumi": "^3.0.0", "left-pad": "^1.0.0", "not-installed": "^9.0.0" } }),
  );
  writeFileSync(join(program, "index.js"), "");

  host = spawn(join(work, "host", "bin", "pulumi-language-nodejs"), ["-tracing", "http://127.0.0.1:9/trace", "127.0.0.1:12345"], {
    cwd: process.cwd(),
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    host.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.trim());
    });
    host.on("exit", (code) => reject(new Error(`language host exited with ${code}`)));
  });
  client = new langrpc.LanguageRuntimeClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
  client?.close();
  host?.kill("SIGTERM");
});

describe("the stand-in language host", () => {
  it("answers About with the Node.js it runs programs on", async () => {
    const resp = await call<{ getExecutable(): string; getVersion(): string }>("about", new langproto.AboutRequest());
    expect(resp.getExecutable()).toBe(process.execPath);
    expect(resp.getVersion()).toBe(process.version);
  });

  it("lists the program's dependencies at their installed versions", async () => {
    const info = new langproto.ProgramInfo();
    info.setProgramDirectory(program);
    info.setRootDirectory(program);
    info.setEntryPoint(".");
    const req = new langproto.GetProgramDependenciesRequest();
    req.setInfo(info);
    const list = async (transitive: boolean) => {
      req.setTransitivedependencies(transitive);
      const resp = await call<{ getDependenciesList(): { getName(): string; getVersion(): string }[] }>("getProgramDependencies", req);
      return Object.fromEntries(resp.getDependenciesList().map((d) => [d.getName(), d.getVersion()]));
    };
    expect(await list(false)).toEqual({ "@pulumi/pulumi": "3.999.0", "left-pad": "1.3.0", "not-installed": "^9.0.0" });
    expect(await list(true)).toMatchObject({ "left-pad": "1.3.0", "pad-core": "2.1.0" });
  });

  it("starts the program's own cmd/run with the flags the official host passes", async () => {
    const info = new langproto.ProgramInfo();
    info.setProgramDirectory(program);
    info.setRootDirectory(program);
    info.setEntryPoint(".");
    const req = new langproto.RunRequest();
    req.setInfo(info);
    req.setPwd(program);
    req.setProject("proj");
    req.setStack("dev");
    req.setOrganization("acme");
    req.setMonitorAddress("127.0.0.1:4444");
    req.setDryrun(true);
    req.setParallel(8);
    req.getConfigMap().set("proj:greeting", "hi");
    const resp = await call<{ getError(): string }>("run", req);
    expect(resp.getError()).toBe("");
    const run = JSON.parse(readFileSync(recorded, "utf8"));
    expect(run.argv).toEqual(
      expect.arrayContaining([
        "--monitor=127.0.0.1:4444",
        "--engine=127.0.0.1:12345",
        "--organization=acme",
        "--project=proj",
        "--stack=dev",
        `--pwd=${program}`,
        `--root-directory=${program}`,
        "--dry-run",
        "--parallel=8",
        "--tracing=http://127.0.0.1:9/trace",
      ]),
    );
    expect(run.argv.at(-1)).toBe(".");
    expect(JSON.parse(run.config)).toEqual({ "proj:greeting": "hi" });
  });
});

describe("choosing the language host", () => {
  const saved = { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
  afterAll(() => {
    process.env.PATH = saved.PATH;
    if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
  });

  it("puts an official pulumi-language-nodejs on PATH before a cached build's stand-in", async () => {
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "cache-"));
    const root = join(cacheRoot(), `pulumi-${await pinnedVersion()}`);
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    for (const name of ["pulumi", "pulumi-resource-pulumi-nodejs"]) {
      writeFileSync(join(bin, name), "#!/bin/sh\necho v3.248.0\n");
      chmodSync(join(bin, name), 0o755);
    }
    await writeFallbackLanghost(root);
    writeFileSync(join(root, "build-info.json"), JSON.stringify({ version: "v3.248.0", langhost: "node-fallback" }));

    process.env.PATH = "/usr/bin:/bin";
    expect((await findPulumi()).pathDirs).toEqual([bin]);

    const official = mkdtempSync(join(tmpdir(), "official-"));
    writeFileSync(join(official, "pulumi-language-nodejs"), "#!/bin/sh\n# stands for the Go binary\n");
    chmodSync(join(official, "pulumi-language-nodejs"), 0o755);
    process.env.PATH = `${official}:/usr/bin:/bin`;
    expect((await findPulumi()).pathDirs).toEqual([official, bin]);
  });
});

/**
 * What only the engine can show: partial-state records, refresh of an object deleted
 * behind Pulumi's back, secrets in the state file, and a bad input stopped at preview.
 */
import { expect, it } from "vitest";
import type { ResourceSpec } from "./harness";
import { e2eDescribe, useE2E } from "./setup";
import { COMPSHARE_INSTANCE } from "../support/fixtures";

const e2e = useE2E();
const instance = (args: Record<string, unknown> = {}, extra: Partial<ResourceSpec> = {}): ResourceSpec[] => [
  {
    kind: "ppioInstance",
    name: "gpu",
    args: { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 }, ...args },
    ...extra,
  },
];

e2eDescribe("the engine records, refreshes and protects", () => {
  it("records a failed provisioning with its id, and the next up recovers", async () => {
    const s = await e2e.h.stack();
    e2e.h.emu.ppio.failNextProvisioning({ error: "IMAGE_PULL_FAILED", message: "manifest unknown" });
    await expect(s.up(instance())).rejects.toThrow(/IMAGE_PULL_FAILED|manifest unknown/);

    const recorded = await s.resource("gpu");
    expect(recorded.id).toMatch(/^[0-9a-f]{16}$/);
    expect(recorded.initErrors?.join(" ")).toMatch(/did not finish/);
    // no failed state: the platform error is set while the instance stays pulling
    expect(recorded.outputs.status).toBe("pulling");
    expect(recorded.outputs.statusError).toBe("IMAGE_PULL_FAILED");
    expect(e2e.h.emu.ppio.get(recorded.id!)).toBeDefined();

    // the fault is gone: the next up replaces the failed instance
    const again = await s.up(instance());
    expect(again.summary.resourceChanges).toMatchObject({ replace: 1 });
    const healthy = await s.resource("gpu");
    expect(healthy.outputs.status).toBe("running");
    expect(healthy.initErrors ?? []).toEqual([]);
    expect(e2e.h.emu.ppio.get(recorded.id!)).toBeUndefined();

    await s.destroy();
    expect(e2e.h.emu.ppio.instances()).toEqual([]);
  });

  it("drops an instance deleted behind its back on refresh, and the next up recreates it", async () => {
    const s = await e2e.h.stack();
    await s.up(instance());
    const before = await s.resource("gpu");
    e2e.h.emu.ppio.deleteBehindBack(before.id!);

    await s.refresh();
    expect(await s.resources()).toEqual([]);

    const again = await s.up(instance());
    expect(again.summary.resourceChanges).toMatchObject({ create: 1 });
    const after = await s.resource("gpu");
    expect(after.id).not.toBe(before.id);
    await s.destroy();
  });

  it("keeps keys, returned passwords and secret inputs out of the state in plaintext", async () => {
    const s = await e2e.h.stack();
    const secretEnv = "hf_token_value_that_must_stay_secret";
    await s.up([
      ...instance({ envs: { HF_TOKEN: secretEnv } }, { secret: ["envs"] }),
      {
        kind: "compShareInstance",
        name: "vm",
        args: { ...COMPSHARE_INSTANCE },
      },
    ]);
    const gpu = await s.resource("gpu");
    const vm = await s.resource("vm");
    const sshPassword = e2e.h.emu.ppio.get(gpu.id!)?.tools?.ssh?.password as string;
    const vmPasswordBase64 = e2e.h.emu.compshare.get(vm.id!)?.Password as string;
    const vmPassword = Buffer.from(vmPasswordBase64, "base64").toString("utf8");
    expect(sshPassword).toBeTruthy();
    expect(vmPassword).toBeTruthy();

    // On disk, with the passphrase secrets provider: no plaintext anywhere.
    const onDisk = e2e.h.stateFiles();
    const secrets = [e2e.h.emu.apiKey, e2e.h.emu.compsharePrivateKey, sshPassword, vmPassword, vmPasswordBase64, secretEnv];
    for (const secret of secrets) expect(onDisk).not.toContain(secret);

    // Decrypted by `stack export --show-secrets`: each is still marked secret, and no
    // credential appears in a resource (only in the stack config, encrypted).
    const SECRET_SIG = "4dabf18193072939515e22adb298388d";
    const exported = JSON.parse(await s.exported());
    const find = (name: string) => exported.deployment.resources.find((x: { urn: string }) => x.urn.endsWith(`::${name}`));
    expect(find("gpu").outputs.sshPassword).toHaveProperty(SECRET_SIG);
    expect(find("gpu").outputs.envs).toHaveProperty(SECRET_SIG);
    expect(find("gpu").inputs.envs).toHaveProperty(SECRET_SIG);
    expect(find("vm").outputs.password).toHaveProperty(SECRET_SIG);
    for (const name of ["gpu", "vm"]) {
      const text = JSON.stringify(find(name));
      expect(text).not.toContain(e2e.h.emu.apiKey);
      expect(text).not.toContain(e2e.h.emu.compsharePrivateKey);
    }
    await s.destroy();
  });

  it("fails a preview with a bad input, naming the property, before any API call", async () => {
    const s = await e2e.h.stack();
    e2e.h.emu.resetRequests();
    const err = await s.preview(instance({ ports: [{ port: 2222, protocol: "tcp" }] })).catch((e) => e);
    expect(String(err)).toMatch(/ports\[0\]\.port/);
    expect(String(err)).toMatch(/reserved/);
    expect(e2e.h.emu.requests.filter((q) => q.cloud !== "emulator")).toEqual([]);
  });
});

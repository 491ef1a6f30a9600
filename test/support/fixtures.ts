/** Shared test plumbing: a fake stack config and stderr capture. */
import type { ConfigReader } from "../../src/core/provider";

export function fakeConfig(values: Record<string, string | undefined>): { config: ConfigReader & { require(k: string): string } } {
  return {
    config: {
      get: (k) => values[k],
      require: (k) => {
        const v = values[k];
        if (v === undefined) throw new Error(`missing ${k}`);
        return v;
      },
    },
  };
}

/**
 * Collects what is written to stderr while `fn` runs (progress lines) for the test to look
 * at; passes it through only with GPU_CLOUD_TEST_PROGRESS=1 (a failing assertion shows it).
 */
export async function captureStderr<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; text: string }> {
  const chunks: string[] = [];
  const original = process.stderr.write; // restored as it was, not a bound copy
  const echo = !!process.env.GPU_CLOUD_TEST_PROGRESS;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    return echo ? (original as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest) : true;
  }) as typeof process.stderr.write;
  try {
    return { result: await fn(), text: chunks.join("") };
  } catch (error) {
    return { error, text: chunks.join("") };
  } finally {
    process.stderr.write = original;
  }
}

/** The value the engine passes as `__provider`; its content does not matter to the runtime. */
export const PROVIDER_TEXT = "exports.handler = () => ({}) // stand-in for the serialized shim";

/** JSON without undefined, Dates or class instances survives a round trip unchanged. */
export function isPlainJson(value: unknown): boolean {
  const seen = JSON.stringify(value);
  return seen !== undefined && JSON.stringify(JSON.parse(seen)) === seen && !hasUndefined(value);
}

function hasUndefined(v: unknown): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.some(hasUndefined);
  if (v && typeof v === "object") {
    if (Object.getPrototypeOf(v) !== Object.prototype) return true;
    return Object.values(v).some(hasUndefined);
  }
  return false;
}

/** A CompShare instance the emulator's catalogue sells (4090, 16 cores, 64 GiB), pay-as-you-go. */
export const COMPSHARE_INSTANCE = Object.freeze({
  region: "cn-wlcb",
  zone: "cn-wlcb-01",
  gpuType: "4090",
  gpu: 1,
  cpu: 16,
  memory: 65536,
  compShareImageId: "compshareImage-165jmhx19ik7",
  disks: [{ isBoot: true, type: "CLOUD_SSD", size: 200 }],
  chargeType: "Dynamic",
});

/** The same instance as CreateCompShareInstance parameters (the wire's names), for tests that create one directly. */
export const COMPSHARE_CREATE_PARAMS = Object.freeze({
  Region: COMPSHARE_INSTANCE.region,
  Zone: COMPSHARE_INSTANCE.zone,
  GpuType: COMPSHARE_INSTANCE.gpuType,
  GPU: COMPSHARE_INSTANCE.gpu,
  CPU: COMPSHARE_INSTANCE.cpu,
  Memory: COMPSHARE_INSTANCE.memory,
  CompShareImageId: COMPSHARE_INSTANCE.compShareImageId,
  MachineType: "G",
  Disks: COMPSHARE_INSTANCE.disks.map((d) => ({ IsBoot: d.isBoot, Type: d.type, Size: d.size })),
  ChargeType: COMPSHARE_INSTANCE.chargeType,
});

/** One request to the emulator's PPIO API with its key; the answer's status and JSON body. */
export async function ppioCall(emu: { url: string; apiKey: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(emu.url + path, {
    method,
    headers: { authorization: `Bearer ${emu.apiKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

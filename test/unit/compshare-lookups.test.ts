/**
 * The CompShare look-ups against the emulator: credentials from the environment (no Pulumi
 * run, so no stack config), filters, sold-out flags, the price as the resource computes it,
 * argument errors, and the client closed after every call.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CompShareClient } from "../../src/compshare/client";
import {
  getCompShareImages,
  getCompShareInstanceTypes,
  getCompSharePrice,
  getCompShareZones,
} from "../../src/compshare/lookups";
import { CredentialsError, ValidationError } from "../../src/core/errors";
import { type Emulator, startEmulator } from "../../src/emulator/server";
import { COMPSHARE_INSTANCE } from "../support/fixtures";

let emu: Emulator;
const saved = { ...process.env };

beforeAll(async () => {
  emu = await startEmulator();
  process.env.COMPSHARE_PUBLIC_KEY = emu.compsharePublicKey;
  process.env.COMPSHARE_PRIVATE_KEY = emu.compsharePrivateKey;
  process.env.COMPSHARE_BASE_URL = emu.url;
});
afterAll(async () => {
  process.env = { ...saved };
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  vi.restoreAllMocks();
});

describe("getCompShareZones", () => {
  it("lists a region's zones with CompShare's names", async () => {
    expect(await getCompShareZones({ region: "cn-sh2" })).toEqual({
      region: "cn-sh2",
      zones: [
        { region: "cn-sh2", zone: "cn-sh2-02", name: "上海二B", regionId: expect.any(Number), zoneId: expect.any(Number) },
        { region: "cn-sh2", zone: "cn-sh2-03", name: "上海二C", regionId: expect.any(Number), zoneId: expect.any(Number) },
      ],
    });
  });

  it("without a region: every region GetRegion lists, those without CompShare left out", async () => {
    const { zones, region } = await getCompShareZones();
    expect(region).toBeUndefined();
    expect(zones.map((z) => z.zone)).toEqual(["cn-wlcb-01", "cn-sh2-02", "cn-sh2-03", "cn-bj2-02"]);
  });

  it("an unknown region given is an error; a failed GetRegion says to pass region", async () => {
    await expect(getCompShareZones({ region: "hk" })).rejects.toBeInstanceOf(ValidationError);
    emu.faults.add({ cloud: "compshare", action: "GetRegion", retCode: 161 });
    await expect(getCompShareZones()).rejects.toMatchObject({ hint: expect.stringMatching(/Pass region/) });
  });
});

describe("getCompShareImages", () => {
  it("system (the default): platform System and App images", async () => {
    const r = await getCompShareImages({ region: "cn-wlcb" });
    expect(r.kind).toBe("system");
    const ids = r.images.map((i) => i.id);
    expect(ids).toContain("compshareImage-165jmhx19ik7");
    expect(ids).toContain("compshareImage-1c8w7rfxn2qd");
    expect(r.images.find((i) => i.id === "compshareImage-165jmhx19ik7")).toMatchObject({
      name: "Ubuntu 22.04 CUDA 12.4",
      imageType: "System",
      status: "Available",
      available: true,
      cudaVersion: "12.4",
      tags: expect.arrayContaining(["Ubuntu"]),
    });
    expect(r.images.find((i) => i.id === "compshareImage-1c8w7rfxn2qd")).toMatchObject({ imageType: "App", framework: "PyTorch" });
  });

  it("filters by name, case-insensitive, in every kind", async () => {
    expect((await getCompShareImages({ region: "cn-wlcb", name: "TENSORFLOW" })).images.map((i) => i.name)).toEqual(["Ubuntu 22.04 TensorFlow 2.15 CUDA 12.2"]);
    expect((await getCompShareImages({ region: "cn-wlcb", zone: "cn-wlcb-01", kind: "custom", name: "team" })).images.map((i) => i.id)).toEqual([
      "compshareImage-1j4tq9wz2e8f",
    ]);
    expect((await getCompShareImages({ region: "cn-wlcb", zone: "cn-wlcb-01", kind: "community", name: "vllm" })).images.map((i) => i.id)).toEqual([
      "compshareImage-1f6kx2hv9q0a",
    ]);
  });

  it("custom and community images of a zone, with availability", async () => {
    const custom = await getCompShareImages({ region: "cn-wlcb", zone: "cn-wlcb-01", kind: "custom" });
    expect(custom.images.map((i) => [i.id, i.available])).toEqual([
      ["compshareImage-1j4tq9wz2e8f", true],
      ["compshareImage-1k8mc5ny7h3g", false],
    ]);
    const community = await getCompShareImages({ region: "cn-sh2", zone: "cn-sh2-02", kind: "community" });
    expect(community).toMatchObject({ region: "cn-sh2", zone: "cn-sh2-02", kind: "community", images: [expect.objectContaining({ id: "compshareImage-1f6kx2hv9q0a", author: "llm-lab" })] });
  });

  it("custom and community need zone: an error naming it, before any call", async () => {
    const since = emu.requests.length;
    for (const kind of ["custom", "community"] as const) {
      const err = await getCompShareImages({ region: "cn-wlcb", kind }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(new RegExp(`kind "${kind}" needs zone`));
    }
    await expect(getCompShareImages({ region: "cn-wlcb", kind: "private" as never })).rejects.toThrow(/kind must be one of/);
    expect(emu.requests.length).toBe(since);
  });

  it("pages without Limit when CompShare refuses it (230 Params [Limit])", async () => {
    emu.faults.add({ cloud: "compshare", action: "DescribeCompShareImages", retCode: 230, message: "Params [Limit] not available" });
    const r = await getCompShareImages({ region: "cn-wlcb" });
    expect(r.images.length).toBeGreaterThanOrEqual(7);
  });
});

describe("getCompShareInstanceTypes", () => {
  it("flattens the catalogue into GPU/CPU/memory combinations, memory in GB and MB", async () => {
    const r = await getCompShareInstanceTypes({ region: "cn-wlcb", zone: "cn-wlcb-01", gpuType: "4090" });
    expect(r.types.length).toBeGreaterThan(5);
    expect(r.types.every((t) => t.gpuType === "4090" && t.zone === "cn-wlcb-01" && t.memory === t.memoryGb * 1024)).toBe(true);
    expect(r.types).toContainEqual(expect.objectContaining({ gpu: 1, cpu: 16, memoryGb: 64, memory: 65536, inStock: true, status: "Normal", graphicsMemoryGb: 24 }));
    const all = await getCompShareInstanceTypes({ region: "cn-wlcb", zone: "cn-wlcb-01" });
    expect(new Set(all.types.map((t) => t.gpuType)).size).toBeGreaterThan(5);
  });

  it("marks a GPU type sold out in the zone, and only there", async () => {
    emu.compshare.setStock("5090", 0, "cn-sh2-02");
    try {
      const there = await getCompShareInstanceTypes({ region: "cn-sh2", zone: "cn-sh2-02", gpuType: "5090" });
      expect(there.types.length).toBeGreaterThan(0);
      expect(there.types.every((t) => !t.inStock && t.status === "Soldout")).toBe(true);
      const other = await getCompShareInstanceTypes({ region: "cn-sh2", zone: "cn-sh2-03", gpuType: "5090" });
      expect(other.types.every((t) => t.inStock)).toBe(true);
    } finally {
      emu.compshare.setStock("5090", 1000, "cn-sh2-02");
    }
  });

  it("requires region and zone", async () => {
    await expect(getCompShareInstanceTypes({ region: "cn-wlcb" } as never)).rejects.toThrow(/zone is required/);
  });
});

describe("getCompSharePrice", () => {
  it("the hourly price as the resource's pricePerHour computes it, with the period and list prices", async () => {
    const dynamic = await getCompSharePrice({ region: "cn-wlcb", zone: "cn-wlcb-01", gpuType: "4090", gpu: 1, cpu: 16, memory: 65536, chargeType: "Dynamic" });
    expect(dynamic).toMatchObject({ pricePerHour: 2.05, chargeType: "Dynamic", periodPrice: 2.05, periodHours: 1, imagePerGpuHour: 0, gpuType: "4090" });
    const month = await getCompSharePrice({ ...COMPSHARE_INSTANCE, chargeType: "Month" });
    expect(month.periodHours).toBe(720);
    expect(month.pricePerHour).toBeCloseTo((2.05 * 720 * 0.8) / 720, 3);
    expect(month.originalPrice).toBeCloseTo(2.05 * 720, 1);
    expect(month.listPrice).toBeCloseTo(2.05 * 720, 1);
    expect(month.discountType).toBe(0);
  });

  it("checks its arguments before any call", async () => {
    const since = emu.requests.length;
    await expect(getCompSharePrice({ region: "cn-wlcb", zone: "cn-wlcb-01", gpuType: "4090", gpu: 1, cpu: 16, memory: 0, chargeType: "Dynamic" })).rejects.toThrow(/memory must be/);
    await expect(getCompSharePrice({ region: "cn-wlcb", zone: "", gpuType: "4090", gpu: 1, cpu: 16, memory: 65536, chargeType: "Dynamic" })).rejects.toThrow(/zone is required/);
    expect(emu.requests.length).toBe(since);
  });
});

describe("credentials and the process", () => {
  it("reads the keys as the provider does: none → CredentialsError", async () => {
    const keep = process.env.COMPSHARE_PRIVATE_KEY;
    delete process.env.COMPSHARE_PRIVATE_KEY;
    try {
      await expect(getCompShareZones({ region: "cn-wlcb" })).rejects.toBeInstanceOf(CredentialsError);
    } finally {
      process.env.COMPSHARE_PRIVATE_KEY = keep;
    }
  });

  it("closes its client after every call, also after a failure", async () => {
    const close = vi.spyOn(CompShareClient.prototype, "close");
    await getCompShareZones({ region: "cn-wlcb" });
    await getCompShareImages({ region: "cn-wlcb", zone: "cn-wlcb-01", kind: "community" });
    await getCompShareInstanceTypes({ region: "cn-wlcb", zone: "cn-wlcb-01", gpuType: "3090" });
    await getCompShareZones({ region: "hk" }).catch(() => undefined);
    expect(close).toHaveBeenCalledTimes(4);
  });

  it("leaves no client socket open: the program's process can exit", async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
    await new Promise((r) => setTimeout(r, 50));
    const before = sockets();
    await getCompSharePrice({ region: "cn-wlcb", zone: "cn-wlcb-01", gpuType: "4090", gpu: 1, cpu: 16, memory: 65536, chargeType: "Dynamic" });
    // the emulator's end of the connection closes once it sees ours close
    for (let i = 0; i < 50 && sockets() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sockets()).toBeLessThanOrEqual(before);
  });
});

// The actions: each reads its parameters with its schema, calls the model and shapes the
// answer the way the Go SDK's response types spell it (ucloud-sdk-go v0.22.98).

import type { z } from "zod";
import { GPUS, ZONES } from "./catalogue";
import { type CompShareModel, notAvailable } from "./model";
import {
  availableTypesSchema,
  capacitySchema,
  createSchema,
  deleteStopSchedulerSchema,
  describeSchema,
  paramName,
  priceSchema,
  rebootSchema,
  renameSchema,
  resizeSchema,
  startSchema,
  stopSchedulerSchema,
  stopSchema,
  supportZoneSchema,
  terminateSchema,
  unflatten,
} from "./schemas";
import { legalSizes, priceDetails } from "./shapes";

type Answer = Record<string, unknown>;
export type Action = (params: ReadonlyMap<string, string>) => Answer;

/** The parameters as the schema reads them; the first problem is `230 Params [Name] not available`. */
function read<S extends z.ZodType>(schema: S, params: ReadonlyMap<string, string>): z.output<S> {
  const parsed = schema.safeParse(unflatten(params));
  if (!parsed.success) throw notAvailable(paramName(parsed.error.issues[0]));
  return parsed.data;
}

const target = (p: { Region: string; Zone?: string; UHostId: string }) => ({ id: p.UHostId, where: { region: p.Region, zone: p.Zone } });

/** One `AvailableInstanceTypes` entry of a GPU type in a zone. */
function availableType(name: string, zone: string, spot: boolean, free: number) {
  const r = GPUS[name];
  const platforms = [...(r.intel ? ["Intel/Auto"] : []), ...(r.amd ? ["Amd/Auto"] : [])];
  return {
    Name: name,
    Zone: zone,
    Status: free > 0 ? "Normal" : "Soldout",
    Description: `${name} ${r.graphicsGb}G`,
    MachineClass: "GPU",
    ParentType: "G",
    InstanceType: spot ? "spot" : "uhost",
    GraphicsMemory: { Value: r.graphicsGb, Rate: 1 },
    Performance: { Value: r.tflops, Rate: 1 },
    CpuPlatforms: { Intel: r.intel ? ["Intel/Auto"] : [], Amd: r.amd ? ["Amd/Auto"] : [], Ampere: [] },
    MachineSizes: legalSizes(r).map(({ gpu, sizes }) => ({
      Gpu: gpu,
      Collection: sizes.map(({ cpu, memGb }) => ({ Cpu: cpu, Memory: [memGb], MinimalCpuPlatform: platforms })),
    })),
    Disks: [
      {
        Name: "cloudDisk",
        BootDisk: [{ Name: "CLOUD_SSD", InstantResize: true, MaximalSize: 500, Features: [] }],
        DataDisk: [{ Name: "CLOUD_SSD", MinimalSize: 20, MaximalSize: 32000, Features: [] }],
      },
    ],
    Features: [{ Name: "NetCapability", Modes: [{ Name: "Normal", MinimalCpuPlatform: [], RelatedToImageFeature: [] }] }],
  };
}

export function actions(model: CompShareModel): Record<string, Action> {
  return {
    CreateCompShareInstance: (params) => {
      const p = read(createSchema, params);
      const ids: string[] = [];
      for (let i = 0; i < p.MaxCount; i++) ids.push(model.create(p));
      return { UHostIds: ids };
    },

    DescribeCompShareInstance: (params) => {
      const p = read(describeSchema, params);
      return model.describe({ region: p.Region, zone: p.Zone, ids: p.UHostIds, limit: p.Limit, offset: p.Offset });
    },

    StartCompShareInstance: (params) => {
      const { id, where } = target(read(startSchema, params));
      model.start(id, where);
      return { UHostId: id };
    },

    StopCompShareInstance: (params) => {
      const p = read(stopSchema, params);
      const { id, where } = target(p);
      model.stop(id, where, p.Force);
      return { UHostId: id };
    },

    RebootCompShareInstance: (params) => {
      const { id, where } = target(read(rebootSchema, params));
      model.reboot(id, where);
      return { UHostId: id };
    },

    TerminateCompShareInstance: (params) => {
      const { id, where } = target(read(terminateSchema, params));
      model.terminate(id, where);
      // `InRecycle` is in CompShare's docs, not the SDK
      return { UHostId: id, InRecycle: "No" };
    },

    ModifyCompShareInstanceName: (params) => {
      const p = read(renameSchema, params);
      const { id, where } = target(p);
      model.rename(id, where, p.Name);
      return { UHostId: id };
    },

    ResizeCompShareInstance: (params) => {
      const p = read(resizeSchema, params);
      const { id, where } = target(p);
      if (p.DiskId !== undefined && p.DiskSpace !== undefined) model.resizeDisk(id, where, p.DiskId, p.DiskSpace);
      else model.resize(id, where, { cpu: p.Cpu!, memory: p.Memory!, gpu: p.Gpu! });
      return { UHostId: id };
    },

    UpdateCompShareStopScheduler: (params) => {
      const p = read(stopSchedulerSchema, params);
      const { id, where } = target(p);
      model.scheduleStop(id, where, p.StopTime);
      return { UHostId: id };
    },

    DeleteCompShareStopScheduler: (params) => {
      const { id, where } = target(read(deleteStopSchedulerSchema, params));
      model.cancelScheduledStop(id, where);
      return { UHostId: id };
    },

    CheckCompShareResourceCapacity: (params) => {
      const p = read(capacitySchema, params);
      return { Specs: model.capacityFor(p.GpuType) };
    },

    DescribeAvailableCompShareInstanceTypes: (params) => {
      const p = read(availableTypesSchema, params);
      const spot = p.InstanceType === "spot";
      const zones = p.Zone ? [p.Zone] : ZONES[p.Region];
      const names = Object.keys(GPUS).filter((n) => (p.MachineTypes.length === 0 || p.MachineTypes.includes(n)) && (!spot || GPUS[n].spot));
      return {
        AvailableInstanceTypes: zones.flatMap((zone) => names.map((n) => availableType(n, zone, spot, model.stock(n)))),
        Status: "Normal",
      };
    },

    DescribeCompShareSupportZone: (params) => {
      const { Region } = read(supportZoneSchema, params);
      return { ZoneInfo: ZONES[Region].map((zone, i) => ({ Region, Zone: zone, Describe: zone, RegionId: 1, ZoneId: i + 1 })) };
    },

    GetCompShareInstancePrice: (params) => {
      const p = read(priceSchema, params);
      const { paid, original } = priceDetails({
        gpuType: p.GpuType,
        gpu: p.Gpu,
        cpu: p.Cpu,
        memory: p.Memory,
        chargeType: p.ChargeType,
        quantity: p.Quantity,
        disks: p.Disks,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      // The SDK reads the singular keys; CompShare's docs and official CLI read `PriceDetails`.
      return { PriceDetail: paid, OriginalPriceDetail: original, ListPriceDetail: original, PriceDetails: paid };
    },
  };
}

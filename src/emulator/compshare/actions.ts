// The actions: each reads its parameters with its schema, calls the model and shapes the
// answer the way the Go SDK's response types spell it (ucloud-sdk-go v0.22.98).

import type { z } from "zod";
import { GPUS, OTHER_ACCOUNT_ZONES, REGION_IDS, ZONE_INFO, ZONES } from "./catalogue";
import type { ImageRow } from "./images";
import { type CompShareModel, type ImageKind, type ImageQuery, listImages, notAvailable } from "./model";
import {
  availableTypesSchema,
  capacitySchema,
  communityImagesSchema,
  createSchema,
  customImagesSchema,
  deleteStopSchedulerSchema,
  describeSchema,
  imagesSchema,
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

type Target = { Region: string; Zone?: string; UHostId: string };
type Where = { region: string; zone?: string };

/** An action on one instance: it answers `UHostId`, and whatever `act` adds. */
function onInstance<S extends z.ZodType<Target>>(schema: S, act: (p: z.output<S>, id: string, where: Where) => Answer | void): Action {
  return (params) => {
    const p = read(schema, params);
    const extra = act(p, p.UHostId, { region: p.Region, zone: p.Zone });
    return { UHostId: p.UHostId, ...extra };
  };
}

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

/** A `CompShareImage` as the SDK's models.go spells it; `Readme` only when asked by id (the SDK). */
function imageView(r: ImageRow, byId: boolean): Answer {
  const { zones, os, ...wire } = r;
  void zones;
  void os;
  return {
    ...wire,
    Cover: "",
    FailedReason: "",
    GroupId: `group-${r.CompShareImageId.slice(15, 23)}`,
    VersionName: "v1",
    VersionDesc: "",
    AutoStart: false,
    ImageUseTime: 0,
    Owner: r.ImageType === "Custom" ? { AccountId: "56000001", AccountName: "me" } : { AccountId: "", AccountName: r.Author },
    ...(byId && { Readme: `# ${r.Name}\n\n${r.Description}` }),
  };
}

function imagesAnswer(kind: ImageKind, q: ImageQuery): Answer {
  const { TotalCount, rows } = listImages(kind, q);
  return { ImageSet: rows.map((r) => imageView(r, q.id !== undefined)), TotalCount };
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

    StartCompShareInstance: onInstance(startSchema, (_p, id, where) => model.start(id, where)),
    StopCompShareInstance: onInstance(stopSchema, (p, id, where) => model.stop(id, where, p.Force)),
    RebootCompShareInstance: onInstance(rebootSchema, (_p, id, where) => model.reboot(id, where)),
    TerminateCompShareInstance: onInstance(terminateSchema, (_p, id, where) => {
      model.terminate(id, where);
      // `InRecycle` is in CompShare's docs, not the SDK
      return { InRecycle: "No" };
    }),
    ModifyCompShareInstanceName: onInstance(renameSchema, (p, id, where) => model.rename(id, where, p.Name)),
    ResizeCompShareInstance: onInstance(resizeSchema, (p, id, where) => {
      if (p.DiskId !== undefined && p.DiskSpace !== undefined) model.resizeDisk(id, where, p.DiskId, p.DiskSpace);
      else model.resize(id, where, { cpu: p.Cpu!, memory: p.Memory!, gpu: p.Gpu! });
    }),
    UpdateCompShareStopScheduler: onInstance(stopSchedulerSchema, (p, id, where) => model.scheduleStop(id, where, p.StopTime)),
    DeleteCompShareStopScheduler: onInstance(deleteStopSchedulerSchema, (_p, id, where) => model.cancelScheduledStop(id, where)),

    CheckCompShareResourceCapacity: (params) => {
      const p = read(capacitySchema, params);
      return { Specs: model.capacityFor(p.GpuType, p.Zone, p.CompShareImageId) };
    },

    DescribeAvailableCompShareInstanceTypes: (params) => {
      const p = read(availableTypesSchema, params);
      const spot = p.InstanceType === "spot";
      const zones = p.Zone ? [p.Zone] : ZONES[p.Region];
      const names = Object.keys(GPUS).filter((n) => (p.MachineTypes.length === 0 || p.MachineTypes.includes(n)) && (!spot || GPUS[n].spot));
      return {
        AvailableInstanceTypes: zones.flatMap((zone) => names.map((n) => availableType(n, zone, spot, model.stock(n, zone)))),
        Status: "Normal",
      };
    },

    DescribeCompShareSupportZone: (params) => {
      const { Region } = read(supportZoneSchema, params);
      return {
        ZoneInfo: ZONES[Region].map((zone) => ({
          Region,
          Zone: zone,
          Describe: ZONE_INFO[zone]?.describe ?? zone,
          RegionId: REGION_IDS[Region] ?? 0,
          ZoneId: ZONE_INFO[zone]?.id ?? 0,
        })),
      };
    },

    // Gateway-wide (the SDK's uaccount service): one `RegionInfo` per zone the account may use.
    GetRegion: () => ({
      Regions: [
        ...Object.entries(ZONES).flatMap(([Region, zones]) =>
          zones.map((Zone) => ({ Region, Zone, RegionId: REGION_IDS[Region] ?? 0, RegionName: ZONE_INFO[zones[0]]?.describe.replace(/[A-Z]$/, "") ?? Region, IsDefault: Region === "cn-wlcb", BitMaps: "1" })),
        ),
        ...OTHER_ACCOUNT_ZONES.map((z) => ({ ...z, IsDefault: false, BitMaps: "1" })),
      ],
    }),

    DescribeCompShareImages: (params) => {
      const p = read(imagesSchema, params);
      return imagesAnswer("platform", { zone: p.Zone, id: p.CompShareImageId, imageType: p.ImageType ?? (p.CompShareImageId ? undefined : "System"), name: p.Name, author: p.Author, tag: p.Tag, offset: p.Offset, limit: p.Limit });
    },

    DescribeCompShareCustomImages: (params) => {
      const p = read(customImagesSchema, params);
      return imagesAnswer("custom", { zone: p.Zone, id: p.CompShareImageId, offset: p.Offset, limit: p.Limit });
    },

    DescribeCommunityImages: (params) => {
      const p = read(communityImagesSchema, params);
      return imagesAnswer("community", { zone: p.Zone, id: p.CompShareImageId, name: p.Name, author: p.Author, tag: p.Tag, offset: p.Offset, limit: p.Limit });
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
        nowSeconds: model.nowSeconds(),
      });
      // The SDK reads the singular keys; CompShare's docs and official CLI read `PriceDetails`.
      return { PriceDetail: paid, OriginalPriceDetail: original, ListPriceDetail: original, PriceDetails: paid };
    },
  };
}

// The images the emulator offers: data only. Field names and types are the Go SDK's
// `CompShareImage` (ucloud-sdk-go v0.22.98, services/ucompshare/models.go); names, sizes,
// versions and ids are invented but shaped like CompShare's (an id is `compshareImage-` and
// 12 lowercase letters or digits). `zones` is not on the wire: the zones whose
// DescribeCompShareCustomImages / DescribeCommunityImages list the image (platform images
// are offered in every zone).

export interface ImageRow {
  CompShareImageId: string;
  Name: string;
  /** `System` | `App` (platform), `Custom` (the account's own), `Community`. */
  ImageType: "System" | "App" | "Custom" | "Community";
  /** `Official` for platform images, `Community` otherwise. */
  ImageOwnerAlias: "Official" | "Community";
  Author: string;
  AuthInfo: number;
  Status: "Available" | "Making" | "UnAvailable" | "Reviewing" | "Offline";
  /** MB. */
  Size: number;
  Visibility: 0 | 1;
  Description: string;
  Tags: string[];
  /** CNY. */
  Price: number;
  ImageCharge: boolean;
  Container: "True" | "False";
  Softwares: { Framework: string; FrameworkVersion: string; CUDAVersion: string; Applications: string[] };
  /** Used by DescribeInstance's `OsName`; not a field of `CompShareImage`. */
  os: string;
  CreateTime: number;
  PubTime: number;
  CreatedCount: number;
  FavoritesCount: number;
  SourceGpuType: string;
  IsOfficial: boolean;
  zones?: readonly string[];
}

const official = { ImageOwnerAlias: "Official", Author: "CompShare", AuthInfo: 1, Status: "Available", Visibility: 1, Price: 0, ImageCharge: false, Container: "False", SourceGpuType: "", IsOfficial: true } as const;

const sw = (framework: string, version: string, cuda: string, apps: string[] = []) => ({ Framework: framework, FrameworkVersion: version, CUDAVersion: cuda, Applications: apps });

/** Platform images (DescribeCompShareImages): `System` and `App`. */
export const PLATFORM_IMAGES: readonly ImageRow[] = [
  { ...official, CompShareImageId: "compshareImage-165jmhx19ik7", Name: "Ubuntu 22.04 CUDA 12.4", ImageType: "System", Size: 30720, Description: "Ubuntu 22.04 with the NVIDIA driver 550 and CUDA 12.4", Tags: ["Ubuntu", "CUDA"], Softwares: sw("", "", "12.4"), os: "Ubuntu 22.04", CreateTime: 1714521600, PubTime: 1714521600, CreatedCount: 184302, FavoritesCount: 0 },
  { ...official, CompShareImageId: "compshareImage-16fa2ktq0v3m", Name: "Ubuntu 20.04 CUDA 11.8", ImageType: "System", Size: 25600, Description: "Ubuntu 20.04 with the NVIDIA driver 520 and CUDA 11.8", Tags: ["Ubuntu", "CUDA"], Softwares: sw("", "", "11.8"), os: "Ubuntu 20.04", CreateTime: 1688169600, PubTime: 1688169600, CreatedCount: 90211, FavoritesCount: 0 },
  { ...official, CompShareImageId: "compshareImage-17b9wn3c8x2d", Name: "Ubuntu 24.04 CUDA 12.8", ImageType: "System", Size: 32768, Description: "Ubuntu 24.04 with the NVIDIA driver 570 and CUDA 12.8 (5090 ready)", Tags: ["Ubuntu", "CUDA"], Softwares: sw("", "", "12.8"), os: "Ubuntu 24.04", CreateTime: 1740787200, PubTime: 1740787200, CreatedCount: 40377, FavoritesCount: 0 },
  { ...official, CompShareImageId: "compshareImage-18kq5r7mzt4e", Name: "Ubuntu 22.04 PyTorch 2.4 CUDA 12.1", ImageType: "System", Size: 40960, Description: "PyTorch 2.4.0, Python 3.10, CUDA 12.1 on Ubuntu 22.04", Tags: ["PyTorch", "CUDA"], Softwares: sw("PyTorch", "2.4.0", "12.1"), os: "Ubuntu 22.04", CreateTime: 1719792000, PubTime: 1719792000, CreatedCount: 120554, FavoritesCount: 0 },
  { ...official, CompShareImageId: "compshareImage-19hd0pe6ls8k", Name: "Ubuntu 22.04 TensorFlow 2.15 CUDA 12.2", ImageType: "System", Size: 39936, Description: "TensorFlow 2.15, Python 3.10, CUDA 12.2 on Ubuntu 22.04", Tags: ["TensorFlow", "CUDA"], Softwares: sw("TensorFlow", "2.15", "12.2"), os: "Ubuntu 22.04", CreateTime: 1709251200, PubTime: 1709251200, CreatedCount: 18230, FavoritesCount: 0 },
  { ...official, CompShareImageId: "compshareImage-1c8w7rfxn2qd", Name: "PyTorch 2.5 CUDA 12.4", ImageType: "App", Size: 46080, Description: "PyTorch 2.5.1 with JupyterLab, Python 3.11, CUDA 12.4", Tags: ["PyTorch", "Jupyter"], Softwares: sw("PyTorch", "2.5.1", "12.4", ["JupyterLab"]), os: "Ubuntu 22.04", CreateTime: 1730419200, PubTime: 1730419200, CreatedCount: 66102, FavoritesCount: 0 },
  { ...official, CompShareImageId: "compshareImage-1d3u9yb5gw7n", Name: "ComfyUI Stable Diffusion", ImageType: "App", Size: 81920, Description: "ComfyUI with SDXL and Flux workflows", Tags: ["AIGC", "ComfyUI"], Softwares: sw("PyTorch", "2.5.1", "12.4", ["ComfyUI"]), os: "Ubuntu 22.04", CreateTime: 1733011200, PubTime: 1733011200, CreatedCount: 35890, FavoritesCount: 0 },
];

const community = { ImageOwnerAlias: "Community", AuthInfo: 0, Visibility: 1, ImageCharge: false, Container: "False", IsOfficial: false } as const;

/** Community images (DescribeCommunityImages), listed in the zones given. */
export const COMMUNITY_IMAGES: readonly ImageRow[] = [
  { ...community, CompShareImageId: "compshareImage-1f6kx2hv9q0a", Name: "vLLM 0.6 Qwen2.5 inference", ImageType: "Community", Author: "llm-lab", Status: "Available", Size: 61440, Description: "vLLM 0.6.3 serving Qwen2.5-7B-Instruct on port 8000", Tags: ["LLM", "vLLM"], Price: 0, Softwares: sw("PyTorch", "2.4.0", "12.1", ["vLLM"]), os: "Ubuntu 22.04", CreateTime: 1727740800, PubTime: 1727827200, CreatedCount: 5120, FavoritesCount: 812, SourceGpuType: "4090", zones: ["cn-wlcb-01", "cn-sh2-02"] },
  { ...community, CompShareImageId: "compshareImage-1g2ns8ce4r5b", Name: "Fooocus SDXL", ImageType: "Community", Author: "pixel", Status: "Available", Size: 51200, Description: "Fooocus 2.5 with SDXL checkpoints", Tags: ["AIGC"], Price: 0.5, Softwares: sw("PyTorch", "2.1.2", "12.1", ["Fooocus"]), os: "Ubuntu 22.04", CreateTime: 1722470400, PubTime: 1722556800, CreatedCount: 2330, FavoritesCount: 415, SourceGpuType: "4090", zones: ["cn-wlcb-01"] },
  { ...community, CompShareImageId: "compshareImage-1h7pa3dk6m1c", Name: "LLaMA-Factory fine-tuning", ImageType: "Community", Author: "tuner", Status: "Offline", Size: 57344, Description: "LLaMA-Factory 0.8 (withdrawn by its author)", Tags: ["LLM"], Price: 0, Softwares: sw("PyTorch", "2.3.0", "12.1", ["LLaMA-Factory"]), os: "Ubuntu 22.04", CreateTime: 1717200000, PubTime: 1717286400, CreatedCount: 980, FavoritesCount: 120, SourceGpuType: "A800", zones: ["cn-wlcb-01"] },
];

/** The account's own images (DescribeCompShareCustomImages), in the zones they were made in. */
export const CUSTOM_IMAGES: readonly ImageRow[] = [
  { ...community, ImageOwnerAlias: "Community", Visibility: 0, CompShareImageId: "compshareImage-1j4tq9wz2e8f", Name: "team-base-2025-06", ImageType: "Custom", Author: "", Status: "Available", Size: 35840, Description: "our base image: CUDA 12.4 and the team's tools", Tags: [], Price: 0, Softwares: sw("", "", "12.4"), os: "Ubuntu 22.04", CreateTime: 1748736000, PubTime: 0, CreatedCount: 0, FavoritesCount: 0, SourceGpuType: "4090", IsOfficial: true, zones: ["cn-wlcb-01"] },
  { ...community, ImageOwnerAlias: "Community", Visibility: 0, CompShareImageId: "compshareImage-1k8mc5ny7h3g", Name: "trainer-snapshot", ImageType: "Custom", Author: "", Status: "Making", Size: 0, Description: "in the making", Tags: [], Price: 0, Softwares: sw("PyTorch", "2.4.0", "12.1"), os: "Ubuntu 22.04", CreateTime: 1751328000, PubTime: 0, CreatedCount: 0, FavoritesCount: 0, SourceGpuType: "3090", IsOfficial: false, zones: ["cn-wlcb-01"] },
];

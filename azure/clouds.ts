// The ARM endpoint and token scope of each cloud (azure-notes §4). One deployment talks to one cloud.
import type { Cloud } from "../catalog";

export interface CloudEndpoints {
  armEndpoint: string;
  /** Passed explicitly: newer SDK clients default to the public cloud's scope otherwise. */
  tokenScope: string;
  authorityHost: string;
}

export const CLOUD_ENDPOINTS: Readonly<Record<Cloud, CloudEndpoints>> = {
  AzureCloud: {
    armEndpoint: "https://management.azure.com",
    tokenScope: "https://management.azure.com/.default",
    authorityHost: "https://login.microsoftonline.com",
  },
  AzureChinaCloud: {
    armEndpoint: "https://management.chinacloudapi.cn",
    tokenScope: "https://management.chinacloudapi.cn/.default",
    authorityHost: "https://login.chinacloudapi.cn",
  },
  AzureUSGovernment: {
    armEndpoint: "https://management.usgovcloudapi.net",
    tokenScope: "https://management.usgovcloudapi.net/.default",
    authorityHost: "https://login.microsoftonline.us",
  },
};

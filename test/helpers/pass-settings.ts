// The settings of one pass in the public cloud, with the app's defaults: tests name only what they vary.
import { DEFAULT_CATALOG_VERSION } from "../../catalog";
import type { PassSettings } from "../../orchestrations/activities/plan";

export function passSettings(
  subscriptions: string[],
  policiesInScope: string[],
  extra: Partial<PassSettings> = {},
): PassSettings {
  return {
    cloud: "AzureCloud",
    groupName: "aks-egress-guard",
    groupPriority: 300,
    catalogVersion: DEFAULT_CATALOG_VERSION,
    allowAnySource: false,
    subscriptions,
    policiesInScope,
    includeUntaggedWhenDefault: false,
    defaultFeatures: [],
    ...extra,
  };
}

/** The public cloud's demo estate (local/demo/estates/azurecloud.json): its subscription and policy. */
export const DEMO_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1";
export const DEMO_POLICY = `/subscriptions/${DEMO_SUBSCRIPTION}/resourceGroups/rg-network/providers/Microsoft.Network/firewallPolicies/fw-hub-westeurope`;

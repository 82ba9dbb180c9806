// The Azure RBAC actions the app's identity needs, and nothing more (infra/ grants exactly these;
// a test cross-checks the two). Reading clusters, subnets and where their egress goes (route tables,
// firewalls, hubs) is covered by the built-in Reader role.
export const FIREWALL_POLICY_ACTIONS = [
  "Microsoft.Network/firewallPolicies/read",
  "Microsoft.Network/firewallPolicies/ruleCollectionGroups/read",
  "Microsoft.Network/firewallPolicies/ruleCollectionGroups/write",
] as const;

/** What `Reader` gives the app on the clusters' scope (listed for the README and the cross-check). */
export const READ_ACTIONS = [
  "Microsoft.ContainerService/managedClusters/read",
  "Microsoft.Network/virtualNetworks/subnets/read",
  // The pass lists virtual networks per subscription (subnets embedded): one read instead of one per subnet.
  "Microsoft.Network/virtualNetworks/read",
  // Where each cluster's egress goes (issue 13): route tables, Azure Firewalls, and Virtual WAN hubs
  // with their connections and routing intent, listed per subscription (Reader on the clusters' and
  // the policies' subscriptions, where hub networks usually are).
  "Microsoft.Network/routeTables/read",
  "Microsoft.Network/azureFirewalls/read",
  "Microsoft.Network/virtualHubs/read",
  "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections/read",
  "Microsoft.Network/virtualHubs/routingIntent/read",
] as const;

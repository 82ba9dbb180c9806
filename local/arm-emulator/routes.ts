// The ARM surface the app uses, and nothing more: anything else is answered `EmulatorUnsupported`
// so that a client reaching for an unemulated API fails loudly instead of getting a made-up answer.
import type { ArmRequest, EmulatorCore, Handler } from "./core";
import {
  getFirewall,
  getPeering,
  getRouteTable,
  getVirtualHub,
  getVirtualNetwork,
  hubConnections,
  listFirewalls,
  listPeerings,
  listRouteTables,
  listVirtualHubs,
  listVirtualNetworks,
  routingIntents,
} from "./network-reads";
import {
  CLUSTER_ID,
  FIREWALL_ID,
  GROUP_ID,
  HUB_CONNECTION_ID,
  HUB_ID,
  matchPattern,
  PEERING_ID,
  POLICY_ID,
  ROUTE_TABLE_ID,
  ROUTING_INTENT_ID,
  SUBNET_ID,
  VNET_ID,
} from "./paths";
import { getCluster, getGroup, getPolicy, getSubnet, listClusters, listGroups, listPolicies } from "./reads";
import { type ArmReply, unsupported } from "./replies";
import {
  deleteGroup,
  getOperationResult,
  getOperationStatus,
  OPERATION_RESULT,
  OPERATION_STATUS,
  putGroup,
} from "./writes";

interface Route {
  pattern: string;
  methods: Partial<Record<string, Handler>>;
}

const SUBSCRIPTION = "/subscriptions/{subscription}";
const RESOURCE_GROUP = `${SUBSCRIPTION}/resourceGroups/{resourceGroup}`;

/** A top-level Microsoft.Network type: list per subscription and per resource group, GET by ID. */
function listedKind(
  type: string,
  idPattern: string,
  list: { subscription: Handler; resourceGroup: Handler },
  get: Handler,
): Route[] {
  return [
    { pattern: `${SUBSCRIPTION}/providers/Microsoft.Network/${type}`, methods: { GET: list.subscription } },
    {
      pattern: `${RESOURCE_GROUP}/providers/Microsoft.Network/${type}`,
      methods: { GET: list.resourceGroup },
    },
    { pattern: idPattern, methods: { GET: get } },
  ];
}

const ROUTES: readonly Route[] = [
  {
    pattern: `${SUBSCRIPTION}/providers/Microsoft.ContainerService/managedClusters`,
    methods: { GET: listClusters.subscription },
  },
  {
    pattern: `${RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters`,
    methods: { GET: listClusters.resourceGroup },
  },
  { pattern: CLUSTER_ID, methods: { GET: getCluster } },
  {
    pattern: `${SUBSCRIPTION}/providers/Microsoft.Network/virtualNetworks`,
    methods: { GET: listVirtualNetworks.subscription },
  },
  {
    pattern: `${RESOURCE_GROUP}/providers/Microsoft.Network/virtualNetworks`,
    methods: { GET: listVirtualNetworks.resourceGroup },
  },
  { pattern: VNET_ID, methods: { GET: getVirtualNetwork } },
  { pattern: SUBNET_ID, methods: { GET: getSubnet } },
  { pattern: `${VNET_ID}/virtualNetworkPeerings`, methods: { GET: listPeerings } },
  { pattern: PEERING_ID, methods: { GET: getPeering } },
  ...listedKind("routeTables", ROUTE_TABLE_ID, listRouteTables, getRouteTable),
  ...listedKind("azureFirewalls", FIREWALL_ID, listFirewalls, getFirewall),
  ...listedKind("virtualHubs", HUB_ID, listVirtualHubs, getVirtualHub),
  { pattern: `${HUB_ID}/hubVirtualNetworkConnections`, methods: { GET: hubConnections.list } },
  { pattern: HUB_CONNECTION_ID, methods: { GET: hubConnections.get } },
  { pattern: `${HUB_ID}/routingIntent`, methods: { GET: routingIntents.list } },
  { pattern: ROUTING_INTENT_ID, methods: { GET: routingIntents.get } },
  {
    pattern: `${SUBSCRIPTION}/providers/Microsoft.Network/firewallPolicies`,
    methods: { GET: listPolicies.subscription },
  },
  {
    pattern: `${RESOURCE_GROUP}/providers/Microsoft.Network/firewallPolicies`,
    methods: { GET: listPolicies.resourceGroup },
  },
  { pattern: POLICY_ID, methods: { GET: getPolicy } },
  { pattern: `${POLICY_ID}/ruleCollectionGroups`, methods: { GET: listGroups } },
  { pattern: GROUP_ID, methods: { GET: getGroup, PUT: putGroup, DELETE: deleteGroup } },
  { pattern: OPERATION_STATUS, methods: { GET: getOperationStatus } },
  { pattern: OPERATION_RESULT, methods: { GET: getOperationResult } },
];

export function route(request: ArmRequest, core: EmulatorCore): ArmReply {
  for (const { pattern, methods } of ROUTES) {
    const params = matchPattern(pattern, request.path);
    if (!params) continue;
    const handler = methods[request.method.toUpperCase()];
    // A known path with an unemulated method is a bad request rather than a missing resource.
    return handler ? handler(request, params, core) : unsupported(request.method, request.path, 400);
  }
  return unsupported(request.method, request.path);
}

// The ARM surface the app uses, and nothing more: anything else is answered `EmulatorUnsupported`
// so that a client reaching for an unemulated API fails loudly instead of getting a made-up answer.
import type { ArmRequest, EmulatorCore, Handler } from "./core";
import { CLUSTER_ID, GROUP_ID, matchPattern, POLICY_ID, SUBNET_ID, VNET_ID } from "./paths";
import {
  getCluster,
  getGroup,
  getPolicy,
  getSubnet,
  getVirtualNetwork,
  listClusters,
  listGroups,
  listPolicies,
  listVirtualNetworks,
} from "./reads";
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

// Route-derived mapping (issue 13): where each cluster's egress goes, from the network. Pure.
export { DEFAULT_ROUTE_PREFIX, deriveEgress, EGRESS_FINDINGS, nameOf } from "./egress";
export { formatClusterEgress, formatEgressPath, routeEvidence } from "./format";
export { needsFirewalls, needsVirtualHubs, routeTableSubscriptions } from "./needs";
export type * from "./types";

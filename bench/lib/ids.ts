// Names shared by the benchmarks' estates and fleets (no imports: the planning worker stays light).
export const SUBSCRIPTION = "00000000-0000-0000-0000-0000000000b1";
export const NETWORK_RG = "rg-network";
export const POLICY_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/firewallPolicies/fw-bench`;

/** 10.{base+i/256}.{i%256}.0/24: a distinct /24 per index, up to 16,384 of them from base 64. */
export function cidrFor(index: number, base = 64): string {
  return `10.${base + Math.floor(index / 256)}.${index % 256}.0/24`;
}

// Reads the one network resource an ARM event is about, as it is now, to learn where it sends egress
// (functions/events/arm-event.ts narrows the event with it). One GET each, with the app's connection
// and its Reader role; the facts are the same as a pass's (azure/topology.ts, azure/clusters.ts).
import type { AzureFirewallFacts, HubConnectionFacts, RouteTableFacts, SubnetRouting } from "../topology";
import { type ArmConnection, networkClient } from "./clients";
import { subnetsByGet } from "./clusters";
import { parseResourceId } from "./resource-id";
import { isRestError } from "./sdk";
import { firewallFacts, hubConnectionFacts, routeTableFacts } from "./topology";

/** Each answers undefined when ARM says the resource does not exist (404); any other failure throws. */
export interface NetworkReader {
  routeTable(id: string): Promise<RouteTableFacts | undefined>;
  subnet(id: string): Promise<SubnetRouting | undefined>;
  /** The route table of each of the network's subnets (undefined: the subnet has none). */
  virtualNetwork(id: string): Promise<{ subnetRouteTables: (string | undefined)[] } | undefined>;
  firewall(id: string): Promise<AzureFirewallFacts | undefined>;
  hubConnection(id: string): Promise<HubConnectionFacts | undefined>;
}

async function orMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isRestError(error) && error.statusCode === 404) return undefined;
    throw error;
  }
}

/** The real reader; the connection is made on first use (only network events need one). */
export function networkReader(connect: () => ArmConnection): NetworkReader {
  const client = (id: string) => {
    const parsed = parseResourceId(id);
    return { parsed, network: networkClient(connect(), parsed.subscriptionId) };
  };
  return {
    routeTable: (id) =>
      orMissing(async () => {
        const { parsed, network } = client(id);
        return routeTableFacts(await network.routeTables.get(parsed.resourceGroup, parsed.name));
      }),
    subnet: (id) => orMissing(() => subnetsByGet(connect()).subnet(id)),
    virtualNetwork: (id) =>
      orMissing(async () => {
        const { parsed, network } = client(id);
        const read = await network.virtualNetworks.get(parsed.resourceGroup, parsed.name);
        return { subnetRouteTables: (read.subnets ?? []).map((s) => s.routeTable?.id) };
      }),
    firewall: (id) =>
      orMissing(async () => {
        const { parsed, network } = client(id);
        return firewallFacts(await network.azureFirewalls.get(parsed.resourceGroup, parsed.name));
      }),
    hubConnection: (id) =>
      orMissing(async () => {
        const { parsed, network } = client(id);
        const [, connection = ""] = parsed.children[0] ?? [];
        return hubConnectionFacts(
          await network.hubVirtualNetworkConnections.get(parsed.resourceGroup, parsed.name, connection),
        );
      }),
  };
}

// Turns the requirements of one catalog version into Azure Firewall rules for one cloud, region and
// feature set (DESIGN §3 "Translation"). Pure and deterministic: same input, byte-identical output.
import type { ParameterValues } from "./parameters";
import { type Catalog, type CatalogEntry, type Cloud, FEATURES, type Feature, type PortSpec } from "./schema";

export interface ApplicationRule {
  name: string;
  feature: string;
  description: string;
  targetFqdns: string[];
  protocols: { protocolType: "Http" | "Https"; port: number }[];
}

export interface NetworkRule {
  name: string;
  feature: string;
  description: string;
  ipProtocols: ("TCP" | "UDP")[];
  destinationAddresses: string[];
  destinationFqdns: string[];
  destinationPorts: string[];
}

export interface Unresolved {
  feature: Feature;
  entry: string;
  reason: string;
}

/** DESIGN §4's JSON contract for `aks-egress rules --format json`. */
export interface RuleSet {
  catalog: string;
  cloud: Cloud;
  region: string;
  features: Feature[];
  applicationRules: ApplicationRule[];
  networkRules: NetworkRule[];
  unresolved: Unresolved[];
}

export interface RenderRequest {
  catalog: Catalog;
  cloud: Cloud;
  /** A validated, normalised region name (see `normaliseRegion`). */
  region: string;
  /** Optional features; `base` is always added. */
  features: readonly Feature[];
  parameters?: ParameterValues;
  /** Leaves out what the document says private clusters do not need. */
  privateCluster?: boolean;
  /**
   * `parameters.apiServerIp` was resolved from the cluster's FQDN: the rows that name the address itself
   * use it, the tunnel rows keep the region's service tag (an address that changes in maintenance
   * would cut the tunnel until the next pass). A person's `apiServerIp` serves both, as the page allows.
   */
  apiServerIpFromFqdn?: boolean;
}

export const DNS_PROXY_NOTE = "Needs DNS proxy enabled on the firewall policy.";
const NAME_LIMIT = 80;

/** Collects the contributions of several entries to one rule, so that duplicates merge. */
interface Accumulator {
  features: Set<Feature>;
  purposes: string[];
  conditions: string[];
}

interface AppAcc extends Accumulator {
  host: string;
  protocols: Map<string, { protocolType: "Http" | "Https"; port: number }>;
}

interface NetAcc extends Accumulator {
  protocol: "TCP" | "UDP";
  addresses: string[];
  fqdns: string[];
  ports: Set<number>;
}

type Destination = { addresses: readonly string[] } | { fqdn: string };

export function featureOrder(features: Iterable<Feature>): Feature[] {
  const wanted = new Set(features);
  return FEATURES.filter((f) => wanted.has(f));
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** Rule names: letters, digits, `.`, `-`, `_`; at most 80 characters; unique per destination. */
export function ruleName(prefix: string, key: string): string {
  const slug = key
    .toLowerCase()
    .replace(/^\*\./, "wildcard.")
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  const name = `${prefix}-${slug}`;
  return name.length <= NAME_LIMIT
    ? name
    : `${name.slice(0, NAME_LIMIT - 9).replace(/[.-]+$/, "")}-${fnv1a(name)}`;
}

export function fillTemplate(
  template: string,
  region: string,
  parameters: ParameterValues,
): string | { missing: string } {
  let missing: string | undefined;
  const filled = template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    if (name === "region") return region;
    const value = parameters[name as keyof ParameterValues]?.[0];
    if (value === undefined) missing ??= name;
    return value ?? "";
  });
  return missing === undefined ? filled : { missing };
}

/** The destination as written, without the page's markdown (bold, code, line breaks), for messages. */
function written(entry: CatalogEntry): string {
  return entry.asWritten.replace(/\s*<br\s*\/?>\s*/gi, " ").replace(/\*\*|`/g, "");
}

export function describePorts(ports: readonly PortSpec[]): string {
  return ports.map((p) => `${p.protocol}:${p.port}`).join(", ");
}

function note(acc: Accumulator, entry: CatalogEntry): void {
  acc.features.add(entry.feature);
  // The same words with or without a final full stop (the page's tables differ) are one purpose.
  const same = (a: string) => a.replace(/\.$/, "") === entry.purpose.replace(/\.$/, "");
  if (!acc.purposes.some(same)) acc.purposes.push(entry.purpose);
  if (entry.condition !== undefined && !acc.conditions.includes(entry.condition))
    acc.conditions.push(entry.condition);
}

function describe(acc: Accumulator, extra?: string): string {
  const conditions = acc.conditions.length > 0 ? ` (${acc.conditions.join("; ")})` : "";
  return `${featureOrder(acc.features).join(", ")}: ${acc.purposes.join(" / ")}${conditions}${extra ? ` ${extra}` : ""}`;
}

/** Whether the catalog entry is rendered for this request: its cloud, features, region and conditions. */
export function entryApplies(entry: CatalogEntry, request: Omit<RenderRequest, "catalog">): boolean {
  const parameters = request.parameters ?? {};
  if (!entry.clouds.includes(request.cloud)) return false;
  if (entry.feature !== "base" && !request.features.includes(entry.feature)) return false;
  if (entry.alternative !== undefined) return false;
  if (entry.regions !== undefined && !entry.regions.includes(request.region)) return false;
  if (request.privateCluster === true && entry.notForPrivateClusters === true) return false;
  return entry.onlyWithParameter === undefined || parameters[entry.onlyWithParameter] !== undefined;
}

export function renderRules(request: RenderRequest): RuleSet {
  const { catalog, cloud, region } = request;
  const parameters = request.parameters ?? {};
  const enabled = featureOrder(["base", ...request.features]);
  const apps = new Map<string, AppAcc>();
  const nets = new Map<string, NetAcc>();
  const unresolved: Unresolved[] = [];
  const unresolve = (entry: CatalogEntry, reason: string) =>
    unresolved.push({ feature: entry.feature, entry: entry.id, reason });

  const addNetwork = (entry: CatalogEntry, destination: Destination, port: PortSpec) => {
    // HTTP/HTTPS to an address is plain TCP for a network rule.
    const protocol = port.protocol === "UDP" ? "UDP" : "TCP";
    const addresses = "addresses" in destination ? [...destination.addresses].sort() : [];
    const fqdns = "fqdn" in destination ? [destination.fqdn] : [];
    const key = `${protocol}|${addresses.join(",")}|${fqdns.join(",")}`;
    let acc = nets.get(key);
    if (acc === undefined) {
      acc = {
        protocol,
        addresses,
        fqdns,
        ports: new Set(),
        features: new Set(),
        purposes: [],
        conditions: [],
      };
      nets.set(key, acc);
    }
    acc.ports.add(port.port);
    note(acc, entry);
  };

  const apiServerAddresses = () =>
    (request.apiServerIpFromFqdn === true ? undefined : parameters.apiServerIp) ?? [`AzureCloud.${region}`];

  for (const entry of catalog.entries) {
    if (!entryApplies(entry, request)) continue;

    const destination = entry.destination;
    switch (destination.kind) {
      case "unspecified":
        unresolve(
          entry,
          `"${written(entry)}": the document asks for ${describePorts(entry.ports)} without naming a destination, so no rule is written (never one to any destination). The HTTPS:443 application rules cover the hosts the document names.`,
        );
        break;
      case "parameter": {
        const addresses = parameters[destination.parameter];
        if (addresses === undefined) {
          unresolve(
            entry,
            `needs --param ${destination.parameter}=… for ${describePorts(entry.ports)} ("${written(entry)}"); not guessed.`,
          );
          break;
        }
        for (const port of entry.ports) addNetwork(entry, { addresses }, port);
        break;
      }
      case "apiServer":
        for (const port of entry.ports) addNetwork(entry, { addresses: apiServerAddresses() }, port);
        break;
      case "serviceTag":
        for (const port of entry.ports)
          addNetwork(entry, { addresses: [destination.tag.replace("{region}", region)] }, port);
        break;
      case "fqdn": {
        const host = fillTemplate(destination.host, region, parameters);
        if (typeof host !== "string") {
          unresolve(
            entry,
            `needs --param ${host.missing}=… to name the host "${written(entry)}"; not guessed.`,
          );
          break;
        }
        for (const port of entry.ports) {
          if (port.protocol === "HTTP" || port.protocol === "HTTPS") {
            let acc = apps.get(host);
            if (acc === undefined) {
              acc = { host, protocols: new Map(), features: new Set(), purposes: [], conditions: [] };
              apps.set(host, acc);
            }
            const protocolType = port.protocol === "HTTP" ? "Http" : "Https";
            acc.protocols.set(`${protocolType}:${port.port}`, { protocolType, port: port.port });
            note(acc, entry);
          } else if (entry.apiServerHost === true) {
            addNetwork(entry, { addresses: apiServerAddresses() }, port);
          } else if (host.startsWith("*.")) {
            unresolve(
              entry,
              `${port.protocol}:${port.port} to the wildcard host ${host} needs a network rule, and network rules take no wildcard FQDNs.`,
            );
          } else {
            addNetwork(entry, { fqdn: host }, port);
          }
        }
        break;
      }
    }
  }

  for (const feature of enabled) {
    if (!catalog.entries.some((e) => e.feature === feature && e.clouds.includes(cloud))) {
      unresolved.push({
        feature,
        entry: "(none)",
        reason: `catalog ${catalog.version} lists no requirements for ${feature} in ${cloud}.`,
      });
    }
  }

  const firstFeature = (acc: Accumulator) => FEATURES.indexOf(featureOrder(acc.features)[0] ?? "base");
  const byFeatureThenName = <T extends { rank: number; rule: { name: string } }>(a: T, b: T) =>
    a.rank - b.rank || (a.rule.name < b.rule.name ? -1 : a.rule.name > b.rule.name ? 1 : 0);

  const applicationRules = [...apps.values()]
    .map((acc) => ({
      rank: firstFeature(acc),
      rule: {
        name: ruleName("app", acc.host),
        feature: featureOrder(acc.features).join(","),
        description: describe(acc),
        targetFqdns: [acc.host],
        protocols: [...acc.protocols.values()].sort(
          (a, b) => a.protocolType.localeCompare(b.protocolType) || a.port - b.port,
        ),
      } satisfies ApplicationRule,
    }))
    .sort(byFeatureThenName)
    .map((r) => r.rule);

  const networkRules = [...nets.values()]
    .map((acc) => {
      const destinations = [...acc.addresses, ...acc.fqdns];
      const key =
        destinations.length > 1 ? `${destinations[0]}-and-${destinations.length - 1}-more` : destinations[0];
      return {
        rank: firstFeature(acc),
        rule: {
          name: ruleName(`net-${acc.protocol.toLowerCase()}`, key ?? "none"),
          feature: featureOrder(acc.features).join(","),
          description: describe(acc, acc.fqdns.length > 0 ? DNS_PROXY_NOTE : undefined),
          ipProtocols: [acc.protocol],
          destinationAddresses: acc.addresses,
          destinationFqdns: acc.fqdns,
          destinationPorts: [...acc.ports].sort((a, b) => a - b).map(String),
        } satisfies NetworkRule,
      };
    })
    .sort(byFeatureThenName)
    .map((r) => r.rule);

  return {
    catalog: catalog.version,
    cloud,
    region,
    features: enabled,
    applicationRules,
    networkRules,
    unresolved,
  };
}

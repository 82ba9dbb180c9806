// The managed rule collection group as the clusters need it, in the shared layout (README "Design
// notes", DESIGN §3 "Ownership", "Sources", "Translation"): every cluster's rules are rendered as
// before (once per distinct input), broken into atoms, and each atom is written once with the node
// subnets of exactly the clusters that need it. Atoms needed by the same clusters on the same
// protocol and port share one rule, so a rule never allows more than those clusters need, and a
// cluster's CIDR appears once per rule it takes part in, not once per host. Pure: the same clusters,
// group as read and settings give byte-identical output.

import {
  type Catalog,
  DNS_PROXY_NOTE,
  type Feature,
  featureOrder,
  loadCatalog,
  normaliseRegion,
  renderRules,
} from "../catalog";
import { isGuardError } from "../errors";
import {
  type Atom,
  type AtomInfo,
  atomPorts,
  atomsOfRule,
  atomsOfRuleSet,
  featuresOfDescription,
} from "./atoms";
import { byText } from "./canonical";
import {
  clusterKey,
  isSharedCollectionName,
  isSharedRuleName,
  ownerOf,
  ownerOfCollection,
  RULES_PER_COLLECTION,
  sharedCollectionName,
  sharedRuleName,
} from "./naming";
import type {
  ApplicationRuleBody,
  ClusterChanges,
  ClusterProfile,
  Finding,
  ImpactGroup,
  ImpactItem,
  LayoutMigration,
  ManagedGroupSettings,
  NetworkRuleBody,
  RuleBody,
  RuleCollection,
  RuleCollectionGroup,
} from "./types";

export interface DesiredGroupOptions {
  /**
   * The policy's DNS proxy setting. Off, FQDN network rules are left out (the service rejects them)
   * and reported. Defaults to on, which leaves them in.
   */
  dnsProxyEnabled?: boolean;
  /**
   * Node subnet CIDRs of clusters the gathering saw but this policy does not serve (moved to another
   * policy, say), lower-cased CIDR → lower-cased cluster ID: names the owner of a stale source.
   */
  sourceOwners?: ReadonlyMap<string, string>;
}

export interface DesiredGroup {
  group: RuleCollectionGroup;
  findings: Finding[];
  /** What each served cluster gains and loses against the group as read. */
  clusterChanges: ClusterChanges;
  /** Lower-cased IDs of every served cluster with a gain or a loss, sorted. */
  affectedClusters: string[];
  /** The group as read is in the per-cluster layout (its collections name their clusters). */
  migration?: LayoutMigration;
}

/** Priorities of the shared collections: application rules first, network rules after. */
export const SHARED_PRIORITY = { app: 100, net: 1000 } as const;
/** Descriptions stay short: the features and purposes, clipped, and how many clusters need the rule. */
export const DESCRIPTION_LIMIT = 250;
const NAMES_LISTED = 10;

/** The rules' sources: node subnet CIDRs, deduplicated and sorted so that their order is no drift. */
export function sourcesOf(cluster: ClusterProfile): string[] {
  const cidrs = cluster.nodeSubnets.map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  return [...new Set(cidrs)].sort(byText);
}

/** Clusters with the same rendering input: rendered once, their atoms needed by all of them. */
interface InputClass {
  id: number;
  atoms: string[];
  unresolved: { feature: string; entry: string; reason: string }[];
  /** Network rules left out while DNS proxy is off, as the finding lists them. */
  leftOut: string[];
  clusters: number;
  sources: Set<string>;
}

interface Member {
  cluster: ClusterProfile;
  sources: string[];
}

/** A rule of the group as read, broken into atoms. */
interface ReadRule {
  rule: RuleBody;
  atoms: Atom[];
  sources: string[];
  /** Written by the app: a shared rule whose name matches its atoms, or a per-cluster one naming its owner. */
  own: boolean;
}

function readRules(group: RuleCollectionGroup | undefined): ReadRule[] {
  const rules: ReadRule[] = [];
  for (const collection of group?.ruleCollections ?? []) {
    if (collection.action?.type?.toLowerCase() !== "allow") continue;
    const shared = isSharedCollectionName(collection.name);
    for (const rule of collection.rules ?? []) {
      const atoms = atomsOfRule(rule);
      if (atoms.length === 0) continue;
      const raw = (rule as { sourceAddresses?: unknown }).sourceAddresses;
      const sources = Array.isArray(raw)
        ? [
            ...new Set(
              raw.filter((s): s is string => typeof s === "string").map((s) => s.trim().toLowerCase()),
            ),
          ]
        : [];
      const own =
        ownerOf(rule.description) !== undefined ||
        (shared &&
          isSharedRuleName(
            rule.name,
            atoms.map((a) => a.key),
          ));
      rules.push({ rule, atoms, sources, own });
    }
  }
  return rules;
}

function inputKey(cluster: ClusterProfile, catalog: Catalog, region: string): string {
  const parameters = Object.keys(cluster.parameters)
    .sort(byText)
    .map((k) => [k, cluster.parameters[k as keyof typeof cluster.parameters]]);
  return JSON.stringify([
    catalog.version,
    cluster.cloud,
    region,
    [...new Set(cluster.features)].sort(byText),
    parameters,
    cluster.privateCluster,
  ]);
}

/** Merges what another rendering says of an atom (features, purposes) into what is known. */
function note(info: Map<string, AtomInfo>, item: AtomInfo): void {
  const known = info.get(item.atom.key);
  if (known === undefined) {
    info.set(item.atom.key, { atom: item.atom, features: [...item.features], purposes: [...item.purposes] });
    return;
  }
  for (const f of item.features) if (!known.features.includes(f)) known.features.push(f);
  for (const p of item.purposes) if (!known.purposes.includes(p)) known.purposes.push(p);
}

export function desiredGroup(
  clusters: readonly ClusterProfile[],
  current: RuleCollectionGroup | undefined,
  settings: ManagedGroupSettings,
  options: DesiredGroupOptions = {},
): DesiredGroup {
  const catalog = settings.catalog ?? loadCatalog(settings.catalogVersion);
  const dnsProxyEnabled = options.dnsProxyEnabled ?? true;
  const findings: Finding[] = [];
  const read = readRules(current);
  const info = new Map<string, AtomInfo>();
  const classes = new Map<string, InputClass>();
  const members: (Member & { klass: InputClass })[] = [];
  /** CIDRs some served cluster stands for: its node subnets (readable, or of a cluster kept as it is). */
  const claimed = new Set<string>();
  const keptAsIs: Member[] = [];
  let keepUnclaimed = false;

  for (const cluster of uniqueClusters(clusters, findings)) {
    const key = clusterKey(cluster.id);
    const region = validRegion(cluster);
    let sources = sourcesOf(cluster);
    if (typeof region !== "string") {
      findings.push({ code: "UNKNOWN_REGION", severity: "error", clusterId: key, message: region.message });
      for (const s of sources) claimed.add(s);
      keptAsIs.push({ cluster, sources });
      if (sources.length === 0) keepUnclaimed = true;
      continue;
    }
    if (sources.length === 0) {
      if (!settings.allowAnySource) {
        keepUnclaimed = true;
        findings.push({
          code: "NO_NODE_SUBNETS",
          severity: "error",
          clusterId: key,
          message: `no node subnet could be read for cluster ${cluster.name}, so its rules have no source; what the managed group allows today is kept: every source in it that no readable served cluster claims stays as it is. Rules are never opened to "*" unless the operator allows any source.`,
        });
        continue;
      }
      sources = ["*"];
      findings.push({
        code: "ANY_SOURCE",
        severity: "warning",
        clusterId: key,
        message: `no node subnet could be read for cluster ${cluster.name}; its rules use source "*" because the operator allows any source. Every host behind the firewall gets this cluster's egress.`,
      });
    }

    const input = inputKey(cluster, catalog, region);
    let klass = classes.get(input);
    if (klass === undefined) {
      klass = renderClass(classes.size, catalog, cluster, region, dnsProxyEnabled, info);
      classes.set(input, klass);
    }
    klass.clusters += 1;
    for (const s of sources) {
      klass.sources.add(s);
      claimed.add(s);
    }
    for (const item of klass.unresolved) {
      findings.push({
        code: "UNRESOLVED_REQUIREMENT",
        severity: "info",
        clusterId: key,
        message: `${item.feature} / ${item.entry}: ${item.reason}`,
      });
    }
    if (klass.leftOut.length > 0) {
      findings.push({
        code: "DNS_PROXY_OFF",
        severity: "error",
        clusterId: key,
        message: `DNS proxy is off on the firewall policy, and the service rejects network rules to FQDNs without it: left out of the managed group: ${klass.leftOut.join("; ")}. Enable DNS proxy on the policy to have them written.`,
      });
    }
    members.push({ cluster, sources, klass });
  }

  // Which clusters (by input class) need each atom, and sources kept as they are.
  const needs = new Map<string, { classes: number[]; extras: Set<string> }>();
  const need = (atom: string) => {
    let n = needs.get(atom);
    if (n === undefined) {
      n = { classes: [], extras: new Set() };
      needs.set(atom, n);
    }
    return n;
  };
  for (const klass of classes.values()) for (const atom of klass.atoms) need(atom).classes.push(klass.id);

  const keep = (rule: ReadRule, source: string) => {
    for (const atom of rule.atoms) {
      need(atom.key).extras.add(source);
      if (!info.has(atom.key))
        info.set(atom.key, {
          atom,
          features: featuresOfDescription(rule.rule.description),
          purposes: ["kept as it was"],
        });
    }
  };
  // A cluster whose region the catalog does not know keeps exactly what its subnets reach today.
  for (const { sources } of keptAsIs) {
    const own = new Set(sources);
    for (const rule of read) if (rule.own) for (const s of rule.sources) if (own.has(s)) keep(rule, s);
  }
  // A cluster whose subnets cannot be read may be behind any source no readable cluster claims: keep them.
  const kept = new Set<string>();
  const stale = new Map<string, string | undefined>();
  for (const rule of read) {
    if (!rule.own) continue;
    for (const s of rule.sources) {
      if (claimed.has(s)) continue;
      if (keepUnclaimed && s !== "*") {
        kept.add(s);
        keep(rule, s);
      } else if (!stale.has(s) || stale.get(s) === undefined) {
        stale.set(s, options.sourceOwners?.get(s) ?? ownerOf(rule.rule.description));
      }
    }
  }
  if (kept.size > 0) findings.push(keptFinding([...kept].sort(byText)));
  findings.push(...staleFindings(stale));

  const ruleCollections = sharedCollections(needs, classes, info);
  const group = { name: settings.groupName, priority: settings.groupPriority, ruleCollections };

  const { changes, affected } = clusterChanges(members, read, readRules(group), info);
  const legacy = new Set(
    (current?.ruleCollections ?? [])
      .filter((c) => ownerOfCollection(c.rules) !== undefined)
      .map((c) => c.name.toLowerCase()),
  );
  const rules = ruleCollections.reduce((n, c) => n + (c.rules?.length ?? 0), 0);
  return {
    group,
    findings,
    clusterChanges: changes,
    affectedClusters: affected,
    ...(legacy.size > 0 ? { migration: { collections: legacy.size, rules } } : {}),
  };
}

function renderClass(
  id: number,
  catalog: Catalog,
  cluster: ClusterProfile,
  region: string,
  dnsProxyEnabled: boolean,
  info: Map<string, AtomInfo>,
): InputClass {
  const rules = renderRules({
    catalog,
    cloud: cluster.cloud,
    region,
    features: cluster.features,
    parameters: cluster.parameters,
    privateCluster: cluster.privateCluster,
  });
  const leftOut = dnsProxyEnabled
    ? []
    : rules.networkRules
        .filter((rule) => rule.destinationFqdns.length > 0)
        .map(
          (rule) =>
            `${rule.name} (${rule.destinationFqdns.join(", ")} ${rule.ipProtocols.join("/")}:${rule.destinationPorts.join(",")})`,
        );
  const atoms = new Set<string>();
  for (const item of atomsOfRuleSet(rules)) {
    if (!dnsProxyEnabled && item.atom.kind === "net" && item.atom.fqdn) continue;
    note(info, item);
    atoms.add(item.atom.key);
  }
  return {
    id,
    atoms: [...atoms],
    unresolved: rules.unresolved,
    leftOut,
    clusters: 0,
    sources: new Set(),
  };
}

/** Groups atoms by (sources, protocol and port) into rules, then rules into collections. */
function sharedCollections(
  needs: ReadonlyMap<string, { classes: number[]; extras: Set<string> }>,
  classes: ReadonlyMap<string, InputClass>,
  info: ReadonlyMap<string, AtomInfo>,
): RuleCollection[] {
  const byId = [...classes.values()];
  // Every source once, sorted once: a rule's sources are then marked by rank and read out in order.
  const all = new Set<string>();
  for (const klass of byId) for (const s of klass.sources) all.add(s);
  for (const n of needs.values()) for (const s of n.extras) all.add(s);
  const ranked = [...all].sort(byText);
  const rank = new Map(ranked.map((s, i) => [s, i]));
  const classRanks = byId.map((klass) => [...klass.sources].map((s) => rank.get(s) ?? 0));
  const marks = new Uint8Array(ranked.length);
  const sourceSets = new Map<string, { sources: string[]; key: string; clusters: number }>();
  const buckets = new Map<string, { sources: string[]; clusters: number; atoms: AtomInfo[] }>();
  for (const [atomKey, n] of needs) {
    const extras = [...n.extras].sort(byText);
    const signature = `${[...n.classes].sort((a, b) => a - b).join(",")}|${extras.join(" ")}`;
    let set = sourceSets.get(signature);
    if (set === undefined) {
      marks.fill(0);
      for (const s of extras) marks[rank.get(s) ?? 0] = 1;
      let clusters = 0;
      for (const id of n.classes) {
        clusters += byId[id]?.clusters ?? 0;
        for (const r of classRanks[id] ?? []) marks[r] = 1;
      }
      const sources: string[] = [];
      for (let r = 0; r < marks.length; r++) if (marks[r] === 1) sources.push(ranked[r] ?? "");
      set = { sources, key: sources.join(" "), clusters };
      sourceSets.set(signature, set);
    }
    const atom = info.get(atomKey);
    if (atom === undefined || set.sources.length === 0) continue;
    const a = atom.atom;
    const shape = `${a.kind}|${a.protocol}|${a.port}|${a.fqdn ? "f" : "a"}`;
    const bucketKey = `${shape}\u0000${set.key}`;
    let bucket = buckets.get(bucketKey);
    if (bucket === undefined) {
      bucket = { sources: set.sources, clusters: 0, atoms: [] };
      buckets.set(bucketKey, bucket);
    }
    bucket.clusters = Math.max(bucket.clusters, set.clusters);
    bucket.atoms.push(atom);
  }

  const app: ApplicationRuleBody[] = [];
  const net: NetworkRuleBody[] = [];
  for (const bucket of buckets.values()) {
    bucket.atoms.sort((x, y) => byText(x.atom.destination, y.atom.destination));
    const first = bucket.atoms[0]?.atom;
    if (first === undefined) continue;
    const keys = bucket.atoms.map((a) => a.atom.key);
    const destinations = bucket.atoms.map((a) => a.atom.destination);
    const prefix = `${first.kind}-${first.protocol.toLowerCase()}-${first.port}`;
    const name = sharedRuleName(prefix, first.destination, keys);
    const description = describe(bucket.atoms, bucket.clusters, first.kind === "net" && first.fqdn);
    if (first.kind === "app") {
      app.push({
        ruleType: "ApplicationRule",
        name,
        description,
        sourceAddresses: bucket.sources,
        protocols: [{ protocolType: first.protocol as "Http" | "Https", port: Number(first.port) }],
        targetFqdns: destinations,
      });
    } else {
      net.push({
        ruleType: "NetworkRule",
        name,
        description,
        ipProtocols: [first.protocol as "TCP" | "UDP"],
        sourceAddresses: bucket.sources,
        ...(first.fqdn ? { destinationFqdns: destinations } : { destinationAddresses: destinations }),
        destinationPorts: [first.port],
      });
    }
  }
  return [...collectionsOf("app", app), ...collectionsOf("net", net)];
}

function collectionsOf(kind: "app" | "net", rules: RuleBody[]): RuleCollection[] {
  rules.sort((a, b) => byText(a.name, b.name));
  const collections: RuleCollection[] = [];
  for (let i = 0; i * RULES_PER_COLLECTION < rules.length; i++) {
    collections.push({
      ruleCollectionType: "FirewallPolicyFilterRuleCollection",
      name: sharedCollectionName(kind, i),
      priority: SHARED_PRIORITY[kind] + i,
      action: { type: "Allow" },
      rules: rules.slice(i * RULES_PER_COLLECTION, (i + 1) * RULES_PER_COLLECTION),
    });
  }
  return collections;
}

/** "base, azure-monitor: <purposes> (12 clusters)", clipped to DESCRIPTION_LIMIT. */
function describe(atoms: readonly AtomInfo[], clusters: number, dnsProxy: boolean): string {
  const features = featureOrder(atoms.flatMap((a) => a.features) as Feature[]);
  const purposes: string[] = [];
  for (const a of atoms) for (const p of a.purposes) if (!purposes.includes(p)) purposes.push(p);
  const tail = `${clusters > 0 ? ` (${clusters} cluster${clusters === 1 ? "" : "s"})` : " (kept)"}${
    dnsProxy ? ` ${DNS_PROXY_NOTE}` : ""
  }`;
  const head = `${features.length > 0 ? `${features.join(", ")}: ` : ""}${purposes.join(" / ")}`;
  const room = DESCRIPTION_LIMIT - tail.length;
  return `${head.length <= room ? head : `${head.slice(0, room - 1).trimEnd()}…`}${tail}`;
}

function listed(items: readonly string[], max = 20): string {
  return items.length <= max
    ? items.join(", ")
    : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

function keptFinding(kept: readonly string[]): Finding {
  return {
    code: "UNCLAIMED_SOURCES_KEPT",
    severity: "warning",
    message: `the node subnets of some served cluster cannot be read, so the ${kept.length} source(s) in the managed group that no readable served cluster claims are kept with what they reach today (they may be that cluster's): ${listed(kept)}.`,
  };
}

/** Sources no served cluster claims are removed: said per cluster where the owner is known. */
function staleFindings(stale: ReadonlyMap<string, string | undefined>): Finding[] {
  const byOwner = new Map<string, string[]>();
  const nobody: string[] = [];
  for (const [cidr, owner] of [...stale].sort(([a], [b]) => byText(a, b))) {
    if (owner === undefined) nobody.push(cidr);
    else byOwner.set(owner, [...(byOwner.get(owner) ?? []), cidr]);
  }
  const findings: Finding[] = [...byOwner].map(([owner, cidrs]) => ({
    code: "STALE_SOURCES",
    severity: "info" as const,
    clusterId: owner,
    message: `cluster ${owner} is gone or no longer on this policy: its source(s) ${cidrs.join(", ")} are removed from the managed group.`,
  }));
  if (nobody.length > 0)
    findings.push({
      code: "STALE_SOURCES",
      severity: "info",
      message: `removed from the managed group: ${listed(nobody.map((c) => `${c} (no served cluster uses ${c})`))}.`,
    });
  return findings;
}

/** Rules by the sources they name: what a set of node subnets reaches, memoised per rule set. */
class Reach {
  private readonly bySource = new Map<string, number[]>();
  private readonly anySource: number[] = [];
  private readonly memo = new Map<string, Set<string>>();

  constructor(private readonly rules: readonly ReadRule[]) {
    rules.forEach((rule, i) => {
      for (const s of rule.sources) {
        if (s === "*") this.anySource.push(i);
        else {
          const list = this.bySource.get(s);
          if (list === undefined) this.bySource.set(s, [i]);
          else list.push(i);
        }
      }
    });
  }

  /** The signature (which rules) and the atoms those rules allow. */
  of(sources: readonly string[]): { signature: string; atoms: Set<string> } {
    let ids: number[];
    if (sources.length === 1 && this.anySource.length === 0) {
      ids = this.bySource.get(sources[0] ?? "") ?? [];
    } else {
      const set = new Set(this.anySource);
      for (const s of sources) for (const i of this.bySource.get(s) ?? []) set.add(i);
      ids = [...set].sort((a, b) => a - b);
    }
    const signature = ids.join(",");
    let atoms = this.memo.get(signature);
    if (atoms === undefined) {
      atoms = new Set();
      for (const i of ids) for (const a of this.rules[i]?.atoms ?? []) atoms.add(a.key);
      this.memo.set(signature, atoms);
    }
    return { signature, atoms };
  }
}

/** Per cluster: what its subnets reach in the group as read and in the group to write. */
function clusterChanges(
  members: readonly Member[],
  before: readonly ReadRule[],
  after: readonly ReadRule[],
  info: ReadonlyMap<string, AtomInfo>,
): { changes: ClusterChanges; affected: string[] } {
  const was = new Reach(before);
  const will = new Reach(after);
  const atomsBefore = new Map<string, Atom>();
  const featuresBefore = new Map<string, string[]>();
  for (const rule of before)
    for (const atom of rule.atoms) {
      atomsBefore.set(atom.key, atom);
      if (!featuresBefore.has(atom.key))
        featuresBefore.set(atom.key, featuresOfDescription(rule.rule.description));
    }
  const item = (key: string): ImpactItem => {
    const known = info.get(key);
    const atom = known?.atom ?? atomsBefore.get(key);
    const features = known?.features ?? featuresBefore.get(key) ?? [];
    return {
      feature: featureOrder(features as Feature[]).join(", "),
      destination: atom?.destination ?? key,
      ports: atom ? atomPorts(atom) : "",
      source: "",
    };
  };
  const order = (a: ImpactItem, b: ImpactItem) =>
    byText(a.destination, b.destination) || byText(a.ports, b.ports);

  const diffs = new Map<string, { gains: string[]; losses: string[] }>();
  const groups = new Map<string, ImpactGroup>();
  const affected: string[] = [];
  const sorted = [...members].sort(
    (a, b) => byText(a.cluster.name, b.cluster.name) || byText(a.cluster.id, b.cluster.id),
  );
  for (const { cluster, sources } of sorted) {
    const b = was.of(sources);
    const a = will.of(sources);
    const pair = `${b.signature}/${a.signature}`;
    let diff = diffs.get(pair);
    if (diff === undefined) {
      diff = {
        gains: [...a.atoms].filter((k) => !b.atoms.has(k)).sort(byText),
        losses: [...b.atoms].filter((k) => !a.atoms.has(k)).sort(byText),
      };
      diffs.set(pair, diff);
    }
    if (diff.gains.length === 0 && diff.losses.length === 0) continue;
    affected.push(clusterKey(cluster.id));
    const features = featureOrder(["base", ...cluster.features]);
    const key = JSON.stringify([cluster.region, features, pair]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        region: cluster.region,
        features,
        clusterCount: 0,
        clusters: [],
        gains: diff.gains.map(item).sort(order),
        losses: diff.losses.map(item).sort(order),
      };
      groups.set(key, group);
    }
    group.clusterCount += 1;
    if (group.clusters.length < NAMES_LISTED) group.clusters.push(cluster.name);
  }
  // Identical changes from different rule sets (one cluster's old collections, another's) read as one.
  const merged = new Map<string, ImpactGroup>();
  for (const g of groups.values()) {
    const key = JSON.stringify([g.region, g.features, g.gains, g.losses]);
    const into = merged.get(key);
    if (into === undefined) {
      merged.set(key, g);
      continue;
    }
    into.clusterCount += g.clusterCount;
    for (const name of g.clusters) if (into.clusters.length < NAMES_LISTED) into.clusters.push(name);
  }
  return {
    changes: {
      clusterCount: members.length,
      clustersAffected: affected.length,
      groups: [...merged.values()],
    },
    affected: affected.sort(byText),
  };
}

/** Sorted by lower-cased ID; a cluster listed twice (IDs differ only in casing) counts once. */
function uniqueClusters(clusters: readonly ClusterProfile[], findings: Finding[]): ClusterProfile[] {
  const seen = new Set<string>();
  const unique: ClusterProfile[] = [];
  const keyed = clusters.map((cluster) => ({ cluster, key: clusterKey(cluster.id) }));
  for (const { cluster, key } of keyed.sort((a, b) => byText(a.key, b.key))) {
    if (seen.has(key)) {
      findings.push({
        code: "DUPLICATE_CLUSTER",
        severity: "warning",
        clusterId: key,
        message: `cluster ${key} is listed more than once; only its first profile is used.`,
      });
      continue;
    }
    seen.add(key);
    unique.push(cluster);
  }
  return unique;
}

/** A region the catalog does not know would put a service tag the firewall rejects into the one PUT. */
function validRegion(cluster: ClusterProfile): string | Error {
  try {
    return normaliseRegion(cluster.cloud, cluster.region);
  } catch (error) {
    if (isGuardError(error)) {
      // The catalog's message ends with every valid region: too long for a plan; the hint before it is enough.
      const hint = error.message.split(" Valid regions:")[0] ?? error.message;
      return new Error(`${hint} What cluster ${cluster.name}'s node subnets reach today is kept as it is.`);
    }
    throw error;
  }
}

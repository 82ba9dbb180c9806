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
  FEATURES,
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
import { factsOf, type ListFacts, recordLists } from "./list-facts";
import {
  isSharedCollectionName,
  isSharedRuleName,
  ownerOf,
  ownerOfCollection,
  RULES_PER_COLLECTION,
  sharedCollectionName,
  sharedRuleName,
} from "./naming";
import { keyedOrder, type RankedList, rankStrings } from "./sort-hints";
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
  const subnets = cluster.nodeSubnets;
  const only = subnets[0];
  // Most clusters have one node subnet: nothing to deduplicate or sort.
  if (subnets.length === 1 && only !== undefined) {
    const cidr = only.trim().toLowerCase();
    return cidr === "" ? [] : [cidr];
  }
  if (subnets.length > FEW_SUBNETS) {
    const cidrs = subnets.map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
    return [...new Set(cidrs)].sort(byText);
  }
  // A few: inserted in order, a repeat left out, which is what the Set and the sort above give
  // (byText is a total order), without their allocations.
  const sorted: string[] = [];
  for (let i = 0; i < subnets.length; i++) {
    const s = subnets[i];
    // map and filter above skip a hole.
    if (s === undefined && !(i in subnets)) continue;
    const cidr = (s as string).trim().toLowerCase();
    if (cidr === "") continue;
    let at = sorted.length;
    while (at > 0 && (sorted[at - 1] as string) > cidr) at -= 1;
    if (at > 0 && sorted[at - 1] === cidr) continue;
    sorted.push(cidr);
    for (let j = sorted.length - 1; j > at; j--) sorted[j] = sorted[j - 1] as string;
    sorted[at] = cidr;
  }
  return sorted;
}

const FEW_SUBNETS = 8;

/** Clusters with the same rendering input: rendered once, their atoms needed by all of them. */
interface InputClass {
  id: number;
  /** What it renders to: its items say what is known of each atom (notesOf). */
  rendering: Rendering;
  atoms: string[];
  unresolved: { feature: string; entry: string; reason: string }[];
  /** Network rules left out while DNS proxy is off, as the finding lists them. */
  leftOut: string[];
  clusters: number;
  /** Its clusters' sources; one listed twice where two clusters share a subnet. */
  sources: string[];
  /** featureOrder(["base", ...features]) as a bit set: equal masks, equal feature lists. */
  featureMask: number;
  /** Its first NAMES_LISTED members by name (byName), found as they are served. */
  first: Served[];
}

interface Member {
  cluster: ClusterProfile;
  /** clusterKey(cluster.id). */
  key: string;
  sources: string[];
}

/**
 * A cluster the group is written for: its input class, its place among the served (by key), and its
 * name (cluster.name, read with the rest of the profile).
 */
type Served = Member & { klass: InputClass; index: number; name: string | undefined };

/** The served cluster's name: as read with its profile, else read now (where it always was). */
function nameOf(member: Served): string {
  return member.name ?? member.cluster.name;
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

// A bit per catalog feature, in arithmetic rather than 32-bit operators: exact for up to 52 features.
const FEATURE_BITS: ReadonlyMap<string, number> = new Map(FEATURES.map((f, i) => [f, 2 ** i]));
const BASE_BIT = FEATURE_BITS.get("base") ?? 1;

/** The catalog's features among the cluster's, with base, as a bit set: what renderRules reads of them. */
function featureMask(cluster: ClusterProfile): number {
  let mask = BASE_BIT;
  for (const f of cluster.features) {
    const bit = FEATURE_BITS.get(f);
    if (bit !== undefined && Math.floor(mask / bit) % 2 === 0) mask += bit;
  }
  return mask;
}

/** The cluster's parameters as text, "" for none: equal texts, equal parameters to renderRules. */
function parametersKey(cluster: ClusterProfile): string {
  // Most clusters have none: found so without allocating their (empty) list of names.
  if (!hasOwnKey(cluster.parameters)) return "";
  const names = Object.keys(cluster.parameters);
  const text = JSON.stringify(
    names.sort(byText).map((k) => [k, cluster.parameters[k as keyof typeof cluster.parameters]]),
  );
  // A resolved API server address renders the tunnel rows differently from a given one.
  return cluster.apiServerIpFromFqdn === true ? `${text}|fromFqdn` : text;
}

/** Whether Object.keys(value) would list anything: an own enumerable string key. */
function hasOwnKey(value: object): boolean {
  // What Object.keys throws on, it still throws.
  if (value === null || value === undefined) return Object.keys(value as object).length > 0;
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}

/**
 * What the classes' renderings say of each atom, merged in class order. Renderings are kept objects
 * (renderingOf), read only, so classes with the very renderings of the last plan's, in its order,
 * give its notes: a copy of its map, whose entries no one changes once made (a plan only adds
 * entries of its own to its copy).
 */
let lastNotes: { renderings: readonly Rendering[]; info: ReadonlyMap<string, AtomInfo> } | undefined;

function notesOf(classes: readonly InputClass[]): Map<string, AtomInfo> {
  const last = lastNotes;
  if (
    last !== undefined &&
    last.renderings.length === classes.length &&
    classes.every((klass, i) => klass.rendering === last.renderings[i])
  )
    return new Map(last.info);
  const info = new Map<string, AtomInfo>();
  for (const klass of classes) for (const item of klass.rendering.items) note(info, item);
  lastNotes = { renderings: classes.map((klass) => klass.rendering), info: new Map(info) };
  return info;
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
  const classes = new InputClasses(catalog, dnsProxyEnabled);
  const members: Served[] = [];
  const keptAsIs: Member[] = [];
  let keepUnclaimed = false;
  const regionOf = regionCheck();

  const unique = uniqueClusters(clusters, findings);
  const pre = readProfiles(clusters, regionOf);
  for (let u = 0; u < unique.indices.length; u++) {
    const i = unique.indices[u] as number;
    const cluster = clusters[i] as ClusterProfile;
    const key = unique.keys[i] as string;
    const place = pre !== undefined ? (pre.places[i] as Place | Error) : regionOf(cluster);
    let sources = pre !== undefined ? (pre.sources[i] as string[]) : sourcesOf(cluster);
    if (place instanceof Error) {
      findings.push({ code: "UNKNOWN_REGION", severity: "error", clusterId: key, message: place.message });
      keptAsIs.push({ cluster, key, sources });
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

    const klass =
      pre !== undefined
        ? classes.ofRead(
            place,
            cluster,
            pre.masks[i] as number,
            pre.privates[i] === 1,
            pre.parameters[i] as string,
          )
        : classes.of(place, cluster);
    klass.clusters += 1;
    for (const s of sources) klass.sources.push(s);
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
    const name = pre !== undefined ? pre.names[i] : undefined;
    const member: Served = { cluster, key, sources, klass, index: members.length, name };
    members.push(member);
    insertByName(klass.first, member);
  }

  const info = notesOf(classes.list);
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
  for (const klass of classes.list) for (const atom of klass.atoms) need(atom).classes.push(klass.id);

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
  // CIDRs some served cluster stands for: its node subnets (readable, or of a cluster kept as it is).
  const claimed = new Set<string>();
  if (read.some((rule) => rule.own))
    for (const { sources } of [...members, ...keptAsIs]) for (const s of sources) claimed.add(s);
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

  const written = sharedCollections(needs, classes.list, info);
  const ruleCollections = written.collections;
  const group = { name: settings.groupName, priority: settings.groupPriority, ruleCollections };
  recordLists(group, written.listFacts);

  // A cluster whose every source is named once (by its class alone, and kept for no atom) reaches
  // exactly the rules holding its class's atoms; only a source named more than once, or a rule open
  // to "*", needs the rules' sources looked up.
  const { repeated } = written;
  const classOnly = (member: Served) =>
    written.classReach && (repeated.size === 0 || member.sources.every((s) => !repeated.has(s)));
  const { changes, affected } = clusterChanges(members, classes.list, read, written, classOnly, info);
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

/** What a class's rendering gives, from the catalog and the input alone: the same in every plan. */
interface Rendering {
  /** The atoms with what the rendered rules say of each, in rendering order (notes merge in it). */
  items: AtomInfo[];
  /** Their keys, once each. */
  atoms: string[];
  unresolved: InputClass["unresolved"];
  leftOut: string[];
}

/**
 * Renderings by catalog (a shipped version is one object for the life of the process) and input: a
 * warm host plans the same clusters pass after pass, and rendering them is most of a plan's work
 * that does not grow with the fleet. Read only. Bounded: clusters with parameters of their own
 * (an API server IP, say) make an input each, so past RENDERINGS_KEPT the cache starts again.
 */
const renderings = new WeakMap<Catalog, Map<string, Rendering>>();
const RENDERINGS_KEPT = 4096;

function renderingOf(
  catalog: Catalog,
  cluster: ClusterProfile,
  region: string,
  dnsProxyEnabled: boolean,
  input: string,
): Rendering {
  // Only inputs the key tells apart exactly are kept: parameters as lists of text (the key is their JSON).
  const keepable = Object.values(cluster.parameters).every(
    (v) => Array.isArray(v) && v.every((x) => typeof x === "string"),
  );
  let byInput = renderings.get(catalog);
  if (byInput === undefined) {
    byInput = new Map();
    renderings.set(catalog, byInput);
  }
  const key = `${dnsProxyEnabled}|${input}`;
  const known = keepable ? byInput.get(key) : undefined;
  if (known !== undefined) return known;
  const rendering = render(catalog, cluster, region, dnsProxyEnabled);
  if (keepable) {
    if (byInput.size >= RENDERINGS_KEPT) byInput.clear();
    byInput.set(key, rendering);
  }
  return rendering;
}

function render(
  catalog: Catalog,
  cluster: ClusterProfile,
  region: string,
  dnsProxyEnabled: boolean,
): Rendering {
  const rules = renderRules({
    catalog,
    cloud: cluster.cloud,
    region,
    features: cluster.features,
    parameters: cluster.parameters,
    privateCluster: cluster.privateCluster,
    ...(cluster.apiServerIpFromFqdn === true ? { apiServerIpFromFqdn: true } : {}),
  });
  const leftOut = dnsProxyEnabled
    ? []
    : rules.networkRules
        .filter((rule) => rule.destinationFqdns.length > 0)
        .map(
          (rule) =>
            `${rule.name} (${rule.destinationFqdns.join(", ")} ${rule.ipProtocols.join("/")}:${rule.destinationPorts.join(",")})`,
        );
  const items = atomsOfRuleSet(rules).filter(
    (item) => dnsProxyEnabled || !(item.atom.kind === "net" && item.atom.fqdn),
  );
  return {
    items,
    atoms: [...new Set(items.map((item) => item.atom.key))],
    unresolved: rules.unresolved,
    leftOut,
  };
}

/** The plan's input classes, in order of first use. */
class InputClasses {
  readonly list: InputClass[] = [];

  constructor(
    private readonly catalog: Catalog,
    private readonly dnsProxyEnabled: boolean,
  ) {}

  /**
   * The cluster's class, by what renderRules reads: the place (cloud and region), features, whether
   * private, parameters (mostly none). A new class's rendering says what it knows of each atom.
   */
  of(place: Place, cluster: ClusterProfile): InputClass {
    const mask = featureMask(cluster);
    const parameters = parametersKey(cluster);
    return this.ofRead(place, cluster, mask, cluster.privateCluster === true, parameters);
  }

  /** `of`, with featureMask, whether private and parametersKey already read (readProfiles). */
  ofRead(
    place: Place,
    cluster: ClusterProfile,
    mask: number,
    isPrivate: boolean,
    parameters: string,
  ): InputClass {
    const shape = mask * 2 + (isPrivate ? 1 : 0);
    let byParameters = place.classes.get(shape);
    if (byParameters === undefined) {
      byParameters = new Map();
      place.classes.set(shape, byParameters);
    }
    const known = byParameters.get(parameters);
    if (known !== undefined) return known;
    const input = `${cluster.cloud}|${place.region}|${mask}|${isPrivate}|${parameters}`;
    const rendering = renderingOf(this.catalog, cluster, place.region, this.dnsProxyEnabled, input);
    const klass: InputClass = {
      rendering,
      id: this.list.length,
      atoms: rendering.atoms,
      unresolved: rendering.unresolved,
      leftOut: rendering.leftOut,
      clusters: 0,
      sources: [],
      featureMask: mask,
      first: [],
    };
    byParameters.set(parameters, klass);
    this.list.push(klass);
    return klass;
  }
}

/** The shared collections, and the rules in them as the after side of clusterChanges reads them. */
interface Written {
  collections: RuleCollection[];
  /** Each rule written, in group order, with its atoms and sources as readRules would read them back. */
  rules: ReachRule[];
  /** The index in `rules` of the rule that writes each atom. */
  ruleOf: Map<string, number>;
  /**
   * Every rule's sources are exactly those of each atom in it, and none is "*": a source named once
   * (by one input class, kept for no atom) then reaches the rules holding that class's atoms and no
   * other.
   */
  classReach: boolean;
  /** Sources named more than once over the classes' sources and the sources kept per atom. */
  repeated: ReadonlySet<string>;
  /** Each source list written, with its text and whether it is canonical (list-facts.ts). */
  listFacts: ReadonlyMap<readonly string[], ListFacts>;
}

/** Groups atoms by (sources, protocol and port) into rules, then rules into collections. */
function sharedCollections(
  needs: ReadonlyMap<string, { classes: number[]; extras: Set<string> }>,
  byId: readonly InputClass[],
  info: ReadonlyMap<string, AtomInfo>,
): Written {
  // Each class's sources by rank (the first byId.length lists ranked), in typed arrays: the loops
  // below see one kind of array only.
  const { ranked, rank, repeated, ranks: classRanks } = rankSources(byId, needs);
  const marks = new Uint8Array(ranked.length);
  // Source lists joined by " " tell lists apart (so a bucket holds one list) while no source has a space.
  const spaced = hasSpace(ranked);
  // Kept by signature only while it tells source lists apart: no source holds a space.
  const kept = spaced ? new Map<string, KeptSet>() : keptSets(classRanks);
  const sourceSets = new Map<string, { sources: string[]; key: number; known: KeptSet; clusters: number }>();
  const listFacts = new Map<readonly string[], ListFacts>();
  const lists = new SourceLists(spaced);
  const buckets = new Map<string, { sources: string[]; clusters: number; atoms: AtomInfo[] }>();
  for (const [atomKey, n] of needs) {
    const extras = [...n.extras].sort(byText);
    const signature = `${[...n.classes].sort((a, b) => a - b).join(",")}|${extras.join(" ")}`;
    let set = sourceSets.get(signature);
    if (set === undefined) {
      let clusters = 0;
      for (const id of n.classes) clusters += byId[id]?.clusters ?? 0;
      // The sources are a function of the signature and the ranking: an earlier plan's, copied.
      let known = kept.get(signature);
      if (known === undefined) {
        marks.fill(0);
        for (const s of extras) marks[rank.get(s) ?? 0] = 1;
        for (const id of n.classes) {
          const ranks = classRanks[id] ?? NO_RANKS;
          for (let i = 0; i < ranks.length; i++) marks[ranks[i] ?? 0] = 1;
        }
        const sources: string[] = [];
        let hash = 0;
        for (let r = 0; r < marks.length; r++)
          if (marks[r] === 1) {
            sources.push(ranked[r] ?? "");
            hash = (Math.imul(hash, 31) + r) | 0;
          }
        known = { sources, hash, facts: undefined };
        if (kept.size >= SETS_KEPT) kept.clear();
        kept.set(signature, known);
      }
      // A copy: the one kept is never handed out, so what a caller does to the plan cannot reach it.
      const sources = known.sources.slice();
      set = { sources, key: lists.id(sources, known.hash), known, clusters };
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
      if (!listFacts.has(set.sources)) {
        set.known.facts ??= factsOf(set.known.sources, set.known.hash);
        listFacts.set(set.sources, set.known.facts);
      }
      buckets.set(bucketKey, bucket);
    }
    bucket.clusters = Math.max(bucket.clusters, set.clusters);
    bucket.atoms.push(atom);
  }

  const app: ApplicationRuleBody[] = [];
  const net: NetworkRuleBody[] = [];
  const bucketOf = new Map<RuleBody, { sources: string[]; atoms: AtomInfo[] }>();
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
      const rule: ApplicationRuleBody = {
        ruleType: "ApplicationRule",
        name,
        description,
        sourceAddresses: bucket.sources,
        protocols: [{ protocolType: first.protocol as "Http" | "Https", port: Number(first.port) }],
        targetFqdns: destinations,
      };
      app.push(rule);
      bucketOf.set(rule, bucket);
    } else {
      const rule: NetworkRuleBody = {
        ruleType: "NetworkRule",
        name,
        description,
        ipProtocols: [first.protocol as "TCP" | "UDP"],
        sourceAddresses: bucket.sources,
        ...(first.fqdn ? { destinationFqdns: destinations } : { destinationAddresses: destinations }),
        destinationPorts: [first.port],
      };
      net.push(rule);
      bucketOf.set(rule, bucket);
    }
  }
  const collections = [...collectionsOf("app", app), ...collectionsOf("net", net)];

  // The rules as readRules would read them back: all Allow; sources already trimmed, lower-cased and
  // unique (they are `ranked`'s), so only the atoms are read again, from the rule as written.
  const rules: ReachRule[] = [];
  const ruleOf = new Map<string, number>();
  for (const collection of collections)
    for (const rule of collection.rules ?? []) {
      const atoms = atomsOfRule(rule);
      if (atoms.length === 0) continue;
      const bucket = bucketOf.get(rule);
      for (const a of bucket?.atoms ?? []) ruleOf.set(a.atom.key, rules.length);
      rules.push({ atoms, sources: bucket?.sources ?? [] });
    }
  const classReach = !spaced && !rank.has("*");
  return { collections, rules, ruleOf, classReach, repeated, listFacts };
}

const NO_RANKS = new Int32Array(0);

/** Whether a source holds a space, by ranking (rankStrings hands one out again for the same sources). */
const spacedRankings = new WeakMap<readonly string[], boolean>();

function hasSpace(ranked: readonly string[]): boolean {
  let spaced = spacedRankings.get(ranked);
  if (spaced === undefined) {
    spaced = ranked.some((s) => s.includes(" "));
    spacedRankings.set(ranked, spaced);
  }
  return spaced;
}

/** A source list sharedCollections made: its strings (never handed out), their hash, its facts once known. */
interface KeptSet {
  sources: readonly string[];
  hash: number;
  facts: ListFacts | undefined;
}

/**
 * Source lists by signature (the classes and the sources kept per atom), for one answer of
 * rankStrings: it hands the same answer out again, ranks and all, for the same lists, and then a
 * signature's list is the one it was. Another answer starts afresh.
 */
let keptFor: { ranks: readonly Int32Array[]; sets: Map<string, KeptSet> } | undefined;
const SETS_KEPT = 4096;

function keptSets(ranks: readonly Int32Array[]): Map<string, KeptSet> {
  if (keptFor?.ranks !== ranks) keptFor = { ranks, sets: new Map() };
  return keptFor.sets;
}

/**
 * Every source of the classes and kept per atom, once and sorted (a rule's sources are then marked
 * by rank and read out in order), and those named more than once.
 */
function rankSources(
  byId: readonly InputClass[],
  needs: ReadonlyMap<string, { extras: Set<string> }>,
): {
  ranked: readonly string[];
  rank: ReadonlyMap<string, number>;
  repeated: ReadonlySet<string>;
  ranks: readonly Int32Array[];
} {
  const lists: RankedList[] = byId.map((klass) => klass.sources);
  for (const n of needs.values()) lists.push(n.extras);
  return rankStrings(lists);
}

/**
 * Numbers source lists so that lists with one text (joined by " ") share a number, and so a bucket.
 * While no source holds a space, equal texts are equal lists: compared by a hash of the ranks and
 * then item by item, instead of building and hashing each list's text.
 */
class SourceLists {
  private readonly byText = new Map<string, number>();
  private readonly byHash = new Map<number, { sources: readonly string[]; id: number }[]>();
  private count = 0;

  constructor(private readonly spaced: boolean) {}

  id(sources: readonly string[], hash: number): number {
    if (this.spaced) {
      const text = sources.join(" ");
      let id = this.byText.get(text);
      if (id === undefined) {
        id = this.count++;
        this.byText.set(text, id);
      }
      return id;
    }
    const seen = this.byHash.get(hash) ?? [];
    const same = seen.find(
      (s) => s.sources.length === sources.length && s.sources.every((x, i) => x === sources[i]),
    );
    if (same !== undefined) return same.id;
    const id = this.count++;
    seen.push({ sources, id });
    this.byHash.set(hash, seen);
    return id;
  }
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

/** What Reach needs of a rule: the atoms it allows and the sources it names. */
interface ReachRule {
  atoms: readonly Atom[];
  sources: readonly string[];
}

/** A set of rules reached, numbered within its Reach: its signature and the atoms it allows. */
interface Reached {
  id: number;
  signature: string;
  atoms: Set<string>;
}

/** Rules by the sources they name: what a set of node subnets reaches, memoised per rule set. */
class Reach {
  private bySource: Map<string, number[]> | undefined;
  private readonly anySource: number[] = [];
  private readonly memo = new Map<string, Reached>();
  /** What any sources reach when there is no rule (the group does not exist yet). */
  private none: Reached | undefined;

  constructor(private readonly rules: readonly ReachRule[]) {}

  /** The rules the sources reach. */
  of(sources: readonly string[]): Reached {
    if (this.rules.length === 0) {
      this.none ??= this.ofRules([]);
      return this.none;
    }
    const bySource = this.index();
    let ids: number[];
    if (sources.length === 1 && this.anySource.length === 0) {
      ids = bySource.get(sources[0] ?? "") ?? [];
    } else {
      const set = new Set(this.anySource);
      for (const s of sources) for (const i of bySource.get(s) ?? []) set.add(i);
      ids = [...set].sort((a, b) => a - b);
    }
    return this.ofRules(ids);
  }

  /** The given rules, by ascending index; the signature is the same `of` gives for the same rules. */
  ofRules(ids: readonly number[]): Reached {
    const signature = ids.join(",");
    let reached = this.memo.get(signature);
    if (reached === undefined) {
      const atoms = new Set<string>();
      for (const i of ids) for (const a of this.rules[i]?.atoms ?? []) atoms.add(a.key);
      reached = { id: this.memo.size, signature, atoms };
      this.memo.set(signature, reached);
    }
    return reached;
  }

  // Built on first use: a cluster whose reach is known from its class never needs it.
  private index(): Map<string, number[]> {
    if (this.bySource !== undefined) return this.bySource;
    const bySource = new Map<string, number[]>();
    this.rules.forEach((rule, i) => {
      for (const s of rule.sources) {
        if (s === "*") this.anySource.push(i);
        else {
          const list = bySource.get(s);
          if (list === undefined) bySource.set(s, [i]);
          else list.push(i);
        }
      }
    });
    this.bySource = bySource;
    return bySource;
  }
}

/** Per cluster: what its subnets reach in the group as read and in the group to write. */
function clusterChanges(
  members: readonly Served[],
  classes: readonly InputClass[],
  before: readonly ReadRule[],
  written: Written,
  classOnly: (member: Served) => boolean,
  info: ReadonlyMap<string, AtomInfo>,
): { changes: ClusterChanges; affected: string[] } {
  const tally = new ChangeTally(before, written, info, members.length);
  for (const member of members) tally.add(member, classOnly(member));
  // Identical changes from different rule sets (one cluster's old collections, another's) read as one.
  const merged = new Map<string, ImpactGroup>();
  for (const { group, items } of tally.byFirstName(members, classes)) {
    // Stands for JSON.stringify([region, features, gains, losses]): the two JSON texts delimit
    // themselves, and `items` numbers the gains' and losses' item texts (ChangeTally.itemsKey).
    const key = `${JSON.stringify(group.region)},${JSON.stringify(group.features)},${items}`;
    const into = merged.get(key);
    if (into === undefined) {
      merged.set(key, group);
      continue;
    }
    into.clusterCount += group.clusterCount;
    for (const name of group.clusters) if (into.clusters.length < NAMES_LISTED) into.clusters.push(name);
  }
  return {
    changes: {
      clusterCount: members.length,
      clustersAffected: tally.affectedCount,
      groups: [...merged.values()],
    },
    // Members come sorted by their (unique) keys already.
    affected: members.filter((m) => tally.affected[m.index] === 1).map((m) => m.key),
  };
}

/** One (before, after) pair of rule sets: the atoms gained and lost, and its groups. */
interface Diff {
  gains: string[];
  losses: string[];
  /** Stands for the JSON of the gains' and losses' items (ChangeTally.itemsKey): clusterChanges merges groups by it. */
  items?: string;
  /** By feature mask, then region. */
  groups: Map<number, Map<string, Tallied>>;
}

/** A group of clusters, with the first NAMES_LISTED of them by name (and ID), in that order. */
interface Tallied {
  group: ImpactGroup;
  items: string;
  first: Served[];
  /** Its place in ChangeTally.tallied. */
  index: number;
}

/** A class's members that reached `before`: their group, null for none, undefined until known. */
interface ClassTally {
  before: Reached;
  tallied: Tallied | null | undefined;
}

/** By name, then ID: the order in which a group lists its clusters, and groups are listed. */
function byName(a: Served, b: Served): number {
  return byText(nameOf(a), nameOf(b)) || byText(a.cluster.id, b.cluster.id);
}

/**
 * Puts the member into `first`, kept sorted by name and no longer than NAMES_LISTED. byName is a
 * total order on served clusters (their IDs differ), so the list is the first of those put in,
 * whatever their order. A member after the last of a full list is most, and costs one comparison.
 */
function insertByName(first: Served[], member: Served): void {
  if (first.length === NAMES_LISTED && byName(member, first[NAMES_LISTED - 1] as Served) > 0) return;
  let at = first.length;
  while (at > 0 && byName(member, first[at - 1] as Served) < 0) at -= 1;
  first.splice(at, 0, member);
  if (first.length > NAMES_LISTED) first.pop();
}

/** A class whose members went to more than one group. */
const MIXED = Symbol("mixed");

/**
 * Clusters told apart by what they gain and lose, their region and features: a group per (pair of
 * rule sets, features, region). Clusters come in any order; the groups are listed in the order of
 * their first cluster by name, each naming its first NAMES_LISTED, so no full sort by name is needed.
 */
class ChangeTally {
  private readonly tallied: Tallied[] = [];
  /** By member index: 1 where the cluster gains or loses anything. */
  readonly affected: Uint8Array;
  affectedCount = 0;
  /** By member index: the index of its group in `tallied`, -1 for none. */
  private readonly groupOf: Int32Array;
  /** By class id: the one group all its members went to so far (null: none), or MIXED. */
  private readonly landed: (Tallied | null | typeof MIXED | undefined)[] = [];
  private readonly was: Reach;
  private readonly will: Reach;
  /** What a class's own sources reach once written; null where that is not known from its atoms. */
  private readonly classReach = new Map<InputClass, Reached | null>();
  /** By class id: the group its members with one reach before go to (see add). */
  private readonly byClass: (ClassTally | undefined)[] = [];
  private readonly diffs = new Map<Reached, Map<Reached, Diff>>();
  private readonly atomsBefore = new Map<string, Atom>();
  private readonly featuresBefore = new Map<string, string[]>();
  private readonly items = new Map<string, ImpactItem>();
  /** By atom key, the number of its item's JSON text; by that text, its number. */
  private readonly itemIds = new Map<string, number>();
  private readonly textIds = new Map<string, number>();

  constructor(
    before: readonly ReadRule[],
    private readonly written: Written,
    private readonly info: ReadonlyMap<string, AtomInfo>,
    members: number,
  ) {
    this.was = new Reach(before);
    this.will = new Reach(written.rules);
    this.affected = new Uint8Array(members);
    this.groupOf = new Int32Array(members).fill(-1);
    for (const rule of before)
      for (const atom of rule.atoms) {
        this.atomsBefore.set(atom.key, atom);
        if (!this.featuresBefore.has(atom.key))
          this.featuresBefore.set(atom.key, featuresOfDescription(rule.rule.description));
      }
  }

  /** `classOnly`: the member's sources are its class's alone (see Written.classReach). */
  add(member: Served, classOnly: boolean): void {
    const { sources, klass } = member;
    const b = this.was.of(sources);
    const reach = classOnly ? this.reachOfClass(klass) : null;
    // The class fixes the rules reached after (its reach), the feature mask and the region as the
    // cluster gives it (a class belongs to one place, found by that region): with what the sources
    // reached before, they pick the group, so a class's later members find it without the lookups.
    let memo: ClassTally | undefined;
    if (reach !== null) {
      memo = this.byClass[klass.id];
      if (memo === undefined || memo.before !== b) {
        memo = { before: b, tallied: undefined };
        this.byClass[klass.id] = memo;
      }
      if (memo.tallied !== undefined) {
        this.count(member, memo.tallied);
        return;
      }
    }
    const tallied = this.talliedOf(member, b, reach ?? this.will.of(sources));
    if (memo !== undefined) memo.tallied = tallied;
    this.count(member, tallied);
  }

  /** The group of a member that reaches `b` before and `a` after; null when it gains and loses nothing. */
  private talliedOf(member: Served, b: Reached, a: Reached): Tallied | null {
    const { cluster, klass } = member;
    const diff = this.diffOf(b, a);
    if (diff.gains.length === 0 && diff.losses.length === 0) return null;
    // The class's feature mask stands for the feature list; the region is as the cluster gives it.
    let byRegion = diff.groups.get(klass.featureMask);
    if (byRegion === undefined) {
      byRegion = new Map();
      diff.groups.set(klass.featureMask, byRegion);
    }
    let tallied = byRegion.get(cluster.region);
    if (tallied === undefined) {
      const group: ImpactGroup = {
        region: cluster.region,
        features: featureOrder(["base", ...cluster.features]),
        clusterCount: 0,
        clusters: [],
        gains: diff.gains.map((k) => this.item(k)).sort(byPlace),
        losses: diff.losses.map((k) => this.item(k)).sort(byPlace),
      };
      diff.items ??= `${this.itemsKey(diff.gains)}|${this.itemsKey(diff.losses)}`;
      tallied = { group, items: diff.items, first: [], index: this.tallied.length };
      byRegion.set(cluster.region, tallied);
      this.tallied.push(tallied);
    }
    return tallied;
  }

  private count(member: Served, tallied: Tallied | null): void {
    // Where the class's members went: one group (or none) for all of them, or MIXED.
    const id = member.klass.id;
    const landed = this.landed[id];
    if (landed === undefined) this.landed[id] = tallied;
    else if (landed !== tallied) this.landed[id] = MIXED;
    if (tallied === null) return;
    this.affected[member.index] = 1;
    this.affectedCount += 1;
    this.groupOf[member.index] = tallied.index;
    tallied.group.clusterCount += 1;
  }

  /**
   * Each group's first members by name: the first of a union are the first of the firsts of its
   * parts, so a class whose members all went to one group gives its own first (found as they were
   * served); the members of a class split between groups are put in one by one.
   */
  private nameFirsts(members: readonly Served[], classes: readonly InputClass[]): void {
    let mixed = false;
    for (const klass of classes) {
      const landed = this.landed[klass.id];
      if (landed === MIXED) mixed = true;
      else if (landed !== undefined && landed !== null)
        for (const member of klass.first) insertByName(landed.first, member);
    }
    if (!mixed) return;
    for (const member of members) {
      if (this.landed[member.klass.id] !== MIXED) continue;
      const at = this.groupOf[member.index] as number;
      if (at >= 0) insertByName((this.tallied[at] as Tallied).first, member);
    }
  }

  /** The groups, in the order of their first cluster by name, each naming its first clusters. */
  byFirstName(
    members: readonly Served[],
    classes: readonly InputClass[],
  ): { group: ImpactGroup; items: string }[] {
    this.nameFirsts(members, classes);
    const ordered = [...this.tallied].sort((a, b) => byName(a.first[0] as Served, b.first[0] as Served));
    for (const { group, first } of ordered) group.clusters = first.map(nameOf);
    return ordered;
  }

  /** The rules holding the class's atoms; null where an atom is in no rule written (then `will.of`). */
  private reachOfClass(klass: InputClass): Reached | null {
    let reached = this.classReach.get(klass);
    if (reached === undefined) {
      const ids = new Set<number>();
      for (const atom of klass.atoms) ids.add(this.written.ruleOf.get(atom) ?? -1);
      reached = ids.has(-1) ? null : this.will.ofRules([...ids].sort((x, y) => x - y));
      this.classReach.set(klass, reached);
    }
    return reached;
  }

  private diffOf(b: Reached, a: Reached): Diff {
    let byAfter = this.diffs.get(b);
    if (byAfter === undefined) {
      byAfter = new Map();
      this.diffs.set(b, byAfter);
    }
    let diff = byAfter.get(a);
    if (diff === undefined) {
      diff = {
        gains: [...a.atoms].filter((k) => !b.atoms.has(k)).sort(byText),
        losses: [...b.atoms].filter((k) => !a.atoms.has(k)).sort(byText),
        groups: new Map(),
      };
      byAfter.set(a, diff);
    }
    return diff;
  }

  /** An atom as a change line shows it; made once per atom, handed out as a copy. */
  /**
   * Stands for the JSON of the atoms' items as a group lists them (sorted by place): the numbers of
   * the items' texts in that order, so equal keys, equal JSON, and the other way round.
   */
  private itemsKey(keys: readonly string[]): string {
    const sorted = [...keys].sort((x, y) => byPlace(this.made(x), this.made(y)));
    let key = "";
    for (let i = 0; i < sorted.length; i++) {
      const k = sorted[i] as string;
      let id = this.itemIds.get(k);
      if (id === undefined) {
        const text = JSON.stringify(this.made(k));
        id = this.textIds.get(text);
        if (id === undefined) {
          id = this.textIds.size;
          this.textIds.set(text, id);
        }
        this.itemIds.set(k, id);
      }
      key += i === 0 ? `${id}` : `,${id}`;
    }
    return key;
  }

  private item(key: string): ImpactItem {
    return { ...this.made(key) };
  }

  /** An atom as a change line shows it, made once per atom: not to be handed out (item copies it). */
  private made(key: string): ImpactItem {
    let made = this.items.get(key);
    if (made === undefined) {
      const known = this.info.get(key);
      const atom = known?.atom ?? this.atomsBefore.get(key);
      const features = known?.features ?? this.featuresBefore.get(key) ?? [];
      made = {
        feature: featureOrder(features as Feature[]).join(", "),
        destination: atom?.destination ?? key,
        ports: atom ? atomPorts(atom) : "",
        source: "",
      };
      this.items.set(key, made);
    }
    return made;
  }
}

function byPlace(a: ImpactItem, b: ImpactItem): number {
  return byText(a.destination, b.destination) || byText(a.ports, b.ports);
}

/** What the loop over the served clusters reads of each profile, by its place in `clusters`. */
interface ReadProfiles {
  places: (Place | Error)[];
  sources: string[][];
  names: string[];
  /** featureMask; 0 where the region is unknown (not read then). */
  masks: Float64Array;
  /** 1 where privateCluster is true. */
  privates: Uint8Array;
  /** parametersKey; "" where the region is unknown. */
  parameters: string[];
}

/**
 * Each profile's region, sources, name and class input, read in the order given: the profiles are
 * most likely laid out in memory in that order, while the loop takes them by key, which costs a
 * cache miss a field. Every read is a function of the profile alone (regionOf keeps only what a
 * (cloud, region) gives), so reading them early or for a duplicate changes nothing; a profile whose
 * reading throws makes this give up, and the loop reads each profile itself, by key, as it always
 * has, throwing where it threw.
 */
function readProfiles(
  clusters: readonly ClusterProfile[],
  regionOf: (cluster: ClusterProfile) => Place | Error,
): ReadProfiles | undefined {
  const n = clusters.length;
  // Made at their length, not grown: a plan reads thousands of profiles.
  const read: ReadProfiles = {
    places: new Array(n),
    sources: new Array(n),
    names: new Array(n),
    masks: new Float64Array(n),
    privates: new Uint8Array(n),
    parameters: new Array(n),
  };
  try {
    for (let i = 0; i < n; i++) {
      const cluster = clusters[i] as ClusterProfile;
      const place = regionOf(cluster);
      read.places[i] = place;
      read.sources[i] = sourcesOf(cluster);
      read.names[i] = cluster.name;
      if (place instanceof Error) continue;
      read.masks[i] = featureMask(cluster);
      read.parameters[i] = parametersKey(cluster);
      if (cluster.privateCluster === true) read.privates[i] = 1;
    }
  } catch {
    return undefined;
  }
  return read;
}

/**
 * The clusters to serve, as places in `clusters`, sorted by lower-cased ID (their keys); a cluster
 * listed twice (IDs differ only in casing) counts once.
 */
function uniqueClusters(
  clusters: readonly ClusterProfile[],
  findings: Finding[],
): { keys: readonly string[]; indices: ArrayLike<number> } {
  // A stable order: of the profiles with one key, the first listed comes first and is the one used.
  const { keys, order, distinct } = keyedOrder(clusters);
  if (distinct) return { keys, indices: order };
  const unique: number[] = [];
  let previous: string | undefined;
  for (const i of order) {
    const key = keys[i] as string;
    if (key === previous) {
      findings.push({
        code: "DUPLICATE_CLUSTER",
        severity: "warning",
        clusterId: key,
        message: `cluster ${key} is listed more than once; only its first profile is used.`,
      });
      continue;
    }
    previous = key;
    unique.push(i);
  }
  return { keys, indices: unique };
}

/** A cloud and a region the catalog knows, and the input classes of its clusters. */
interface Place {
  region: string;
  /** By feature mask * 2 + private, then parameters' text. */
  classes: Map<number, Map<string, InputClass>>;
}

/**
 * A region the catalog does not know would put a service tag the firewall rejects into the one PUT.
 * Each (cloud, region) as written is checked once per plan: fleets repeat a handful of them. Two
 * spellings of one region are two places whose classes render alike, which costs a rendering only.
 */
function regionCheck(): (cluster: ClusterProfile) => Place | Error {
  const checked = new Map<string, Map<string, Place | { hint: string }>>();
  return (cluster) => {
    let byRegion = checked.get(cluster.cloud);
    if (byRegion === undefined) {
      byRegion = new Map();
      checked.set(cluster.cloud, byRegion);
    }
    let place = byRegion.get(cluster.region);
    if (place === undefined) {
      const region = normalisedRegion(cluster);
      place = typeof region === "string" ? { region, classes: new Map() } : region;
      byRegion.set(cluster.region, place);
    }
    return "classes" in place
      ? place
      : new Error(`${place.hint} What cluster ${cluster.name}'s node subnets reach today is kept as it is.`);
  };
}

function normalisedRegion(cluster: ClusterProfile): string | { hint: string } {
  try {
    return normaliseRegion(cluster.cloud, cluster.region);
  } catch (error) {
    if (isGuardError(error)) {
      // The catalog's message ends with every valid region: too long for a plan; the hint before it is enough.
      return { hint: error.message.split(" Valid regions:")[0] ?? error.message };
    }
    throw error;
  }
}

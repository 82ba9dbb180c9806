// One firewall policy's plan: the managed group the clusters need, what differs from the group as
// read, what else on the policy gets in the way, and how much is at stake. Pure; the orchestrator
// decides what to do with it and the adapter sends `body` in one PUT.
import { atomsOfRule } from "./atoms";
import { byText, sha256Hex, sha256HexOfPiecesKept } from "./canonical";
import { type DiffContext, diffGroups, LAYOUT_MIGRATION } from "./diff";
import { checkCollectionCount, checkGroupCount, checkLimits, checkNetworkPairs } from "./limits";
import { listsOf } from "./list-facts";
import { clusterKey } from "./naming";
import { type CanonicalText, canonicalText } from "./normalise";
import { desiredGroup } from "./render-group";
import { findShadowing } from "./shadowing";
import type {
  ClusterProfile,
  Finding,
  ManagedGroupSettings,
  Plan,
  PlanRisk,
  PolicySnapshot,
  RuleBody,
  RuleChange,
  RuleCollectionGroup,
} from "./types";

export interface PlanInput {
  clusters: ClusterProfile[];
  policy: PolicySnapshot;
  settings: ManagedGroupSettings;
  /**
   * Node subnet CIDR (lower-cased) → lower-cased ID of a cluster the gathering saw that this policy
   * does not serve: names whose a stale source was.
   */
  sourceOwners?: Record<string, string>;
}

const SEVERITY_RANK = { error: 0, warning: 1, info: 2 } as const;

/** The sha256 of the canonical form of the group to be written (what the PUT will leave). */
export function planHash(group: RuleCollectionGroup): string {
  return hashOf(canonicalText(group));
}

function hashOf(text: CanonicalText): string {
  return sha256HexOfPiecesKept(text.pieces);
}

/** The group does not exist yet: what a plan that creates it starts from. */
export const ABSENT_GROUP_HASH = "absent";

/**
 * The managed group's content as read, canonical (fields Azure fills in, and order, do not count):
 * a write may only go ahead while a fresh read of the group still gives this.
 */
export function groupContentHash(group: RuleCollectionGroup | undefined): string {
  return group === undefined ? ABSENT_GROUP_HASH : planHash(group);
}

/**
 * Decisions and approvals bind to this: one exact change, from the group as read (`baseHash`) to
 * the group to write (`hash`). Either side moving makes it another change, decided afresh.
 */
export function changeHash(baseHash: string, hash: string): string {
  return sha256Hex(`${baseHash}\n${hash}`);
}

/** A group whose last write ended `Failed` is drift even when its content matches (DESIGN §3). */
export function writeFailed(group: RuleCollectionGroup | undefined): boolean {
  return group?.provisioningState?.toLowerCase() === "failed";
}

export function planPolicy(input: PlanInput): Plan {
  const { clusters, policy, settings } = input;
  const wanted = settings.groupName.toLowerCase();
  const current = policy.groups.find((g) => g.name.toLowerCase() === wanted);
  const others = policy.groups.filter((g) => g !== current);

  const desired = desiredGroup(clusters, current, settings, {
    dnsProxyEnabled: policy.dnsProxyEnabled,
    ...(input.sourceOwners ? { sourceOwners: new Map(Object.entries(input.sourceOwners)) } : {}),
  });
  const body = desired.group;
  // Each side normalised and serialised once: the size check, comparison, diff and hashes all read these.
  // desiredGroup knows its source lists' texts, and which are canonical, often from earlier plans.
  const known = listsOf(body);
  const desiredText = canonicalText(body, known);
  checkLimits(body, desiredText.lists);
  checkCollectionCount(body, others);
  checkNetworkPairs(body, known);
  if (current === undefined && body.ruleCollections.length > 0)
    checkGroupCount(settings.groupName, policy.groups.length, false);

  // Only a removed rule that names its cluster asks for the served clusters: built then, if ever.
  let present: ReadonlySet<string> | undefined;
  const context: DiffContext = {
    get presentClusters() {
      present ??= new Set(clusters.map((c) => clusterKey(c.id)));
      return present;
    },
    dnsProxyEnabled: policy.dnsProxyEnabled,
  };

  const currentText = current === undefined ? undefined : canonicalText(current);
  const failed = writeFailed(current);
  const same =
    currentText === undefined ? body.ruleCollections.length === 0 : currentText.text === desiredText.text;
  const unchanged = !failed && same;
  const changes = unchanged
    ? []
    : diffGroups(current, body, context, {
        desired: desiredText,
        ...(currentText ? { current: currentText } : {}),
      });
  if (failed && changes.length === 0) {
    // Azure kept the content but says the write did not succeed: the firewall may not enforce it.
    changes.push({
      kind: "modify",
      collection: "",
      rule: "",
      fields: ["provisioningState: Failed -> Succeeded (the last write failed; writing the group again)"],
    });
  } else if (!unchanged && changes.length === 0) {
    // Cannot happen while diff.ts and normalise.ts agree; if they ever do not, show it rather than
    // send a PUT that no line of the plan explains.
    changes.push({
      kind: "modify",
      collection: "",
      rule: "",
      fields: ["group differs in a way no rule shows"],
    });
  }

  markRegrouped(changes, current, body);

  const findings = [...desired.findings, ...findShadowing(body, others), ...priorityClash(body, others)].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      byText(a.clusterId ?? "", b.clusterId ?? "") ||
      byText(a.code, b.code) ||
      byText(a.location ?? "", b.location ?? "") ||
      byText(a.message, b.message),
  );

  const hash = hashOf(desiredText);
  const baseHash = currentText === undefined ? ABSENT_GROUP_HASH : hashOf(currentText);
  const plan: Plan = {
    policyId: policy.id,
    groupName: settings.groupName,
    action: unchanged ? "none" : "put",
    changes,
    risk: riskOf(changes, current),
    findings,
    hash,
    baseHash,
    changeHash: changeHash(baseHash, hash),
    ...(current?.etag ? { baseEtag: current.etag } : {}),
    clusterChanges: desired.clusterChanges,
    affectedClusters: desired.affectedClusters,
    ...(desired.migration && !unchanged ? { migration: desired.migration } : {}),
  };
  if (!unchanged) plan.body = body;
  return plan;
}

/** Why a removed rule takes no access away: the shared rules to write allow all of it. */
export const REGROUPED = "regrouped: everything it allows stays allowed by the rules written";

/**
 * In the shared layout a rule is named after the exact atoms it allows, so a cluster gaining a host
 * replaces a rule rather than editing it. A removed rule whose every (atom, source) pair the body
 * still allows is such a regrouping: it is said so, and risk counts it as changed, not removed
 * (removals are what need a person, as they take access away).
 */
function markRegrouped(
  changes: RuleChange[],
  current: RuleCollectionGroup | undefined,
  body: RuleCollectionGroup,
): void {
  const removals = changes.filter((c) => c.kind === "remove" && c.rule !== "");
  if (removals.length === 0 || current === undefined) return;
  const allowed = new Map<string, Set<string>>();
  for (const collection of body.ruleCollections)
    for (const rule of collection.rules ?? [])
      for (const atom of atomsOfRule(rule)) {
        let sources = allowed.get(atom.key);
        if (sources === undefined) {
          sources = new Set();
          allowed.set(atom.key, sources);
        }
        for (const s of sourcesOfRule(rule)) sources.add(s);
      }
  for (const change of removals) {
    const collection = current.ruleCollections.find((c) => c.name === change.collection);
    if (collection?.action?.type?.toLowerCase() !== "allow") continue;
    const rule = collection.rules?.find((r) => r.name === change.rule);
    const atoms = rule === undefined ? [] : atomsOfRule(rule);
    const sources = rule === undefined ? [] : sourcesOfRule(rule);
    if (atoms.length === 0 || sources.length === 0) continue;
    if (atoms.every((a) => sources.every((s) => allowed.get(a.key)?.has(s) === true)))
      change.reason = change.reason === LAYOUT_MIGRATION ? `${LAYOUT_MIGRATION}; ${REGROUPED}` : REGROUPED;
  }
}

function sourcesOfRule(rule: RuleBody): string[] {
  const raw = (rule as { sourceAddresses?: unknown }).sourceAddresses;
  return Array.isArray(raw)
    ? raw.filter((s): s is string => typeof s === "string").map((s) => s.trim().toLowerCase())
    : [];
}

/**
 * Rule counts by kind. Collection- and group-level modifications (empty `rule`) count as changed;
 * removing an empty collection counts as nothing, so that removedShare stays a share of rules.
 */
function riskOf(changes: readonly RuleChange[], current: RuleCollectionGroup | undefined): PlanRisk {
  const count = (kind: RuleChange["kind"]) =>
    changes.filter((c) => c.kind === kind && (kind === "modify" || c.rule !== "")).length;
  const managedRulesBefore = (current?.ruleCollections ?? []).reduce((n, c) => n + (c.rules?.length ?? 0), 0);
  const regrouped = changes.filter((c) => c.kind === "remove" && c.reason?.endsWith(REGROUPED)).length;
  const removed = count("remove") - regrouped;
  return {
    added: count("add"),
    removed,
    changed: count("modify") + regrouped,
    managedRulesBefore,
    removedShare: managedRulesBefore === 0 ? 0 : removed / managedRulesBefore,
  };
}

/** Two groups at one priority leave their order to the service; say so rather than guess. */
function priorityClash(body: RuleCollectionGroup, others: readonly RuleCollectionGroup[]): Finding[] {
  return others
    .filter((g) => g.priority === body.priority)
    .map((g) => ({
      code: "GROUP_PRIORITY_CLASH",
      severity: "warning" as const,
      message: `group ${g.name} has the managed group's priority ${body.priority}; which of the two the firewall processes first is not defined. Give the managed group a priority of its own.`,
      location: g.name,
    }));
}

// One firewall policy's plan: the managed group the clusters need, what differs from the group as
// read, what else on the policy gets in the way, and how much is at stake. Pure; the orchestrator
// decides what to do with it and the adapter sends `body` in one PUT.
import { byText, canonicalJson, sha256Hex } from "./canonical";
import { type DiffContext, diffGroups } from "./diff";
import { checkLimits } from "./limits";
import { COLLECTION_KINDS, clusterKey, collectionName } from "./naming";
import { normaliseGroup, sameGroup } from "./normalise";
import { desiredGroup } from "./render-group";
import { findShadowing } from "./shadowing";
import type {
  ClusterProfile,
  Finding,
  ManagedGroupSettings,
  Plan,
  PlanRisk,
  PolicySnapshot,
  RuleChange,
  RuleCollectionGroup,
} from "./types";

export interface PlanInput {
  clusters: ClusterProfile[];
  policy: PolicySnapshot;
  settings: ManagedGroupSettings;
}

const SEVERITY_RANK = { error: 0, warning: 1, info: 2 } as const;

/** Approvals bind to this: the sha256 of the canonical form of the group to be written. */
export function planHash(group: RuleCollectionGroup): string {
  return sha256Hex(canonicalJson(normaliseGroup(group)));
}

export function planPolicy(input: PlanInput): Plan {
  const { clusters, policy, settings } = input;
  const wanted = settings.groupName.toLowerCase();
  const current = policy.groups.find((g) => g.name.toLowerCase() === wanted);
  const others = policy.groups.filter((g) => g !== current);

  const desired = desiredGroup(clusters, current, settings, { dnsProxyEnabled: policy.dnsProxyEnabled });
  const body = desired.group;
  checkLimits(body);

  const ownedCollections = new Map<string, string>();
  for (const cluster of clusters) {
    for (const kind of COLLECTION_KINDS)
      ownedCollections.set(collectionName(cluster, kind), clusterKey(cluster.id));
  }
  const context: DiffContext = {
    presentClusters: new Set(clusters.map((c) => clusterKey(c.id))),
    ownedCollections,
    dnsProxyEnabled: policy.dnsProxyEnabled,
  };

  const unchanged = sameGroup(current, body);
  const changes = unchanged ? [] : diffGroups(current, body, context);
  if (!unchanged && changes.length === 0) {
    // Cannot happen while diff.ts and normalise.ts agree; if they ever do not, show it rather than
    // send a PUT that no line of the plan explains.
    changes.push({
      kind: "modify",
      collection: "",
      rule: "",
      fields: ["group differs in a way no rule shows"],
    });
  }

  const findings = [...desired.findings, ...findShadowing(body, others), ...priorityClash(body, others)].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      byText(a.clusterId ?? "", b.clusterId ?? "") ||
      byText(a.code, b.code) ||
      byText(a.location ?? "", b.location ?? "") ||
      byText(a.message, b.message),
  );

  const plan: Plan = {
    policyId: policy.id,
    groupName: settings.groupName,
    action: unchanged ? "none" : "put",
    changes,
    risk: riskOf(changes, current),
    findings,
    hash: planHash(body),
  };
  if (!unchanged) plan.body = body;
  return plan;
}

/**
 * Rule counts by kind. Collection- and group-level modifications (empty `rule`) count as changed;
 * removing an empty collection counts as nothing, so that removedShare stays a share of rules.
 */
function riskOf(changes: readonly RuleChange[], current: RuleCollectionGroup | undefined): PlanRisk {
  const count = (kind: RuleChange["kind"]) =>
    changes.filter((c) => c.kind === kind && (kind === "modify" || c.rule !== "")).length;
  const managedRulesBefore = (current?.ruleCollections ?? []).reduce((n, c) => n + (c.rules?.length ?? 0), 0);
  const removed = count("remove");
  return {
    added: count("add"),
    removed,
    changed: count("modify"),
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

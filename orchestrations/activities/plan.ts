// Steps 4 and 7-8 of a pass: plan from what was gathered; write the one changed group; verify.
import type { ArmConnection } from "../../azure/clients";
import { writeManagedGroup } from "../../azure/firewall";
import { groupContentHash, planHash, planPolicy } from "../../drift/plan";
import type { ManagedGroupSettings, Plan, RuleCollectionGroup } from "../../drift/types";
import { type GatheredPolicy, type GatherSettings, gatherPolicy } from "./gather";

export interface PassSettings extends GatherSettings, ManagedGroupSettings {}

/** The plan, with the gathering's findings (subnets, tags, outbound type) ahead of the plan's own. */
export function planGathered(gathered: GatheredPolicy, settings: PassSettings): Plan {
  const plan = planPolicy({
    clusters: gathered.clusters,
    policy: gathered.policy,
    settings,
    sourceOwners: gathered.sourceOwners,
  });
  return { ...plan, findings: [...gathered.findings, ...plan.findings] };
}

export async function checkPolicy(connection: ArmConnection, policyId: string, settings: PassSettings) {
  const gathered = await gatherPolicy(connection, policyId, settings);
  return { gathered, plan: planGathered(gathered, settings) };
}

/** One decided change: the body to write, and the group it was planned from. */
export interface DecidedWrite {
  body: RuleCollectionGroup;
  /** `groupContentHash` of the managed group the plan was made from. */
  baseHash: string;
  /** `planHash(body)`. */
  hash: string;
  /** The etag of that group as read. */
  baseEtag?: string;
}

export interface VerifiedWrite {
  /** PUTs Azure accepted: 0 when the decided group was already in place. */
  writes: number;
  /** The written group reads back `Succeeded` with exactly the content written. */
  converged: boolean;
  /** The group's provisioning state as read back. */
  provisioningState?: string;
  /** Why it did not converge. */
  detail?: string;
}

/**
 * Steps 7-8 for one decided change, reading the managed group alone, never the estate: the PUT goes
 * ahead only while the group still is what the plan was made from (writeManagedGroup waits while the
 * policy or group is busy, then reads the group afresh: its content must hash to `baseHash`, and
 * If-Match carries that read's etag), or is already the target (then no PUT, or a PUT again when
 * Azure marked it Failed). Then the group as read back: converged means `Succeeded` and a canonical
 * content hash equal to the body's. A group that moved surfaces as ARM_PRECONDITION_FAILED.
 *
 * Whether the estate still wants this body is not re-checked here: a cluster that changes after the
 * plan raises an event (or is found by the next sweep), and that pass plans and decides again.
 */
export async function writeDecided(
  connection: ArmConnection,
  policyId: string,
  groupName: string,
  decided: DecidedWrite,
  options: { budgetMs?: number } = {},
): Promise<VerifiedWrite> {
  const written = await writeManagedGroup(connection, policyId, groupName, decided.body, {
    expectedBaseHash: decided.baseHash,
    ...(decided.baseEtag ? { etag: decided.baseEtag } : {}),
    ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}),
  });
  // writeManagedGroup returns only once Azure has settled the group (Succeeded, or it throws), with
  // the group as last read by itself: after a PUT, the long-running operation's final GET of the
  // group (or the reads that waited for it to leave Updating); with no PUT, the fresh read that found
  // the target in place. That read is the verification; nothing else is read.
  const state = written.group.provisioningState;
  const succeeded = state?.toLowerCase() === "succeeded";
  const same = groupContentHash(written.group) === decided.hash;
  return {
    writes: written.writes,
    converged: succeeded && same,
    ...(state ? { provisioningState: state } : {}),
    ...(!succeeded
      ? { detail: `the group reads back ${state ?? "missing"}` }
      : !same
        ? { detail: "the group reads back with content other than what was written" }
        : {}),
  };
}

export interface ApplyResult {
  /** PUTs Azure accepted (0 when the plan had nothing to write, or the write had already landed). */
  writes: number;
  /** The plan after the write, from a fresh read: action "none" when the write converged. */
  after: Plan;
  /** The group reads back Succeeded with the content written, and the fresh plan finds no drift. */
  converged: boolean;
  /** The group's provisioning state as read back. */
  provisioningState?: string;
}

/**
 * writeDecided for a plan just made, then a fresh plan of the whole estate, for a person who wants
 * to see that nothing is left (the CLI's `check --apply`). The reconciler's pass does not re-read
 * the estate: it uses writeDecided alone (see applyApprovedPlan).
 */
export async function applyPlan(
  connection: ArmConnection,
  policyId: string,
  plan: Plan,
  settings: PassSettings,
  options: { budgetMs?: number } = {},
): Promise<ApplyResult> {
  if (plan.action === "none" || plan.body === undefined) {
    return { writes: 0, after: plan, converged: true };
  }
  const decided = decidedWrite({ ...plan, body: plan.body });
  const written = await writeDecided(connection, policyId, settings.groupName, decided, options);
  const { plan: after } = await checkPolicy(connection, policyId, settings);
  return {
    writes: written.writes,
    after,
    converged: written.converged && after.action === "none",
    ...(written.provisioningState ? { provisioningState: written.provisioningState } : {}),
  };
}

function decidedWrite(plan: Plan & { body: RuleCollectionGroup }): DecidedWrite {
  return {
    body: plan.body,
    baseHash: plan.baseHash,
    hash: plan.hash,
    ...(plan.baseEtag ? { baseEtag: plan.baseEtag } : {}),
  };
}

// The plans gatherAndPlan made, kept in this process so that the apply activity can write the
// decided body without reading the estate again: the orchestration's history carries only hashes
// (a body is up to 2 MB), and rebuilding the body means reading every cluster and subnet once more.
// One per policy, the latest: the reconciler is a singleton per policy and only ever applies the
// plan its last gathering decided on. An apply on another worker, or after a restart, finds nothing
// here and plans again (applyApprovedPlan). Bounded by the number of policies one app serves.
const POLICIES_KEPT = 32;
const plans = new Map<string, { groupName: string; changeHash: string; decided: DecidedWrite }>();

/** Keeps a plan that writes, for writeDecided; a plan that writes nothing forgets the policy's. */
export function rememberPlan(policyId: string, plan: Plan): void {
  const key = policyId.toLowerCase();
  plans.delete(key);
  if (plan.action === "none" || plan.body === undefined) return;
  if (plans.size >= POLICIES_KEPT) {
    const oldest = plans.keys().next().value;
    if (oldest !== undefined) plans.delete(oldest);
  }
  plans.set(key, {
    groupName: plan.groupName,
    changeHash: plan.changeHash,
    decided: decidedWrite({ ...plan, body: plan.body }),
  });
}

/**
 * The body of exactly this change, if this process planned it: the same group, the same change
 * hash and both its sides, and a body that still hashes to the decided target. Undefined otherwise.
 */
export function rememberedWrite(
  policyId: string,
  groupName: string,
  change: { changeHash: string; baseHash: string; hash: string },
): DecidedWrite | undefined {
  const kept = plans.get(policyId.toLowerCase());
  if (
    kept === undefined ||
    kept.groupName.toLowerCase() !== groupName.toLowerCase() ||
    kept.changeHash !== change.changeHash ||
    kept.decided.baseHash !== change.baseHash ||
    kept.decided.hash !== change.hash ||
    planHash(kept.decided.body) !== change.hash
  ) {
    return undefined;
  }
  return kept.decided;
}

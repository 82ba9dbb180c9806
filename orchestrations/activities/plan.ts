// Steps 4 and 7-8 of a pass: plan from what was gathered; write the one changed group; verify.
import type { ArmConnection } from "../../azure/clients";
import { writeManagedGroup } from "../../azure/firewall";
import { planPolicy } from "../../drift/plan";
import type { ManagedGroupSettings, Plan } from "../../drift/types";
import { type GatheredPolicy, type GatherSettings, gatherPolicy } from "./gather";

export interface PassSettings extends GatherSettings, ManagedGroupSettings {}

/** The plan, with the gathering's findings (subnets, tags, outbound type) ahead of the plan's own. */
export function planGathered(gathered: GatheredPolicy, settings: PassSettings): Plan {
  const plan = planPolicy({ clusters: gathered.clusters, policy: gathered.policy, settings });
  return { ...plan, findings: [...gathered.findings, ...plan.findings] };
}

export async function checkPolicy(connection: ArmConnection, policyId: string, settings: PassSettings) {
  const gathered = await gatherPolicy(connection, policyId, settings);
  return { gathered, plan: planGathered(gathered, settings) };
}

export interface ApplyResult {
  /** PUTs Azure accepted (0 when the plan had nothing to write, or the write had already landed). */
  writes: number;
  /** The plan after the write, from a fresh read: action "none" when the write converged. */
  after: Plan;
  /** The group reads back Succeeded and the fresh plan finds no drift. */
  converged: boolean;
  /** The group's provisioning state as read back. */
  provisioningState?: string;
}

/**
 * Writes `plan.body` (one PUT) only while the managed group still is what the plan was made from
 * (If-Match with its etag, and its content hash from a fresh read just before the PUT), then waits
 * for Azure to settle the group and re-plans: converged means `Succeeded` and an empty plan.
 * A group that moved surfaces as ARM_PRECONDITION_FAILED: the caller re-plans and decides again.
 * (Steps 7-8 of a pass.)
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
  const written = await writeManagedGroup(connection, policyId, settings.groupName, plan.body, {
    expectedBaseHash: plan.baseHash,
    ...(plan.baseEtag ? { etag: plan.baseEtag } : {}),
    ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}),
  });
  // writeManagedGroup returns only once Azure has settled the group (Succeeded, or it throws): a write
  // counts only when Azure says so. The fresh plan then says whether any drift is left.
  const { plan: after } = await checkPolicy(connection, policyId, settings);
  const state = written.group.provisioningState;
  return {
    writes: written.writes,
    after,
    converged: state?.toLowerCase() === "succeeded" && after.action === "none",
    ...(state ? { provisioningState: state } : {}),
  };
}

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
  /** PUTs sent (0 when the plan had nothing to write). */
  writes: number;
  /** The plan after the write, from a fresh read: action "none" when the write converged. */
  after: Plan;
  converged: boolean;
}

/**
 * Writes `plan.body` (one PUT), then re-reads everything and re-plans: the second plan must be empty.
 * A write refused with 412 is not retried here: the caller re-plans and asks again if it must.
 * (Steps 7-8 of a pass.)
 */
export async function applyPlan(
  connection: ArmConnection,
  policyId: string,
  plan: Plan,
  settings: PassSettings,
  options: { etag?: string; busyTimeoutMs?: number } = {},
): Promise<ApplyResult> {
  if (plan.action === "none" || plan.body === undefined) {
    return { writes: 0, after: plan, converged: true };
  }
  await writeManagedGroup(connection, policyId, settings.groupName, plan.body, {
    ...(options.etag ? { etag: options.etag } : {}),
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
  // Drift left after a successful write means something changed meanwhile (or the service rewrote
  // the rules); the caller reports it and the next pass takes it up.
  const { plan: after } = await checkPolicy(connection, policyId, settings);
  return { writes: 1, after, converged: after.action === "none" };
}

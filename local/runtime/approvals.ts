// Pending approvals, locally. The app sends an approval's link only to the notification topic (it is a
// credential); npm start plays the topic's subscriber and keeps what arrived in
// STATE_DIR/approval-links.json (0600), like a chat channel's history. Whether an approval is still
// pending is never read from there: the reconciler's status says so (ID, expiry, summary; never the
// link), and only the link of the approval it names is used, on the host as it runs now.
import fs from "node:fs";
import path from "node:path";
import type { PendingApproval, ReconcilerStatus } from "../../orchestrations/reconciler";
import { writePrivateFileSync } from "../functions-host/private-files";

export const APPROVAL_LINKS_FILE = "approval-links.json";

/** An approval request as the topic delivered it. */
export interface ReceivedApproval {
  cloud: string;
  policyId: string;
  approvalId: string;
  expiresAt?: string;
  /** The clusters the plan covered, as npm start saw it planned. */
  clusters?: string[];
  /** The link as published: its origin is the host's at the time (with --base-port 0, a port long gone). */
  link: string;
}

function approvalIdOfLink(link: string): string {
  try {
    return decodeURIComponent(new URL(link).pathname.split("/").at(-1) ?? "");
  } catch {
    return "";
  }
}

/** Every approval request received, newest per policy (older files held `{policyId: link}`). */
export function receivedApprovals(stateRoot: string): ReceivedApproval[] {
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(fs.readFileSync(path.join(stateRoot, APPROVAL_LINKS_FILE), "utf8")) as Record<
      string,
      unknown
    >;
  } catch {
    return [];
  }
  const received: ReceivedApproval[] = [];
  for (const [policyId, value] of Object.entries(stored)) {
    if (typeof value === "string")
      received.push({ cloud: "", policyId, approvalId: approvalIdOfLink(value), link: value });
    else if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as ReceivedApproval).link === "string"
    )
      received.push({ ...(value as ReceivedApproval), policyId });
  }
  return received;
}

export function recordApproval(stateRoot: string, approval: ReceivedApproval): void {
  const others = receivedApprovals(stateRoot).filter((a) => a.policyId !== approval.policyId);
  const all = Object.fromEntries([...others, approval].map((a) => [a.policyId, a]));
  writePrivateFileSync(path.join(stateRoot, APPROVAL_LINKS_FILE), `${JSON.stringify(all, null, 2)}\n`);
}

/** The received link of this approval, if any. */
export function linkOf(stateRoot: string, policyId: string, approvalId: string): string | undefined {
  return receivedApprovals(stateRoot).find(
    (a) => a.policyId.toLowerCase() === policyId.toLowerCase() && a.approvalId === approvalId,
  )?.link;
}

/**
 * The link on the host as it runs now: the token in it is bound to the approval and the change, not
 * to a host, and a restart (with --base-port 0) gives the host a new port.
 */
export function onHost(link: string, hostUrl: string): string {
  const published = new URL(link);
  return new URL(`${published.pathname}${published.search}`, hostUrl).toString();
}

export interface PolicyStatus extends Partial<ReconcilerStatus> {
  policyId: string;
  instanceId?: string;
  runtimeStatus?: string;
}

/** GET /api/status?policy=… (function key), as an operator would read it. */
export async function policyStatus(
  hostUrl: string,
  functionKey: string,
  policyId: string,
): Promise<PolicyStatus> {
  const response = await fetch(`${hostUrl}/api/status?policy=${encodeURIComponent(policyId)}`, {
    headers: { "x-functions-key": functionKey },
  });
  if (response.status !== 200)
    throw new Error(
      `GET ${hostUrl}/api/status for ${policyId}: HTTP ${response.status} ${await response.text()}`,
    );
  return (await response.json()) as PolicyStatus;
}

/**
 * The approval the status says is pending, if it has not expired: while the reconciler re-plans
 * during the wait (phase planning) it stays pending, as the approval endpoint holds.
 */
export function pendingIn(status: PolicyStatus, now = Date.now()): PendingApproval | undefined {
  // A terminated or failed reconciler keeps its last custom status, but waits for nothing.
  const alive = ["Running", "Pending", "ContinuedAsNew"].includes(status.runtimeStatus ?? "Running");
  const waiting = alive && (status.phase === "awaiting-approval" || status.phase === "planning");
  const pending = waiting ? status.pendingApproval : undefined;
  return pending !== undefined && Date.parse(pending.expiresAt) > now ? pending : undefined;
}

/** "+3 ~8 -14", from the status's plan. */
export function driftOf(status: PolicyStatus): string | undefined {
  const plan = status.plan;
  if (plan === undefined) return undefined;
  return plan.action === "none" ? "none" : `+${plan.added} ~${plan.changed} -${plan.removed}`;
}

export function policyName(id: string): string {
  return id.split("/").at(-1) ?? id;
}

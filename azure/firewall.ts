// Reads a firewall policy and writes the app's own rule collection group, with the real SDK.
// Azure takes minutes per firewall update and one update at a time per policy (azure-notes §2), so a
// write waits while the policy is busy, retries the "another operation" answers within a bounded
// time, and sends If-Match so that a group changed since it was read is re-read, not overwritten.
import type { FirewallPolicyRuleCollectionGroup } from "@azure/arm-network";
import { isRestError, type RestError } from "@azure/core-rest-pipeline";
import type { PolicySnapshot, RuleCollectionGroup } from "../drift/types";
import { GuardError } from "../errors";
import { type ArmConnection, networkClient } from "./clients";
import { FIREWALL_POLICY_TYPE, parseResourceId } from "./resource-id";

/** Answers that mean "the policy is busy with another write": wait and try again. */
const BUSY_CODES = new Set(
  [
    "AnotherOperationInProgress",
    "FirewallPolicyRuleCollectionGroupUpdateNotAllowedWhenUpdatingOrDeleting",
    "FirewallPolicyUpdateNotAllowedWhenUpdatingOrDeleting",
    "RetryableErrorDueToAnotherOperation",
  ].map((c) => c.toLowerCase()),
);
const BUSY_STATES = new Set(["updating", "deleting", "creating"]);

export interface WriteOptions {
  /** The etag the plan was made from; sent as If-Match. */
  etag?: string;
  /** How long to keep waiting for a busy policy before giving up (default 20 minutes). */
  busyTimeoutMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function policyParts(policyId: string) {
  const id = parseResourceId(policyId, FIREWALL_POLICY_TYPE);
  return { subscriptionId: id.subscriptionId, resourceGroup: id.resourceGroup, policyName: id.name };
}

export function groupFromSdk(group: FirewallPolicyRuleCollectionGroup): RuleCollectionGroup {
  // The SDK has already deserialised ARM JSON into these shapes; rule fields keep Azure's names.
  return {
    ...(group.id ? { id: group.id } : {}),
    name: group.name ?? "",
    priority: group.priority ?? 0,
    ruleCollections: (group.ruleCollections ?? []) as unknown as RuleCollectionGroup["ruleCollections"],
    ...(group.etag ? { etag: group.etag } : {}),
    ...(group.provisioningState ? { provisioningState: group.provisioningState } : {}),
  };
}

/** The policy's DNS proxy setting and every one of its groups (foreign ones too, for findings). */
export async function readPolicySnapshot(
  connection: ArmConnection,
  policyId: string,
): Promise<PolicySnapshot> {
  const { subscriptionId, resourceGroup, policyName } = policyParts(policyId);
  const client = networkClient(connection, subscriptionId);
  let policy: Awaited<ReturnType<typeof client.firewallPolicies.get>>;
  try {
    policy = await client.firewallPolicies.get(resourceGroup, policyName);
  } catch (error) {
    if (isRestError(error) && error.statusCode === 404) {
      throw new GuardError(
        "POLICY_NOT_FOUND",
        `firewall policy ${policyId} does not exist (or is not visible to this identity).`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  const groups: RuleCollectionGroup[] = [];
  for await (const group of client.firewallPolicyRuleCollectionGroups.list(resourceGroup, policyName)) {
    groups.push(groupFromSdk(group));
  }
  return { id: policy.id ?? policyId, dnsProxyEnabled: policy.dnsSettings?.enableProxy === true, groups };
}

function retryAfterMs(error: RestError): number | undefined {
  const header = error.response?.headers.get("retry-after");
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function errorCode(error: RestError): string {
  return (error.code ?? "").toLowerCase();
}

/** Waits while the policy or the group is being updated by someone else. */
async function waitWhileBusy(
  connection: ArmConnection,
  policyId: string,
  groupName: string,
  deadline: number,
  sleep: (ms: number) => Promise<void>,
) {
  const { subscriptionId, resourceGroup, policyName } = policyParts(policyId);
  const client = networkClient(connection, subscriptionId);
  for (let attempt = 0; ; attempt++) {
    const policy = await client.firewallPolicies.get(resourceGroup, policyName);
    let groupState: string | undefined;
    try {
      groupState = (await client.firewallPolicyRuleCollectionGroups.get(resourceGroup, policyName, groupName))
        .provisioningState;
    } catch (error) {
      if (!(isRestError(error) && error.statusCode === 404)) throw error;
    }
    const busy = [policy.provisioningState, groupState].some(
      (s) => s !== undefined && BUSY_STATES.has(s.toLowerCase()),
    );
    if (!busy) return;
    if (Date.now() >= deadline) {
      throw new GuardError(
        "ARM_BUSY_TIMEOUT",
        `firewall policy ${policyId} stayed busy (Updating) past the wait limit; nothing was written.`,
      );
    }
    await sleep(Math.min(1000 * 2 ** Math.min(attempt, 5), 30_000, Math.max(0, deadline - Date.now())));
  }
}

/**
 * PUTs the whole managed group (one write) and waits for the long-running operation. Refuses any
 * other group name: the app writes only its own group. 412 (the group changed since it was read)
 * surfaces as ARM_PRECONDITION_FAILED so the caller re-reads and re-plans.
 */
export async function writeManagedGroup(
  connection: ArmConnection,
  policyId: string,
  managedGroupName: string,
  group: RuleCollectionGroup,
  options: WriteOptions = {},
): Promise<RuleCollectionGroup> {
  if (group.name.toLowerCase() !== managedGroupName.toLowerCase()) {
    throw new GuardError(
      "BAD_ARGUMENT",
      `refusing to write group "${group.name}": this app writes only its own group "${managedGroupName}".`,
    );
  }
  const { subscriptionId, resourceGroup, policyName } = policyParts(policyId);
  const client = networkClient(connection, subscriptionId);
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + (options.busyTimeoutMs ?? 20 * 60_000);
  const body = {
    priority: group.priority,
    ruleCollections: group.ruleCollections,
  } as unknown as FirewallPolicyRuleCollectionGroup;
  let lastBusy = "";
  for (let attempt = 0; ; attempt++) {
    await waitWhileBusy(connection, policyId, group.name, deadline, sleep);
    try {
      const written = await client.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
        resourceGroup,
        policyName,
        group.name,
        body,
        {
          ...(connection.pollIntervalMs !== undefined
            ? { updateIntervalInMs: connection.pollIntervalMs }
            : {}),
          ...(options.etag ? { requestOptions: { customHeaders: { "If-Match": options.etag } } } : {}),
        },
      );
      return groupFromSdk(written);
    } catch (error) {
      if (!isRestError(error)) {
        // The poller reports a Failed operation as a plain error.
        throw new GuardError(
          "ARM_REQUEST_FAILED",
          `writing ${group.name} on ${policyId} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (error.statusCode === 412) {
        throw new GuardError(
          "ARM_PRECONDITION_FAILED",
          `group ${group.name} changed since it was read (412); re-read and re-plan.`,
          { cause: error },
        );
      }
      const busy = error.statusCode === 429 || (error.statusCode === 409 && BUSY_CODES.has(errorCode(error)));
      if (!busy) {
        throw new GuardError(
          "ARM_REQUEST_FAILED",
          `writing ${group.name} on ${policyId} failed: ${error.statusCode} ${error.code ?? ""} ${error.message}`,
          {
            cause: error,
          },
        );
      }
      lastBusy = `${error.statusCode} ${error.code ?? ""}`.trim();
      const wait = retryAfterMs(error) ?? Math.min(1000 * 2 ** Math.min(attempt, 5), 60_000);
      if (Date.now() + wait > deadline) {
        throw new GuardError(
          "ARM_BUSY_TIMEOUT",
          `firewall policy ${policyId} stayed busy (${lastBusy}) for ${attempt + 1} attempts; gave up before the wait limit; nothing was written.`,
          { cause: error },
        );
      }
      await sleep(wait);
    }
  }
}

// Reads a firewall policy and writes the app's own rule collection group, with the real SDK.
// Azure takes minutes per firewall update and one update at a time per policy (azure-notes §2), so a
// write waits while the policy is busy and retries the "busy" answers, every wait capped and counted
// against one budget. A write counts only when Azure says it succeeded (DESIGN §3): before every PUT
// a fresh read checks that the group is still what the plan was made from (or already what we want),
// and an operation that ends `Failed` is an error, never a success.
import type {
  FirewallPolicyRuleCollectionGroup,
  FirewallPolicyRuleCollectionGroupsCreateOrUpdateOptionalParams,
  NetworkManagementClient,
} from "@azure/arm-network";
import type { RestError } from "@azure/core-rest-pipeline";
import { groupContentHash, planHash } from "../drift/plan";
import type { PolicySnapshot, RuleCollectionGroup } from "../drift/types";
import { GuardError } from "../errors";
import { type ArmConnection, networkClient, throttlingRetryAfterMs } from "./clients";
import { FIREWALL_POLICY_TYPE, parseResourceId } from "./resource-id";
import { isRestError } from "./sdk";

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

const DEFAULT_BUDGET_MS = 20 * 60_000;
const DEFAULT_MAX_WAIT_MS = 5 * 60_000;
/** Azure may answer 412 for an etag it has since moved on from; the fresh read decides, a few times. */
const MAX_PRECONDITION_RETRIES = 3;
/** No request of a write (the PUT, each poll) may hang: the HTTP client has no timeout of its own. */
const REQUEST_TIMEOUT_MS = 120_000;

export interface WaitOptions {
  /** Every wait (busy policy, Retry-After, backoff) counts against this (default 20 minutes). */
  budgetMs?: number;
  /** No single wait is longer, whatever `Retry-After` says (default 5 minutes). */
  maxWaitMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

export interface WriteOptions extends WaitOptions {
  /** The etag the plan was made from; sent as If-Match unless a fresh read gives a better one. */
  etag?: string;
  /**
   * `groupContentHash` of the group the plan was made from. Before every PUT a fresh read of the group
   * must still hash to this (or already to the target); otherwise ARM_PRECONDITION_FAILED.
   */
  expectedBaseHash?: string;
  /** Old name of `budgetMs`. */
  busyTimeoutMs?: number;
}

export interface WriteResult {
  /** The group as Azure reports it afterwards: always `Succeeded`, with the target content. */
  group: RuleCollectionGroup;
  /**
   * PUTs of this call that Azure accepted (0 or 1). 1 also when the answer to our PUT was lost and a
   * fresh read shows it applied; 0 when the target was already in place (e.g. an earlier call's PUT
   * whose answer was lost), and no PUT was sent.
   */
  writes: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One budget for every wait of a write. Time spent is the larger of the waits asked for and the
 * wall clock, so waits inside the SDK (bounded by clients.ts) count too, and a test's instant
 * `sleep` still runs the budget down.
 */
class WaitBudget {
  private waited = 0;
  private readonly started = Date.now();
  readonly budgetMs: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: WaitOptions & { busyTimeoutMs?: number }) {
    this.budgetMs = options.budgetMs ?? options.busyTimeoutMs ?? DEFAULT_BUDGET_MS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.sleep = options.sleep ?? defaultSleep;
  }

  spent(): number {
    return Math.max(this.waited, Date.now() - this.started);
  }

  remaining(): number {
    return this.budgetMs - this.spent();
  }

  /** Waits `ms`, capped at `maxWaitMs`; throws `exhausted()` instead when that would pass the budget. */
  async wait(ms: number, exhausted: () => GuardError): Promise<void> {
    const capped = Math.min(Math.max(0, ms), this.maxWaitMs);
    if (this.spent() + capped > this.budgetMs) throw exhausted();
    this.waited += capped;
    await this.sleep(capped);
  }
}

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

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** How a failed request should be retried. */
interface Retryable {
  kind: "busy" | "transient";
  /** For messages: `409 AnotherOperationInProgress`, `ECONNRESET`. */
  label: string;
  retryAfterMs?: number;
  /** The request may have reached Azure (no answer, or 5xx): a PUT may have been applied. */
  mayHaveLanded: boolean;
}

/** Undefined when the error is not worth retrying. */
function retryable(error: unknown): Retryable | undefined {
  // The request timed out (REQUEST_TIMEOUT_MS): whether Azure took it is unknown.
  if (isAbortError(error)) {
    return { kind: "transient", label: "request timed out", mayHaveLanded: true };
  }
  if (!isRestError(error)) return undefined;
  const status = error.statusCode;
  const code = error.code ?? "";
  const label = `${status ?? ""} ${code}`.trim() || "no answer";
  // No status: the connection broke or timed out; Azure may or may not have taken the request.
  if (status === undefined) return { kind: "transient", label, mayHaveLanded: true };
  if (status === 429 || status === 503 || (status === 409 && BUSY_CODES.has(code.toLowerCase()))) {
    const retryAfterMs = throttlingRetryAfterMs(error.response) ?? retryAfterHeaderMs(error);
    return {
      kind: "busy",
      label,
      mayHaveLanded: false,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (status === 408 || (status >= 500 && status !== 501 && status !== 505)) {
    return { kind: "transient", label, mayHaveLanded: true };
  }
  return undefined;
}

/** `Retry-After` on any answer (409 may carry one too), in ms. */
function retryAfterHeaderMs(error: RestError): number | undefined {
  const header = error.response?.headers.get("retry-after");
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function backoffMs(connection: ArmConnection, attempt: number): number {
  const base = connection.retryOptions?.retryDelayInMs ?? 1000;
  const max = connection.retryOptions?.maxRetryDelayInMs ?? 30_000;
  return Math.min(max, base * 2 ** Math.min(attempt, 10));
}

function isBusyState(state: string | undefined): boolean {
  return state !== undefined && BUSY_STATES.has(state.toLowerCase());
}

function isState(group: RuleCollectionGroup | undefined, state: string): boolean {
  return group?.provisioningState?.toLowerCase() === state.toLowerCase();
}

interface Target {
  client: NetworkManagementClient;
  connection: ArmConnection;
  policyId: string;
  resourceGroup: string;
  policyName: string;
  groupName: string;
}

function target(connection: ArmConnection, policyId: string, groupName: string): Target {
  const { subscriptionId, resourceGroup, policyName } = policyParts(policyId);
  return {
    client: networkClient(connection, subscriptionId),
    connection,
    policyId,
    resourceGroup,
    policyName,
    groupName,
  };
}

/** Why the group is not settled yet ("group Updating"), or undefined when it is. */
const groupBusy = (group: RuleCollectionGroup | undefined) =>
  isBusyState(group?.provisioningState) ? `group ${group?.provisioningState}` : undefined;

async function readGroup(t: Target): Promise<RuleCollectionGroup | undefined> {
  try {
    return groupFromSdk(
      await t.client.firewallPolicyRuleCollectionGroups.get(t.resourceGroup, t.policyName, t.groupName),
    );
  } catch (error) {
    if (isRestError(error) && error.statusCode === 404) return undefined;
    throw error;
  }
}

/**
 * Reads until `read` gives a value `busy` says nothing about, waiting (backoff, throttling answers)
 * within the budget. Errors that are not worth retrying are thrown as they are.
 */
async function readUntilIdle<T>(
  t: Target,
  budget: WaitBudget,
  read: () => Promise<T>,
  busy: (value: T) => string | undefined,
  exhausted: (why: string) => GuardError,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let why: string;
    let waitMs = backoffMs(t.connection, attempt);
    try {
      const value = await read();
      const state = busy(value);
      if (state === undefined) return value;
      why = state;
    } catch (error) {
      const retry = retryable(error);
      if (retry === undefined) throw error;
      why = retry.label;
      waitMs = retry.retryAfterMs ?? waitMs;
    }
    await budget.wait(waitMs, () => exhausted(why));
  }
}

/**
 * Reads the group once no write is running on it or its policy: the fresh read a PUT is checked
 * against. 404 → undefined.
 */
function readWhenIdle(
  t: Target,
  budget: WaitBudget,
  exhausted: (why: string) => GuardError,
): Promise<RuleCollectionGroup | undefined> {
  return readUntilIdle(
    t,
    budget,
    async () => {
      const policy = await t.client.firewallPolicies.get(t.resourceGroup, t.policyName);
      return { policyState: policy.provisioningState, group: await readGroup(t) };
    },
    ({ policyState, group }) => {
      if (isBusyState(policyState)) return `policy ${policyState}`;
      return groupBusy(group);
    },
    exhausted,
  ).then(({ group }) => group);
}

/** The managed group as it is now (undefined when it does not exist): one GET. */
export function readManagedGroup(
  connection: ArmConnection,
  policyId: string,
  groupName: string,
): Promise<RuleCollectionGroup | undefined> {
  return readGroup(target(connection, policyId, groupName));
}

/**
 * Reads the group, waiting while it is `Updating`/`Creating`/`Deleting` (bounded backoff, within
 * `budgetMs`); past the budget ARM_BUSY_TIMEOUT. 404 → undefined. Used to verify a write: converged
 * means this reads back `Succeeded` with no drift.
 */
export async function readManagedGroupSettled(
  connection: ArmConnection,
  policyId: string,
  groupName: string,
  options: WaitOptions = {},
): Promise<RuleCollectionGroup | undefined> {
  const t = target(connection, policyId, groupName);
  const budget = new WaitBudget(options);
  return readUntilIdle(
    t,
    budget,
    () => readGroup(t),
    groupBusy,
    (why) =>
      new GuardError(
        "ARM_BUSY_TIMEOUT",
        `group ${groupName} on ${policyId} did not settle within ${budget.budgetMs} ms (${why}).`,
      ),
  );
}

type OnResponse = NonNullable<FirewallPolicyRuleCollectionGroupsCreateOrUpdateOptionalParams["onResponse"]>;

type PutOutcome =
  | { kind: "done"; written: FirewallPolicyRuleCollectionGroup }
  | {
      kind: "error";
      error: unknown;
      /** Azure answered the PUT with 2xx: the write is Azure's now, whatever happens to the polling. */
      accepted: boolean;
      /** The wait budget ran out while the accepted operation was still running. */
      aborted: boolean;
      /** `error` of the last operation status read, when Azure gave one. */
      operationError?: { code: string; message: string };
    };

/** One PUT and its long-running operation, polled until done or until the budget runs out. */
async function putOnce(
  t: Target,
  body: FirewallPolicyRuleCollectionGroup,
  headers: Record<string, string>,
  budget: WaitBudget,
): Promise<PutOutcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, budget.remaining()));
  let accepted = false;
  let operationError: { code: string; message: string } | undefined;
  const onResponse: OnResponse = (response) => {
    if (response.request.method === "PUT" && response.status >= 200 && response.status < 300) accepted = true;
    const error = (response.parsedBody as { error?: { code?: unknown; message?: unknown } } | undefined)
      ?.error;
    if (response.request.method === "GET" && typeof error?.code === "string") {
      operationError = { code: error.code, message: typeof error.message === "string" ? error.message : "" };
    }
  };
  try {
    const poller = await t.client.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      t.resourceGroup,
      t.policyName,
      t.groupName,
      body,
      {
        onResponse,
        ...(t.connection.pollIntervalMs !== undefined
          ? { updateIntervalInMs: t.connection.pollIntervalMs }
          : {}),
        requestOptions: { timeout: REQUEST_TIMEOUT_MS, customHeaders: headers },
      },
    );
    // Only the polling is cut short by the budget: the PUT itself is one request, never retried by
    // the SDK (clients.ts), so whether Azure took it is always known from its answer.
    return { kind: "done", written: await poller.pollUntilDone({ abortSignal: abort.signal }) };
  } catch (error) {
    return {
      kind: "error",
      error,
      accepted,
      aborted: accepted && abort.signal.aborted,
      ...(operationError ? { operationError } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PUTs the whole managed group and waits for Azure to finish it. Refuses any other group name: the
 * app writes only its own group.
 *
 * Before every PUT (after waiting while the policy or group is busy) the group is read fresh:
 * - already the target and `Succeeded` → done, no PUT (an earlier attempt landed);
 * - already the target but `Failed` → written again (If-Match with the fresh etag);
 * - otherwise it must still hash to `expectedBaseHash`, else ARM_PRECONDITION_FAILED: the group
 *   changed since the plan. This content check does not rely on Azure honouring If-Match.
 *
 * Busy answers (409 busy codes, 429, 503), 5xx and broken connections are retried within one wait
 * budget (`budgetMs`, each wait capped at `maxWaitMs`); past it ARM_BUSY_TIMEOUT. An operation that
 * ends `Failed` is ARM_WRITE_FAILED with Azure's code and message. 412 without `expectedBaseHash`
 * is ARM_PRECONDITION_FAILED.
 */
export async function writeManagedGroup(
  connection: ArmConnection,
  policyId: string,
  managedGroupName: string,
  group: RuleCollectionGroup,
  options: WriteOptions = {},
): Promise<WriteResult> {
  if (group.name.toLowerCase() !== managedGroupName.toLowerCase()) {
    throw new GuardError(
      "BAD_ARGUMENT",
      `refusing to write group "${group.name}": this app writes only its own group "${managedGroupName}".`,
    );
  }
  const t = target(connection, policyId, group.name);
  const budget = new WaitBudget(options);
  const targetHash = planHash(group);
  const body = {
    priority: group.priority,
    ruleCollections: group.ruleCollections,
  } as unknown as FirewallPolicyRuleCollectionGroup;
  // A PUT of this call may have been applied although we never saw Azure take it; `etagBefore` is
  // the group's etag when it was sent (every accepted write changes it).
  let unconfirmed: { etagBefore: string | undefined } | undefined;
  let preconditionRetries = 0;
  let lastTrouble = "";
  const where = `${group.name} on ${policyId}`;
  const exhausted =
    (why: string, busy = true) =>
    () =>
      new GuardError(
        "ARM_BUSY_TIMEOUT",
        `firewall policy ${policyId} ${busy ? "stayed busy" : "kept failing"} (${why}); gave up before the wait limit (${budget.budgetMs} ms); ` +
          (unconfirmed
            ? "a PUT whose answer was lost may have been applied: read the group back before deciding."
            : "nothing was written."),
        { details: { unconfirmedWrite: unconfirmed !== undefined } },
      );

  for (let attempt = 0; ; attempt++) {
    let fresh: RuleCollectionGroup | undefined;
    try {
      fresh = await readWhenIdle(t, budget, (why) => exhausted(why)());
    } catch (error) {
      if (error instanceof GuardError) throw error;
      throw new GuardError(
        "ARM_REQUEST_FAILED",
        `reading ${where} before writing failed: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
    const freshHash = groupContentHash(fresh);
    const isTarget = freshHash === targetHash;
    // Nothing is running on the policy now, so a PUT of ours that left no trace did not land.
    if (!isTarget || fresh?.etag === unconfirmed?.etagBefore) unconfirmed = undefined;
    if (isTarget && isState(fresh, "Succeeded") && fresh !== undefined) {
      return { group: fresh, writes: unconfirmed ? 1 : 0 };
    }
    if (isTarget && unconfirmed && isState(fresh, "Failed")) {
      throw new GuardError(
        "ARM_WRITE_FAILED",
        `writing ${where}: the PUT's answer was lost and Azure now reports the group Failed; it is drift and must be written again.`,
        { details: { provisioningState: fresh?.provisioningState } },
      );
    }
    if (!isTarget && options.expectedBaseHash !== undefined && freshHash !== options.expectedBaseHash) {
      throw new GuardError(
        "ARM_PRECONDITION_FAILED",
        `group ${where} changed since the plan was made (its content is not what was planned from); ` +
          "nothing was written: re-read and re-plan.",
        { details: { expectedBaseHash: options.expectedBaseHash, actualHash: freshHash } },
      );
    }
    // The content check passed on this read, so its etag guards the gap until the PUT; without a
    // content check only the planned etag can say the group is unchanged.
    const checked = isTarget || options.expectedBaseHash !== undefined;
    const headers: Record<string, string> = {};
    const ifMatch = checked ? fresh?.etag : options.etag;
    if (ifMatch) headers["If-Match"] = ifMatch;
    else if (checked && fresh === undefined) headers["If-None-Match"] = "*";
    if (budget.remaining() <= 0) throw exhausted(lastTrouble || "no time left for the write")();

    const sentOver = { etagBefore: fresh?.etag };
    const outcome = await putOnce(t, body, headers, budget);
    if (outcome.kind === "done") {
      return { group: await confirmSucceeded(t, outcome.written, budget, where), writes: 1 };
    }
    const { error, accepted, aborted, operationError } = outcome;
    if (aborted) {
      throw new GuardError(
        "ARM_BUSY_TIMEOUT",
        `writing ${where}: Azure took the PUT but the operation was still running when the wait budget (${budget.budgetMs} ms) ran out; its outcome is not known yet: read the group back.`,
        { cause: error, details: { unconfirmedWrite: true } },
      );
    }
    if (accepted && !isRestError(error) && !isAbortError(error)) {
      // core-lro reports an operation that ended Failed as a plain Error, with Azure's code and message.
      throw new GuardError(
        "ARM_WRITE_FAILED",
        `writing ${where} failed: Azure accepted the PUT but the operation ended Failed: ` +
          (operationError ? `${operationError.code}: ${operationError.message}` : describe(error)),
        { cause: error, details: { ...(operationError ? { azureError: operationError } : {}) } },
      );
    }
    if (accepted) {
      // Azure took the write; polling it broke. The next fresh read tells how it ended.
      unconfirmed ??= sentOver;
      const retry = retryable(error);
      lastTrouble = retry?.label ?? describe(error);
      await budget.wait(
        retry?.retryAfterMs ?? backoffMs(connection, attempt),
        exhausted(`${lastTrouble} while polling`, false),
      );
      continue;
    }
    if (isRestError(error) && error.statusCode === 412) {
      if (options.expectedBaseHash === undefined || ++preconditionRetries > MAX_PRECONDITION_RETRIES) {
        throw new GuardError(
          "ARM_PRECONDITION_FAILED",
          `group ${where} changed since it was read (412); nothing was written: re-read and re-plan.`,
          { cause: error },
        );
      }
      // The fresh read decides whether the content really changed.
      lastTrouble = "412 PreconditionFailed";
      continue;
    }
    const retry = retryable(error);
    if (retry === undefined) {
      throw new GuardError("ARM_REQUEST_FAILED", `writing ${where} failed: ${describe(error)}`, {
        cause: error,
      });
    }
    if (retry.mayHaveLanded) unconfirmed ??= sentOver;
    lastTrouble = retry.label;
    await budget.wait(
      retry.retryAfterMs ?? backoffMs(connection, attempt),
      exhausted(retry.label, retry.kind === "busy"),
    );
  }
}

/** The operation succeeded: the group must also read `Succeeded`, else the write does not count. */
async function confirmSucceeded(
  t: Target,
  written: FirewallPolicyRuleCollectionGroup,
  budget: WaitBudget,
  where: string,
): Promise<RuleCollectionGroup> {
  let group: RuleCollectionGroup | undefined = groupFromSdk(written);
  if (!isState(group, "Succeeded") && !isState(group, "Failed")) {
    group = await readUntilIdle(
      t,
      budget,
      () => readGroup(t),
      groupBusy,
      (why) =>
        new GuardError(
          "ARM_BUSY_TIMEOUT",
          `writing ${where}: the operation finished but the group still reads ${why} at the end of the wait budget.`,
          { details: { unconfirmedWrite: true } },
        ),
    );
  }
  if (group === undefined || !isState(group, "Succeeded")) {
    throw new GuardError(
      "ARM_WRITE_FAILED",
      `writing ${where} failed: Azure reports the group ${group?.provisioningState ?? "missing"} after the write.`,
      { details: { provisioningState: group?.provisioningState } },
    );
  }
  return group;
}

function describe(error: unknown): string {
  if (isRestError(error)) {
    return `${error.statusCode ?? "no answer"} ${error.code ?? ""} ${error.message}`
      .replace(/\s+/g, " ")
      .trim();
  }
  return error instanceof Error ? error.message : String(error);
}

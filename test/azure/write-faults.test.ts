// The fault matrix of issue 10: writeManagedGroup through the real @azure/arm-network client against
// the ARM emulator, called again by a retrying caller after each error. Whatever Azure does, the
// managed group must end `Succeeded` with exactly the target content, a `Failed` operation is never
// reported as success, the expected number of writes changed the group, and every other group of
// the policy is byte-identical.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArmConnection } from "../../azure/clients";
import {
  readManagedGroupSettled,
  type WriteOptions,
  type WriteResult,
  writeManagedGroup,
} from "../../azure/firewall";
import { groupContentHash, planHash } from "../../drift/plan";
import type { RuleCollectionGroup } from "../../drift/types";
import { GuardError, isGuardError } from "../../errors";
import { type ArmEmulator, type FaultSpec, startArmEmulator } from "../../local/arm-emulator";
import {
  clientsFor,
  emulatorConnection,
  FAST_POLL,
  managedGroupBody,
  NETWORK_RG,
  POLICY,
  POLICY_ID,
  SMALL_ESTATE,
} from "../local/arm-emulator-helpers";

const GROUP = "aks-egress-guard";
const LRO_DELAY_MS = 20;

let emulator: ArmEmulator;
let connection: ArmConnection;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: LRO_DELAY_MS });
});
afterAll(async () => emulator.close());

/** What the plan was made from: the managed group as it stands before the write. */
let base: { hash: string; etag?: string };
/** The group the plan wants. */
const target: RuleCollectionGroup = {
  name: GROUP,
  ...(managedGroupBody(500, "packages.microsoft.com") as Omit<RuleCollectionGroup, "name">),
};

// A fresh connection per test: clients are cached per connection object.
const newConnection = (): ArmConnection => emulatorConnection(emulator);

beforeEach(async () => {
  emulator.reset();
  emulator.setLroDelay(LRO_DELAY_MS);
  connection = newConnection();
  // The managed group exists (an earlier pass wrote it); the plan changes one FQDN.
  const { network } = clientsFor(emulator);
  const current = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
    NETWORK_RG,
    POLICY,
    GROUP,
    managedGroupBody(500, "mcr.microsoft.com"),
    FAST_POLL,
  );
  base = {
    hash: groupContentHash({
      name: GROUP,
      priority: current.priority ?? 0,
      ruleCollections: current.ruleCollections as RuleCollectionGroup["ruleCollections"],
    }),
    ...(current.etag ? { etag: current.etag } : {}),
  };
  emulator.clearRequests();
});

const groups = () => emulator.state().ruleCollectionGroups;
const managed = () => groups().find((g) => g.name === GROUP);
const foreignGroups = () => JSON.stringify(groups().filter((g) => g.name !== GROUP));
const provisioningState = (resource: { properties?: unknown } | undefined) =>
  (resource?.properties as { provisioningState?: string } | undefined)?.provisioningState;
/** PUTs Azure took (answered 2xx, or applied with the answer lost): the writes that changed the group. */
const acceptedPuts = () =>
  emulator
    .requests()
    .filter((r) => r.method === "PUT" && ((r.status >= 200 && r.status < 300) || r.fault === "responseLost"));
const putsSent = () => emulator.requests().filter((r) => r.method === "PUT");

function managedAsGroup(): RuleCollectionGroup | undefined {
  const resource = managed();
  if (resource === undefined) return undefined;
  const properties = resource.properties as {
    priority: number;
    ruleCollections: RuleCollectionGroup["ruleCollections"];
  };
  return { name: GROUP, priority: properties.priority, ruleCollections: properties.ruleCollections };
}

interface CallerOutcome {
  results: WriteResult[];
  errors: GuardError[];
  /** provisioningState of the managed group in the emulator right after each successful return. */
  stateAtReturn: (string | undefined)[];
}

/**
 * A retrying caller: on an error other than ARM_PRECONDITION_FAILED, it calls again with the same
 * plan (same expectedBaseHash and etag), up to 10 times.
 */
async function retryingCaller(options: WriteOptions = {}, attempts = 10): Promise<CallerOutcome> {
  const outcome: CallerOutcome = { results: [], errors: [], stateAtReturn: [] };
  for (let i = 0; i < attempts; i++) {
    try {
      const result = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
        expectedBaseHash: base.hash,
        ...(base.etag ? { etag: base.etag } : {}),
        budgetMs: 5_000,
        maxWaitMs: 1_000,
        ...options,
      });
      outcome.results.push(result);
      outcome.stateAtReturn.push(provisioningState(managed()));
      return outcome;
    } catch (error) {
      if (!(error instanceof GuardError)) throw error;
      outcome.errors.push(error);
      if (error.code === "ARM_PRECONDITION_FAILED") return outcome;
    }
  }
  return outcome;
}

interface MatrixCase {
  name: string;
  faults: FaultSpec[];
  /** PUTs that Azure took, over all calls. */
  accepted: number;
  /** Error codes the caller saw, in order. */
  errors?: string[];
  /** `writes` of the successful call. */
  writes?: number;
  options?: WriteOptions;
}

const PUT = { method: "PUT", pathContains: `/ruleCollectionGroups/${GROUP}` } as const;
const MATRIX: MatrixCase[] = [
  {
    name: "409 AnotherOperationInProgress",
    faults: [{ kind: "conflict", code: "AnotherOperationInProgress", times: 2, ...PUT }],
    accepted: 1,
  },
  {
    name: "409 FirewallPolicyUpdateNotAllowedWhenUpdatingOrDeleting",
    faults: [{ kind: "conflict", code: "FirewallPolicyUpdateNotAllowedWhenUpdatingOrDeleting", ...PUT }],
    accepted: 1,
  },
  {
    name: "409 FirewallPolicyRuleCollectionGroupUpdateNotAllowedWhenUpdatingOrDeleting",
    faults: [
      {
        kind: "conflict",
        code: "FirewallPolicyRuleCollectionGroupUpdateNotAllowedWhenUpdatingOrDeleting",
        times: 2,
        ...PUT,
      },
    ],
    accepted: 1,
  },
  {
    name: "429 RetryableErrorDueToAnotherOperation with Retry-After",
    faults: [{ kind: "throttle", retryAfterSeconds: 1, ...PUT }],
    accepted: 1,
  },
  { name: "412 PreconditionFailed", faults: [{ kind: "preconditionFailed", ...PUT }], accepted: 1 },
  { name: "500 InternalServerError", faults: [{ kind: "serverError", times: 2, ...PUT }], accepted: 1 },
  {
    name: "503 ServiceUnavailable with Retry-After",
    faults: [{ kind: "serviceUnavailable", retryAfterSeconds: 1, ...PUT }],
    accepted: 1,
  },
  { name: "a dropped connection", faults: [{ kind: "dropConnection", ...PUT }], accepted: 1 },
  {
    name: "the response lost after the PUT was accepted",
    faults: [{ kind: "responseLost", ...PUT }],
    accepted: 1,
  },
  {
    name: "the LRO ending Failed once",
    faults: [{ kind: "lroFailed", code: "FirewallPolicyUpdateFailed", message: "Put failed", ...PUT }],
    accepted: 2,
    errors: ["ARM_WRITE_FAILED"],
  },
  {
    name: "the LRO ending Failed 8 times",
    faults: [{ kind: "lroFailed", times: 8, ...PUT }],
    accepted: 9,
    errors: Array.from({ length: 8 }, () => "ARM_WRITE_FAILED"),
  },
  {
    // Our process gives up (as if it crashed) while Azure still reports the write Updating.
    name: "a crash while Updating",
    faults: [{ kind: "stuckUpdating", holdMs: 2_500, ...PUT }],
    accepted: 1,
    options: { budgetMs: 1_000 },
    writes: 0,
  },
  {
    name: "reads failing too: 500 and 429 on the fresh read",
    faults: [
      { kind: "serverError", method: "GET", pathContains: `/ruleCollectionGroups/${GROUP}`, times: 5 },
      {
        kind: "throttle",
        method: "GET",
        pathContains: `/ruleCollectionGroups/${GROUP}`,
        retryAfterSeconds: 3600,
      },
    ],
    accepted: 1,
  },
];

describe("fault matrix: a retrying caller ends Succeeded with exactly the target", () => {
  it.each(MATRIX)("$name", async ({ faults, accepted, errors = [], writes = 1, options }) => {
    const before = foreignGroups();
    for (const fault of faults) emulator.injectFault(fault);
    const outcome = await retryingCaller(options);

    expect(outcome.errors.map((e) => e.code).filter((c) => c !== "ARM_BUSY_TIMEOUT")).toEqual(errors);
    expect(outcome.results).toHaveLength(1);
    const [result] = outcome.results;
    // Success is reported only for a group Azure reports Succeeded, with the target content.
    expect(result?.group.provisioningState).toBe("Succeeded");
    expect(outcome.stateAtReturn).toEqual(["Succeeded"]);
    expect(result?.writes).toBe(writes);
    expect(groupContentHash(result?.group)).toBe(planHash(target));

    await readManagedGroupSettled(connection, POLICY_ID, GROUP, { budgetMs: 3_000 });
    expect(provisioningState(managed())).toBe("Succeeded");
    expect(provisioningState(emulator.state().firewallPolicies[0])).toBe("Succeeded");
    expect(groupContentHash(managedAsGroup())).toBe(planHash(target));
    expect(acceptedPuts()).toHaveLength(accepted);
    expect(emulator.faults().every((f) => f.remaining === 0)).toBe(true);
    expect(foreignGroups()).toBe(before);
  });

  it("a Failed operation is an error carrying Azure's code and message, never a success", async () => {
    emulator.injectFault({
      kind: "lroFailed",
      code: "FirewallPolicyUpdateFailed",
      message: "Put on policy failed",
      ...PUT,
    });
    const error = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
    }).catch((e: unknown) => e);
    expect(isGuardError(error, "ARM_WRITE_FAILED")).toBe(true);
    expect((error as GuardError).message).toMatch(/FirewallPolicyUpdateFailed: Put on policy failed/);
    expect((error as GuardError).details).toMatchObject({
      azureError: { code: "FirewallPolicyUpdateFailed", message: "Put on policy failed" },
    });
    expect(provisioningState(managed())).toBe("Failed");
    // The retry writes again although the content already matches: Failed is drift. If-Match carries
    // the etag of the Failed group as read just before, not the one planned from.
    const failedEtag = managed()?.etag;
    emulator.clearRequests();
    const retried = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
      ...(base.etag ? { etag: base.etag } : {}),
    });
    expect(retried.writes).toBe(1);
    expect(putsSent().map((r) => r.headers["if-match"])).toEqual([failedEtag]);
  });
});

describe("content check before the PUT", () => {
  it("refuses to write when the group changed since the plan, even without If-Match", async () => {
    // Someone puts 60 rules into the managed group by hand between plan and write.
    const { network } = clientsFor(emulator);
    const handEdited = managedGroupBody(500, "mcr.microsoft.com");
    const collection = handEdited.ruleCollections[0];
    if (collection === undefined) throw new Error("no collection");
    const rule = collection.rules[0];
    if (rule === undefined) throw new Error("no rule");
    collection.rules = Array.from({ length: 60 }, (_, i) => ({
      ...rule,
      name: `hand-${i}`,
      targetFqdns: [`h${i}.example.com`],
    }));
    await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      GROUP,
      handEdited,
      FAST_POLL,
    );
    const handState = JSON.stringify(managed());
    emulator.clearRequests();
    const error = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
    }).catch((e: unknown) => e);
    expect(isGuardError(error, "ARM_PRECONDITION_FAILED")).toBe(true);
    expect((error as GuardError).message).toMatch(/changed since the plan/);
    expect(putsSent()).toEqual([]);
    expect(JSON.stringify(managed())).toBe(handState);
  });

  it("creates the group only if it is still absent (If-None-Match: *)", async () => {
    const { network } = clientsFor(emulator);
    await network.firewallPolicyRuleCollectionGroups.beginDeleteAndWait(NETWORK_RG, POLICY, GROUP, FAST_POLL);
    emulator.clearRequests();
    const result = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: "absent",
    });
    expect(result.writes).toBe(1);
    expect(putsSent().map((r) => [r.headers["if-none-match"], r.headers["if-match"]])).toEqual([
      ["*", undefined],
    ]);
  });

  it("sends If-Match only on the PUT, never on the polls or the final GET", async () => {
    await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
      ...(base.etag ? { etag: base.etag } : {}),
    });
    const withIfMatch = emulator.requests().filter((r) => r.headers["if-match"] !== undefined);
    expect(withIfMatch.map((r) => r.method)).toEqual(["PUT"]);
  });
});

describe("lost answers", () => {
  it("a lost response followed by a retry makes no second PUT", async () => {
    emulator.injectFault({ kind: "responseLost", ...PUT });
    emulator.setLroDelay(300);
    const result = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
      ...(base.etag ? { etag: base.etag } : {}),
    });
    expect(putsSent().map((r) => [r.status, r.fault])).toEqual([[0, "responseLost"]]);
    // Our PUT landed although its answer did not: it counts.
    expect(result).toMatchObject({ writes: 1, group: { provisioningState: "Succeeded" } });
  });

  it("after giving up while Azure was still Updating, the next call finds the write landed and sends none", async () => {
    emulator.injectFault({ kind: "stuckUpdating", ...PUT });
    const first = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
      budgetMs: 500,
    }).catch((e: unknown) => e);
    expect(isGuardError(first, "ARM_BUSY_TIMEOUT")).toBe(true);
    expect((first as GuardError).details).toMatchObject({ unconfirmedWrite: true });
    expect((first as GuardError).message).toMatch(/Azure took the PUT/);
    // Still Updating: a reader waiting for it gives up within its budget.
    await expect(
      readManagedGroupSettled(connection, POLICY_ID, GROUP, { budgetMs: 200 }),
    ).rejects.toMatchObject({
      code: "ARM_BUSY_TIMEOUT",
    });
    emulator.settleOperations();
    const second = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
    });
    expect(second.writes).toBe(0);
    expect(putsSent()).toHaveLength(1);
    expect((await readManagedGroupSettled(connection, POLICY_ID, GROUP))?.provisioningState).toBe(
      "Succeeded",
    );
  });
});

describe("bounded waits", () => {
  // On the code before this change each of these hangs for an hour: the SDK's throttling retry
  // waited the full Retry-After (3 times) before the write loop saw anything.
  it("a 429 with Retry-After: 3600 on the PUT waits at most maxWaitMs, then writes", {
    timeout: 15_000,
  }, async () => {
    emulator.injectFault({ kind: "throttle", retryAfterSeconds: 3600, ...PUT });
    const started = Date.now();
    const result = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
      maxWaitMs: 300,
    });
    expect(result.writes).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(putsSent().map((r) => r.status)).toEqual([429, 200]);
  });

  it.each<[string, FaultSpec]>([
    ["429", { kind: "throttle", retryAfterSeconds: 3600, times: 1000, ...PUT }],
    ["503", { kind: "serviceUnavailable", retryAfterSeconds: 3600, times: 1000, ...PUT }],
    [
      "429 on the reads",
      {
        kind: "throttle",
        retryAfterSeconds: 3600,
        times: 1000,
        method: "GET",
        pathContains: "/firewallPolicies/",
      },
    ],
  ])(
    "a policy that keeps answering %s with Retry-After: 3600 is given up within the budget; nothing is written",
    { timeout: 15_000 },
    async (_, fault) => {
      emulator.injectFault(fault);
      const started = Date.now();
      const error = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
        expectedBaseHash: base.hash,
        budgetMs: 1_500,
        maxWaitMs: 400,
      }).catch((e: unknown) => e);
      expect(isGuardError(error, "ARM_BUSY_TIMEOUT")).toBe(true);
      expect((error as GuardError).message).toMatch(/nothing was written/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(acceptedPuts()).toEqual([]);
    },
  );

  it("counts every wait against the budget, also with a test's instant sleep", async () => {
    emulator.injectFault({
      kind: "stuckUpdating",
      method: "PUT",
      pathContains: "/ruleCollectionGroups/other",
    });
    const { network } = clientsFor(emulator);
    await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      NETWORK_RG,
      POLICY,
      "other",
      managedGroupBody(700),
      FAST_POLL,
    );
    const waits: number[] = [];
    // Backoff of seconds, so an instant sleep does not spin through thousands of reads.
    connection = { ...newConnection(), retryOptions: { retryDelayInMs: 1_000, maxRetryDelayInMs: 10_000 } };
    const error = await writeManagedGroup(connection, POLICY_ID, GROUP, target, {
      expectedBaseHash: base.hash,
      budgetMs: 60_000,
      maxWaitMs: 10_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    }).catch((e: unknown) => e);
    expect(isGuardError(error, "ARM_BUSY_TIMEOUT")).toBe(true);
    expect((error as GuardError).message).toMatch(/stayed busy \(policy Updating\).*nothing was written/);
    const waited = waits.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(60_000);
    expect(waited).toBeGreaterThan(50_000);
    expect(putsSent().filter((r) => r.path.endsWith(GROUP))).toEqual([]);
  });

  it("keeps accepting busyTimeoutMs as the old name of budgetMs", async () => {
    emulator.injectFault({ kind: "conflict", code: "AnotherOperationInProgress", times: 1000, ...PUT });
    const started = Date.now();
    await expect(
      writeManagedGroup(connection, POLICY_ID, GROUP, target, { busyTimeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: "ARM_BUSY_TIMEOUT",
      message: expect.stringMatching(/409 AnotherOperationInProgress/),
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("readManagedGroupSettled", () => {
  it("answers undefined for a group that does not exist, and the group once it is no longer Updating", async () => {
    expect(await readManagedGroupSettled(connection, POLICY_ID, "nope")).toBeUndefined();
    emulator.setLroDelay(300);
    const { network } = clientsFor(emulator);
    await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      NETWORK_RG,
      POLICY,
      GROUP,
      managedGroupBody(500, "x.example.com"),
      FAST_POLL,
    );
    const settled = await readManagedGroupSettled(connection, POLICY_ID, GROUP, { budgetMs: 5_000 });
    expect(settled?.provisioningState).toBe("Succeeded");
  });
});

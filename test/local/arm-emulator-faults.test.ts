// The emulator's write faults (responseLost, stuckUpdating, lroFailed many times) and 503, seen
// through the real SDK client and the control surface.
import type { NetworkManagementClient } from "@azure/arm-network";
import { isRestError } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import {
  clientsFor,
  FAST_POLL,
  managedGroupBody,
  NETWORK_RG,
  POLICY,
  raw,
  SMALL_ESTATE,
} from "./arm-emulator-helpers";

const GROUP = "aks-egress-guard";
let emulator: ArmEmulator;
let network: NetworkManagementClient;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
  ({ network } = clientsFor(emulator));
});
beforeEach(() => {
  emulator.reset();
  emulator.setLroDelay(20);
});
afterAll(async () => emulator.close());

const put = (fqdn = "mcr.microsoft.com") =>
  network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
    NETWORK_RG,
    POLICY,
    GROUP,
    managedGroupBody(500, fqdn),
    FAST_POLL,
  );
const stateOf = (name: string) => {
  const group = emulator.state().ruleCollectionGroups.find((g) => g.name === name);
  return (group?.properties as { provisioningState?: string } | undefined)?.provisioningState;
};
const policyState = () =>
  (emulator.state().firewallPolicies[0]?.properties as { provisioningState?: string } | undefined)
    ?.provisioningState;

describe("write faults", () => {
  it("responseLost: the PUT is applied and its operation runs, but no answer arrives", async () => {
    emulator.injectFault({ kind: "responseLost", method: "PUT" });
    emulator.setLroDelay(300);
    const error = await put().catch((e: unknown) => e);
    // The SDK's default retry policy resends a PUT after a reset connection: the resend gets 409, as
    // the first PUT's operation is still running (why the app's clients never retry writes).
    expect(isRestError(error) && [error.statusCode, error.code]).toEqual([409, "AnotherOperationInProgress"]);
    expect(stateOf(GROUP)).toBeDefined();
    const puts = emulator.requests().filter((r) => r.method === "PUT");
    expect(puts.map((r) => [r.status, r.fault ?? null])).toEqual([
      [0, "responseLost"],
      [409, null],
    ]);
    expect(stateOf(GROUP)).toBe("Updating");
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(stateOf(GROUP)).toBe("Succeeded");
  });

  it("stuckUpdating: the operation stays InProgress until settled; other writes get 409 meanwhile", async () => {
    emulator.injectFault({ kind: "stuckUpdating", method: "PUT" });
    const poller = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      NETWORK_RG,
      POLICY,
      GROUP,
      managedGroupBody(),
      FAST_POLL,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([stateOf(GROUP), policyState()]).toEqual(["Updating", "Updating"]);
    const other = await network.firewallPolicyRuleCollectionGroups
      .beginCreateOrUpdateAndWait(NETWORK_RG, POLICY, "another", managedGroupBody(600), FAST_POLL)
      .catch((e: unknown) => e);
    expect(isRestError(other) && [other.statusCode, other.code]).toEqual([409, "AnotherOperationInProgress"]);
    expect((await raw(emulator, "POST", "/_emulator/operations/settle")).status).toBe(204);
    expect((await poller.pollUntilDone()).provisioningState).toBe("Succeeded");
    expect([stateOf(GROUP), policyState()]).toEqual(["Succeeded", "Succeeded"]);
  });

  it("stuckUpdating with holdMs ends by itself", async () => {
    emulator.injectFault({ kind: "stuckUpdating", method: "PUT", holdMs: 300 });
    const started = Date.now();
    expect((await put()).provisioningState).toBe("Succeeded");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("lroFailed times 8: eight accepted writes fail, the ninth succeeds", async () => {
    emulator.injectFault({ kind: "lroFailed", method: "PUT", times: 8, code: "FirewallPolicyUpdateFailed" });
    for (let i = 0; i < 8; i++) {
      const error = await put(`host${i}.example.com`).catch((e: unknown) => e as Error);
      expect(error?.message).toMatch(/long-running operation has failed.*FirewallPolicyUpdateFailed/);
      expect([stateOf(GROUP), policyState()]).toEqual(["Failed", "Failed"]);
    }
    expect((await put()).provisioningState).toBe("Succeeded");
    expect(emulator.faults().map((f) => [f.remaining, f.fired])).toEqual([[0, 8]]);
    const puts = emulator.requests().filter((r) => r.method === "PUT");
    expect(puts.map((r) => [r.status, r.fault ?? null])).toEqual([
      ...Array.from({ length: 8 }, (_, i) => [i === 0 ? 201 : 200, "lroFailed"]),
      [200, null],
    ]);
  });

  it("a write fault is not consumed by a write that is refused", async () => {
    emulator.injectFault({ kind: "conflict", method: "PUT", code: "AnotherOperationInProgress" });
    emulator.injectFault({ kind: "lroFailed", method: "PUT" });
    await put().catch(() => undefined);
    // The SDK retries neither 409 nor reports success: the refused PUT left the lroFailed fault armed.
    expect(emulator.faults().map((f) => [f.spec.kind, f.remaining])).toEqual([
      ["conflict", 0],
      ["lroFailed", 1],
    ]);
  });
});

describe("serviceUnavailable", () => {
  it("answers 503 with Retry-After when given; the SDK honours it on a read", async () => {
    emulator.injectFault({ kind: "serviceUnavailable", method: "GET", retryAfterSeconds: 1 });
    const started = Date.now();
    expect((await network.firewallPolicies.get(NETWORK_RG, POLICY)).name).toBe(POLICY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emulator.requests().map((r) => [r.status, r.errorCode ?? null, r.fault ?? null])).toEqual([
      [503, "ServiceUnavailable", "serviceUnavailable"],
      [200, null, null],
    ]);
  });

  it("is armed over HTTP like any other fault, and the schema knows the new kinds", async () => {
    for (const body of [
      { kind: "serviceUnavailable", retryAfterSeconds: 5, method: "PUT" },
      { kind: "responseLost", method: "PUT" },
      { kind: "stuckUpdating", holdMs: 1000 },
    ]) {
      expect((await raw(emulator, "POST", "/_emulator/faults", { body })).status).toBe(201);
    }
    const bad = await raw(emulator, "POST", "/_emulator/faults", {
      body: { kind: "stuckUpdating", holdMs: -1 },
    });
    expect(bad.status).toBe(400);
  });
});

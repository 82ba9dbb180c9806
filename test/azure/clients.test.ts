// The app's SDK clients: no wait inside the SDK may outlast the cap, and writes are never retried by
// the SDK (the write loop re-reads before every PUT). Real clients against the ARM emulator.
import { isRestError } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ArmConnection, containerClient, networkClient } from "../../azure/clients";
import { writeManagedGroup } from "../../azure/firewall";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import {
  AKS_RG,
  emulatorConnection,
  managedGroupBody,
  NETWORK_RG,
  POLICY,
  POLICY_ID,
  raw,
  SMALL_ESTATE,
  SUBSCRIPTION,
} from "../local/arm-emulator-helpers";

let emulator: ArmEmulator;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
});
beforeEach(() => emulator.reset());
afterAll(async () => emulator.close());

const connect = (extra: Partial<ArmConnection> = {}): ArmConnection => emulatorConnection(emulator, extra);

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe("pipeline", () => {
  it("replaces the SDK's default retry policy in both clients", () => {
    const connection = connect();
    for (const client of [
      networkClient(connection, SUBSCRIPTION),
      containerClient(connection, SUBSCRIPTION),
    ]) {
      const names = client.pipeline.getOrderedPolicies().map((p) => p.name);
      expect(names).not.toContain("defaultRetryPolicy");
      expect(names).toEqual(expect.arrayContaining(["retryPolicy", "aksEgressGuardPollPolicy"]));
    }
  });
});

describe("throttled reads", () => {
  it("a Retry-After longer than the SDK's cap is handed to the caller at once", {
    timeout: 10_000,
  }, async () => {
    emulator.injectFault({ kind: "throttle", method: "GET", retryAfterSeconds: 3600, times: 2 });
    const connection = connect();
    const started = Date.now();
    const network = await settle(
      networkClient(connection, SUBSCRIPTION).firewallPolicies.get(NETWORK_RG, POLICY),
    );
    const aks = await settle(
      containerClient(connection, SUBSCRIPTION).managedClusters.get(AKS_RG, "aks-weu-prod"),
    );
    for (const outcome of [network, aks]) {
      const error = "error" in outcome ? outcome.error : undefined;
      expect(isRestError(error) && [error.statusCode, error.response?.headers.get("retry-after")]).toEqual([
        429,
        "3600",
      ]);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(emulator.requests().map((r) => r.status)).toEqual([429, 429]);
  });

  it("a Retry-After within the cap is waited by the SDK", async () => {
    emulator.injectFault({ kind: "serviceUnavailable", method: "GET", retryAfterSeconds: 1 });
    const started = Date.now();
    const policy = await networkClient(connect(), SUBSCRIPTION).firewallPolicies.get(NETWORK_RG, POLICY);
    expect(policy.name).toBe(POLICY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emulator.requests().map((r) => r.status)).toEqual([503, 200]);
  });

  it("sdkMaxWaitMs lowers the cap", async () => {
    emulator.injectFault({ kind: "throttle", method: "GET", retryAfterSeconds: 2 });
    const outcome = await settle(
      networkClient(connect({ sdkMaxWaitMs: 1_000 }), SUBSCRIPTION).firewallPolicies.get(NETWORK_RG, POLICY),
    );
    expect("error" in outcome && isRestError(outcome.error) && outcome.error.statusCode).toBe(429);
  });

  it("5xx on a read is still retried with backoff", async () => {
    emulator.injectFault({ kind: "serverError", method: "GET", times: 2 });
    await networkClient(connect(), SUBSCRIPTION).firewallPolicies.get(NETWORK_RG, POLICY);
    expect(emulator.requests().map((r) => r.status)).toEqual([500, 500, 200]);
  });
});

describe("writes", () => {
  it.each([
    ["500", { kind: "serverError" as const }],
    ["a dropped connection", { kind: "dropConnection" as const }],
    ["429 with Retry-After: 0", { kind: "throttle" as const, retryAfterSeconds: 0 }],
  ])("are not retried by the SDK after %s", async (_, fault) => {
    emulator.injectFault({ ...fault, method: "PUT" });
    const outcome = await settle(
      networkClient(connect(), SUBSCRIPTION).firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
        NETWORK_RG,
        POLICY,
        "aks-egress-guard",
        managedGroupBody(),
      ),
    );
    expect("error" in outcome).toBe(true);
    expect(emulator.requests().filter((r) => r.method === "PUT")).toHaveLength(1);
  });

  it("an operation poll's Retry-After: 3600 is lowered to the SDK's cap", { timeout: 15_000 }, async () => {
    expect(
      (
        await raw(emulator, "POST", "/_emulator/settings", {
          body: { lroRetryAfterSeconds: 3600, lroDelayMs: 300 },
        })
      ).status,
    ).toBe(200);
    try {
      const started = Date.now();
      const result = await writeManagedGroup(
        connect({ sdkMaxWaitMs: 1_000 }),
        POLICY_ID,
        "aks-egress-guard",
        { name: "aks-egress-guard", ...managedGroupBody() },
      );
      expect(result.group.provisioningState).toBe("Succeeded");
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await raw(emulator, "POST", "/_emulator/settings", {
        body: { lroRetryAfterSeconds: 0, lroDelayMs: 20 },
      });
    }
  });
});

// Azure's REST spec (FirewallPolicyRuleCollection) makes a rule collection's priority optional: the
// emulator accepts a PUT whose collections lack one, as Azure does, and still refuses one out of range.
// What it then stores reads back through the real SDK and goes through the drift engine unharmed.

import { readFileSync } from "node:fs";
import type { FirewallPolicyRuleCollectionGroup } from "@azure/arm-network";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findShadowing, normaliseGroup, type RuleCollectionGroup } from "../../drift";
import { type ArmEmulator, type EmulatorSeed, startArmEmulator } from "../../local/arm-emulator";
import { validateGroupBody } from "../../local/arm-emulator/validation";
import {
  clientsFor,
  errorCode,
  FAST_POLL,
  managedGroupBody,
  NETWORK_RG,
  POLICY,
  POLICY_ID,
  raw,
  SMALL_ESTATE,
} from "./arm-emulator-helpers";

const API = "?api-version=2025-05-01";

/** A foreign group as the REST spec allows it: a Deny collection without a priority, an Allow with one. */
function foreignBody() {
  return {
    priority: 200,
    ruleCollections: [
      {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection" as const,
        name: "deny-registry",
        action: { type: "Deny" as const },
        rules: [
          {
            ruleType: "ApplicationRule" as const,
            name: "no-mcr",
            protocols: [{ protocolType: "Https" as const, port: 443 }],
            sourceAddresses: ["*"],
            targetFqdns: ["mcr.microsoft.com"],
          },
        ],
      },
      {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection" as const,
        name: "allow-numbered",
        priority: 300,
        action: { type: "Allow" as const },
        rules: [],
      },
    ],
  };
}

describe("validateGroupBody: collection priority", () => {
  const check = (collectionPriority: unknown) => {
    const body = managedGroupBody();
    const [first] = body.ruleCollections;
    const { priority: _, ...collection } = first ?? { priority: 0 };
    const withPriority =
      collectionPriority === "absent" ? collection : { ...collection, priority: collectionPriority };
    return validateGroupBody(
      JSON.parse(JSON.stringify({ properties: { ...body, ruleCollections: [withPriority] } })),
      { dnsProxyEnabled: true },
    );
  };

  it.each([["absent"], [null], [100], [65000]])("accepts priority %s", (priority) => {
    expect(check(priority)).not.toHaveProperty("code");
  });

  it.each([[99], [65001], [100.5], ["500"], [true]])("refuses priority %s", (priority) => {
    expect(check(priority)).toMatchObject({
      code: "FirewallPolicyRuleCollectionInvalidPriorityValue",
      message: expect.stringMatching(/ruleCollections\[0\]\.priority/),
    });
  });

  it("still requires the group's own priority", () => {
    const { priority: _, ...body } = managedGroupBody();
    expect(validateGroupBody({ properties: body }, { dnsProxyEnabled: true })).toMatchObject({
      code: "FirewallPolicyRuleCollectionGroupInvalidPriorityValue",
    });
  });
});

describe("the emulator over the wire: collections without a priority", () => {
  let emulator: ArmEmulator;

  beforeAll(async () => {
    const seed = JSON.parse(readFileSync(SMALL_ESTATE, "utf8")) as EmulatorSeed;
    emulator = await startArmEmulator({ seed, lroDelayMs: 20 });
  });

  beforeEach(() => {
    emulator.reset();
  });

  afterAll(async () => {
    await emulator.close();
  });

  it("accepts a raw PUT whose collections lack a priority and returns them without one", async () => {
    const path = `${POLICY_ID}/ruleCollectionGroups/foreign${API}`;
    const put = await raw(emulator, "PUT", path, { body: { properties: foreignBody() } });
    expect([put.status, errorCode(put)]).toEqual([201, undefined]);
    emulator.settleOperations();
    const got = await raw(emulator, "GET", path);
    expect(got.status).toBe(200);
    const collections = (got.json as { properties: { ruleCollections: Record<string, unknown>[] } })
      .properties.ruleCollections;
    expect(collections.map((c) => [c.name, c.priority])).toEqual([
      ["deny-registry", undefined],
      ["allow-numbered", 300],
    ]);
  });

  it("still refuses a collection priority out of range", async () => {
    const body = foreignBody();
    const bad = { ...body, ruleCollections: [{ ...body.ruleCollections[0], priority: 70000 }] };
    const put = await raw(emulator, "PUT", `${POLICY_ID}/ruleCollectionGroups/foreign${API}`, {
      body: { properties: bad },
    });
    expect([put.status, errorCode(put)]).toEqual([400, "FirewallPolicyRuleCollectionInvalidPriorityValue"]);
  });

  it("round-trips through the real SDK into the drift engine: compared, ordered and checked", async () => {
    const { network } = clientsFor(emulator);
    const written = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "foreign",
      foreignBody() as FirewallPolicyRuleCollectionGroup,
      FAST_POLL,
    );
    expect(written.provisioningState).toBe("Succeeded");
    const read = await network.firewallPolicyRuleCollectionGroups.get(NETWORK_RG, POLICY, "foreign");
    const group = {
      name: read.name ?? "",
      priority: read.priority ?? 0,
      ruleCollections: read.ruleCollections ?? [],
    } as unknown as RuleCollectionGroup;
    expect(group.ruleCollections.find((c) => c.name === "deny-registry")?.priority).toBeUndefined();
    // Numbered first, the collection without a priority last.
    expect(normaliseGroup(group).ruleCollections.map((c) => c.name)).toEqual([
      "allow-numbered",
      "deny-registry",
    ]);
    // The managed group (priority 500) the way the app writes it: the Deny at group 200 comes first.
    const managed = { name: "aks-egress-guard", ...managedGroupBody() } as RuleCollectionGroup;
    const findings = findShadowing(managed, [group]);
    expect(findings.map((f) => f.location)).toEqual(["foreign/deny-registry/no-mcr"]);
  });
});

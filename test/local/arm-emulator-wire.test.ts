// The emulator's wire behaviour for what the SDKs never send on their own: missing headers, bad
// bodies, odd casing, the raw LRO headers, and the HTTP control surface.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isGuardError } from "../../errors";
import { type ArmEmulator, type EmulatorSeed, startArmEmulator } from "../../local/arm-emulator";
import {
  errorCode,
  GROUP_PATH,
  managedGroupBody,
  POLICY_ID,
  type RawResponse,
  raw,
  SMALL_ESTATE,
  SUBSCRIPTION,
} from "./arm-emulator-helpers";

const API = "?api-version=2025-05-01";
const NO_DNS_POLICY_ID = POLICY_ID.replace(/fw-policy$/, "fw-policy-nodns");

function estate(): EmulatorSeed {
  const seed = JSON.parse(readFileSync(SMALL_ESTATE, "utf8")) as EmulatorSeed;
  const policy = structuredClone(seed.firewallPolicies?.[0]);
  if (!policy) throw new Error("fixture has no policy");
  policy.id = NO_DNS_POLICY_ID;
  policy.name = "fw-policy-nodns";
  policy.properties = { dnsSettings: { enableProxy: false } };
  seed.firewallPolicies?.push(policy);
  return seed;
}

let emulator: ArmEmulator;

beforeAll(async () => {
  emulator = await startArmEmulator({ seed: estate(), lroDelayMs: 100 });
});

beforeEach(() => {
  emulator.reset();
  emulator.setLroDelay(100);
});

afterAll(async () => {
  await emulator.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls an operation URL until it is no longer InProgress (or 3 s pass); returns the last answer. */
async function untilDone(url: string): Promise<RawResponse> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const response = await raw(emulator, "GET", url);
    if (
      response.status !== 202 &&
      (response.json as { status?: string } | undefined)?.status !== "InProgress"
    ) {
      return response;
    }
    if (Date.now() > deadline) return response;
    await sleep(20);
  }
}

describe("what ARM checks before any provider", () => {
  it("answers 401 without a bearer token, and 400 without api-version", async () => {
    const missing = await raw(emulator, "GET", `${POLICY_ID}${API}`, { authorization: null });
    expect([missing.status, errorCode(missing)]).toEqual([401, "AuthenticationFailed"]);
    const basic = await raw(emulator, "GET", `${POLICY_ID}${API}`, { authorization: "Basic abc" });
    expect([basic.status, errorCode(basic)]).toEqual([401, "InvalidAuthenticationToken"]);
    const noVersion = await raw(emulator, "GET", POLICY_ID);
    expect([noVersion.status, errorCode(noVersion)]).toEqual([400, "MissingApiVersionParameter"]);
    expect(emulator.requests().map((r) => r.status)).toEqual([401, 401, 400]);
  });

  it("matches paths case-insensitively and keeps the stored ID's casing", async () => {
    for (const path of [
      POLICY_ID.toLowerCase(),
      POLICY_ID.toUpperCase().replace(SUBSCRIPTION.toUpperCase(), SUBSCRIPTION),
    ]) {
      const response = await raw(emulator, "GET", `${path}${API}`);
      expect(response.status).toBe(200);
      expect((response.json as { id: string }).id).toBe(POLICY_ID);
    }
    const cluster = await raw(
      emulator,
      "GET",
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/RG-AKS-WEU/providers/microsoft.containerservice/managedclusters/AKS-WEU-PROD${API}`,
    );
    expect(cluster.status).toBe(200);
  });

  it("answers EmulatorUnsupported for what it does not emulate", async () => {
    const unknown = await raw(
      emulator,
      "GET",
      `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines${API}`,
    );
    expect([unknown.status, errorCode(unknown)]).toEqual([404, "EmulatorUnsupported"]);
    expect((unknown.json as { error: { message: string } }).error.message).toBe(
      `GET /subscriptions/${SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines is not emulated`,
    );
    const putPolicy = await raw(emulator, "PUT", `${POLICY_ID}${API}`, { body: { location: "westeurope" } });
    expect([putPolicy.status, errorCode(putPolicy)]).toEqual([400, "EmulatorUnsupported"]);
  });
});

describe("rule collection group bodies", () => {
  const put = (body: unknown, group = "aks-egress-guard", policyId = POLICY_ID) =>
    raw(emulator, "PUT", `${policyId}/ruleCollectionGroups/${group}${API}`, { body });

  it.each([
    [50, "FirewallPolicyRuleCollectionGroupInvalidPriorityValue"],
    [65001, "FirewallPolicyRuleCollectionGroupInvalidPriorityValue"],
    [100.5, "FirewallPolicyRuleCollectionGroupInvalidPriorityValue"],
  ])("refuses group priority %s with 400", async (priority, code) => {
    const response = await put({ properties: managedGroupBody(priority) });
    expect([response.status, errorCode(response)]).toEqual([400, code]);
  });

  it("accepts the priority bounds 100 and 65000", async () => {
    expect((await put({ properties: managedGroupBody(100) }, "low")).status).toBe(201);
    emulator.settleOperations();
    expect((await put({ properties: managedGroupBody(65000) }, "high")).status).toBe(201);
  });

  it("refuses malformed collections with 400 naming the bad key", async () => {
    const body = managedGroupBody();
    const cases: [unknown, string, RegExp][] = [
      ["{not json", "InvalidRequestFormat", /not valid JSON/],
      [{ priority: 500 }, "InvalidRequestFormat", /properties is required/],
      [
        {
          properties: {
            ...body,
            ruleCollections: [{ ...body.ruleCollections[0], ruleCollectionType: undefined }],
          },
        },
        "InvalidRequestFormat",
        /ruleCollections\[0\]\.ruleCollectionType is required/,
      ],
      [
        { properties: { ...body, ruleCollections: [{ ...body.ruleCollections[0], priority: 99 }] } },
        "FirewallPolicyRuleCollectionInvalidPriorityValue",
        /ruleCollections\[0\]\.priority/,
      ],
      [
        {
          properties: {
            ...body,
            ruleCollections: [{ ...body.ruleCollections[0], action: { type: "Maybe" } }],
          },
        },
        "InvalidRequestFormat",
        /action\.type must be Allow or Deny/,
      ],
      [
        {
          properties: {
            ...body,
            ruleCollections: [
              {
                ...body.ruleCollections[0],
                rules: [
                  ...(body.ruleCollections[0]?.rules ?? []),
                  {
                    ruleType: "NetworkRule",
                    name: "ntp",
                    ipProtocols: ["UDP"],
                    sourceAddresses: ["10.10.0.0/22"],
                    destinationAddresses: ["*"],
                    destinationPorts: ["123"],
                  },
                ],
              },
            ],
          },
        },
        "FirewallPolicyRuleCollectionMixedRuleTypes",
        /mixes ApplicationRule and NetworkRule/,
      ],
    ];
    for (const [request, code, message] of cases) {
      const response = await put(request);
      expect([response.status, errorCode(response)], JSON.stringify(request)).toEqual([400, code]);
      expect((response.json as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(emulator.state().ruleCollectionGroups.map((g) => g.name)).toEqual(["platform-baseline"]);
  });

  it("refuses network rules with FQDNs unless the policy has DNS proxy, and wildcard FQDNs always", async () => {
    const fqdnRule = (fqdn: string) => ({
      properties: {
        priority: 500,
        ruleCollections: [
          {
            ruleCollectionType: "FirewallPolicyFilterRuleCollection",
            name: "net",
            priority: 1000,
            action: { type: "Allow" },
            rules: [
              {
                ruleType: "NetworkRule",
                name: "r",
                ipProtocols: ["TCP"],
                sourceAddresses: ["10.10.0.0/22"],
                destinationFqdns: [fqdn],
                destinationPorts: ["9000"],
              },
            ],
          },
        ],
      },
    });
    const noProxy = await put(fqdnRule("hcp.example.com"), "g", NO_DNS_POLICY_ID);
    expect([noProxy.status, errorCode(noProxy)]).toEqual([
      400,
      "FirewallPolicyNetworkRuleFqdnRequiresDnsProxy",
    ]);
    const wildcard = await put(fqdnRule("*.hcp.westeurope.azmk8s.io"));
    expect([wildcard.status, errorCode(wildcard)]).toEqual([
      400,
      "FirewallPolicyNetworkRuleWildcardFqdnNotSupported",
    ]);
    expect((await put(fqdnRule("hcp.example.com"))).status).toBe(201);
  });

  it("answers 404 for a group of a missing policy", async () => {
    const response = await put(
      { properties: managedGroupBody() },
      "g",
      POLICY_ID.replace(/fw-policy$/, "nope"),
    );
    expect([response.status, errorCode(response)]).toEqual([404, "ResourceNotFound"]);
  });
});

describe("long-running operations on the wire", () => {
  it("PUT: 201 Updating with Azure-AsyncOperation; the operation is InProgress, then Succeeded", async () => {
    emulator.setLroDelay(300);
    const started = Date.now();
    const created = await raw(emulator, "PUT", `${GROUP_PATH}/aks-egress-guard${API}`, {
      body: { properties: managedGroupBody() },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: `${GROUP_PATH}/aks-egress-guard`,
      name: "aks-egress-guard",
      type: "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
      properties: { provisioningState: "Updating", priority: 500 },
    });
    const operationUrl = String(created.headers["azure-asyncoperation"]);
    expect(
      operationUrl.startsWith(
        `${emulator.endpoint}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Network/locations/westeurope/`,
      ),
    ).toBe(true);
    expect(operationUrl).toContain("api-version=2025-05-01");

    const running = await raw(emulator, "GET", operationUrl);
    expect(running.json).toMatchObject({ status: "InProgress" });
    expect(running.headers["retry-after"]).toBe("0");
    const again = await raw(emulator, "PUT", `${GROUP_PATH}/platform-baseline${API}`, {
      body: { properties: managedGroupBody(200) },
    });
    expect([again.status, errorCode(again)]).toEqual([409, "AnotherOperationInProgress"]);

    const done = await untilDone(operationUrl);
    expect(done.json).toMatchObject({ status: "Succeeded" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(done.headers["retry-after"]).toBeUndefined();
    const group = await raw(emulator, "GET", `${GROUP_PATH}/aks-egress-guard${API}`);
    expect(group.json).toMatchObject({ properties: { provisioningState: "Succeeded" } });
    expect((group.json as { etag: string }).etag).toBe((created.json as { etag: string }).etag);
  });

  it("DELETE: 202 with both operation headers; the group reads Deleting until it is gone", async () => {
    emulator.setLroDelay(0);
    await raw(emulator, "PUT", `${GROUP_PATH}/aks-egress-guard${API}`, {
      body: { properties: managedGroupBody() },
    });
    emulator.setLroDelay(300);
    const deleted = await raw(emulator, "DELETE", `${GROUP_PATH}/aks-egress-guard${API}`);
    expect(deleted.status).toBe(202);
    expect(deleted.headers["azure-asyncoperation"]).toMatch(/\/nfvOperations\//);
    const location = String(deleted.headers.location);
    expect(location).toMatch(/\/nfvOperationResults\//);
    expect((await raw(emulator, "GET", location)).status).toBe(202);
    const during = await raw(emulator, "GET", `${GROUP_PATH}/aks-egress-guard${API}`);
    expect(during.json).toMatchObject({ properties: { provisioningState: "Deleting" } });
    expect((await untilDone(location)).status).toBe(204);
    const after = await raw(emulator, "GET", `${GROUP_PATH}/aks-egress-guard${API}`);
    expect([after.status, errorCode(after)]).toEqual([404, "NotFound"]);
  });

  it("If-None-Match: * refuses to overwrite an existing group", async () => {
    const response = await raw(emulator, "PUT", `${GROUP_PATH}/platform-baseline${API}`, {
      body: { properties: managedGroupBody(200) },
      headers: { "If-None-Match": "*" },
    });
    expect([response.status, errorCode(response)]).toEqual([412, "PreconditionFailed"]);
  });
});

describe("the HTTP control surface", () => {
  it("arms faults over HTTP and reports them", async () => {
    const armed = await raw(emulator, "POST", "/_emulator/faults", {
      body: {
        kind: "throttle",
        method: "get",
        pathContains: "FIREWALLPOLICIES/FW-POLICY",
        retryAfterSeconds: 7,
        times: 1,
      },
    });
    expect(armed.status).toBe(201);
    const throttled = await raw(emulator, "GET", `${POLICY_ID}${API}`);
    expect([throttled.status, errorCode(throttled), throttled.headers["retry-after"]]).toEqual([
      429,
      "RetryableErrorDueToAnotherOperation",
      "7",
    ]);
    expect((await raw(emulator, "GET", `${POLICY_ID}${API}`)).status).toBe(200);
    const faults = await raw(emulator, "GET", "/_emulator/faults");
    expect(faults.json).toMatchObject({
      faults: [{ id: (armed.json as { id: string }).id, remaining: 0, fired: 1 }],
    });
    const bad = await raw(emulator, "POST", "/_emulator/faults", { body: { kind: "earthquake" } });
    expect(bad.status).toBe(400);
  });

  it("drops the connection without an answer", async () => {
    emulator.injectFault({ kind: "dropConnection", pathContains: "/subnets/" });
    const outcome = await raw(
      emulator,
      "GET",
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-network-weu/providers/Microsoft.Network/virtualNetworks/vnet-aks-weu/subnets/snet-aks-gpu${API}`,
    ).then(
      () => "answered",
      (e: unknown) => (e as { code?: string }).code,
    );
    expect(outcome).toBe("ECONNRESET");
    expect(emulator.requests().at(-1)).toMatchObject({ status: 0, fault: "dropConnection" });
  });

  it("serves the request log and the state, and resets both", async () => {
    await raw(emulator, "GET", `${POLICY_ID}${API}`, { headers: { "If-Match": 'W/"x"' } });
    const log = await raw(emulator, "GET", "/_emulator/requests");
    expect(log.json).toMatchObject({
      requests: [{ method: "GET", path: POLICY_ID, status: 200, headers: { "if-match": 'W/"x"' } }],
    });
    const state = await raw(emulator, "GET", "/_emulator/state");
    expect(state.json).toEqual(emulator.state());
    expect((await raw(emulator, "POST", "/_emulator/reset-log")).status).toBe(204);
    expect(emulator.requests()).toEqual([]);

    const settings = await raw(emulator, "POST", "/_emulator/settings", { body: { lroDelayMs: 0 } });
    expect(settings.json).toMatchObject({ lroDelayMs: 0 });
    await raw(emulator, "PUT", `${GROUP_PATH}/aks-egress-guard${API}`, {
      body: { properties: managedGroupBody() },
    });
    expect(emulator.state().ruleCollectionGroups).toHaveLength(2);
    expect((await raw(emulator, "POST", "/_emulator/reset")).status).toBe(204);
    expect(emulator.state().ruleCollectionGroups).toHaveLength(1);
  });

  it("hands out deep copies: changing state() changes nothing inside", async () => {
    const state = emulator.state();
    state.ruleCollectionGroups.length = 0;
    const policy = state.firewallPolicies[0];
    if (policy) policy.name = "changed";
    expect(emulator.state().ruleCollectionGroups).toHaveLength(1);
    expect(emulator.state().firewallPolicies[0]?.name).toBe("fw-policy");
  });
});

describe("seeds", () => {
  const fails = async (options: Parameters<typeof startArmEmulator>[0], pattern: RegExp) => {
    const error = await startArmEmulator(options).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isGuardError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(pattern);
  };

  it("refuses a bad seed naming the problem", async () => {
    const seed = estate();
    const group = seed.ruleCollectionGroups?.[0];
    if (group) group.properties = { priority: 50, ruleCollections: [] };
    await fails({ seed }, /ruleCollectionGroups\[0\].*InvalidPriorityValue/);
    await fails({ seed: { firewallPolicy: [] } as EmulatorSeed }, /firewallPolicy/);
    await fails(
      { seed: { subnets: [{ id: "/subscriptions/x/resourceGroups/y" }] } },
      /not a Microsoft\.Network\/virtualNetworks\/subnets ID/,
    );
    await fails({ seed: {}, seedFile: SMALL_ESTATE }, /not both/);
    await fails({ seedFile: "/nonexistent/seed.json" }, /cannot read/);
  });

  it("fills what ARM always sends: name, type, etag, provisioningState, size, the policy's group list", async () => {
    const sparse = await startArmEmulator({
      seed: {
        firewallPolicies: [{ id: POLICY_ID, location: "westeurope" }],
        ruleCollectionGroups: [{ id: `${GROUP_PATH}/g`, properties: { priority: 300, ruleCollections: [] } }],
      },
    });
    try {
      const [policy] = sparse.state().firewallPolicies;
      const [group] = sparse.state().ruleCollectionGroups;
      expect(policy).toMatchObject({
        name: "fw-policy",
        type: "Microsoft.Network/firewallPolicies",
        etag: expect.stringMatching(/^W\/"/),
        properties: { provisioningState: "Succeeded", ruleCollectionGroups: [{ id: `${GROUP_PATH}/g` }] },
      });
      expect(group).toMatchObject({
        name: "g",
        properties: { provisioningState: "Succeeded", size: "0.000 MB" },
      });
    } finally {
      await sparse.close();
    }
  });
});

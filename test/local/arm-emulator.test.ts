// The ARM emulator driven by the real Azure SDK clients over HTTPS: what the adapters will see.
import { existsSync } from "node:fs";
import type { ContainerServiceClient } from "@azure/arm-containerservice";
import { type FirewallPolicyFilterRuleCollection, NetworkManagementClient } from "@azure/arm-network";
import { isRestError } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator, staticTokenCredential } from "../../local/arm-emulator";
import {
  AKS_RG,
  clientsFor,
  FAST_POLL,
  GROUP_PATH,
  managedGroupBody,
  NETWORK_RG,
  POLICY,
  POLICY_ID,
  SMALL_ESTATE,
  SUBSCRIPTION,
} from "./arm-emulator-helpers";

let emulator: ArmEmulator;
let network: NetworkManagementClient;
let aks: ContainerServiceClient;

beforeAll(async () => {
  emulator = await startArmEmulator({ port: 0, seedFile: SMALL_ESTATE });
  ({ network, aks } = clientsFor(emulator));
});

beforeEach(() => {
  emulator.reset();
  emulator.setLroDelay(50);
});

afterAll(async () => {
  await emulator.close();
});

/** Awaits a promise that must reject with an ARM RestError; returns it. */
async function restError(
  promise: Promise<unknown>,
): Promise<{ statusCode?: number; code?: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRestError(error)) throw new Error(`expected a RestError, got ${String(error)}`);
  return {
    ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
    ...(error.code !== undefined ? { code: error.code } : {}),
    message: error.message,
  };
}

function foreignGroupJson(): string {
  const group = emulator.state().ruleCollectionGroups.find((g) => g.name === "platform-baseline");
  return JSON.stringify(group);
}

describe("reads through the real SDK clients", () => {
  it("reads a cluster with ContainerServiceClient: pools, subnets, outbound type, add-ons", async () => {
    const cluster = await aks.managedClusters.get(AKS_RG, "aks-weu-prod");
    expect(cluster.location).toBe("westeurope");
    expect(cluster.provisioningState).toBe("Succeeded");
    expect(cluster.fqdn).toBe("aks-weu-prod-3f9c2a1b.hcp.westeurope.azmk8s.io");
    expect(cluster.networkProfile?.outboundType).toBe("userDefinedRouting");
    expect(cluster.apiServerAccessProfile?.enablePrivateCluster).toBe(false);
    expect(cluster.addonProfiles?.omsagent?.enabled).toBe(true);
    expect(cluster.tags?.["aks-egress-guard/firewall-policy"]).toBe(POLICY_ID);
    expect(cluster.agentPoolProfiles?.map((p) => [p.name, p.vmSize, p.osType])).toEqual([
      ["system", "Standard_D4ds_v5", "Linux"],
      ["gpu", "Standard_NC6s_v3", "Linux"],
    ]);
    expect(cluster.agentPoolProfiles?.map((p) => p.vnetSubnetID?.split("/").at(-1))).toEqual([
      "snet-aks-system",
      "snet-aks-gpu",
    ]);
  });

  it("lists clusters per subscription and per resource group, and answers 404s as ARM does", async () => {
    const all = [];
    for await (const cluster of aks.managedClusters.list()) all.push(cluster.name);
    const inGroup = [];
    for await (const cluster of aks.managedClusters.listByResourceGroup(AKS_RG)) inGroup.push(cluster.name);
    expect(all).toEqual(["aks-weu-prod"]);
    expect(inGroup).toEqual(["aks-weu-prod"]);
    expect(await restError(aks.managedClusters.get(AKS_RG, "nope"))).toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
    });
    expect(await restError(aks.managedClusters.get("rg-missing", "aks-weu-prod"))).toMatchObject({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });
  });

  it("reads each node subnet's address prefix", async () => {
    const system = await network.subnets.get(NETWORK_RG, "vnet-aks-weu", "snet-aks-system");
    const gpu = await network.subnets.get(NETWORK_RG, "vnet-aks-weu", "snet-aks-gpu");
    expect([system.addressPrefix, gpu.addressPrefix]).toEqual(["10.10.0.0/22", "10.10.4.0/22"]);
    expect(await restError(network.subnets.get(NETWORK_RG, "vnet-aks-weu", "nope"))).toMatchObject({
      statusCode: 404,
      code: "NotFound",
    });
  });

  it("lists virtual networks with their subnets embedded, as their own GET returns them", async () => {
    const networks = [];
    for await (const v of network.virtualNetworks.listAll()) networks.push(v);
    expect(networks.map((v) => [v.name, v.type])).toEqual([
      ["vnet-aks-weu", "Microsoft.Network/virtualNetworks"],
    ]);
    const [vnet] = networks;
    expect(vnet?.id).toBe(
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/vnet-aks-weu`,
    );
    expect(vnet?.provisioningState).toBe("Succeeded");
    expect(vnet?.etag).toMatch(/^W\/"[0-9a-f-]{36}"$/);
    expect(vnet?.addressSpace?.addressPrefixes).toEqual(["10.10.0.0/22", "10.10.4.0/22"]);
    const gpu = await network.subnets.get(NETWORK_RG, "vnet-aks-weu", "snet-aks-gpu");
    const embedded = vnet?.subnets?.find((s) => s.name === "snet-aks-gpu");
    expect(embedded).toEqual(gpu);
    expect(embedded?.routeTable?.id).toMatch(/routeTables\/rt-aks-egress$/);
    // By resource group, and one network by name; the same network each way.
    const inGroup = [];
    for await (const v of network.virtualNetworks.list(NETWORK_RG)) inGroup.push(v);
    expect(inGroup).toEqual(networks);
    expect(await network.virtualNetworks.get(NETWORK_RG, "vnet-aks-weu")).toEqual(vnet);
    expect(await restError(network.virtualNetworks.get(NETWORK_RG, "nope"))).toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
    });
    expect(await restError(network.virtualNetworks.get("rg-missing", "vnet-aks-weu"))).toMatchObject({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });
    const other = new NetworkManagementClient(
      staticTokenCredential(),
      "00000000-0000-0000-0000-00000000ffff",
      emulator.clientOptions(),
    );
    const none = [];
    for await (const v of other.virtualNetworks.listAll()) none.push(v);
    expect(none).toEqual([]);
  });

  it("a subnet change shows in the next network list, with a new network etag", async () => {
    const first = await network.virtualNetworks.get(NETWORK_RG, "vnet-aks-weu");
    const subnet = emulator.state().subnets.find((s) => s.name === "snet-aks-gpu") as {
      properties: { addressPrefix: string };
    };
    subnet.properties.addressPrefix = "10.10.8.0/22";
    emulator.upsert(subnet as never);
    const listed = [];
    for await (const v of network.virtualNetworks.listAll()) listed.push(v);
    const [second] = listed;
    expect(second?.subnets?.find((s) => s.name === "snet-aks-gpu")?.addressPrefix).toBe("10.10.8.0/22");
    expect(second?.etag).not.toBe(first.etag);
  });

  it("reads the firewall policy with its DNS settings and lists policies", async () => {
    const policy = await network.firewallPolicies.get(NETWORK_RG, POLICY);
    expect(policy.dnsSettings?.enableProxy).toBe(true);
    expect(policy.provisioningState).toBe("Succeeded");
    expect(policy.etag).toMatch(/^W\/".+"$/);
    expect(policy.ruleCollectionGroups?.map((g) => g.id)).toEqual([
      `${POLICY_ID}/ruleCollectionGroups/platform-baseline`,
    ]);
    const inGroup = [];
    for await (const p of network.firewallPolicies.list(NETWORK_RG)) inGroup.push(p.name);
    const all = [];
    for await (const p of network.firewallPolicies.listAll()) all.push(p.name);
    expect(inGroup).toEqual([POLICY]);
    expect(all).toEqual([POLICY]);
  });

  it("lists rule collection groups with their polymorphic collections", async () => {
    const groups = [];
    for await (const g of network.firewallPolicyRuleCollectionGroups.list(NETWORK_RG, POLICY)) groups.push(g);
    expect(groups.map((g) => [g.name, g.priority, g.provisioningState])).toEqual([
      ["platform-baseline", 200, "Succeeded"],
    ]);
    const collections = (groups[0]?.ruleCollections ?? []) as FirewallPolicyFilterRuleCollection[];
    expect(
      collections.map((c) => [c.ruleCollectionType, c.name, c.action?.type, c.rules?.[0]?.ruleType]),
    ).toEqual([
      ["FirewallPolicyFilterRuleCollection", "deny-risky-protocols", "Deny", "NetworkRule"],
      ["FirewallPolicyFilterRuleCollection", "allow-platform-web", "Allow", "ApplicationRule"],
    ]);
  });

  it("refuses a client that does not trust the emulator's CA", async () => {
    const untrusting = new NetworkManagementClient(staticTokenCredential(), SUBSCRIPTION, {
      endpoint: emulator.endpoint,
      retryOptions: { maxRetries: 0 },
    });
    const error = await untrusting.firewallPolicies.get(NETWORK_RG, POLICY).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((error as { code?: unknown })?.code ?? error)).toMatch(/CERT|SIGNATURE|certificate/i);
  });
});

describe("rule collection group writes as long-running operations", () => {
  it("creates a group: Updating, then Succeeded with a new etag; the policy goes Updating → Succeeded", async () => {
    emulator.setLroDelay(300);
    const poller = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(),
      FAST_POLL,
    );
    expect((await network.firewallPolicies.get(NETWORK_RG, POLICY)).provisioningState).toBe("Updating");
    const created = await poller.pollUntilDone();
    emulator.setLroDelay(50);
    expect(created.provisioningState).toBe("Succeeded");
    expect(created.priority).toBe(500);
    expect(created.size).toMatch(/^\d+\.\d{3} MB$/);
    expect((await network.firewallPolicies.get(NETWORK_RG, POLICY)).provisioningState).toBe("Succeeded");

    const updated = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(500, "packages.microsoft.com"),
      FAST_POLL,
    );
    expect(updated.etag).toBeDefined();
    expect(updated.etag).not.toBe(created.etag);
    const [collection] = (updated.ruleCollections ?? []) as FirewallPolicyFilterRuleCollection[];
    const [rule] = (collection?.rules ?? []) as { targetFqdns?: string[] }[];
    expect(rule?.targetFqdns).toEqual(["packages.microsoft.com"]);

    // What went over the wire: PUT 201 with the operation URL, polls, final GET; then PUT 200.
    const writes = emulator.requests().filter((r) => r.method === "PUT");
    expect(writes.map((r) => r.status)).toEqual([201, 200]);
    expect(writes[0]?.query["api-version"]).toBe("2025-05-01");
    expect(writes[0]?.body).toMatchObject({ properties: { priority: 500 } });
    const polls = emulator.requests().filter((r) => r.path.includes("/nfvOperations/"));
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every((r) => r.status === 200)).toBe(true);
  });

  it("answers 409 AnotherOperationInProgress to a second write on the same policy while one runs", async () => {
    emulator.setLroDelay(300);
    const poller = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(),
      FAST_POLL,
    );
    const other = await restError(
      network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
        NETWORK_RG,
        POLICY,
        "another-group",
        managedGroupBody(600),
        FAST_POLL,
      ),
    );
    expect(other).toMatchObject({ statusCode: 409, code: "AnotherOperationInProgress" });
    const deletion = await restError(
      network.firewallPolicyRuleCollectionGroups.beginDeleteAndWait(
        NETWORK_RG,
        POLICY,
        "platform-baseline",
        FAST_POLL,
      ),
    );
    expect(deletion).toMatchObject({ statusCode: 409, code: "AnotherOperationInProgress" });
    await poller.pollUntilDone();
    const afterwards = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "another-group",
      managedGroupBody(600),
      FAST_POLL,
    );
    expect(afterwards.provisioningState).toBe("Succeeded");
  });

  it("deletes a group through the operation and answers NotFound afterwards", async () => {
    await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(),
      FAST_POLL,
    );
    await network.firewallPolicyRuleCollectionGroups.beginDeleteAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      FAST_POLL,
    );
    expect(
      await restError(network.firewallPolicyRuleCollectionGroups.get(NETWORK_RG, POLICY, "aks-egress-guard")),
    ).toMatchObject({ statusCode: 404, code: "NotFound" });
    const policy = await network.firewallPolicies.get(NETWORK_RG, POLICY);
    expect(policy.ruleCollectionGroups?.map((g) => g.id?.split("/").at(-1))).toEqual(["platform-baseline"]);
    expect(policy.provisioningState).toBe("Succeeded");
    const deleted = emulator.requests().find((r) => r.method === "DELETE");
    expect(deleted?.status).toBe(202);
    // Deleting what is already gone succeeds (ARM's DELETE is idempotent).
    await network.firewallPolicyRuleCollectionGroups.beginDeleteAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      FAST_POLL,
    );
  });

  it("leaves the foreign group byte-identical through writes to the managed group", async () => {
    const before = foreignGroupJson();
    const ops = network.firewallPolicyRuleCollectionGroups;
    await ops.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(),
      FAST_POLL,
    );
    await ops.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(510),
      FAST_POLL,
    );
    await ops.beginDeleteAndWait(NETWORK_RG, POLICY, "aks-egress-guard", FAST_POLL);
    expect(foreignGroupJson()).toBe(before);
    expect(before).toContain("allow-platform-web");
  });

  it("honours If-Match: the current etag passes, a stale one gets 412 PreconditionFailed", async () => {
    const ops = network.firewallPolicyRuleCollectionGroups;
    const created = await ops.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(),
      FAST_POLL,
    );
    const withEtag = (etag: string) => ({
      ...FAST_POLL,
      requestOptions: { customHeaders: { "If-Match": etag } },
    });
    const updated = await ops.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(520),
      withEtag(created.etag ?? ""),
    );
    expect(updated.priority).toBe(520);
    const stale = await restError(
      ops.beginCreateOrUpdateAndWait(
        NETWORK_RG,
        POLICY,
        "aks-egress-guard",
        managedGroupBody(530),
        withEtag(created.etag ?? ""),
      ),
    );
    expect(stale).toMatchObject({ statusCode: 412, code: "PreconditionFailed" });
    expect((await ops.get(NETWORK_RG, POLICY, "aks-egress-guard")).priority).toBe(520);
    const sent = emulator
      .requests()
      .filter((r) => r.method === "PUT")
      .map((r) => [r.headers["if-match"], r.status]);
    expect(sent).toEqual([
      [undefined, 201],
      [created.etag, 200],
      [created.etag, 412],
    ]);
  });
});

describe("fault injection", () => {
  it("429 with Retry-After is retried by the SDK after the given seconds, then succeeds", async () => {
    emulator.injectFault({
      kind: "throttle",
      method: "GET",
      pathContains: `/firewallPolicies/${POLICY}`,
      retryAfterSeconds: 1,
    });
    const started = Date.now();
    const policy = await network.firewallPolicies.get(NETWORK_RG, POLICY);
    expect(policy.name).toBe(POLICY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const log = emulator.requests();
    expect(log.map((r) => [r.status, r.errorCode, r.fault])).toEqual([
      [429, "RetryableErrorDueToAnotherOperation", "throttle"],
      [200, undefined, undefined],
    ]);
  });

  it("500 is retried; more 500s than the retry budget surface as an error", async () => {
    emulator.injectFault({ kind: "serverError", pathContains: "/subnets/snet-aks-gpu", times: 2 });
    const subnet = await network.subnets.get(NETWORK_RG, "vnet-aks-weu", "snet-aks-gpu");
    expect(subnet.addressPrefix).toBe("10.10.4.0/22");
    expect(emulator.requests().map((r) => r.status)).toEqual([500, 500, 200]);

    emulator.injectFault({ kind: "serverError", pathContains: "/subnets/snet-aks-gpu", times: 10 });
    expect(await restError(network.subnets.get(NETWORK_RG, "vnet-aks-weu", "snet-aks-gpu"))).toMatchObject({
      statusCode: 500,
      code: "InternalServerError",
    });
  });

  it("a dropped connection is retried by the SDK; too many drops surface as a connection error", async () => {
    emulator.injectFault({ kind: "dropConnection", pathContains: "/managedClusters/aks-weu-prod" });
    const cluster = await aks.managedClusters.get(AKS_RG, "aks-weu-prod");
    expect(cluster.name).toBe("aks-weu-prod");
    expect(emulator.requests().map((r) => [r.status, r.fault])).toEqual([
      [0, "dropConnection"],
      [200, undefined],
    ]);

    emulator.injectFault({
      kind: "dropConnection",
      pathContains: "/managedClusters/aks-weu-prod",
      times: 10,
    });
    const error = await aks.managedClusters.get(AKS_RG, "aks-weu-prod").then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).toMatch(/ECONNRESET|socket hang up/i);
  });

  it("an LRO that ends Failed surfaces as an error and leaves group and policy Failed", async () => {
    emulator.injectFault({
      kind: "lroFailed",
      method: "PUT",
      pathContains: "/ruleCollectionGroups/aks-egress-guard",
      code: "FirewallPolicyUpdateFailed",
      message: "Put on firewall policy failed",
    });
    const failure = await network.firewallPolicyRuleCollectionGroups
      .beginCreateOrUpdateAndWait(NETWORK_RG, POLICY, "aks-egress-guard", managedGroupBody(), FAST_POLL)
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(failure?.message).toMatch(/long-running operation has failed.*FirewallPolicyUpdateFailed/);
    expect(
      (await network.firewallPolicyRuleCollectionGroups.get(NETWORK_RG, POLICY, "aks-egress-guard"))
        .provisioningState,
    ).toBe("Failed");
    expect((await network.firewallPolicies.get(NETWORK_RG, POLICY)).provisioningState).toBe("Failed");
    // The next write repairs both.
    const repaired = await network.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      NETWORK_RG,
      POLICY,
      "aks-egress-guard",
      managedGroupBody(),
      FAST_POLL,
    );
    expect(repaired.provisioningState).toBe("Succeeded");
    expect((await network.firewallPolicies.get(NETWORK_RG, POLICY)).provisioningState).toBe("Succeeded");
  });

  it("409 with a given code and 412 are answered once and never retried", async () => {
    const code = "FirewallPolicyRuleCollectionGroupUpdateNotAllowedWhenUpdatingOrDeleting";
    emulator.injectFault({ kind: "conflict", method: "PUT", pathContains: "ruleCollectionGroups", code });
    emulator.injectFault({ kind: "preconditionFailed", method: "PUT", pathContains: "ruleCollectionGroups" });
    const ops = network.firewallPolicyRuleCollectionGroups;
    const put = () =>
      ops.beginCreateOrUpdateAndWait(NETWORK_RG, POLICY, "aks-egress-guard", managedGroupBody(), FAST_POLL);
    expect(await restError(put())).toMatchObject({ statusCode: 409, code });
    expect(await restError(put())).toMatchObject({ statusCode: 412, code: "PreconditionFailed" });
    expect((await put()).provisioningState).toBe("Succeeded");
    expect(
      emulator
        .requests()
        .filter((r) => r.method === "PUT")
        .map((r) => r.status),
    ).toEqual([409, 412, 201]);
    expect(emulator.faults().map((f) => [f.spec.kind, f.remaining, f.fired])).toEqual([
      ["conflict", 0, 1],
      ["preconditionFailed", 0, 1],
    ]);
  });
});

describe("request log, paging and lifecycle", () => {
  it("logs method, path, query, selected headers and status, without the token", async () => {
    await network.firewallPolicyRuleCollectionGroups.get(NETWORK_RG, POLICY, "platform-baseline");
    await aks.managedClusters.get(AKS_RG, "aks-weu-prod");
    const [rcg, cluster] = emulator.requests();
    expect(rcg).toMatchObject({
      seq: expect.any(Number),
      method: "GET",
      path: `${GROUP_PATH}/platform-baseline`,
      query: { "api-version": "2025-05-01" },
      status: 200,
      headers: { authorization: "Bearer ***" },
    });
    expect(cluster?.query["api-version"]).toBe("2026-04-01");
    expect(cluster?.headers["user-agent"]).toMatch(/azsdk-js-arm-containerservice\/25\.3\.0/);
    expect(JSON.stringify(emulator.requests())).not.toContain("arm-emulator-token");
    emulator.clearRequests();
    expect(emulator.requests()).toEqual([]);
  });

  it("pages lists with nextLink, which the SDK follows", async () => {
    const paged = await startArmEmulator({ seedFile: SMALL_ESTATE, pageSize: 1, lroDelayMs: 0 });
    try {
      const { network: n } = clientsFor(paged);
      await n.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
        NETWORK_RG,
        POLICY,
        "aks-egress-guard",
        managedGroupBody(),
        FAST_POLL,
      );
      const names = [];
      for await (const g of n.firewallPolicyRuleCollectionGroups.list(NETWORK_RG, POLICY)) names.push(g.name);
      expect(names).toEqual(["platform-baseline", "aks-egress-guard"]);
      expect(paged.requests().some((r) => r.query.$skipToken === "1")).toBe(true);
      // Virtual networks page the same way: two networks, one page each.
      const extra = emulator.state().subnets[0] as { id: string; name: string };
      paged.upsert({ ...extra, id: extra.id.replace("vnet-aks-weu", "vnet-other") } as never);
      paged.clearRequests();
      const networks = [];
      for await (const v of n.virtualNetworks.listAll()) networks.push(v.name);
      expect(networks).toEqual(["vnet-aks-weu", "vnet-other"]);
      expect(paged.requests().map((r) => r.query.$skipToken)).toEqual([undefined, "1"]);
    } finally {
      await paged.close();
    }
  });

  it("removes its CA file on close", async () => {
    const shortLived = await startArmEmulator();
    expect(existsSync(shortLived.caFile)).toBe(true);
    expect(shortLived.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await shortLived.close();
    expect(existsSync(shortLived.caFile)).toBe(false);
  });
});

// The estate page's markup, from views made up here: what it lists, where it stops, what it escapes.
import { describe, expect, it } from "vitest";
import type { EstateCluster } from "../../functions/http/estate-clusters";
import {
  CLUSTERS_SHOWN,
  type EstatePolicy,
  type EstateView,
  estatePage,
} from "../../functions/pages/estate-page";

const HOSTILE = `"><img src=x onerror=alert(1)><script>alert(2)</script>`;
const escaped = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const cluster = (i: number, name = `aks-${String(i).padStart(3, "0")}`): EstateCluster => ({
  id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/${name}`,
  name,
  resourceGroup: "rg-aks",
  region: "westeurope",
  features: ["gpu"],
  nodeSubnets: 1,
  nodeSubnetPrefixes: ["10.0.0.0/24"],
  mappedBy: "tag",
});

const policy = (over: Partial<EstatePolicy> = {}): EstatePolicy => ({
  policyId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fw",
  name: "fw",
  instanceId: "policy-0",
  runtimeStatus: "Running",
  phase: "idle",
  pass: 3,
  drift: { state: "none", summary: "none (pass 2)" },
  recent: [],
  clusters: { read: true, count: 0, clusters: [] },
  ...over,
});

const page = (...policies: EstatePolicy[]) =>
  estatePage({ generatedAt: "2025-03-01T08:00:00.000Z", mode: "approve", policies } satisfies EstateView)
    .text;

describe("the estate page", () => {
  it(`lists at most ${CLUSTERS_SHOWN} clusters per policy, and says how many more there are`, () => {
    const clusters = Array.from({ length: 150 }, (_, i) => cluster(i));
    const text = page(policy({ clusters: { read: true, count: 150, clusters } }));
    expect(text.match(/<span class="mono">aks-\d{3}<\/span>/g)).toHaveLength(CLUSTERS_SHOWN);
    expect(text).toContain("aks-099");
    expect(text).not.toContain("aks-100");
    expect(text).toContain("and 50 more: 150 clusters in all");
  });

  it("escapes every value that came from Azure or from people", () => {
    const decision = {
      approvalId: HOSTILE,
      decisionId: "d",
      decision: "reject" as const,
      approver: HOSTILE,
      comment: HOSTILE,
      at: HOSTILE,
    };
    const text = page(
      policy({
        policyId: HOSTILE,
        name: HOSTILE,
        phase: "awaiting-approval",
        reasons: [{ source: "event", detail: HOSTILE }],
        reasonCount: 1,
        drift: { state: "drift", summary: HOSTILE },
        plan: {
          action: "put",
          hash: HOSTILE,
          changeHash: HOSTILE,
          added: 1,
          removed: 0,
          changed: 0,
          findings: 0,
        },
        pendingApproval: {
          approvalId: HOSTILE,
          expiresAt: HOSTILE,
          reasons: [HOSTILE],
          summary: HOSTILE,
          whoCanDecide: HOSTILE,
        },
        recent: [
          {
            pass: 2,
            completedAt: HOSTILE,
            outcome: "rejected",
            summary: HOSTILE,
            clusterCount: 1,
            changes: 1,
            catalog: HOSTILE,
            decision,
          },
          {
            pass: 1,
            completedAt: HOSTILE,
            outcome: "applied",
            summary: HOSTILE,
            clusterCount: 1,
            changes: 1,
            approver: HOSTILE,
          },
        ],
        clusters: {
          read: true,
          count: 1,
          clusters: [{ ...cluster(0, HOSTILE), resourceGroup: HOSTILE, region: HOSTILE, mode: "audit" }],
        },
      }),
      policy({ runtimeStatus: "Unknown", statusError: HOSTILE, clusters: { read: false, error: HOSTILE } }),
    );
    expect(text).not.toMatch(/<img|<script|onerror=alert\(1\)>/);
    expect(text).toContain(escaped(HOSTILE));
  });

  it("says what could not be read, and why, beside what could", () => {
    const text = page(
      policy({
        clusters: {
          read: false,
          error: "the clusters of subscription s could not be read (HTTP 403 AuthorizationFailed: no)",
        },
        recent: [
          {
            pass: 2,
            completedAt: "t",
            outcome: "no-drift",
            summary: "no drift",
            clusterCount: 4,
            changes: 0,
          },
        ],
      }),
      policy({ runtimeStatus: "Unknown", statusError: "storage is down" }),
    );
    expect(text).toContain(
      "The clusters could not be read from Azure:</strong> the clusters of subscription s could not be read (HTTP 403 AuthorizationFailed: no)",
    );
    expect(text).toContain("no drift");
    expect(text).toContain("<strong>could not be read</strong>: storage is down");
  });
});

describe("the estate page's clusters", () => {
  it("says how each cluster was mapped to the policy, as a pass maps it", () => {
    const text = page(
      policy({
        clusters: {
          read: true,
          count: 4,
          clusters: [
            { ...cluster(0), mappedBy: "tag" },
            { ...cluster(1), mappedBy: "routes" },
            { ...cluster(2), mappedBy: "managed group" },
            { ...cluster(3), mappedBy: "untagged default" },
          ],
        },
      }),
    );
    expect(text).toContain("<th>Mapped by</th>");
    const cells = [...text.matchAll(/<td class="kind" title="([^"]*)">([^<]*)<\/td><\/tr>/g)];
    expect(cells.map((m) => m[2])).toEqual(["tag", "routes", "managed group", "untagged default"]);
    expect(cells[1]?.[1]).toContain("routes lead to this policy");
  });
});

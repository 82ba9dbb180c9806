import { describe, expect, it } from "vitest";
import { isGuardError } from "../../errors";
import { loadSettings, SETTING_NAMES } from "../../orchestrations/settings";

const POLICY =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fw";
const minimal = {
  AKS_EGRESS_FIREWALL_POLICIES: POLICY,
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(32),
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
  } catch (error) {
    if (isGuardError(error, "CONFIG_INVALID")) return error.details.problems as string[];
    throw error;
  }
  return [];
}

describe("settings", () => {
  it("has safe defaults", () => {
    expect(loadSettings(minimal)).toMatchObject({
      cloud: "AzureCloud",
      groupName: "aks-egress-guard",
      groupPriority: 300,
      catalogVersion: "2026-06",
      mode: "approve",
      removalsNeedApproval: true,
      maxRemovedShare: 0.25,
      removalWindowHours: 24,
      approverAuth: "none",
      approvalTimeoutMinutes: 1440,
      debounceSeconds: 30,
      sweepSchedule: "0 0 */6 * * *",
      allowAnySource: false,
      publicBaseUrl: "http://localhost:7071",
    });
  });

  it("names every bad setting at once", () => {
    const found = problems({
      AKS_EGRESS_CLOUD: "AzureGermany",
      AKS_EGRESS_FIREWALL_POLICIES: "fw-policy",
      AKS_EGRESS_GROUP_PRIORITY: "70000",
      AKS_EGRESS_MODE: "yolo",
      AKS_EGRESS_MAX_REMOVED_SHARE: "2",
      AKS_EGRESS_APPROVAL_SIGNING_KEY: "short",
      AKS_EGRESS_SUBSCRIPTIONS: "not-a-guid",
      AKS_EGRESS_DEFAULT_FEATURES: "gpu,quantum",
      AKS_EGRESS_SWEEP_SCHEDULE: "every day",
      AKS_EGRESS_DEBOUNCE_SECONDS: "soon",
      AKS_EGRESS_CATALOG_VERSION: "2019",
      AKS_EGRESS_APP_OBJECT_ID: "me",
    });
    for (const name of [
      "AKS_EGRESS_CLOUD",
      "AKS_EGRESS_FIREWALL_POLICIES",
      "AKS_EGRESS_GROUP_PRIORITY",
      "AKS_EGRESS_MODE",
      "AKS_EGRESS_MAX_REMOVED_SHARE",
      "AKS_EGRESS_APPROVAL_SIGNING_KEY",
      "AKS_EGRESS_SUBSCRIPTIONS",
      "AKS_EGRESS_DEFAULT_FEATURES",
      "AKS_EGRESS_SWEEP_SCHEDULE",
      "AKS_EGRESS_DEBOUNCE_SECONDS",
      "AKS_EGRESS_CATALOG_VERSION",
      "AKS_EGRESS_APP_OBJECT_ID",
    ]) {
      expect(
        found.some((p) => p.startsWith(name)),
        name,
      ).toBe(true);
    }
    expect(found.find((p) => p.startsWith("AKS_EGRESS_MODE"))).toMatch(
      /expected one of audit, auto, approve/,
    );
  });

  it.each(["guard-", "guard.", "_guard", "-guard", "g".repeat(81), "guard group"])(
    "refuses the group name %s, which ARM's name rule refuses",
    (name) => {
      expect(problems({ ...minimal, AKS_EGRESS_GROUP_NAME: name })).toEqual([
        expect.stringMatching(/^AKS_EGRESS_GROUP_NAME=.*not ending with \. or -/),
      ]);
    },
  );

  it.each(["g", "guard_", "aks.egress-guard_2", "g".repeat(80)])("accepts the group name %s", (name) => {
    expect(loadSettings({ ...minimal, AKS_EGRESS_GROUP_NAME: name }).groupName).toBe(name);
  });

  it("reads the removal window and who fronts approvals, and names bad values", () => {
    expect(
      loadSettings({
        ...minimal,
        AKS_EGRESS_REMOVAL_WINDOW_HOURS: "6.5",
        AKS_EGRESS_APPROVER_AUTH: "AppService",
      }),
    ).toMatchObject({ removalWindowHours: 6.5, approverAuth: "appservice" });
    expect(
      problems({ ...minimal, AKS_EGRESS_REMOVAL_WINDOW_HOURS: "-1", AKS_EGRESS_APPROVER_AUTH: "easyauth" }),
    ).toEqual([
      expect.stringMatching(/^AKS_EGRESS_REMOVAL_WINDOW_HOURS="-1"/),
      expect.stringMatching(/^AKS_EGRESS_APPROVER_AUTH="easyauth": expected none or appservice/),
    ]);
  });

  it("requires a policy, a signing key and the sweep schedule", () => {
    expect(problems({})).toEqual([
      expect.stringMatching(/AKS_EGRESS_APPROVAL_SIGNING_KEY is missing/),
      expect.stringMatching(/AKS_EGRESS_SWEEP_SCHEDULE is missing/),
      expect.stringMatching(/AKS_EGRESS_FIREWALL_POLICIES .* is empty/),
    ]);
  });

  it("adds the default policy to the policies in scope, and reads the host name for links", () => {
    const settings = loadSettings({
      ...minimal,
      AKS_EGRESS_FIREWALL_POLICIES: "",
      AKS_EGRESS_DEFAULT_FIREWALL_POLICY: POLICY,
      WEBSITE_HOSTNAME: "guard.azurewebsites.net",
    });
    expect(settings.firewallPolicies).toEqual([POLICY]);
    expect(settings.publicBaseUrl).toBe("https://guard.azurewebsites.net");
  });

  it("lists a name for every setting", () => {
    expect(Object.values(SETTING_NAMES).every((n) => /^AKS_EGRESS_[A-Z_]+$/.test(n))).toBe(true);
  });
});

describe("the approval signing key", () => {
  // What App Service passes when it cannot resolve the reference infra sets: the reference's own text.
  const reference =
    "@Microsoft.KeyVault(SecretUri=https://kv-aeg-abcdefghijklm.vault.azure.net/secrets/approval-signing-key)";

  it("rejects an unresolved Key Vault reference, though it is long enough", () => {
    expect(reference.length).toBeGreaterThanOrEqual(32);
    expect(problems({ ...minimal, AKS_EGRESS_APPROVAL_SIGNING_KEY: reference })).toEqual([
      expect.stringMatching(/^AKS_EGRESS_APPROVAL_SIGNING_KEY is an unresolved Key Vault reference/),
    ]);
  });

  it("says what to check: the identity's Key Vault Secrets User role and the reference syntax", () => {
    const [message] = problems({ ...minimal, AKS_EGRESS_APPROVAL_SIGNING_KEY: reference });
    expect(message).toContain("Key Vault Secrets User");
    expect(message).toContain("@Microsoft.KeyVault(SecretUri=");
    expect(message).toContain("@Microsoft.KeyVault(VaultName=");
    // The setting's value is not repeated.
    expect(message).not.toContain("kv-aeg-abcdefghijklm");
  });

  it.each([
    ["any case", "@microsoft.KEYVAULT(SecretUri=https://kv.vault.azure.net/secrets/s/0123456789abcdef)"],
    ["surrounding blanks", `  ${reference}\n`],
    [
      "the VaultName form",
      "@Microsoft.KeyVault(VaultName=kv-aeg-abcdefghijklm;SecretName=approval-signing-key)",
    ],
    ["a short one", "@Microsoft.KeyVault(x)"],
  ])("recognises the reference in %s", (_, value) => {
    expect(problems({ ...minimal, AKS_EGRESS_APPROVAL_SIGNING_KEY: value })).toEqual([
      expect.stringMatching(/unresolved Key Vault reference/),
    ]);
  });

  it("accepts a resolved secret, even one that mentions Key Vault", () => {
    const secret = "vF3q9Lw0Zk2xR7bN4tY8uJ6mC1pS5dH0";
    expect(loadSettings({ ...minimal, AKS_EGRESS_APPROVAL_SIGNING_KEY: secret }).signingKey).toBe(secret);
    const mentions = `x${reference}`;
    expect(loadSettings({ ...minimal, AKS_EGRESS_APPROVAL_SIGNING_KEY: mentions }).signingKey).toBe(mentions);
  });
});

describe("boolean settings", () => {
  it("accept any case", () => {
    const settings = loadSettings({
      ...minimalEnv(),
      AKS_EGRESS_INCLUDE_UNTAGGED: "True",
      AKS_EGRESS_REMOVALS_NEED_APPROVAL: "FALSE",
    });
    expect(settings.includeUntaggedWhenDefault).toBe(true);
    expect(settings.removalsNeedApproval).toBe(false);
  });
});

function minimalEnv() {
  return {
    AKS_EGRESS_FIREWALL_POLICIES:
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fw",
    AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(32),
    AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
  };
}

describe("AKS_EGRESS_RESOLVERS: DNS servers for public API server addresses", () => {
  it("takes ip, ip:port and [ipv6]:port; empty means the host's DNS", () => {
    expect(loadSettings(minimal).resolvers).toEqual([]);
    expect(
      loadSettings({ ...minimal, AKS_EGRESS_RESOLVERS: "10.0.1.4, 127.0.0.1:5353,[::1]:53" }).resolvers,
    ).toEqual(["10.0.1.4", "127.0.0.1:5353", "[::1]:53"]);
  });

  it("names a server that is not an address, or a bad port", () => {
    const found = problems({
      ...minimal,
      AKS_EGRESS_RESOLVERS: "dns.example.com,10.0.0.1:99999,1.2.3.4:5:6",
    });
    expect(found.join("\n")).toContain('AKS_EGRESS_RESOLVERS: "dns.example.com" is not an IP address');
    expect(found.join("\n")).toContain('AKS_EGRESS_RESOLVERS: "10.0.0.1:99999" has a bad port');
    expect(found.join("\n")).toContain('AKS_EGRESS_RESOLVERS: "1.2.3.4:5:6" is not an IP address');
  });
});

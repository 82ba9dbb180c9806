// The Function App's app settings in Bicep are exactly what the code reads (SETTING_NAMES,
// HOST_SETTING_NAMES), minus the local-only ARM emulator settings, plus the Functions runtime's own.
import { describe, expect, it } from "vitest";
import { CLOUDS, catalogVersions } from "../../catalog";
import { MODES } from "../../drift/types";
import { HOST_SETTING_NAMES, loadSettings, SETTING_NAMES } from "../../orchestrations/settings";
import {
  appSettings,
  bicepStrings,
  bindingExpressionSettings,
  filesUnder,
  read,
  stripBicepComments,
} from "./infra-files";

const POLICY =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net/providers/Microsoft.Network/firewallPolicies/fw";
const LOCAL_ONLY = [SETTING_NAMES.armEndpoint, SETTING_NAMES.armCaFile];
const CODE_READS = new Set<string>([...Object.values(SETTING_NAMES), ...HOST_SETTING_NAMES]);
const REQUIRED_IN_AZURE = [...CODE_READS].filter((name) => !LOCAL_ONLY.includes(name as never));
/** The runtime's own: identity-based host storage, Application Insights with Entra auth, the identity. */
const RUNTIME = new Set([
  "AzureWebJobsStorage__blobServiceUri",
  "AzureWebJobsStorage__queueServiceUri",
  "AzureWebJobsStorage__tableServiceUri",
  "AzureWebJobsStorage__credential",
  "AzureWebJobsStorage__clientId",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  "AZURE_CLIENT_ID",
]);
/** Not on Flex Consumption (functionAppConfig carries them), or key-based storage. */
const FORBIDDEN = [
  "FUNCTIONS_EXTENSION_VERSION",
  "FUNCTIONS_WORKER_RUNTIME",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
  "AzureWebJobsStorage",
];

const settings = appSettings();

describe("Function App settings (infra/modules/functionapp.bicep)", () => {
  it.each(REQUIRED_IN_AZURE)("sets %s", (name) => {
    expect([...settings.keys()]).toContain(name);
  });

  it("sets nothing but the code's settings and the runtime's own", () => {
    const extra = [...settings.keys()].filter((k) => !CODE_READS.has(k) && !RUNTIME.has(k));
    expect(extra).toEqual([]);
    for (const name of RUNTIME) expect([...settings.keys()]).toContain(name);
  });

  it("never sets the local ARM emulator settings or what Flex Consumption rejects", () => {
    for (const name of [...LOCAL_ONLY, ...FORBIDDEN]) expect([...settings.keys()]).not.toContain(name);
  });

  it("names only AKS_EGRESS_* settings the code reads, anywhere in infra/ and azure.yaml", () => {
    const texts = [...filesUnder("infra"), "azure.yaml"].map((f) => [f, read(f)] as const);
    const unknown = texts.flatMap(([file, text]) =>
      [...text.matchAll(/AKS_EGRESS_[A-Z0-9_]+/g)]
        .map((m) => m[0])
        .flatMap((n) => (CODE_READS.has(n) ? [] : [`${file}: ${n}`])),
    );
    expect(unknown).toEqual([]);
  });

  it("sets every %SETTING% the host resolves (host.json, trigger schedules)", () => {
    const missing = [...bindingExpressionSettings()].filter((s) => !settings.has(s));
    expect(missing).toEqual([]);
  });

  it("reads the signing key from Key Vault with the app's identity", () => {
    const value = settings.get(SETTING_NAMES.signingKey) ?? "";
    expect(value).toMatch(/^'@Microsoft\.KeyVault\(SecretUri=\$\{\w+\}\)'$/);
    const bicep = read("infra", "modules", "functionapp.bicep");
    expect(bicep).toMatch(/keyVaultReferenceIdentity:\s*identityId/);
    const vault = read("infra", "modules", "keyvault.bicep");
    expect(vault).toMatch(/enableRbacAuthorization:\s*true/);
    expect(vault).toContain("4633458b-17de-408a-b874-0445c86b69e6"); // Key Vault Secrets User
    expect(read("infra", "main.bicep")).toMatch(
      /@secure\(\)\s*\n(@[^\n]*\n)*param approvalSigningKey string/,
    );
  });

  it("the reference as written here, left unresolved by App Service, does not start the app", () => {
    // App Service passes a reference it cannot resolve as its own text, long enough for a length check.
    const value = (settings.get(SETTING_NAMES.signingKey) ?? "").replace(/^'|'$/g, "");
    const unresolved = value.replace(
      /\$\{\w+\}/,
      "https://kv-aeg-abcdefghijklm.vault.azure.net/secrets/approval-signing-key",
    );
    expect(unresolved.length).toBeGreaterThanOrEqual(32);
    expect(() =>
      loadSettings({
        AKS_EGRESS_FIREWALL_POLICIES: POLICY,
        AKS_EGRESS_APPROVAL_SIGNING_KEY: unresolved,
        AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
      }),
    ).toThrow(/AKS_EGRESS_APPROVAL_SIGNING_KEY is an unresolved Key Vault reference/);
  });

  it("wires the identity so the app drops the events it caused itself", () => {
    expect(settings.get(SETTING_NAMES.appObjectId)).toBe("identityPrincipalId");
    expect(settings.get(SETTING_NAMES.appClientId)).toBe("identityClientId");
    expect(settings.get("AZURE_CLIENT_ID")).toBe("identityClientId");
    expect(settings.get("AzureWebJobsStorage__clientId")).toBe("identityClientId");
    expect(settings.get("AzureWebJobsStorage__credential")).toBe("'managedidentity'");
    expect(settings.get(SETTING_NAMES.publicBaseUrl)).toMatch(
      /^'https:\/\/\$\{site\.properties\.defaultHostName\}'$/,
    );
  });

  it("writes booleans the way the code parses them (lower-case true/false)", () => {
    for (const name of [
      SETTING_NAMES.includeUntaggedWhenDefault,
      SETTING_NAMES.removalsNeedApproval,
      SETTING_NAMES.allowAnySource,
    ])
      expect(settings.get(name)).toMatch(/\? 'true' : 'false'$/);
  });
});

/** The decorators written above `param <name>` in main.bicep. */
function decorators(name: string): string {
  const lines = stripBicepComments(read("infra", "main.bicep")).split("\n");
  const at = lines.findIndex((l) => new RegExp(`^param ${name}\\b`).test(l));
  if (at < 0) throw new Error(`no param ${name}`);
  let start = at;
  while (start > 0 && (lines[start - 1] ?? "").startsWith("@")) start--;
  return lines.slice(start, at + 1).join("\n");
}
const allowed = (name: string) => bicepStrings(/@allowed\(\[([^\]]*)\]\)/.exec(decorators(name))?.[1] ?? "");
const bounds = (name: string) => {
  const d = decorators(name);
  return [Number(/@minValue\((\d+)\)/.exec(d)?.[1]), Number(/@maxValue\((\d+)\)/.exec(d)?.[1])];
};

describe("main.bicep parameters accept what the code accepts", () => {
  it("clouds, modes and catalog versions", () => {
    expect(allowed("cloud")).toEqual([...CLOUDS]);
    expect(allowed("mode")).toEqual([...MODES]);
    expect([...allowed("catalogVersion")].sort()).toEqual([...catalogVersions()].sort());
  });

  it("number ranges (loadSettings accepts both ends, refuses one beyond)", () => {
    const base = {
      AKS_EGRESS_FIREWALL_POLICIES: POLICY,
      AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
      AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
    };
    const cases: [string, string][] = [
      ["approvalTimeoutMinutes", SETTING_NAMES.approvalTimeoutMinutes],
      ["groupPriority", SETTING_NAMES.groupPriority],
      ["debounceSeconds", SETTING_NAMES.debounceSeconds],
      ["removalWindowHours", SETTING_NAMES.removalWindowHours],
    ];
    for (const [param, setting] of cases) {
      const [min, max] = bounds(param) as [number, number];
      for (const ok of [min, max])
        expect(() => loadSettings({ ...base, [setting]: String(ok) })).not.toThrow();
      for (const bad of [min - 1, max + 1])
        expect(() => loadSettings({ ...base, [setting]: String(bad) })).toThrow();
    }
  });

  it("defaults that the code accepts", () => {
    const main = stripBicepComments(read("infra", "main.bicep"));
    const value = (name: string) => new RegExp(`^param ${name} \\w+ = '([^']*)'`, "m").exec(main)?.[1] ?? "";
    expect(() =>
      loadSettings({
        AKS_EGRESS_FIREWALL_POLICIES: POLICY,
        AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(48),
        AKS_EGRESS_SWEEP_SCHEDULE: value("sweepSchedule"),
        AKS_EGRESS_MAX_REMOVED_SHARE: value("maxRemovedShare"),
        AKS_EGRESS_GROUP_NAME: value("groupName"),
        AKS_EGRESS_CATALOG_VERSION: value("catalogVersion"),
        AKS_EGRESS_MODE: value("mode"),
      }),
    ).not.toThrow();
    // azd generates the signing key: long enough for the code.
    expect(Number(/length: (\d+)/.exec(decorators("approvalSigningKey"))?.[1])).toBeGreaterThanOrEqual(32);
  });
});

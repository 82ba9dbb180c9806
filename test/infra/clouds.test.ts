// Every cloud the template offers (cloud: AzureCloud, AzureChinaCloud, AzureUSGovernment) gets endpoints
// of its own: nothing in infra/ names a cloud's DNS suffix, and host storage (with the Durable task hub)
// is reached through the service URIs the storage account reports, not through
// AzureWebJobsStorage__accountName, which the runtime expands with the public cloud's suffix.
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  appSettings,
  bicepFile,
  bicepOutput,
  block,
  filesUnder,
  moduleUses,
  read,
  stripBicepComments,
  topLevelEntries,
} from "./infra-files";

/** DNS suffixes (and hosts) that belong to one cloud: storage, sites, Key Vault, ARM, Entra ID. */
const CLOUD_SPECIFIC = [
  "core.windows.net",
  "core.chinacloudapi.cn",
  "core.usgovcloudapi.net",
  "azurewebsites.net",
  "chinacloudsites.cn",
  "azurewebsites.us",
  "vault.azure.net",
  "vault.azure.cn",
  "vault.usgovcloudapi.net",
  "management.azure.com",
  "management.chinacloudapi.cn",
  "management.usgovcloudapi.net",
  "login.microsoftonline.com",
  "login.chinacloudapi.cn",
  "login.microsoftonline.us",
];

/** The text that takes effect: Bicep without comments, scripts without comment lines, no $schema. */
function effectiveText(file: string, text: string): string {
  if (file.endsWith(".bicep")) return stripBicepComments(text);
  return text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line) && !line.includes('"$schema"'))
    .join("\n");
}

/** Cloud-specific names in a file's effective text. */
const cloudSpecificNames = (file: string, text: string): string[] =>
  CLOUD_SPECIFIC.filter((suffix) => effectiveText(file, text).toLowerCase().includes(suffix)).map(
    (suffix) => `${file}: ${suffix}`,
  );

const main = bicepFile(path.join("infra", "main.bicep"));
const storageBicep = bicepFile(path.join("infra", "modules", "storage.bicep"));
const functionAppModule = moduleUses(main).find((m) => m.path === "modules/functionapp.bicep");
const storageModule = moduleUses(main).find((m) => m.path === "modules/storage.bicep");
const settings = appSettings();

/**
 * Where an app setting's value comes from: the functionapp.bicep parameter it names, the value main.bicep
 * passes for it (`storage.outputs.<x>`), and that output's expression in storage.bicep.
 */
function storageSource(setting: string): string | undefined {
  const param = settings.get(setting);
  if (param === undefined || !/^\w+$/.test(param)) return undefined;
  const passed = /^(\w+)\.outputs\.(\w+)$/.exec(functionAppModule?.paramValues.get(param) ?? "");
  if (passed?.[1] !== storageModule?.symbol || passed?.[2] === undefined) return undefined;
  return bicepOutput(storageBicep, passed[2]);
}

describe("no cloud is built in", () => {
  it("names no cloud's DNS suffix anywhere in infra/ or azure.yaml", () => {
    const files = [...filesUnder("infra").filter((f) => !f.endsWith(".md")), "azure.yaml"];
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((file) => cloudSpecificNames(file, read(file)))).toEqual([]);
  });

  it("would catch a storage URL built from the account name", () => {
    const built = `output blob string = 'https://\${storage.name}.blob.core.windows.net/'`;
    expect(cloudSpecificNames("x.bicep", built)).toEqual(["x.bicep: core.windows.net"]);
    // A comment saying so is not a URL.
    expect(cloudSpecificNames("x.bicep", "// not core.windows.net\n")).toEqual([]);
  });

  it("takes the sign-in endpoint from environment()", () => {
    const functionApp = stripBicepComments(read("infra", "modules", "functionapp.bicep"));
    expect(functionApp).toMatch(/openIdIssuer:\s*'\$\{environment\(\)\.authentication\.loginEndpoint\}/);
  });
});

describe("host storage and the Durable task hub", () => {
  it.each([
    ["AzureWebJobsStorage__blobServiceUri", "blob"],
    ["AzureWebJobsStorage__queueServiceUri", "queue"],
    ["AzureWebJobsStorage__tableServiceUri", "table"],
  ])("%s is the account's primaryEndpoints.%s", (setting, service) => {
    expect(storageSource(setting)).toBe(`storage.properties.primaryEndpoints.${service}`);
  });

  it("does not use AzureWebJobsStorage__accountName (public cloud only) or a connection string", () => {
    expect([...settings.keys()]).not.toContain("AzureWebJobsStorage__accountName");
    expect([...settings.keys()].filter((k) => /^AzureWebJobsStorage(__serviceUri)?$/.test(k))).toEqual([]);
    expect(settings.get("AzureWebJobsStorage__credential")).toBe("'managedidentity'");
    expect(settings.get("AzureWebJobsStorage__clientId")).toBe("identityClientId");
  });

  it("would notice a URI that is not the account's own", () => {
    const saved = settings.get("AzureWebJobsStorage__blobServiceUri") as string;
    settings.set(
      "AzureWebJobsStorage__blobServiceUri",
      `'https://\${storageAccountName}.blob.core.windows.net'`,
    );
    try {
      expect(storageSource("AzureWebJobsStorage__blobServiceUri")).toBeUndefined();
    } finally {
      settings.set("AzureWebJobsStorage__blobServiceUri", saved);
    }
  });

  it("the task hub uses the AzureWebJobsStorage connection, so the same URIs", () => {
    const host = JSON.parse(read("host.json")) as {
      extensions: { durableTask: { storageProvider?: Record<string, unknown> } };
    };
    const provider = host.extensions.durableTask.storageProvider ?? {};
    // The Azure Storage backend (no other type), on the default connection.
    expect(provider.type ?? "AzureStorage").toBe("AzureStorage");
    expect(provider.connectionName ?? "AzureWebJobsStorage").toBe("AzureWebJobsStorage");
    expect(provider.connectionStringName).toBeUndefined();
    // Blob, queue and table data roles for the identity: the task hub needs all three.
    const roles = stripBicepComments(read("infra", "modules", "storage.bicep"));
    for (const role of [
      "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
      "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
      "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    ])
      expect(roles).toContain(role);
  });

  it("Flex Consumption deploys from a container URL under the account's blob endpoint", () => {
    const functionApp = stripBicepComments(read("infra", "modules", "functionapp.bicep"));
    const deployment = block(functionApp, functionApp.indexOf("deployment:"));
    const storage = topLevelEntries(block(deployment, deployment.indexOf("storage:")));
    const param = storage.get("value") ?? "";
    expect(param).toMatch(/^\w+$/);
    const passed = /^(\w+)\.outputs\.(\w+)$/.exec(functionAppModule?.paramValues.get(param) ?? "");
    expect(passed?.[1]).toBe(storageModule?.symbol);
    expect(bicepOutput(storageBicep, passed?.[2] ?? "")).toMatch(
      /^'\$\{storage\.properties\.primaryEndpoints\.blob\}\$\{\w+\}'$/,
    );
  });
});

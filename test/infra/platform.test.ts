// The hosting the app is built for (Flex Consumption, Node.js 22, keyless storage), the azd wiring, and
// the Bicep's own consistency as far as text can tell (modules, parameters, outputs, API versions).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths";
import {
  bicepFile,
  block,
  filesUnder,
  moduleUses,
  read,
  stripBicepComments,
  topLevelEntries,
} from "./infra-files";

const bicepFiles = filesUnder("infra", ".bicep");
const functionApp = stripBicepComments(read("infra", "modules", "functionapp.bicep"));

/** Resource types and API versions checked against Microsoft's template reference when written. */
const VERIFIED_API_VERSIONS: Record<string, string> = {
  "Microsoft.Resources/resourceGroups": "2024-03-01",
  "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
  "Microsoft.OperationalInsights/workspaces": "2023-09-01",
  "Microsoft.Insights/components": "2020-02-02",
  "Microsoft.Insights/workbooks": "2023-06-01",
  "Microsoft.Storage/storageAccounts": "2023-05-01",
  "Microsoft.KeyVault/vaults": "2023-07-01",
  "Microsoft.Web/serverfarms": "2024-04-01",
  "Microsoft.Web/sites": "2024-04-01",
  "Microsoft.EventGrid/systemTopics": "2022-06-15",
  "Microsoft.EventGrid/topics": "2022-06-15",
  "Microsoft.Network/firewallPolicies": "2024-05-01",
  "Microsoft.Authorization/roleAssignments": "2022-04-01",
  "Microsoft.Authorization/roleDefinitions": "2022-04-01",
};

describe("hosting", () => {
  it("runs on a Flex Consumption plan (FC1), Linux", () => {
    const plan = block(functionApp, functionApp.indexOf("'Microsoft.Web/serverfarms@"));
    expect(plan).toMatch(/tier:\s*'FlexConsumption'/);
    expect(plan).toMatch(/name:\s*'FC1'/);
    expect(plan).toMatch(/reserved:\s*true/);
    expect(functionApp).toMatch(/kind:\s*'functionapp,linux'/);
  });

  it("runs Node.js 22 from functionAppConfig, deployed from blob storage with the identity", () => {
    const config = block(functionApp, functionApp.indexOf("functionAppConfig:"));
    const runtime = topLevelEntries(block(config, config.indexOf("runtime:")));
    expect(runtime.get("name")).toBe("'node'");
    expect(runtime.get("version")).toBe("'22'");
    const storage = block(config, config.indexOf("storage:"));
    expect(storage).toMatch(/type:\s*'blobContainer'/);
    expect(storage).toMatch(/type:\s*'UserAssignedIdentity'/);
    expect(config).toMatch(/maximumInstanceCount:/);
    expect(config).toMatch(/instanceMemoryMB:/);
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/<\s*23|>=\s*22|\^22|~22/);
  });

  it("uses keyless storage: shared keys off, no key read anywhere", () => {
    const storage = stripBicepComments(read("infra", "modules", "storage.bicep"));
    expect(storage).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(storage).not.toMatch(/allowSharedKeyAccess:\s*true/);
    for (const file of bicepFiles) {
      const text = stripBicepComments(read(file));
      expect(text, file).not.toMatch(/listKeys\(|AccountKey=|\.listKeys|primaryKey/);
    }
    // Blob owner, queue and table contributor for the host and the Durable task hub.
    for (const role of [
      "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
      "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
      "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    ])
      expect(storage).toContain(role);
  });

  it("sends telemetry with the identity to workspace-based Application Insights", () => {
    const monitoring = stripBicepComments(read("infra", "modules", "monitoring.bicep"));
    expect(monitoring).toMatch(/WorkspaceResourceId:\s*logAnalytics\.id/);
    expect(monitoring).toMatch(/DisableLocalAuth:\s*true/);
  });
});

describe("Bicep consistency", () => {
  it("every module path exists, gets every required parameter and only declared ones", () => {
    const problems: string[] = [];
    for (const file of bicepFiles) {
      const parent = bicepFile(file);
      for (const use of moduleUses(parent)) {
        const target = path.join(path.dirname(file), use.path);
        if (!fs.existsSync(path.join(ROOT, target))) {
          problems.push(`${file}: ${use.path} does not exist`);
          continue;
        }
        const module = bicepFile(target);
        for (const p of use.params)
          if (!module.params.has(p)) problems.push(`${file}: ${use.symbol} passes unknown ${p}`);
        for (const [p, { required }] of module.params)
          if (required && !use.params.has(p)) problems.push(`${file}: ${use.symbol} misses ${p}`);
        for (const m of parent.text.matchAll(new RegExp(`\\b${use.symbol}\\.outputs\\.(\\w+)`, "g")))
          if (!module.outputs.has(m[1] as string))
            problems.push(`${file}: ${use.symbol} has no output ${m[1]}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("uses the resource API versions checked against the template reference", () => {
    const used = bicepFiles.flatMap((file) =>
      [...stripBicepComments(read(file)).matchAll(/'([\w.]+\/[\w/]+)@([\d-]+(?:-preview)?)'/g)].map((m) => ({
        file,
        type: m[1] as string,
        version: m[2] as string,
      })),
    );
    expect(used.length).toBeGreaterThan(10);
    const unverified = used.filter((u) => VERIFIED_API_VERSIONS[u.type] !== u.version);
    expect(unverified).toEqual([]);
  });

  it("gives azd and the hook the outputs they read", () => {
    const main = bicepFile(path.join("infra", "main.bicep"));
    const hookVars = new Set(
      ["postdeploy.sh", "postdeploy.ps1", "preprovision.sh", "preprovision.ps1"].flatMap((h) =>
        [...read("infra", "hooks", h).matchAll(/\b(AZURE_[A-Z_]+|EVENTGRID_[A-Z_]+)\b/g)].map(
          (m) => m[1] as string,
        ),
      ),
    );
    // Set by azd itself, or optional overrides.
    for (const own of ["AZURE_SUBSCRIPTION_ID", "AZURE_LOCATION", "EVENTGRID_SUBSCRIPTION_NAME"])
      hookVars.delete(own);
    expect([...hookVars].filter((v) => !main.outputs.has(v))).toEqual([]);
    for (const output of ["AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP", "EVENTGRID_SYSTEM_TOPIC_IDS"])
      expect(main.outputs.has(output)).toBe(true);
    expect(main.outputs.has("MANAGED_IDENTITY_CLIENT_ID")).toBe(true);
    expect(main.outputs.has("APPLICATION_INSIGHTS_NAME")).toBe(true);
  });

  it("maps every azd environment parameter to a main.bicep parameter", () => {
    const main = bicepFile(path.join("infra", "main.bicep"));
    const file = JSON.parse(read("infra", "main.parameters.json")) as { parameters: Record<string, unknown> };
    expect(Object.keys(file.parameters).filter((p) => !main.params.has(p))).toEqual([]);
    // Required parameters come from the environment, or azd generates them.
    const generated = ["approvalSigningKey"];
    const missing = [...main.params].filter(
      ([p, { required }]) => required && !(p in file.parameters) && !generated.includes(p),
    );
    expect(missing).toEqual([]);
    expect(read("infra", "main.bicep")).toMatch(/azd: \{ type: 'generate'/);
  });
});

describe("azure.yaml", () => {
  const yaml = read("azure.yaml");

  it("deploys the packaged bundle to the Function App", () => {
    expect(yaml).toMatch(/^services:\n {2}guard:\n/m);
    expect(yaml).toMatch(/^ {4}host: function$/m);
    expect(yaml).toMatch(/^ {4}language: js$/m);
    expect(yaml).toMatch(/^ {4}dist: build\/deploy$/m);
    expect(yaml).toMatch(/^ {4}remoteBuild: false$/m);
    expect(yaml).toMatch(/prepackage:[\s\S]*run: npm ci && npm run package/);
    // azd finds the app by its service tag.
    expect(functionApp).toMatch(/'azd-service-name':\s*'guard'/);
  });

  it("provisions infra/main.bicep", () => {
    expect(yaml).toMatch(/^infra:\n {2}provider: bicep\n {2}path: infra\n {2}module: main$/m);
    expect(stripBicepComments(read("infra", "main.bicep"))).toMatch(/^targetScope = 'subscription'$/m);
  });
});

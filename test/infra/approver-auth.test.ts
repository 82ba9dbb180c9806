// App Service Authentication in front of the approval links (infra/modules/functionapp.bicep
// authsettingsV2): configured exactly when an app registration is given, the app told so by the same
// condition (AKS_EGRESS_APPROVER_AUTH), and every route that is not an approval link left reachable
// without sign-in (webhooks and keyed routes, whose callers cannot sign in).
import { describe, expect, it } from "vitest";
import { loadSettings, SETTING_NAMES } from "../../orchestrations/settings";
import {
  appSettings,
  bicepFile,
  bicepStrings,
  block,
  filesUnder,
  moduleUses,
  read,
  registeredFunctions,
  stripBicepComments,
  topLevelEntries,
} from "./infra-files";

const functionApp = stripBicepComments(read("infra", "modules", "functionapp.bicep"));

/** The `config` resource named authsettingsV2: its declaration line and body. */
function authResource(): { declaration: string; body: string } {
  const at = functionApp.search(/name:\s*'authsettingsV2'/);
  if (at < 0) throw new Error("no authsettingsV2 config resource in functionapp.bicep");
  const start = functionApp.lastIndexOf("resource ", at);
  const declaration = functionApp.slice(start, functionApp.indexOf("\n", start));
  return { declaration, body: block(functionApp, start + declaration.length - 1) };
}

/** `var name = <expression>` in functionapp.bicep (one line, or an array literal). */
function variable(name: string): string {
  const m = new RegExp(`^var ${name}\\s*=\\s*(.*)$`, "m").exec(functionApp);
  if (m?.index === undefined) throw new Error(`no var ${name}`);
  const value = (m[1] as string).trim();
  return value.startsWith("[") ? `[${block(functionApp, m.index, "[", "]")}]` : value;
}

/** The condition of `resource x '...' = if (<condition>) {`. */
function conditionOf(declaration: string): string | undefined {
  return /=\s*if\s*\((.*)\)\s*\{\s*$/.exec(declaration)?.[1]?.trim();
}

/** Easy Auth's excludedPaths: an exact path, or `/prefix/*` for everything below the prefix. */
function excluded(paths: readonly string[], path: string): boolean {
  return paths.some((p) => (p.endsWith("/*") ? path.startsWith(p.slice(0, -1)) : p === path));
}

const ROUTE_PREFIX = (() => {
  const host = JSON.parse(read("host.json")) as { extensions?: { http?: { routePrefix?: string } } };
  return host.extensions?.http?.routePrefix ?? "api";
})();

/** The app's HTTP routes with their auth level, as registered in functions/*.ts. */
function httpRoutes(): { name: string; path: string; authLevel: string }[] {
  const found: { name: string; path: string; authLevel: string }[] = [];
  for (const file of filesUnder("functions", ".ts")) {
    const text = read(file);
    for (const m of text.matchAll(/\.http\(\s*"([^"]+)"\s*,/g)) {
      const options = block(text, (m.index ?? 0) + m[0].length);
      const route = /route:\s*"([^"]+)"/.exec(options)?.[1] ?? (m[1] as string);
      const authLevel = /authLevel:\s*"(\w+)"/.exec(options)?.[1] ?? "function";
      // A route parameter stands for any one segment.
      const path = `/${ROUTE_PREFIX}/${route.replace(/\{[^}]+\}/g, "sample-id")}`;
      found.push({ name: m[1] as string, path, authLevel });
    }
  }
  return found;
}

describe("App Service Authentication for approvers (functionapp.bicep)", () => {
  const { declaration, body } = authResource();
  const condition = conditionOf(declaration);
  const properties = block(body, body.search(/^\s*properties\s*:/m));
  const globalValidation = block(properties, properties.indexOf("globalValidation:"));
  const excludedPaths = bicepStrings(variable("unauthenticatedPaths"));

  it("is a config resource of the site, deployed only when an app registration is given", () => {
    expect(declaration).toMatch(/^resource \w+ 'config' = if \(/);
    expect(condition).toBe("approverAuthEnabled");
    expect(variable("approverAuthEnabled")).toBe("!empty(approverAuthClientId)");
    const module = bicepFile("infra/modules/functionapp.bicep");
    expect(module.params.get("approverAuthClientId")).toEqual({ required: false });
    expect(functionApp).toMatch(/^param approverAuthClientId string = ''$/m);
  });

  it("tells the app by the same condition (AKS_EGRESS_APPROVER_AUTH), in values the code accepts", () => {
    const value = appSettings().get(SETTING_NAMES.approverAuth);
    expect(value).toBe(`${condition} ? 'appservice' : 'none'`);
    const [whenOn, whenOff] = bicepStrings(value ?? "");
    const base = {
      AKS_EGRESS_FIREWALL_POLICIES:
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fw",
      AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
      AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
    };
    expect(loadSettings({ ...base, [SETTING_NAMES.approverAuth]: whenOn }).approverAuth).toBe("appservice");
    expect(loadSettings({ ...base, [SETTING_NAMES.approverAuth]: whenOff }).approverAuth).toBe("none");
  });

  it("signs in with Microsoft Entra ID, single tenant, in the cloud deployed to", () => {
    const entra = block(properties, properties.indexOf("azureActiveDirectory:"));
    expect(entra).toMatch(/enabled:\s*true/);
    const registration = topLevelEntries(block(entra, entra.indexOf("registration:")));
    expect(registration.get("clientId")).toBe("approverAuthClientId");
    expect(registration.get("openIdIssuer")).toBe(
      `'\${environment().authentication.loginEndpoint}\${tenant().tenantId}/v2.0'`,
    );
    // No secret to store or rotate: ID tokens only.
    expect(entra).not.toMatch(/clientSecret/);
    expect(topLevelEntries(block(properties, properties.indexOf("platform:"))).get("enabled")).toBe("true");
  });

  it("requires sign-in, sending browsers to the sign-in page, except on the excluded paths", () => {
    const entries = topLevelEntries(globalValidation);
    expect(entries.get("requireAuthentication")).toBe("true");
    expect(entries.get("unauthenticatedClientAction")).toBe("'RedirectToLoginPage'");
    expect(entries.get("redirectToProvider")).toBe("'azureactivedirectory'");
    expect(entries.get("excludedPaths")).toBe("unauthenticatedPaths");
    for (const path of excludedPaths) expect(path, path).toMatch(/^\/[\w/-]*(\/\*)?$/);
  });

  it("leaves the Event Grid webhook and the Durable webhooks without sign-in", () => {
    const kinds = new Set(registeredFunctions().map((f) => f.kind));
    expect(kinds.has("eventGrid")).toBe(true);
    // What the postdeploy hook subscribes (query string aside).
    const hook = read("infra", "hooks", "postdeploy.sh");
    const webhook = /https:\/\/\$AZURE_FUNCTION_APP_HOSTNAME(\/[^?"]+)\?/.exec(hook)?.[1];
    expect(webhook).toBe("/runtime/webhooks/eventgrid");
    expect(excluded(excludedPaths, webhook as string)).toBe(true);
    for (const path of [
      "/runtime/webhooks/durabletask/instances/abc",
      "/runtime/webhooks/durabletask/instances/abc/raiseEvent/approval",
      "/runtime/webhooks/durabletask/orchestrators/PolicyReconciler",
    ])
      expect(excluded(excludedPaths, path), path).toBe(true);
  });

  it("leaves every keyed route without sign-in and requires it for the anonymous (approval) routes", () => {
    const routes = httpRoutes();
    expect(routes.map((r) => r.name).sort()).toEqual(
      expect.arrayContaining(["approvals", "reconcile", "status"]),
    );
    for (const route of routes) {
      if (route.authLevel === "anonymous")
        expect(excluded(excludedPaths, route.path), `${route.name} ${route.path}`).toBe(false);
      else expect(excluded(excludedPaths, route.path), `${route.name} ${route.path}`).toBe(true);
    }
    expect(excluded(excludedPaths, "/api/status")).toBe(true);
    expect(excluded(excludedPaths, "/api/reconcile")).toBe(true);
    expect(excluded(excludedPaths, "/api/approvals/0123")).toBe(false);
  });

  it("keeps the token store off (no content share on Flex Consumption; the app reads no tokens)", () => {
    const login = block(properties, properties.indexOf("login: {"));
    expect(topLevelEntries(block(login, login.indexOf("tokenStore:"))).get("enabled")).toBe("false");
    expect(topLevelEntries(block(properties, properties.indexOf("httpSettings:"))).get("requireHttps")).toBe(
      "true",
    );
  });

  it("is written after the app settings, not concurrently with them", () => {
    expect(bicepStrings(body)).toContain("authsettingsV2");
    expect(block(body, body.indexOf("dependsOn:"), "[", "]")).toMatch(/\bappSettings\b/);
  });
});

describe("the approverAuthClientId parameter", () => {
  it("is optional in main.bicep and passed to the Function App module", () => {
    const main = bicepFile("infra/main.bicep");
    expect(main.params.get("approverAuthClientId")).toEqual({ required: false });
    expect(main.text).toMatch(/^param approverAuthClientId string = ''$/m);
    const use = moduleUses(main).find((m) => m.path === "modules/functionapp.bicep");
    expect(use?.params.has("approverAuthClientId")).toBe(true);
  });

  it("comes from the azd environment, empty by default", () => {
    const file = JSON.parse(read("infra", "main.parameters.json")) as {
      parameters: Record<string, { value: string }>;
    };
    expect(file.parameters.approverAuthClientId?.value).toBe(`\${GUARD_APPROVER_AUTH_CLIENT_ID=}`);
  });

  it("is documented: the variable, the app registration and its redirect URI, the setting", () => {
    const readme = read("infra", "README.md");
    for (const text of [
      "GUARD_APPROVER_AUTH_CLIENT_ID",
      "approverAuthClientId",
      "az ad app create",
      "/.auth/login/aad/callback",
      "--enable-id-token-issuance true",
      SETTING_NAMES.approverAuth,
      "/runtime/webhooks/eventgrid",
      "/api/status",
      "/api/reconcile",
      "Flex Consumption",
    ])
      expect(readme, text).toContain(text);
  });
});

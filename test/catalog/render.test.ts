import { describe, expect, it } from "vitest";
import {
  catalogVersions,
  type Feature,
  loadCatalog,
  parseParameters,
  type RenderRequest,
  renderRules,
} from "../../catalog";

const render = (
  version: string,
  cloud: RenderRequest["cloud"],
  region: string,
  features: Feature[] = [],
  params: string[] = [],
  privateCluster = false,
) =>
  renderRules({
    catalog: loadCatalog(version),
    cloud,
    region,
    features,
    parameters: parseParameters(params),
    privateCluster,
  });

const appHosts = (r: ReturnType<typeof render>) => r.applicationRules.flatMap((a) => a.targetFqdns);

describe("translation to Azure Firewall rules", () => {
  it("turns HTTP/HTTPS ports into application rules and the API server's TCP ports into a service-tag network rule", () => {
    const rules = render("2020-02-29", "AzureCloud", "westeurope");
    const hcp = rules.applicationRules.find((a) => a.targetFqdns[0] === "*.hcp.westeurope.azmk8s.io");
    expect(hcp?.protocols).toEqual([{ protocolType: "Https", port: 443 }]);
    const tunnel = rules.networkRules.find((n) => n.destinationAddresses.includes("AzureCloud.westeurope"));
    expect(tunnel).toMatchObject({
      ipProtocols: ["TCP"],
      destinationPorts: ["22", "9000"],
      destinationFqdns: [],
    });
    // No network rule ever carries a wildcard host.
    expect(rules.networkRules.flatMap((n) => n.destinationFqdns).some((f) => f.includes("*"))).toBe(false);
  });

  it("sends plain FQDNs on other ports to destinationFqdns and says DNS proxy is needed", () => {
    const rules = render("2020-01-22", "AzureCloud", "westeurope", ["windows"]);
    const kms = rules.networkRules.find((n) => n.destinationFqdns.includes("kms.core.windows.net"));
    expect(kms).toMatchObject({ ipProtocols: ["TCP"], destinationPorts: ["1688"], destinationAddresses: [] });
    expect(kms?.description).toContain("Needs DNS proxy enabled on the firewall policy.");
    const ntp = rules.networkRules.find((n) => n.destinationFqdns.includes("ntp.ubuntu.com"));
    expect(ntp).toMatchObject({ ipProtocols: ["UDP"], destinationPorts: ["123"] });
  });

  it("merges one host needed by two features into one rule annotated with both", () => {
    const rules = render("2020-02-29", "AzureCloud", "westeurope", ["azure-policy", "azure-monitor"]);
    const dc = rules.applicationRules.filter((a) => a.targetFqdns[0] === "dc.services.visualstudio.com");
    expect(dc).toHaveLength(1);
    expect(dc[0]?.feature).toBe("azure-monitor,azure-policy");
    expect(dc[0]?.description).toMatch(/^azure-monitor, azure-policy: /);
  });

  it("locks the tunnel to the API server IP when it is known, and merges ports per destination and protocol", () => {
    const rules = render(
      "2020-02-29",
      "AzureCloud",
      "westeurope",
      ["pod-api-access"],
      ["apiServerIp=20.50.1.10", "dnsServers=10.0.0.4,10.0.0.5"],
    );
    const toApi = rules.networkRules.filter((n) => n.destinationAddresses.includes("20.50.1.10"));
    expect(toApi).toEqual([
      expect.objectContaining({
        ipProtocols: ["TCP"],
        destinationPorts: ["22", "443", "9000"],
        feature: "base,pod-api-access",
      }),
    ]);
    expect(
      rules.networkRules.some((n) => n.destinationAddresses.some((a) => a.startsWith("AzureCloud."))),
    ).toBe(false);
    const dns = rules.networkRules.find((n) => n.destinationPorts.includes("53"));
    expect(dns).toMatchObject({ ipProtocols: ["UDP"], destinationAddresses: ["10.0.0.4", "10.0.0.5"] });
    expect(rules.unresolved.map((u) => u.entry)).toEqual(["port-tcp-443"]);
  });

  it("reports, never guesses, what needs a value only the cluster knows", () => {
    const rules = render("2020-02-29", "AzureCloud", "westeurope", ["pod-api-access", "dev-spaces"]);
    expect(rules.unresolved.map((u) => [u.feature, u.entry])).toEqual([
      ["base", "port-tcp-443"],
      ["pod-api-access", "api-server-ip-tcp-443"],
      ["pod-api-access", "dns-udp-53"],
      ["dev-spaces", "dev-spaces-azds-x-x-azds-io"],
    ]);
    expect(rules.unresolved.find((u) => u.entry === "api-server-ip-tcp-443")?.reason).toMatch(
      /needs --param apiServerIp=/,
    );
    expect(appHosts(rules).some((h) => h.startsWith("azds-"))).toBe(false);
    const withGuid = render(
      "2020-02-29",
      "AzureCloud",
      "westeurope",
      ["dev-spaces"],
      ["devSpacesGuid=3f2b9c1e"],
    );
    expect(appHosts(withGuid)).toContain("azds-3f2b9c1e.westeurope.azds.io");
  });

  it("normalises the document's artefacts", () => {
    const ds = render("2020-01-22", "AzureCloud", "westeurope", ["dev-spaces", "windows"]);
    expect(ds.applicationRules.find((a) => a.targetFqdns[0] === "gcr.io")?.protocols).toEqual([
      { protocolType: "Https", port: 443 },
    ]);
    expect(appHosts(ds)).toContain("www.msftconnecttest.com");
    expect(appHosts(render("2020-01-22", "AzureChinaCloud", "chinaeast2"))).toContain("*.chinacloudapi.cn");
    expect(appHosts(render("2023-06", "AzureChinaCloud", "chinaeast2"))).toContain(
      "*.data.mcr.microsoft.com",
    );
  });

  it("uses each cloud's own hosts", () => {
    expect(appHosts(render("2023-06", "AzureUSGovernment", "usgovvirginia"))).toEqual(
      expect.arrayContaining([
        "*.hcp.usgovvirginia.cx.aks.containerservice.azure.us",
        "login.microsoftonline.us",
        "management.usgovcloudapi.net",
      ]),
    );
    const china = render("2023-06", "AzureChinaCloud", "chinaeast2");
    expect(
      china.networkRules.find((n) => n.destinationAddresses.includes("AzureCloud.chinaeast2"))
        ?.destinationPorts,
    ).toEqual(["22", "9000"]);
    expect(appHosts(china)).not.toContain("login.microsoftonline.com");
  });

  it("leaves out what private clusters do not need", () => {
    const open = render("2023-06", "AzureCloud", "westeurope");
    const closed = render("2023-06", "AzureCloud", "westeurope", [], [], true);
    expect(appHosts(open)).toContain("*.hcp.westeurope.azmk8s.io");
    expect(appHosts(closed)).not.toContain("*.hcp.westeurope.azmk8s.io");
    expect(closed.networkRules.some((n) => n.destinationAddresses.includes("AzureCloud.westeurope"))).toBe(
      false,
    );
  });

  it("honours region-limited entries and renders no alternatives", () => {
    const listed = render("2026-06", "AzureCloud", "westeurope", ["cluster-extensions"]);
    const unlisted = render("2026-06", "AzureCloud", "northeurope", ["cluster-extensions"]);
    const monitor = render("2023-06", "AzureCloud", "westeurope", ["azure-monitor"]);
    expect(appHosts(listed)).toContain("arcmktplaceprod.westeurope.data.azurecr.io");
    expect(appHosts(unlisted).some((h) => h.startsWith("arcmktplaceprod.north"))).toBe(false);
    expect(monitor.networkRules.some((n) => n.destinationAddresses.includes("AzureMonitor"))).toBe(false);
  });

  it("reports a feature the version has nothing for", () => {
    const rules = render("2023-06", "AzureChinaCloud", "chinaeast2", [
      "dev-spaces",
      "keyvault-secrets-provider",
    ]);
    expect(rules.unresolved).toEqual([
      expect.objectContaining({
        feature: "dev-spaces",
        reason: "catalog 2023-06 lists no requirements for dev-spaces in AzureChinaCloud.",
      }),
      expect.objectContaining({ feature: "keyvault-secrets-provider" }),
    ]);
  });

  it("gives byte-identical output for the same input in any feature order, with valid unique names", () => {
    const a = render("2023-06", "AzureCloud", "westeurope", ["gpu", "windows", "azure-monitor"]);
    const b = render("2023-06", "AzureCloud", "westeurope", ["azure-monitor", "windows", "gpu", "gpu"]);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const names = [...a.applicationRules, ...a.networkRules].map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9][a-z0-9._-]{0,78}[a-z0-9_]$/);
  });

  it("never writes * as a destination", () => {
    for (const version of catalogVersions()) {
      const all = render(version, "AzureCloud", "eastus", [
        "ubuntu-updates",
        "gpu",
        "azure-monitor",
        "azure-policy",
        "windows",
      ]);
      expect(all.networkRules.flatMap((n) => n.destinationAddresses)).not.toContain("*");
    }
  });
});

describe("parameters", () => {
  it.each([
    ["apiServerIp=not-an-ip", /bad value "not-an-ip" for parameter apiServerIp/],
    ["dnsServers=10.0.0.1,nope", /bad value "10.0.0.1,nope" for parameter dnsServers/],
    ["apiServerSubnet=10.0.0.0", /bad value "10.0.0.0" for parameter apiServerSubnet/],
    [
      "colour=blue",
      /unknown parameter "colour". Valid parameters: apiServerIp, dnsServers, apiServerSubnet, devSpacesGuid/,
    ],
    ["apiServerIp=", /bad value "" for parameter apiServerIp/],
  ])("rejects %s", (pair, expected) => {
    expect(() => parseParameters([pair])).toThrow(expected);
  });
});

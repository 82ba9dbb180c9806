import { describe, expect, it } from "vitest";
import {
  addressesOverlap,
  anyPortOverlap,
  hostsOverlap,
  ipv4Range,
  protocolsOverlap,
} from "../../drift/overlap";

describe("hostsOverlap", () => {
  it.each<[string, string, boolean]>([
    ["mcr.microsoft.com", "mcr.microsoft.com", true],
    ["MCR.microsoft.com", "mcr.microsoft.com", true],
    ["mcr.microsoft.com", "*", true],
    ["mcr.microsoft.com", "*.microsoft.com", true],
    ["a.b.microsoft.com", "*.microsoft.com", true],
    ["*.data.mcr.microsoft.com", "*.microsoft.com", true],
    // A Deny of one host inside a needed wildcard blocks part of it.
    ["*.hcp.westeurope.azmk8s.io", "x.hcp.westeurope.azmk8s.io", true],
    ["mcr.microsoft.com", "*.data.mcr.microsoft.com", false],
    ["microsoft.com", "*.microsoft.com", false],
    ["mcr.microsoft.com", "mcr.microsoft.co", false],
    ["*.a.com", "*.b.com", false],
  ])("%s vs %s -> %s", (a, b, expected) => {
    expect(hostsOverlap(a, b)).toBe(expected);
    expect(hostsOverlap(b, a)).toBe(expected);
  });
});

describe("addressesOverlap", () => {
  it.each<[string, string, boolean]>([
    ["10.1.0.0/22", "*", true],
    ["10.1.0.0/22", "10.0.0.0/8", true],
    ["10.1.0.0/22", "10.1.3.255", true],
    ["10.1.0.0/22", "10.1.4.0/24", false],
    ["10.1.0.0/22", "10.1.2.0-10.1.9.0", true],
    ["10.1.0.0/22", "192.168.0.0/16", false],
    ["AzureCloud.westeurope", "AzureCloud", true],
    ["AzureCloud.westeurope", "azurecloud.westeurope", true],
    ["AzureCloud.westeurope", "AzureCloud.northeurope", false],
    ["AzureCloud.westeurope", "10.0.0.0/8", false],
    ["2001:db8::/32", "2001:DB8::/32", true],
  ])("%s vs %s -> %s", (a, b, expected) => {
    expect(addressesOverlap(a, b)).toBe(expected);
    expect(addressesOverlap(b, a)).toBe(expected);
  });

  it("reads CIDRs whose address is not the network's first", () => {
    expect(ipv4Range("10.1.2.3/22")).toEqual(ipv4Range("10.1.0.0/22"));
    expect(ipv4Range("10.1.0.0/33")).toBeUndefined();
    expect(ipv4Range("300.1.0.0")).toBeUndefined();
  });
});

describe("ports and protocols", () => {
  it.each<[string[], string[], boolean]>([
    [["443"], ["*"], true],
    [["443"], ["443"], true],
    [["9000"], ["9000-9010"], true],
    [["22", "9000"], ["8000-8999"], false],
    [["443"], ["80"], false],
    [["443"], ["nonsense"], false],
  ])("ports %j vs %j -> %s", (a, b, expected) => {
    expect(anyPortOverlap(a, b)).toBe(expected);
  });

  it.each<[string[], string[], boolean]>([
    [["TCP"], ["Any"], true],
    [["UDP"], ["udp"], true],
    [["TCP"], ["UDP", "ICMP"], false],
    [["TCP"], [], false],
  ])("protocols %j vs %j -> %s", (a, b, expected) => {
    expect(protocolsOverlap(a, b)).toBe(expected);
  });
});

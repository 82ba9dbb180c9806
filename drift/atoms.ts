// The smallest things a rule allows (DESIGN §3 "Azure Firewall's limits shape the layout"): an
// application atom is one host on one protocol and port, a network atom one IP protocol to one
// destination (address, service tag or FQDN) on one port. The shared layout writes each atom once,
// with the sources of every cluster that needs it, and compares clusters' access atom by atom.
import { DNS_PROXY_NOTE, FEATURES, type RuleSet } from "../catalog";
import type { RuleBody } from "./types";

export interface Atom {
  /** Canonical and lower-cased: equal keys allow exactly the same traffic. */
  key: string;
  kind: "app" | "net";
  /** Application: "Https", "Http"; network: "TCP", "UDP". */
  protocol: string;
  /** "443", or a range / "*" as a foreign rule may hold. */
  port: string;
  destination: string;
  /** Network: the destination is an FQDN (needs DNS proxy), not an address or service tag. */
  fqdn: boolean;
}

/** What the rendered rules say of an atom: for descriptions and per-cluster change lines. */
export interface AtomInfo {
  atom: Atom;
  features: string[];
  purposes: string[];
}

export function appAtom(host: string, protocolType: string, port: number | string): Atom {
  const protocol = PROTOCOL_CASE[protocolType.toLowerCase()] ?? protocolType;
  const destination = host.trim().toLowerCase();
  const p = String(port).trim();
  return {
    key: `app|${protocol.toLowerCase()}:${p}|${destination}`,
    kind: "app",
    protocol,
    port: p,
    destination,
    fqdn: true,
  };
}

export function netAtom(ipProtocol: string, destination: string, port: string, fqdn: boolean): Atom {
  const protocol = ipProtocol.trim().toUpperCase();
  const d = destination.trim().toLowerCase();
  const p = port.trim();
  return {
    key: `net|${protocol.toLowerCase()}:${p}|${fqdn ? "f" : "a"}|${d}`,
    kind: "net",
    protocol,
    port: p,
    destination: d,
    fqdn,
  };
}

const PROTOCOL_CASE: Readonly<Record<string, string>> = { http: "Http", https: "Https", mssql: "Mssql" };

/** "Https:443", "TCP:9000": how people read an atom's ports. */
export function atomPorts(atom: Atom): string {
  return `${atom.protocol}:${atom.port}`;
}

/**
 * The atoms of one rule as written (the app's or anyone's): application rules by target FQDN ×
 * protocol, network rules by IP protocol × destination × port. What they cannot express (URLs, FQDN
 * tags, web categories, IP Groups) has no atom: such a rule is never the app's.
 */
export function atomsOfRule(rule: RuleBody): Atom[] {
  const r = rule as Readonly<Record<string, unknown>>;
  const list = (field: string): unknown[] => (Array.isArray(r[field]) ? (r[field] as unknown[]) : []);
  const atoms: Atom[] = [];
  if (rule.ruleType === "ApplicationRule") {
    for (const host of list("targetFqdns")) {
      for (const p of list("protocols")) {
        const { protocolType, port } = (p ?? {}) as { protocolType?: unknown; port?: unknown };
        if (typeof host !== "string" || typeof protocolType !== "string") continue;
        atoms.push(appAtom(host, protocolType, String(port ?? "")));
      }
    }
  } else if (rule.ruleType === "NetworkRule") {
    const destinations = [
      ...list("destinationAddresses").map((d) => [d, false] as const),
      ...list("destinationFqdns").map((d) => [d, true] as const),
    ];
    for (const protocol of list("ipProtocols")) {
      for (const [destination, fqdn] of destinations) {
        for (const port of list("destinationPorts")) {
          if (typeof protocol !== "string" || typeof destination !== "string") continue;
          atoms.push(netAtom(protocol, destination, String(port), fqdn));
        }
      }
    }
  }
  return atoms;
}

/** Features named at the head of a description ("base, gpu: …"), when it names any. */
export function featuresOfDescription(description: string | undefined): string[] {
  const text = description ?? "";
  const at = text.indexOf(": ");
  if (at < 0) return [];
  const head = text.slice(text.lastIndexOf(" | ", at) < 0 ? 0 : text.lastIndexOf(" | ", at) + 3, at);
  const names = head.split(",").map((s) => s.trim());
  return names.every((n) => (FEATURES as readonly string[]).includes(n)) ? names : [];
}

/** The atoms one cluster's rendered rules allow, with the features and purposes behind each. */
export function atomsOfRuleSet(rules: RuleSet): AtomInfo[] {
  const infos: AtomInfo[] = [];
  const purposeOf = (description: string, feature: string) => {
    const head = `${feature.split(",").join(", ")}: `;
    const text = description.startsWith(head) ? description.slice(head.length) : description;
    return text.replace(` ${DNS_PROXY_NOTE}`, "");
  };
  for (const rule of rules.applicationRules) {
    for (const host of rule.targetFqdns)
      for (const p of rule.protocols)
        infos.push({
          atom: appAtom(host, p.protocolType, p.port),
          features: rule.feature.split(","),
          purposes: [purposeOf(rule.description, rule.feature)],
        });
  }
  for (const rule of rules.networkRules) {
    const destinations = [
      ...rule.destinationAddresses.map((d) => [d, false] as const),
      ...rule.destinationFqdns.map((d) => [d, true] as const),
    ];
    for (const protocol of rule.ipProtocols)
      for (const [destination, fqdn] of destinations)
        for (const port of rule.destinationPorts)
          infos.push({
            atom: netAtom(protocol, destination, port, fqdn),
            features: rule.feature.split(","),
            purposes: [purposeOf(rule.description, rule.feature)],
          });
  }
  return infos;
}

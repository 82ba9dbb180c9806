// Validation of a rule collection group PUT body, so that a renderer bug shows up as the 400 Azure
// would give rather than as silently stored junk. The priority rules and the discriminators come from
// the REST spec; codes other than ARM's generic ones are the emulator's approximations (Azure's exact
// codes for these cases are not documented) and say so in the message.
import { asObject, asString, isObject } from "./json";
import type { JsonObject, JsonValue } from "./types";

export interface GroupBodyProblem {
  code: string;
  message: string;
}

export interface ValidGroupBody {
  priority: number;
  ruleCollections: JsonObject[];
}

export interface GroupBodyContext {
  /** Whether the parent policy has DNS proxy on: network rules with FQDNs need it. */
  dnsProxyEnabled: boolean;
}

const MIN_PRIORITY = 100;
const MAX_PRIORITY = 65000;
const COLLECTION_TYPES = ["FirewallPolicyFilterRuleCollection", "FirewallPolicyNatRuleCollection"];
const APPLICATION_PROTOCOLS = ["http", "https", "mssql"];
const IP_PROTOCOLS = ["tcp", "udp", "icmp", "any"];

class Problem extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function invalid(message: string): never {
  throw new Problem("InvalidRequestFormat", message);
}

function isPriority(value: JsonValue | undefined): value is number {
  return (
    typeof value === "number" && Number.isInteger(value) && value >= MIN_PRIORITY && value <= MAX_PRIORITY
  );
}

function stringArray(value: JsonValue | undefined, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    invalid(`${where} must be an array of strings`);
  }
  return value as string[];
}

function nonEmptyName(value: JsonValue | undefined, where: string): string {
  const name = asString(value);
  if (name === undefined || name.trim() === "") invalid(`${where}.name is required`);
  return name;
}

function checkApplicationRule(rule: JsonObject, where: string): void {
  const protocols = rule.protocols;
  if (!Array.isArray(protocols) || protocols.length === 0)
    invalid(`${where}.protocols must be a non-empty array`);
  protocols.forEach((protocol, i) => {
    const p = asObject(protocol);
    const type = asString(p?.protocolType);
    if (!type || !APPLICATION_PROTOCOLS.includes(type.toLowerCase())) {
      invalid(`${where}.protocols[${i}].protocolType must be Http, Https or Mssql`);
    }
    const port = p?.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 64000) {
      invalid(`${where}.protocols[${i}].port must be an integer from 0 to 64000`);
    }
  });
  const targets = [
    ...stringArray(rule.targetFqdns, `${where}.targetFqdns`),
    ...stringArray(rule.fqdnTags, `${where}.fqdnTags`),
    ...stringArray(rule.targetUrls, `${where}.targetUrls`),
    ...stringArray(rule.webCategories, `${where}.webCategories`),
  ];
  if (targets.length === 0) invalid(`${where} needs targetFqdns, fqdnTags, targetUrls or webCategories`);
  checkSources(rule, where);
}

function checkNetworkRule(rule: JsonObject, where: string, context: GroupBodyContext): void {
  const protocols = stringArray(rule.ipProtocols, `${where}.ipProtocols`);
  if (protocols.length === 0) invalid(`${where}.ipProtocols must be a non-empty array`);
  for (const protocol of protocols) {
    if (!IP_PROTOCOLS.includes(protocol.toLowerCase())) {
      invalid(`${where}.ipProtocols: ${protocol} is not one of TCP, UDP, ICMP, Any`);
    }
  }
  if (stringArray(rule.destinationPorts, `${where}.destinationPorts`).length === 0) {
    invalid(`${where}.destinationPorts must be a non-empty array`);
  }
  const fqdns = stringArray(rule.destinationFqdns, `${where}.destinationFqdns`);
  const destinations = [
    ...stringArray(rule.destinationAddresses, `${where}.destinationAddresses`),
    ...stringArray(rule.destinationIpGroups, `${where}.destinationIpGroups`),
    ...fqdns,
  ];
  if (destinations.length === 0) {
    invalid(`${where} needs destinationAddresses, destinationFqdns or destinationIpGroups`);
  }
  const wildcard = fqdns.find((fqdn) => fqdn.includes("*"));
  if (wildcard !== undefined) {
    throw new Problem(
      "FirewallPolicyNetworkRuleWildcardFqdnNotSupported",
      `${where}.destinationFqdns: network rules take no wildcard FQDNs (${wildcard}) [emulator code]`,
    );
  }
  if (fqdns.length > 0 && !context.dnsProxyEnabled) {
    throw new Problem(
      "FirewallPolicyNetworkRuleFqdnRequiresDnsProxy",
      `${where}.destinationFqdns needs DNS proxy enabled on the firewall policy [emulator code]`,
    );
  }
  checkSources(rule, where);
}

function checkSources(rule: JsonObject, where: string): void {
  const sources = [
    ...stringArray(rule.sourceAddresses, `${where}.sourceAddresses`),
    ...stringArray(rule.sourceIpGroups, `${where}.sourceIpGroups`),
  ];
  if (sources.length === 0) invalid(`${where} needs sourceAddresses or sourceIpGroups`);
}

function checkFilterCollection(collection: JsonObject, where: string, context: GroupBodyContext): void {
  const action = asString(asObject(collection.action)?.type);
  if (!action || !["allow", "deny"].includes(action.toLowerCase())) {
    invalid(`${where}.action.type must be Allow or Deny`);
  }
  const rules = collection.rules ?? [];
  if (!Array.isArray(rules)) invalid(`${where}.rules must be an array`);
  const names = new Set<string>();
  let kind: string | undefined;
  rules.forEach((item, i) => {
    const ruleWhere = `${where}.rules[${i}]`;
    if (!isObject(item)) invalid(`${ruleWhere} must be an object`);
    const name = nonEmptyName(item.name, ruleWhere).toLowerCase();
    if (names.has(name)) invalid(`${ruleWhere}.name ${String(item.name)} is not unique in its collection`);
    names.add(name);
    const ruleType = asString(item.ruleType);
    if (ruleType === "ApplicationRule") checkApplicationRule(item, ruleWhere);
    else if (ruleType === "NetworkRule") checkNetworkRule(item, ruleWhere, context);
    else invalid(`${ruleWhere}.ruleType must be ApplicationRule or NetworkRule in a filter rule collection`);
    kind ??= ruleType;
    if (kind !== ruleType) {
      throw new Problem(
        "FirewallPolicyRuleCollectionMixedRuleTypes",
        `${where} mixes ${kind} and ${ruleType}: a rule collection holds one rule type [emulator code]`,
      );
    }
  });
}

function checkCollection(
  item: JsonValue,
  i: number,
  names: Set<string>,
  context: GroupBodyContext,
): JsonObject {
  const where = `properties.ruleCollections[${i}]`;
  if (!isObject(item)) invalid(`${where} must be an object`);
  const type = asString(item.ruleCollectionType);
  if (type === undefined || !COLLECTION_TYPES.includes(type)) {
    invalid(`${where}.ruleCollectionType is required: one of ${COLLECTION_TYPES.join(", ")}`);
  }
  const name = nonEmptyName(item.name, where).toLowerCase();
  if (names.has(name)) invalid(`${where}.name ${String(item.name)} is not unique in the group`);
  names.add(name);
  // Optional in the REST spec (FirewallPolicyRuleCollection): absent (or null) is valid; present, it
  // must be in range. The group's own priority stays required below.
  if (item.priority !== undefined && item.priority !== null && !isPriority(item.priority)) {
    throw new Problem(
      "FirewallPolicyRuleCollectionInvalidPriorityValue",
      `${where}.priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY} when given`,
    );
  }
  if (type === "FirewallPolicyFilterRuleCollection") checkFilterCollection(item, where, context);
  else if (item.rules !== undefined && !Array.isArray(item.rules)) invalid(`${where}.rules must be an array`);
  return item;
}

/** Checks a PUT body; returns what is stored, or the problem to answer with 400. */
export function validateGroupBody(
  body: JsonValue | undefined,
  context: GroupBodyContext,
): ValidGroupBody | GroupBodyProblem {
  try {
    if (!isObject(body)) invalid("the request body must be a JSON object");
    const properties = body.properties;
    if (!isObject(properties)) invalid("properties is required");
    if (!isPriority(properties.priority)) {
      throw new Problem(
        "FirewallPolicyRuleCollectionGroupInvalidPriorityValue",
        `properties.priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}`,
      );
    }
    const collections = properties.ruleCollections ?? [];
    if (!Array.isArray(collections)) invalid("properties.ruleCollections must be an array");
    const names = new Set<string>();
    return {
      priority: properties.priority,
      ruleCollections: collections.map((item, i) => checkCollection(item, i, names, context)),
    };
  } catch (error: unknown) {
    if (error instanceof Problem) return { code: error.code, message: error.message };
    throw error;
  }
}

export function isGroupBodyProblem(value: ValidGroupBody | GroupBodyProblem): value is GroupBodyProblem {
  return "code" in value;
}

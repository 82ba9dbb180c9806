// Least privilege: the custom role's actions are exactly FIREWALL_POLICY_ACTIONS; every other role is a
// narrow built-in one; nothing grants Owner, Contributor or the right to grant rights.
import { describe, expect, it } from "vitest";
import { FIREWALL_POLICY_ACTIONS, READ_ACTIONS } from "../../azure/permissions";
import { bicepGuids, bicepStrings, block, read, stripBicepComments } from "./infra-files";

/** Built-in roles the deployment may assign, and where. */
const ALLOWED_BUILT_IN_ROLES: Record<string, string> = {
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader (clusters and subnets)",
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner (host storage, task hub, deployment)",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor (task hub)",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor (task hub)",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor (Event Grid dead letters)",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher (telemetry)",
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User (signing key)",
  "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender (notification topic)",
};
const FORBIDDEN_ROLES: Record<string, string> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
  "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
  "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
  "4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor",
};

/** The custom role's permission lists, read from its Bicep. */
function customRole(text: string) {
  const code = stripBicepComments(text);
  const permissions = block(code, code.indexOf("permissions:"), "[", "]");
  const list = (name: string) => {
    const at = permissions.search(new RegExp(`\\b${name}\\s*:`));
    return at < 0 ? [] : bicepStrings(block(permissions, at, "[", "]"));
  };
  return {
    actions: list("actions"),
    notActions: list("notActions"),
    dataActions: list("dataActions"),
    type: /type:\s*'(\w+)'/.exec(code)?.[1],
  };
}

const roleBicep = read("infra", "modules", "firewall-policy-role.bicep");

describe("the firewall policy writer role", () => {
  it("has exactly the actions of FIREWALL_POLICY_ACTIONS, nothing else", () => {
    const role = customRole(roleBicep);
    expect(role.type).toBe("CustomRole");
    expect([...role.actions].sort()).toEqual([...FIREWALL_POLICY_ACTIONS].sort());
    expect(role.notActions).toEqual([]);
    expect(role.dataActions).toEqual([]);
  });

  it("would notice an extra or a wildcard action", () => {
    const wider = roleBicep.replace(
      "'Microsoft.Network/firewallPolicies/read'",
      "'Microsoft.Network/firewallPolicies/read'\n          'Microsoft.Network/firewallPolicies/*'",
    );
    expect([...customRole(wider).actions].sort()).not.toEqual([...FIREWALL_POLICY_ACTIONS].sort());
  });

  it("is assigned to the app's identity on the policies' resource groups or the policies themselves", () => {
    const main = stripBicepComments(read("infra", "main.bicep"));
    expect(main).toMatch(/param firewallRoleScope string = 'resourceGroup'/);
    expect(main).toMatch(/@allowed\(\['resourceGroup', 'policy'\]\)\s*\n(@[^\n]*\n)*param firewallRoleScope/);
    expect(main).toContain("module firewallOnResourceGroup 'modules/role-assignment-resource-group.bicep'");
    expect(main).toContain("module firewallOnPolicy 'modules/role-assignment-firewall-policy.bicep'");
    expect(main).toMatch(/roleDefinitionGuid:\s*firewallPolicyWriter\.outputs\.roleGuid/);
    const onPolicy = stripBicepComments(read("infra", "modules", "role-assignment-firewall-policy.bicep"));
    expect(onPolicy).toMatch(/'Microsoft\.Network\/firewallPolicies@[\d-]+' existing/);
    expect(onPolicy).toMatch(/scope:\s*policy\b/);
  });
});

describe("every role assignment", () => {
  const guids = bicepGuids();

  it("uses only the narrow built-in roles listed here (or the custom role)", () => {
    const unexpected = [...guids.keys()].filter((g) => !(g in ALLOWED_BUILT_IN_ROLES));
    expect(unexpected.map((g) => `${g} in ${guids.get(g)?.join(", ")}`)).toEqual([]);
  });

  it("never uses Owner, Contributor or a role that grants rights", () => {
    const found = [...guids.keys()].filter((g) => g in FORBIDDEN_ROLES).map((g) => FORBIDDEN_ROLES[g]);
    expect(found).toEqual([]);
    for (const file of ["main.bicep", "modules/firewall-policy-role.bicep"]) {
      const text = stripBicepComments(read("infra", file));
      expect(text).not.toMatch(/'\*'|\/\*'/);
      expect(text).not.toMatch(/roleDefinitions',\s*'(Owner|Contributor)'/i);
    }
  });

  it("gives Reader for the clusters, EventGrid Data Sender on the notification topic only", () => {
    const main = stripBicepComments(read("infra", "main.bicep"));
    expect(main).toMatch(/var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'/);
    expect(main).toMatch(
      /module notification 'modules\/notification-topic\.bicep' = if \(!empty\(notificationTopicId\)\)/,
    );
    expect(main).toMatch(/roleDefinitionGuid: eventGridDataSenderRoleId/);
    const topic = stripBicepComments(read("infra", "modules", "notification-topic.bicep"));
    expect(topic).toMatch(/scope:\s*topic\b/);
  });
});

describe("what the app reads", () => {
  it("READ_ACTIONS are reads only (within Reader's */read), the topology's among them", () => {
    expect(READ_ACTIONS.filter((a) => !/^Microsoft\.[A-Za-z]+(\/[A-Za-z]+)+\/read$/.test(a))).toEqual([]);
    expect(READ_ACTIONS.filter((a) => /routeTables|azureFirewalls|virtualHubs/.test(a))).toEqual([
      "Microsoft.Network/routeTables/read",
      "Microsoft.Network/azureFirewalls/read",
      "Microsoft.Network/virtualHubs/read",
      "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections/read",
      "Microsoft.Network/virtualHubs/routingIntent/read",
    ]);
  });

  it("Reader covers the subscriptions a pass reads the network in: the clusters' and the policies'", () => {
    const main = stripBicepComments(read("infra", "main.bicep"));
    expect(main).toMatch(
      /var defaultReaderScopes = union\(policySubscriptionScopes, map\(extraSubscriptions, id => '\/subscriptions\/\$\{id\}'\)\)/,
    );
  });
});

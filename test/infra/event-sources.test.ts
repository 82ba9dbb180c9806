// ARM events come from the subscription of the resource they concern: every subscription the app treats
// as in scope (each firewall policy's own and AKS_EGRESS_SUBSCRIPTIONS) gets an Event Grid system topic
// (created by a subscription-scoped module, or an existing one), and the postdeploy hook subscribes
// armEvents to every one of them.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTING_NAMES } from "../../orchestrations/settings";
import {
  appSettings,
  bicepFile,
  bicepOutput,
  bicepVar,
  block,
  type ModuleUse,
  moduleUses,
  read,
  topLevelEntries,
} from "./infra-files";

const main = bicepFile(path.join("infra", "main.bicep"));
const uses = moduleUses(main);
const topics = uses.find((u) => u.path === "modules/eventgrid-subscription.bicep") as ModuleUse;
const perSubscription = bicepFile(path.join("infra", "modules", "eventgrid-subscription.bicep"));
const nested = moduleUses(perSubscription);
const functionApp = uses.find((u) => u.path === "modules/functionapp.bicep") as ModuleUse;
const guard = topLevelEntries(block(functionApp.paramValues.get("guard") ?? "", 0));

/** `union(a, b)` → ["a", "b"]. */
const unionOf = (expression: string | undefined) =>
  (/^union\((\w+),\s*(\w+)\)$/.exec(expression ?? "")?.slice(1) ?? []).sort();

describe("one system topic per subscription in scope", () => {
  it("is a subscription-scoped module, looped over the subscriptions without an existing topic", () => {
    expect(topics.loopSource).toBe("topicSubscriptionIds");
    expect(topics.scope).toBe(`subscription(${topics.loopVariable})`);
    expect(perSubscription.text).toMatch(/^targetScope = 'subscription'$/m);
    expect(bicepVar(main, "topicSubscriptionIds")).toBe(
      "filter(eventSourceSubscriptionIds, s => !contains(subscriptionsWithExistingTopics, s))",
    );
  });

  it("covers exactly the subscriptions the app takes events from", () => {
    expect(unionOf(bicepVar(main, "eventSourceSubscriptionIds"))).toEqual([
      "extraSubscriptions",
      "policySubscriptionIds",
    ]);
    // extraSubscriptions is what the app gets as AKS_EGRESS_SUBSCRIPTIONS ...
    expect(appSettings().get(SETTING_NAMES.subscriptions)).toBe("guard.subscriptions");
    expect(guard.get("subscriptions")).toBe("join(extraSubscriptions, ',')");
    // ... and policySubscriptionIds the subscriptions of the policies it gets as AKS_EGRESS_FIREWALL_POLICIES.
    expect(appSettings().get(SETTING_NAMES.firewallPolicies)).toBe("guard.firewallPolicies");
    expect(guard.get("firewallPolicies")).toBe("join(managedPolicyIds, ',')");
    expect(bicepVar(main, "policySubscriptionIds")).toBe(
      "union(map(managedPolicyIds, id => split(id, '/')[2]), [])",
    );
    // Both lower-case, as the existing topics' subscriptions are compared.
    expect(bicepVar(main, "extraSubscriptions")).toContain("toLower(trim(id))");
    expect(bicepVar(main, "managedPolicyIds")).toBe("union(listedPolicyIds, defaultPolicyIds)");
    expect(bicepVar(main, "subscriptionsWithExistingTopics")).toContain("toLower(split(id, '/')[2])");
  });

  it("creates the topic on the subscription it is deployed to, in that subscription", () => {
    const topic = nested.find((u) => u.path === "eventgrid.bicep") as ModuleUse;
    expect(topic.scope).toBe("rg");
    expect(perSubscription.text).toMatch(/^resource rg 'Microsoft\.Resources\/resourceGroups@[\d-]+' = \{/m);
    const eventgrid = bicepFile(path.join("infra", "modules", "eventgrid.bicep"));
    expect(eventgrid.text).toMatch(/source:\s*subscription\(\)\.id/);
  });

  it("lets every topic dead-letter into the app's storage account, whichever subscription it is in", () => {
    const writer = nested.find((u) => u.path === "eventgrid-deadletter.bicep") as ModuleUse;
    expect(writer.scope).toBe("resourceGroup(storageSubscriptionId, storageResourceGroupName)");
    expect(writer.paramValues.get("systemTopicPrincipalId")).toBe("topic.outputs.principalId");
    expect(topics.paramValues.get("storageSubscriptionId")).toBe("subscription().subscriptionId");
    expect(topics.paramValues.get("storageResourceGroupName")).toBe("rg.name");
    expect(topics.paramValues.get("storageAccountName")).toBe("storage.outputs.name");
    expect(topics.paramValues.get("deadLetterContainerName")).toBe("storage.outputs.deadLetterContainerName");
  });

  it("tells the hook every topic: the created ones (by their known IDs) and the existing ones", () => {
    expect(bicepOutput(main, "EVENTGRID_SYSTEM_TOPIC_IDS")).toBe(
      "join(union(createdTopicIds, existingTopicIds), ',')",
    );
    // The IDs of the created topics are those the module creates: same group and topic name.
    expect(bicepVar(main, "createdTopicIds")).toBe(
      `map(topicSubscriptionIds, s => '/subscriptions/\${s}/resourceGroups/\${rgName}/providers/Microsoft.EventGrid/systemTopics/\${systemTopicName}')`,
    );
    expect(topics.paramValues.get("resourceGroupName")).toBe("rgName");
    expect(topics.paramValues.get("systemTopicName")).toBe("systemTopicName");
    expect(perSubscription.text).toMatch(/resource rg [^\n]*\{\s*name:\s*resourceGroupName\b/);
    const topic = nested.find((u) => u.path === "eventgrid.bicep") as ModuleUse;
    expect(topic.paramValues.get("systemTopicName")).toBe("systemTopicName");
  });

  it("takes existing topics as resource IDs, and the older name and group of this subscription's", () => {
    expect(main.params.has("existingSystemTopicIds")).toBe(true);
    expect(bicepVar(main, "existingTopicIds")).toMatch(/existingSystemTopicIds/);
    expect(bicepVar(main, "existingTopicIds")).toMatch(/legacyExistingTopicIds/);
    const parameters = JSON.parse(read("infra", "main.parameters.json")) as {
      parameters: Record<string, { value: string }>;
    };
    expect(parameters.parameters.existingSystemTopicIds?.value).toBe(`\${GUARD_EXISTING_SYSTEM_TOPIC_IDS=}`);
  });

  it.each(["postdeploy.sh", "postdeploy.ps1"])(
    "%s subscribes armEvents on every topic of EVENTGRID_SYSTEM_TOPIC_IDS",
    (hook) => {
      const text = read("infra", "hooks", hook);
      expect(text).toContain("EVENTGRID_SYSTEM_TOPIC_IDS");
      expect(text).not.toMatch(/EVENTGRID_SYSTEM_TOPIC_(NAME|RESOURCE_GROUP)\b/);
      expect(text).toMatch(/(for topic_id in|foreach \(\$topicId in)/);
      expect(text).toMatch(/\$\{?topic_?[iI]d\}?\/eventSubscriptions\//);
    },
  );
});

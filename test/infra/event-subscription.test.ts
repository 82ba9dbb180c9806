// The postdeploy hook subscribes the Event Grid function the code registers, with a filter equal to what
// the code handles (EVENT_TYPES, OPERATIONS); infra names no function the code does not have. The POSIX
// hook is run against a stand-in `az` to see the exact body it would send.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES, OPERATIONS } from "../../functions/events/arm-event";
import { ROOT } from "../helpers/paths";
import { filesUnder, read, registeredFunctions } from "./infra-files";

interface SubscriptionBody {
  properties: {
    destination: { endpointType: string; properties: { endpointUrl: string } };
    filter: {
      includedEventTypes: string[];
      advancedFilters: { operatorType: string; key: string; values: string[] }[];
      subjectBeginsWith?: string;
    };
    eventDeliverySchema: string;
    retryPolicy: { maxDeliveryAttempts: number; eventTimeToLiveInMinutes: number };
    deadLetterWithResourceIdentity: {
      identity: { type: string };
      deadLetterDestination: {
        endpointType: string;
        properties: { resourceId: string; blobContainerName: string };
      };
    };
  };
}

const TEMPLATE = path.join("infra", "hooks", "arm-events-subscription.json");
const HOOKS = [path.join("infra", "hooks", "postdeploy.sh"), path.join("infra", "hooks", "postdeploy.ps1")];
const registrations = registeredFunctions();
const eventGridFunctions = registrations.filter((r) => r.kind === "eventGrid").map((r) => r.name);

/** Problems of a subscription body against the code's event types and operations. */
function filterProblems(body: SubscriptionBody): string[] {
  const problems: string[] = [];
  const { filter } = body.properties;
  const types = filter.includedEventTypes;
  if (new Set(types).size !== types.length) problems.push("duplicate event types");
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x) => b.some((y) => y.toLowerCase() === x.toLowerCase()));
  if (!sameSet(types, EVENT_TYPES))
    problems.push(`event types ${types.join(", ")} != ${EVENT_TYPES.join(", ")}`);
  if (filter.advancedFilters.length !== 1) problems.push("expected exactly one advanced filter");
  const [operations] = filter.advancedFilters;
  if (operations?.operatorType !== "StringIn" || operations.key !== "data.operationName")
    problems.push("expected StringIn on data.operationName");
  const values = operations?.values ?? [];
  if (new Set(values.map((v) => v.toLowerCase())).size !== values.length)
    problems.push("duplicate operations");
  if (!sameSet(values, OPERATIONS))
    problems.push(`operations ${values.join(", ")} != ${OPERATIONS.join(", ")}`);
  if (values.length > 25) problems.push("Event Grid takes at most 25 filter values");
  return problems;
}

const template = JSON.parse(read(TEMPLATE)) as SubscriptionBody;

describe("Event Grid subscription of the postdeploy hook", () => {
  it("the code registers exactly one Event Grid function", () => {
    expect(eventGridFunctions).toEqual(["armEvents"]);
  });

  it("filters on exactly the event types and operations the code handles", () => {
    expect(filterProblems(template)).toEqual([]);
  });

  it("would catch an operation the code does not handle, or a missing one", () => {
    const extra = structuredClone(template);
    extra.properties.filter.advancedFilters[0]?.values.push("Microsoft.Network/firewallPolicies/write");
    expect(filterProblems(extra)).not.toEqual([]);
    const missing = structuredClone(template);
    missing.properties.filter.includedEventTypes.pop();
    expect(filterProblems(missing)).not.toEqual([]);
  });

  it("retries, then dead-letters with the topic's identity", () => {
    const { retryPolicy, deadLetterWithResourceIdentity, eventDeliverySchema, destination } =
      template.properties;
    expect(retryPolicy.maxDeliveryAttempts).toBeGreaterThanOrEqual(1);
    expect(retryPolicy.maxDeliveryAttempts).toBeLessThanOrEqual(30);
    expect(retryPolicy.eventTimeToLiveInMinutes).toBeGreaterThanOrEqual(1);
    expect(retryPolicy.eventTimeToLiveInMinutes).toBeLessThanOrEqual(1440);
    expect(deadLetterWithResourceIdentity.identity.type).toBe("SystemAssigned");
    expect(deadLetterWithResourceIdentity.deadLetterDestination.endpointType).toBe("StorageBlob");
    expect(eventDeliverySchema).toBe("EventGridSchema");
    expect(destination.endpointType).toBe("WebHook");
    // Each topic has that identity, with write access to the dead-letter container only.
    const eventgrid = read("infra", "modules", "eventgrid.bicep");
    expect(eventgrid).toMatch(/identity:\s*\{\s*type:\s*'SystemAssigned'/);
    expect(eventgrid).toMatch(/topicType:\s*'Microsoft\.Resources\.Subscriptions'/);
    const deadLetter = read("infra", "modules", "eventgrid-deadletter.bicep");
    expect(deadLetter).toMatch(/scope:\s*storage::blobServices::deadLetter\b/);
    expect(deadLetter).toMatch(/principalId:\s*systemTopicPrincipalId\b/);
  });

  it.each(HOOKS)("%s takes the filter from the shared body and fills every placeholder", (hook) => {
    const text = read(hook);
    expect(text).toContain("arm-events-subscription.json");
    // No event type or operation of its own.
    expect(text.match(/Microsoft\.Resources\.Resource\w+/g) ?? []).toEqual([]);
    expect(text.match(/Microsoft\.\w+\/[\w/]+\/(?:write|delete)\b/g) ?? []).toEqual([]);
    for (const placeholder of read(TEMPLATE).match(/__[A-Z_]+__/g) ?? []) expect(text).toContain(placeholder);
  });

  it.each(HOOKS)("%s sends events to the Event Grid function the code registers", (hook) => {
    const named = [...read(hook).matchAll(/functionName=(\w+)/g)].map((m) => m[1]);
    expect(named).toEqual(eventGridFunctions);
    expect(read(hook)).toContain("systemKeys.eventgrid_extension");
    expect(read(hook)).toContain("/runtime/webhooks/eventgrid?functionName=");
  });

  it("nothing in infra/ names a function the code does not have", () => {
    const known = new Set(registrations.map((r) => r.name));
    const named = filesUnder("infra").flatMap((file) =>
      [...read(file).matchAll(/functionName=(\w+)/g)].map((m) => `${file}: ${m[1]}`),
    );
    expect(named.filter((n) => !known.has(n.split(": ")[1] as string))).toEqual([]);
  });

  it("azure.yaml runs the hooks after deploy", () => {
    const yaml = read("azure.yaml");
    // A project-level hook: under the top-level hooks:, not a service's.
    expect(yaml.slice(yaml.search(/^hooks:$/m))).toMatch(/^ {2}postdeploy:$/m);
    expect(yaml).toContain("run: ./infra/hooks/postdeploy.sh");
    expect(yaml).toContain("run: ./infra/hooks/postdeploy.ps1");
    for (const hook of HOOKS) expect(fs.existsSync(path.join(ROOT, hook))).toBe(true);
  });
});

describe("postdeploy.sh against a stand-in az", () => {
  // A key with characters that need escaping in sed and in a URL.
  const key = "k3y+with/odd=chars&|\\==";
  const env = {
    AZURE_SUBSCRIPTION_ID: "00000000-0000-0000-0000-000000000001",
    AZURE_RESOURCE_GROUP: "rg-guard",
    AZURE_FUNCTION_APP_NAME: "func-aeg-x",
    AZURE_FUNCTION_APP_HOSTNAME: "func-aeg-x.azurewebsites.net",
    // Two subscriptions in scope: the deployment's own and a clusters' one, each with its topic.
    EVENTGRID_SYSTEM_TOPIC_IDS: [
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-guard/providers/Microsoft.EventGrid/systemTopics/evgt-aeg-x",
      " /subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-events/providers/Microsoft.EventGrid/systemTopics/evgt-other",
    ].join(","),
    EVENTGRID_DEAD_LETTER_STORAGE_ID:
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-guard/providers/Microsoft.Storage/storageAccounts/stx",
    EVENTGRID_DEAD_LETTER_CONTAINER: "eventgrid-deadletter",
  };

  function runHook() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postdeploy-"));
    const log = path.join(dir, "az.log");
    // The stand-in answers what the hook asks and keeps the body it PUTs.
    fs.writeFileSync(
      path.join(dir, "az"),
      `#!/bin/sh
echo "$*" >> "${log}"
case "$*" in
  "account show"*) exit 0 ;;
  "functionapp keys list"*) printf '%s\\n' "$FAKE_KEY" ;;
  "rest --method put"*)
    n=$(ls "${dir}" | grep -c '^body-[0-9]' || true)
    for a in "$@"; do case "$a" in @*) cp "\${a#@}" "${dir}/body-$n.json"; printf '%s' "\${a#@}" > "${dir}/body-path" ;; esac; done ;;
  "rest --method get"*) echo Succeeded ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
`,
      { mode: 0o755 },
    );
    const result = spawnSync("sh", [path.join(ROOT, "infra", "hooks", "postdeploy.sh")], {
      env: { ...process.env, ...env, FAKE_KEY: key, PATH: `${dir}:${process.env.PATH}` },
      encoding: "utf8",
    });
    const bodies = fs
      .readdirSync(dir)
      .filter((f) => /^body-\d+\.json$/.test(f))
      .sort()
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as SubscriptionBody);
    return { result, log: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "", bodies, dir };
  }

  it("PUTs the subscription with the escaped key, the code's filter and the dead-letter container", () => {
    const { result, log, bodies, dir } = runHook();
    try {
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      // One event subscription per system topic, the same body for each.
      const topics = env.EVENTGRID_SYSTEM_TOPIC_IDS.split(",").map((t) => t.trim());
      expect(bodies).toHaveLength(topics.length);
      for (const body of bodies) {
        expect(body.properties.destination.properties.endpointUrl).toBe(
          `https://${env.AZURE_FUNCTION_APP_HOSTNAME}/runtime/webhooks/eventgrid?functionName=armEvents&code=${encodeURIComponent(key)}`,
        );
        expect(filterProblems(body)).toEqual([]);
        expect(body.properties.deadLetterWithResourceIdentity.deadLetterDestination.properties).toEqual({
          resourceId: env.EVENTGRID_DEAD_LETTER_STORAGE_ID,
          blobContainerName: env.EVENTGRID_DEAD_LETTER_CONTAINER,
        });
      }
      expect(log).toContain(
        `functionapp keys list --subscription ${env.AZURE_SUBSCRIPTION_ID} --resource-group ${env.AZURE_RESOURCE_GROUP} --name ${env.AZURE_FUNCTION_APP_NAME}`,
      );
      for (const topic of topics) {
        const url = `${topic}/eventSubscriptions/aksegressguardarmevents?api-version=2022-06-15`;
        expect(log).toContain(`rest --method put --url ${url} `);
        expect(log).toContain(`rest --method get --url ${url} `);
      }
      expect(result.stdout).toContain(`subscribed to ${topics.length} system topic(s)`);
      // The key never reaches the output, and the filled body does not outlive the hook.
      expect(result.stdout).not.toContain("k3y");
      const filled = fs.readFileSync(path.join(dir, "body-path"), "utf8");
      expect(filled).not.toBe("");
      expect(fs.existsSync(filled)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

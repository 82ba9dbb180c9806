// The KQL in infra/queries and the workbook that runs it read only what the code logs: event names from
// EVENTS, and for each event only the properties the code passes with it (read from the source), plus
// the Durable Functions tracking fields. UPDATE_WORKBOOK=1 writes the queries into the workbook JSON.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EVENTS } from "../../orchestrations/telemetry";
import { ROOT } from "../helpers/paths";
import {
  eventProperties,
  interfaceFields,
  kqlStatements,
  PARAMETER_LINE,
  QUERY_DIR,
  queryFiles,
  read,
  registeredFunctions,
  stripKqlComments,
  WORKBOOK,
  type Workbook,
  workbookQuery,
} from "./infra-files";

const KNOWN_EVENTS = new Set<string>(Object.values(EVENTS));
const LOGGED = eventProperties();
/** Nested properties the queries may read, by top-level property. */
const NESTED: Record<string, Set<string>> = { risk: interfaceFields("drift/types.ts", "PlanRisk") };
/** Durable Functions' tracking traces (azure-notes §6). */
const DURABLE_DIMENSIONS = new Set([
  "Category",
  "prop__instanceId",
  "prop__functionName",
  "prop__state",
  "prop__isReplay",
]);
const FUNCTIONS = new Set(registeredFunctions().map((r) => r.name));

/** What one statement of a query reads of our events. */
function statementUse(statement: string) {
  return {
    events: [...statement.matchAll(/"AksEgressGuard\.(\w+)"/g)].map((m) => `AksEgressGuard.${m[1]}`),
    props: [...statement.matchAll(/\bprops(?:\.(\w+)|\["(\w+)"\])(?:\.(\w+)|\["(\w+)"\])?/g)].map((m) => ({
      top: (m[1] ?? m[2]) as string,
      nested: m[3] ?? m[4],
    })),
  };
}

/** Problems of one query file; empty when it only reads what the code logs. */
function queryProblems(text: string): string[] {
  const problems: string[] = [];
  const code = stripKqlComments(text);
  for (const m of code.matchAll(/AksEgressGuard\.(\w+)/g))
    if (!KNOWN_EVENTS.has(`AksEgressGuard.${m[1]}`)) problems.push(`unknown event AksEgressGuard.${m[1]}`);
  for (const statement of kqlStatements(text)) {
    const { events, props } = statementUse(statement);
    if (props.length > 0 && events.length === 0)
      problems.push(`reads props.${props[0]?.top} without naming its event: ${statement.slice(0, 80)}…`);
    for (const { top, nested } of props) {
      for (const event of events) {
        const logged = LOGGED.get(event);
        if (logged === undefined) problems.push(`${event} is never logged by the code`);
        else if (!logged.has(top)) problems.push(`${event} is not logged with "${top}"`);
      }
      if (nested !== undefined && !NESTED[top]?.has(nested))
        problems.push(`props.${top}.${nested} is not a field the code logs`);
    }
  }
  for (const m of code.matchAll(/customDimensions(?:\.(\w+)|\["(\w+)"\])/g)) {
    const field = (m[1] ?? m[2]) as string;
    if (!DURABLE_DIMENSIONS.has(field))
      problems.push(`customDimensions.${field} is not a Durable tracking field`);
  }
  const named = [
    ...[...code.matchAll(/functionName\s*(?:==|=~)\s*"([^"]+)"/g)].map((m) => m[1] as string),
    ...[...code.matchAll(/functionName\s+in~?\s*\(([^)]*)\)/g)].flatMap((m) =>
      [...(m[1] as string).matchAll(/"([^"]+)"/g)].map((s) => s[1] as string),
    ),
  ];
  for (const name of named) if (!FUNCTIONS.has(name)) problems.push(`no function named ${name}`);
  return problems;
}

const files = queryFiles();

describe("history queries (infra/queries/*.kql)", () => {
  it("has the five queries: history, drift over time, approvals, approval latency, failed passes", () => {
    expect(files.map((f) => path.basename(f, ".kql")).sort()).toEqual(
      ["approval-latency", "approvals", "drift-over-time", "failed-passes", "history"].sort(),
    );
  });

  it("finds the properties of every event in the code", () => {
    // The extraction itself: PassCompleted gets the reconciler's own keys through its log wrapper.
    expect([...(LOGGED.get(EVENTS.passCompleted) ?? [])].sort()).toEqual(
      ["changes", "clusterCount", "clusters", "instanceId", "outcome", "pass", "policyId", "summary"].sort(),
    );
    expect(LOGGED.get(EVENTS.approvalRequested)?.has("pass")).toBe(true);
    expect(LOGGED.get(EVENTS.approvalRequested)?.has("approver")).toBe(false);
    expect(LOGGED.get(EVENTS.eventDropped)).toEqual(new Set(["eventId", "reason"]));
  });

  it.each(files)("%s reads only events and properties the code logs", (file) => {
    expect(queryProblems(read(file))).toEqual([]);
  });

  it.each(files)("%s parses our trace lines the way logEvent writes them", (file) => {
    const text = read(file);
    if (!/AksEgressGuard\./.test(stripKqlComments(text))) return;
    expect(text).toContain('message startswith "AksEgressGuard."');
    expect(text).toContain('parse_json(substring(message, indexof(message, "{")))');
  });

  it.each(files)("%s declares its parameters at the top", (file) => {
    const lines = read(file).split("\n");
    const parameterLines = lines.flatMap((l, i) => (PARAMETER_LINE.test(l) ? [i] : []));
    const firstCode = lines.findIndex((l) => l.trim() !== "" && !l.trim().startsWith("//"));
    // Parameter lines come first, before any other statement.
    parameterLines.forEach((index, n) => {
      expect(index).toBe(firstCode + n);
    });
  });

  it("catches a property an event is not logged with", () => {
    const broken = `let guard = traces | extend name = "", props = dynamic({});
let x = guard | where name == "AksEgressGuard.ApprovalRequested" | project approver = tostring(props.approver);
x`;
    expect(queryProblems(broken)).toEqual(['AksEgressGuard.ApprovalRequested is not logged with "approver"']);
    expect(queryProblems('traces | where message has "AksEgressGuard.PassExploded"')).toEqual([
      "unknown event AksEgressGuard.PassExploded",
    ]);
    expect(queryProblems('traces | where tostring(customDimensions.prop__functionName) == "x"')).toEqual([]);
    expect(queryProblems('traces | extend functionName = "" | where functionName == "nope"')).toEqual([
      "no function named nope",
    ]);
  });
});

describe("history workbook", () => {
  const workbookPath = path.join(ROOT, WORKBOOK);
  const workbook = JSON.parse(fs.readFileSync(workbookPath, "utf8")) as Workbook;
  const queryItems = workbook.items.filter((i) => i.type === 3);

  if (process.env.UPDATE_WORKBOOK === "1") {
    for (const item of queryItems) {
      const file = path.join(QUERY_DIR, `${item.name}.kql`);
      if (fs.existsSync(path.join(ROOT, file))) item.content.query = workbookQuery(read(file));
    }
    fs.writeFileSync(workbookPath, `${JSON.stringify(workbook, null, 2)}\n`);
  }

  it("is in the gallery format", () => {
    expect(workbook.version).toBe("Notebook/1.0");
    expect(workbook.fallbackResourceIds).toEqual(["__APP_INSIGHTS_ID__"]);
  });

  it.each(files)("runs %s as it is in the repository", (file) => {
    const name = path.basename(file, ".kql");
    const item = queryItems.find((i) => i.name === name);
    expect(item, `no workbook item named ${name}`).toBeDefined();
    expect(item?.content.version).toBe("KqlItem/1.0");
    expect(item?.content.timeContextFromParameter).toBe("TimeRange");
    expect(item?.content.query, "run UPDATE_WORKBOOK=1 npx vitest run test/infra").toBe(
      workbookQuery(read(file)),
    );
  });

  it("runs no query that is not in infra/queries", () => {
    const names = new Set(files.map((f) => path.basename(f, ".kql")));
    expect(queryItems.map((i) => i.name).filter((n) => !names.has(n ?? ""))).toEqual([]);
  });

  it("defines every parameter its queries use", () => {
    const defined = new Set(
      workbook.items.flatMap((i) => (i.type === 9 ? (i.content.parameters ?? []).map((p) => p.name) : [])),
    );
    const used = new Set(
      queryItems.flatMap((i) =>
        [...(i.content.query ?? "").matchAll(/\{(\w+)(?::\w+)?\}/g)].map((m) => m[1]),
      ),
    );
    expect([...used].filter((u) => !defined.has(u as string))).toEqual([]);
    for (const item of queryItems)
      expect(defined.has(item.content.timeContextFromParameter ?? "")).toBe(true);
  });

  it("is deployed from this file, bound to the Application Insights resource", () => {
    const bicep = read("infra", "modules", "workbook.bicep");
    expect(bicep).toContain("'Microsoft.Insights/workbooks@2023-06-01'");
    expect(bicep).toContain("loadTextContent('../workbook/aks-egress-guard.workbook.json')");
    expect(bicep).toMatch(/replace\(loadTextContent\([^)]*\), '__APP_INSIGHTS_ID__', appInsightsId\)/);
  });
});

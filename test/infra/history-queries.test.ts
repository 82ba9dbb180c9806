/// <reference types="@kusto/language-service-next" />
// The KQL in infra/queries and the workbook that runs it read only what the code logs: event names from
// EVENTS, and for each event only the properties the code passes with it (read from the source), plus
// the Durable Functions tracking fields. And every query compiles: Microsoft's own KQL compiler
// (Kusto.Language) parses and analyses it against the Application Insights schema, so a query that
// Application Insights would refuse (a misspelled column or function, a type error, a syntax error)
// fails here. UPDATE_WORKBOOK=1 writes the queries into the workbook JSON.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EVENTS } from "../../orchestrations/telemetry";
import { ROOT } from "../helpers/paths";
import { APP_INSIGHTS_TABLES, tableSchema } from "./app-insights-schema";
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

/** A workbook parameter as the JSON defines it (type 1: text, 4: time range). */
interface WorkbookParameter {
  name: string;
  type: number;
  value?: unknown;
}

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

// Kusto.Language (npm @kusto/language-service-next) is Microsoft's KQL parser and semantic analyser,
// the one behind the Azure Data Explorer and Log Analytics editors, compiled from C# to JavaScript with
// Bridge.NET: bridge.js installs the runtime (globals Bridge and System), then Kusto.Language.Bridge.js
// defines the global Kusto. Neither exports a module; the types are the package's ambient declarations
// (the reference at the top). Loaded once for the file (about 1 s, plus a few seconds for the first
// analysis while the engine warms up).
const requireFromRoot = createRequire(path.join(ROOT, "package.json"));
requireFromRoot("@kusto/language-service-next/bridge.js");
requireFromRoot("@kusto/language-service-next/Kusto.Language.Bridge.js");
const kusto = (globalThis as unknown as { Kusto: typeof Kusto }).Kusto.Language;

/** A database holding the Application Insights tables (closed: an unknown table is an error). */
const APP_INSIGHTS = kusto.GlobalState.Default!.WithDatabase(
  new kusto.Symbols.DatabaseSymbol.ctor(
    "ApplicationInsights",
    Object.entries(APP_INSIGHTS_TABLES).map(
      ([name, columns]) => kusto.Symbols.TableSymbol.From(tableSchema(columns))!.WithName(name)!,
    ),
  ),
);

/** The compiler's errors for a query, as `line:column CODE message (the line's text)`; empty when it compiles. */
function kqlErrors(text: string): string[] {
  const code = kusto.KustoCode.ParseAndAnalyze(text, APP_INSIGHTS)!;
  const diagnostics = code.GetDiagnostics()!;
  const lines = text.split("\n");
  const errors: string[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity !== kusto.DiagnosticSeverity.Error) continue;
    const line = { v: 0 };
    const column = { v: 0 };
    code.TryGetLineAndOffset(d.Start, line, column);
    errors.push(`${line.v}:${column.v} ${d.Code} ${d.Message} (${lines[line.v - 1]?.trim()})`);
  }
  return errors;
}

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

  it.each(files)("%s compiles with Kusto.Language against the Application Insights schema", (file) => {
    expect(kqlErrors(read(file)), `${file} does not compile`).toEqual([]);
  });

  it("compiles against the classic Application Insights schema, and reports errors where they are", () => {
    // The columns and functions the queries lean on are known to the compiler...
    expect(
      kqlErrors(`traces
| where timestamp > ago(1d) and severityLevel >= 2
| extend props = parse_json(substring(message, indexof(message, "{"))), category = tostring(customDimensions.Category)
| summarize arg_max(timestamp, *) by operation_Id`),
    ).toEqual([]);
    expect(kqlErrors("requests | where success == 'False' | project duration, resultCode, url")).toEqual([]);
    // ...while a misspelled column, a workspace-side name, an unknown table and a syntax error are not.
    expect(kqlErrors('traces\n| where mesage startswith "AksEgressGuard."')).toEqual([
      "2:9 KS142 The name 'mesage' does not refer to any known column, table, variable or function. " +
        '(| where mesage startswith "AksEgressGuard.")',
    ]);
    expect(kqlErrors("traces | project TimeGenerated")[0]).toMatch(/^1:18 KS142 The name 'TimeGenerated'/);
    expect(kqlErrors("AppTraces | take 1")[0]).toMatch(/^1:1 KS204 The name 'AppTraces' does not refer/);
    expect(kqlErrors("traces | where (")).not.toEqual([]);
    expect(kqlErrors('traces | extend n = toint(message) + "x"')[0]).toMatch(/KS106 The operator '\+'/);
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

  // The workbook sends a query to Application Insights with each `{Name}` or `{Name:format}` replaced by
  // the parameter's value, as text (the placeholders sit inside string literals here: `let policyId =
  // "{PolicyId}";`). Compiling the query with the placeholders still in would check something that never
  // runs; so they get values a user would set: a text parameter (type 1) its text, here a resource ID; a
  // time range (type 4, TimeRange) its query form, `> ago(7d)` for the default of 7 days (the workbook
  // binds TimeRange through timeContextFromParameter, but a query may also write
  // `where timestamp {TimeRange}`). See Application-Insights-Workbooks, Documentation/Parameters/Text.md
  // and Time.md.
  const parameters = workbook.items.flatMap((i) =>
    i.type === 9 ? ((i.content.parameters ?? []) as WorkbookParameter[]) : [],
  );
  const SAMPLE_TEXT: Record<string, string> = {
    PolicyId:
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy",
    ClusterId:
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/aks-weu-prod",
  };
  const parameterValue = (name: string, format: string | undefined): string => {
    const parameter = parameters.find((p) => p.name === name);
    const text = SAMPLE_TEXT[name];
    if (parameter?.type === 1 && format === undefined && text !== undefined) return text;
    if (parameter?.type === 4 && (format === undefined || format === "value" || format === "query")) {
      const ms = (parameter.value as { durationMs?: number } | undefined)?.durationMs ?? 86_400_000;
      return ms % 86_400_000 === 0 ? `> ago(${ms / 86_400_000}d)` : `> ago(${ms / 60_000}m)`;
    }
    throw new Error(`no sample value for workbook parameter {${name}${format ? `:${format}` : ""}}: add one`);
  };
  const expandParameters = (query: string): string =>
    query.replace(/\{(\w+)(?::(\w+))?\}/g, (placeholder, name: string, format: string | undefined) =>
      parameters.some((p) => p.name === name) ? parameterValue(name, format) : placeholder,
    );

  it.each(queryItems.map((i) => i.name ?? "?"))(
    "runs %s as a query that compiles with Kusto.Language, its parameters set",
    (name) => {
      const query = queryItems.find((i) => i.name === name)?.content.query ?? "";
      expect(kqlErrors(expandParameters(query)), `workbook item ${name} does not compile`).toEqual([]);
    },
  );

  it("fills in the workbook's parameters the way the workbook does", () => {
    expect(expandParameters('let policyId = "{PolicyId}"; traces | where timestamp {TimeRange}')).toBe(
      `let policyId = "${SAMPLE_TEXT.PolicyId}"; traces | where timestamp > ago(7d)`,
    );
    // JSON inside a query (`indexof(message, "{")`) is not a parameter.
    expect(expandParameters('indexof(message, "{")')).toBe('indexof(message, "{")');
    expect(() => expandParameters("{TimeRange:start}")).toThrow(/no sample value/);
  });

  it("is deployed from this file, bound to the Application Insights resource", () => {
    const bicep = read("infra", "modules", "workbook.bicep");
    expect(bicep).toContain("'Microsoft.Insights/workbooks@2023-06-01'");
    expect(bicep).toContain("loadTextContent('../workbook/aks-egress-guard.workbook.json')");
    expect(bicep).toMatch(/replace\(loadTextContent\([^)]*\), '__APP_INSIGHTS_ID__', appInsightsId\)/);
  });
});

// The Application Insights tables a query in infra/queries (or in the workbook) may read, with their
// columns, as the queries see them: the workbook runs on the Application Insights resource
// (resourceType microsoft.insights/components) and the README sends people to Application Insights →
// Logs, where the tables keep their classic names and columns (`traces`, `timestamp`, `message`,
// `customDimensions`, …), not the workspace ones (`AppTraces`, `TimeGenerated`, `Properties`, …).
//
// Source: Microsoft's table of classic columns and types, "Migrate to workspace-based Application
// Insights resources", section "Table schemas" (the "ApplicationInsights" and "Type" columns of each
// "Legacy table: …"):
// https://learn.microsoft.com/azure/azure-monitor/app/convert-classic-resource#table-schemas
// (source text: MicrosoftDocs/azure-monitor-docs, articles/azure-monitor/app/convert-classic-resource.md,
// ms.date 06/28/2024). The workspace-side names are in the Azure Monitor table reference, e.g.
// https://learn.microsoft.com/azure/azure-monitor/reference/tables/apptraces.
// Types are copied as the page lists them (so `success` is a string there, not a bool).

/** A Kusto scalar type, as Kusto.Language's schema strings spell it. */
export type KqlType = "bool" | "datetime" | "dynamic" | "int" | "long" | "real" | "string" | "timespan";

/** Columns every classic Application Insights table has. */
const COMMON: Record<string, KqlType> = {
  appId: "string",
  application_Version: "string",
  appName: "string",
  client_Browser: "string",
  client_City: "string",
  client_CountryOrRegion: "string",
  client_IP: "string",
  client_Model: "string",
  client_OS: "string",
  client_StateOrProvince: "string",
  client_Type: "string",
  cloud_RoleInstance: "string",
  cloud_RoleName: "string",
  customDimensions: "dynamic",
  iKey: "string",
  itemId: "string",
  itemType: "string",
  operation_Id: "string",
  operation_Name: "string",
  operation_ParentId: "string",
  operation_SyntheticSource: "string",
  sdkVersion: "string",
  session_Id: "string",
  timestamp: "datetime",
  user_AccountId: "string",
  user_AuthenticatedId: "string",
  user_Id: "string",
};

/** Table name → column name → type. */
export const APP_INSIGHTS_TABLES: Record<string, Record<string, KqlType>> = {
  traces: {
    ...COMMON,
    customMeasurements: "dynamic",
    itemCount: "int",
    message: "string",
    severityLevel: "int",
  },
  requests: {
    ...COMMON,
    customMeasurements: "dynamic",
    duration: "real",
    id: "string",
    itemCount: "int",
    name: "string",
    performanceBucket: "string",
    resultCode: "string",
    source: "string",
    success: "string",
    url: "string",
  },
  dependencies: {
    ...COMMON,
    customMeasurements: "dynamic",
    data: "string",
    duration: "real",
    id: "string",
    itemCount: "int",
    name: "string",
    performanceBucket: "string",
    resultCode: "string",
    success: "string",
    target: "string",
    type: "string",
  },
  exceptions: {
    ...COMMON,
    assembly: "string",
    customMeasurements: "dynamic",
    details: "dynamic",
    handledAt: "string",
    innermostAssembly: "string",
    innermostMessage: "string",
    innermostMethod: "string",
    innermostType: "string",
    itemCount: "int",
    message: "string",
    method: "string",
    outerAssembly: "string",
    outerMessage: "string",
    outerMethod: "string",
    outerType: "string",
    problemId: "string",
    severityLevel: "int",
    type: "string",
  },
  customEvents: {
    ...COMMON,
    customMeasurements: "dynamic",
    itemCount: "int",
    name: "string",
  },
  customMetrics: {
    ...COMMON,
    name: "string",
    value: "real",
    valueCount: "int",
    valueMax: "real",
    valueMin: "real",
    valueSum: "real",
  },
};

/** A table's columns as a Kusto.Language schema string: `(timestamp: datetime, message: string, …)`. */
export function tableSchema(columns: Record<string, KqlType>): string {
  return `(${Object.entries(columns)
    .map(([name, type]) => `${name}: ${type}`)
    .join(", ")})`;
}

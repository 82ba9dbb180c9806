// Reading infra/ (Bicep, hooks, KQL, workbook) and the code it must agree with, as text: no Bicep CLI,
// no Azure. Shared by the infra cross-check tests.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { ACTIVITIES } from "../../orchestrations/activity-names";
import { RECONCILER } from "../../orchestrations/reconciler";
import { EVENTS } from "../../orchestrations/telemetry";
import { ROOT } from "../helpers/paths";

export const INFRA = path.join(ROOT, "infra");

export const read = (...parts: string[]): string => fs.readFileSync(path.join(ROOT, ...parts), "utf8");

/** Files under a folder (relative to ROOT), recursively, optionally by extension. */
export function filesUnder(folder: string, ext?: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (ext === undefined || entry.name.endsWith(ext)) out.push(rel);
    }
  };
  walk(folder);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------------
// Bicep as text
// ---------------------------------------------------------------------------------------------------

/** Bicep without comments (line comments outside strings; Bicep strings are single-quoted). */
export function stripBicepComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") {
        out += text[i + 1] ?? "";
        i++;
      } else if (c === "'") inString = false;
    } else if (c === "'") {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  return out;
}

/** The text between the brace (or bracket) that opens at or after `from` and its match. */
export function block(text: string, from: number, open = "{", close = "}"): string {
  const start = text.indexOf(open, from);
  if (start < 0) throw new Error(`no ${open} after offset ${from}`);
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === "'") inString = false;
    } else if (c === "'") inString = true;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return text.slice(start + 1, i);
  }
  throw new Error(`unbalanced ${open} at offset ${start}`);
}

/** `key: value` pairs at the top level of an object body (values as Bicep source text, one line). */
export function topLevelEntries(body: string): Map<string, string> {
  const entries = new Map<string, string>();
  let depth = 0;
  let inString = false;
  let line = "";
  const flush = () => {
    const match = /^\s*'?([A-Za-z_$][\w$-]*)'?\s*:\s*(.*?)\s*$/s.exec(line);
    if (match?.[1] !== undefined) entries.set(match[1], match[2] ?? "");
    line = "";
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (inString) {
      if (c === "\\") {
        line += c + (body[i + 1] ?? "");
        i++;
        continue;
      }
      if (c === "'") inString = false;
    } else if (c === "'") inString = true;
    else if (c === "{" || c === "[" || c === "(") depth++;
    else if (c === "}" || c === "]" || c === ")") depth--;
    if (c === "\n" && depth === 0 && !inString) flush();
    else line += c;
  }
  flush();
  return entries;
}

/** Single-quoted string items of a Bicep array body (`[ 'a' 'b' ]`). */
export const bicepStrings = (arrayBody: string): string[] =>
  [...arrayBody.matchAll(/'([^']*)'/g)].map((m) => m[1] as string);

export interface BicepFile {
  file: string;
  text: string;
  params: Map<string, { required: boolean }>;
  outputs: Set<string>;
}

export function bicepFile(rel: string): BicepFile {
  const text = stripBicepComments(read(rel));
  const params = new Map<string, { required: boolean }>();
  for (const m of text.matchAll(/^param\s+(\w+)\s+[\w[\]]+(\s*=)?/gm))
    params.set(m[1] as string, { required: m[2] === undefined });
  const outputs = new Set([...text.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] as string));
  return { file: rel, text, params, outputs };
}

export interface ModuleUse {
  symbol: string;
  path: string;
  params: Set<string>;
  /** Each parameter's value, as Bicep source text. */
  paramValues: Map<string, string>;
  /** The `name:` and `scope:` of the module deployment, as Bicep source text ("" when absent). */
  name: string;
  scope: string;
  /** `[for <loopVariable> in <loopSource>: {...}]`: the loop's variable and collection, if any. */
  loopVariable?: string;
  loopSource?: string;
  /** `= if (<condition>) {...}`: the condition, if any. */
  condition?: string;
}

/** `module x 'path' = ...{ params: {...} }` declarations of a Bicep file. */
export function moduleUses(file: BicepFile): ModuleUse[] {
  const uses: ModuleUse[] = [];
  for (const m of file.text.matchAll(/^module\s+(\w+)\s+'([^']+)'\s*=/gm)) {
    const after = (m.index ?? 0) + m[0].length;
    const body = block(file.text, after);
    const paramsAt = body.search(/^\s*params\s*:/m);
    const paramValues = paramsAt < 0 ? new Map<string, string>() : topLevelEntries(block(body, paramsAt));
    const head = file.text.slice(after, file.text.indexOf("{", after));
    const loop = /^\s*\[\s*for\s+\(?\s*(\w+)[^)]*?\)?\s+in\s+(.+?)\s*:\s*$/s.exec(head);
    const condition = /^\s*if\s*\((.*)\)\s*$/s.exec(head);
    const entries = topLevelEntries(body);
    uses.push({
      symbol: m[1] as string,
      path: m[2] as string,
      params: new Set(paramValues.keys()),
      paramValues,
      name: entries.get("name") ?? "",
      scope: entries.get("scope") ?? "",
      ...(loop ? { loopVariable: loop[1] as string, loopSource: loop[2] as string } : {}),
      ...(condition ? { condition: condition[1] as string } : {}),
    });
  }
  return uses;
}

/** `var name = <expression>` of a Bicep file (one line), or undefined. */
export function bicepVar(file: BicepFile, name: string): string | undefined {
  return new RegExp(`^var ${name}\\s*=\\s*(.*?)\\s*$`, "m").exec(file.text)?.[1];
}

/** `output name type = <expression>` of a Bicep file (one line), or undefined. */
export function bicepOutput(file: BicepFile, name: string): string | undefined {
  return new RegExp(`^output ${name}\\s+\\w+\\s*=\\s*(.*?)\\s*$`, "m").exec(file.text)?.[1];
}

/** The decorators written above `param name` (the `@...` lines right before it), and its declaration. */
export function bicepParam(file: BicepFile, name: string): { decorators: string; declaration: string } {
  const lines = file.text.split("\n");
  const at = lines.findIndex((l) => new RegExp(`^param ${name}\\b`).test(l));
  if (at < 0) throw new Error(`${file.file}: no param ${name}`);
  let start = at;
  while (start > 0 && (lines[start - 1] ?? "").startsWith("@")) start--;
  return { decorators: lines.slice(start, at).join("\n"), declaration: lines[at] as string };
}

/** The Function App's app settings: the `config 'appsettings'` resource in modules/functionapp.bicep. */
export function appSettings(): Map<string, string> {
  const text = stripBicepComments(read("infra", "modules", "functionapp.bicep"));
  const at = text.search(/name:\s*'appsettings'/);
  if (at < 0) throw new Error("no appsettings config resource in functionapp.bicep");
  const propertiesAt = text.indexOf("properties:", at);
  return topLevelEntries(block(text, propertiesAt));
}

/** Literal GUIDs anywhere in Bicep (built-in role definition IDs are the only ones). */
export function bicepGuids(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of filesUnder("infra", ".bicep")) {
    const text = stripBicepComments(read(file));
    for (const m of text.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi)) {
      const guid = (m[0] as string).toLowerCase();
      found.set(guid, [...(found.get(guid) ?? []), file]);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// The code: registered functions, logged events and their properties
// ---------------------------------------------------------------------------------------------------

export interface Registration {
  name: string;
  kind: string;
  file: string;
}

/** Every function the app registers (functions/*.ts, registration at the bottom of each file). */
export function registeredFunctions(): Registration[] {
  const constants: Record<string, string> = { RECONCILER };
  for (const [key, value] of Object.entries(ACTIVITIES)) constants[`ACTIVITIES.${key}`] = value;
  const found: Registration[] = [];
  for (const file of filesUnder("functions", ".ts")) {
    const text = read(file);
    const pattern = /\b(?:df\.app(?:\.client)?|app)\.(\w+)\(\s*(?:"([^"]+)"|([A-Za-z_][\w.]*))\s*,/g;
    for (const m of text.matchAll(pattern)) {
      const kind = m[1] as string;
      if (kind === "hook" || kind === "setup") continue;
      const name = m[2] ?? constants[m[3] as string];
      if (name === undefined) throw new Error(`${file}: cannot resolve the function name ${m[3]}`);
      found.push({ name, kind, file });
    }
  }
  return found;
}

/** `%NAME%` binding expressions the host resolves from app settings (host.json, trigger options). */
export function bindingExpressionSettings(): Set<string> {
  const texts = [read("host.json"), ...filesUnder("functions", ".ts").map((f) => read(f))];
  return new Set(texts.flatMap((t) => [...t.matchAll(/%([A-Za-z_][\w]*)%/g)].map((m) => m[1] as string)));
}

const eventNameByKey = new Map<string, string>(Object.entries(EVENTS));

function objectKeys(node: ts.ObjectLiteralExpression): { keys: string[]; spreads: number } {
  const keys: string[] = [];
  let spreads = 0;
  for (const p of node.properties) {
    if (ts.isSpreadAssignment(p)) spreads++;
    else if ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && p.name)
      keys.push(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : p.name.getText());
  }
  return { keys, spreads };
}

/**
 * The properties each structured event is logged with, read from the source: calls that pass
 * `EVENTS.<key>` and an object literal, plus the keys a file's own wrapper of logEvent adds (the
 * reconciler's `log` adds policyId, instanceId and pass to everything it logs).
 */
export function eventProperties(): Map<string, Set<string>> {
  const props = new Map<string, Set<string>>();
  const files = [...filesUnder("orchestrations", ".ts"), ...filesUnder("functions", ".ts")];
  for (const file of files) {
    const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true);
    const wrapperKeys: string[] = [];
    const calls: { event: string; keys: string[]; direct: boolean }[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText(source);
        const args = node.arguments;
        const eventIndex = args.findIndex(
          (a) => ts.isPropertyAccessExpression(a) && a.expression.getText(source) === "EVENTS",
        );
        const literal = args.find((a, i) => i > eventIndex && ts.isObjectLiteralExpression(a));
        if (eventIndex >= 0 && literal && ts.isObjectLiteralExpression(literal)) {
          const key = (args[eventIndex] as ts.PropertyAccessExpression).name.text;
          const event = eventNameByKey.get(key);
          if (event === undefined) throw new Error(`${file}: EVENTS.${key} is not an event`);
          calls.push({ event, keys: objectKeys(literal).keys, direct: callee === "logEvent" });
        } else if (callee === "logEvent" && args[1] && ts.isIdentifier(args[1])) {
          // A wrapper: logEvent(logger, name, { fixed: ..., ...props }).
          const third = args[2];
          if (third && ts.isObjectLiteralExpression(third) && objectKeys(third).spreads > 0)
            wrapperKeys.push(...objectKeys(third).keys);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    for (const call of calls) {
      const set = props.get(call.event) ?? new Set<string>();
      for (const k of [...call.keys, ...(call.direct ? [] : wrapperKeys)]) set.add(k);
      props.set(call.event, set);
    }
  }
  return props;
}

/** Field names of an interface declared in a source file (e.g. PlanRisk in drift/types.ts). */
export function interfaceFields(file: string, name: string): Set<string> {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true);
  for (const statement of source.statements)
    if (ts.isInterfaceDeclaration(statement) && statement.name.text === name)
      return new Set(
        statement.members.flatMap((m) => (m.name && ts.isIdentifier(m.name) ? [m.name.text] : [])),
      );
  throw new Error(`no interface ${name} in ${file}`);
}

// ---------------------------------------------------------------------------------------------------
// KQL
// ---------------------------------------------------------------------------------------------------

export const QUERY_DIR = path.join("infra", "queries");

export const queryFiles = (): string[] => filesUnder(QUERY_DIR, ".kql");

/** KQL without `//` comments (outside string literals). */
export function stripKqlComments(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      let quote: string | undefined;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quote) {
          if (c === "\\") i++;
          else if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === "/" && line[i + 1] === "/") return line.slice(0, i);
      }
      return line;
    })
    .join("\n");
}

/** Top-level statements (`let ...;` and the final tabular expression), comments removed. */
export function kqlStatements(text: string): string[] {
  const code = stripKqlComments(text);
  const statements: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = "";
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    current += c;
    if (quote) {
      if (c === "\\") {
        current += code[i + 1] ?? "";
        i++;
      } else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === ";" && depth === 0) {
      statements.push(current.trim());
      current = "";
    }
  }
  if (current.trim() !== "") statements.push(current.trim());
  return statements;
}

/** Parameter lines of a query file: `let name = ""; // parameter: WorkbookParameter`. */
export const PARAMETER_LINE = /^let (\w+) = ""; \/\/ parameter: (\w+)$/;

/** The query as the workbook runs it: parameter lines take the workbook parameter's value. */
export function workbookQuery(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const m = PARAMETER_LINE.exec(line);
      return m ? `let ${m[1]} = "{${m[2]}}"; // parameter: ${m[2]}` : line;
    })
    .join("\n")
    .trimEnd();
}

export const WORKBOOK = path.join("infra", "workbook", "aks-egress-guard.workbook.json");

export interface WorkbookItem {
  type: number;
  name?: string;
  content: {
    version?: string;
    query?: string;
    title?: string;
    timeContextFromParameter?: string;
    parameters?: { name: string }[];
    [key: string]: unknown;
  };
}

export interface Workbook {
  version: string;
  items: WorkbookItem[];
  fallbackResourceIds?: string[];
  [key: string]: unknown;
}

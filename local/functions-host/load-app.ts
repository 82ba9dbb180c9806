// Loads the app's entry files the way the worker does (plain CommonJS `require`, in order) while
// capturing what they register. Entry files compiled to JavaScript (dist/...) load as they are; a
// TypeScript entry file (tests, `npm start` without a build) is transpiled on the fly by a `.ts`
// require hook, type-only, with the project's module settings.
//
// A second host started in the same process must see the registrations again, as a new worker
// process would: the app's own modules loaded by the previous start are evicted from `require.cache`
// first (modules under node_modules stay, like the library itself).
import { readdirSync, readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import path from "node:path";
import { GuardError } from "../../errors";
import { type Capture, captureRegistrations, installFunctionsCore } from "./core-api";

const nodeRequire = createRequire(__filename);

type CompileFn = (source: string, filename: string) => void;
interface LoadableModule {
  _compile: CompileFn;
}
type Extensions = Record<string, (module: LoadableModule, filename: string) => void>;

const TS_HOOK_MARK = Symbol.for("aks-egress-guard.local.ts-hook");

// Installed even where Node has its own `.ts` handling (type stripping, Node >= 22.18): that treats
// files with `import` as ES modules, whose extensionless relative imports the app's sources use
// would not resolve. The app's sources are CommonJS when compiled (tsconfig: module node16, package
// type commonjs), so they are transpiled to CommonJS here too.
function installTypeScriptHook(): void {
  const extensions = (Module as unknown as { _extensions: Extensions })._extensions;
  const current = extensions[".ts"] as (Extensions[string] & { [TS_HOOK_MARK]?: true }) | undefined;
  if (current?.[TS_HOOK_MARK] === true) return;
  const ts = nodeRequire("typescript") as typeof import("typescript");
  const hook: Extensions[string] & { [TS_HOOK_MARK]?: true } = (module, filename) => {
    const source = readFileSync(filename, "utf8");
    const output = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        resolveJsonModule: true,
        inlineSourceMap: true,
        inlineSources: true,
      },
    });
    module._compile(output.outputText, filename);
  };
  hook[TS_HOOK_MARK] = true;
  extensions[".ts"] = hook;
}

const APP_MODULES_KEY = Symbol.for("aks-egress-guard.local.app-modules");

function appModules(): Set<string> {
  const holder = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  let set = holder[APP_MODULES_KEY];
  if (set === undefined) {
    set = new Set();
    holder[APP_MODULES_KEY] = set;
  }
  return set;
}

function isAppModule(filename: string): boolean {
  return (
    path.isAbsolute(filename) &&
    !filename.split(path.sep).includes("node_modules") &&
    !filename.endsWith(".virtual.js")
  );
}

/** Forgets the app modules an earlier load put in `require.cache`, so the next load re-runs them. */
export function evictAppModules(): void {
  const cache = nodeRequire.cache;
  for (const filename of appModules()) delete cache[filename];
  appModules().clear();
}

/**
 * Entry files as package.json `main` names them for the worker: paths, or a pattern with `*` / `?`
 * in the file name only (e.g. `dist/functions/*.js`), expanded in name order.
 */
export function resolveEntryFiles(entryFiles: readonly string[], cwd = process.cwd()): string[] {
  const resolved: string[] = [];
  for (const entry of entryFiles) {
    const file = path.resolve(cwd, entry);
    const directory = path.dirname(file);
    const name = path.basename(file);
    if (/[*?[\]{}]/.test(directory)) {
      throw new GuardError(
        "CONFIG_INVALID",
        `Entry file pattern "${entry}": only the file name may hold wildcards.`,
      );
    }
    if (!/[*?]/.test(name)) {
      resolved.push(file);
      continue;
    }
    const pattern = new RegExp(
      `^${name
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replaceAll("*", ".*")
        .replaceAll("?", ".")}$`,
    );
    const matches = readdirSync(directory)
      .filter((candidate) => pattern.test(candidate) && !candidate.endsWith(".d.ts"))
      .sort()
      .map((candidate) => path.join(directory, candidate));
    if (matches.length === 0)
      throw new GuardError("CONFIG_INVALID", `Entry file pattern "${entry}" matches no file.`);
    resolved.push(...matches);
  }
  return resolved;
}

export function loadApp(entryFiles: readonly string[], cwd = process.cwd()): Capture {
  if (entryFiles.length === 0) {
    throw new GuardError("CONFIG_INVALID", "The local functions host needs at least one entry file.");
  }
  const resolved = resolveEntryFiles(entryFiles, cwd);
  if (resolved.some((file) => file.endsWith(".ts"))) installTypeScriptHook();
  installFunctionsCore();
  evictAppModules();
  const before = new Set(Object.keys(nodeRequire.cache));
  try {
    return captureRegistrations(() => {
      for (const file of resolved) nodeRequire(file);
    });
  } finally {
    for (const filename of Object.keys(nodeRequire.cache)) {
      if (!before.has(filename) && isAppModule(filename)) appModules().add(filename);
    }
  }
}

// Provides the module `@azure/functions-core` in-process, as the Functions Node worker does at run
// time. `@azure/functions` v4 `require`s that module (lazily, on the first `app.*` call) and, when it
// is missing, switches to "test mode" and skips every registration. With this module in place,
// loading the app's entry files hands this host the same `{ metadata, handler }` pairs the worker
// receives, and the programming model the worker invokes them through.
//
// The module is installed by a hook on Node's CommonJS resolver (`Module._resolveFilename`) plus a
// pre-filled `require.cache` entry; both are process-wide and installed once. The state lives on
// `globalThis` so that a second copy of this file (e.g. one loaded by vitest's module runner and one
// by Node) still serves one module.
import Module from "node:module";
import path from "node:path";
import type {
  CoreFunctionMetadata,
  Disposable,
  FunctionCallback,
  HookCallback,
  HookName,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from "./core-types";

export const CORE_MODULE_NAME = "@azure/functions-core";
/** The worker version reported to the library; `setup({ enableHttpStream })` only checks `log` exists. */
const WORKER_VERSION = "3.10.1";
const HOST_VERSION = "4.1037.0";

export interface RegisteredFunction {
  metadata: CoreFunctionMetadata;
  handler: FunctionCallback;
}

export interface RegisteredHook {
  name: HookName;
  callback: HookCallback;
}

/** What one load of the app's entry files registered. */
export interface Capture {
  functions: RegisteredFunction[];
  hooks: RegisteredHook[];
  /** System logs the library sent while loading (warnings about the app's registrations). */
  systemLogs: { level: RpcLogLevel; message: string }[];
}

interface CoreState {
  programmingModel?: ProgrammingModel | undefined;
  capture?: Capture | undefined;
  /** Where library system logs go outside a load (set by the running host). */
  systemLog?: ((level: RpcLogLevel, category: RpcLogCategory, message: string) => void) | undefined;
  installed: boolean;
}

const STATE_KEY = Symbol.for("aks-egress-guard.local.functions-core");

function state(): CoreState {
  const holder = globalThis as unknown as Record<symbol, CoreState | undefined>;
  let current = holder[STATE_KEY];
  if (current === undefined) {
    current = { installed: false };
    holder[STATE_KEY] = current;
  }
  return current;
}

class CoreDisposable implements Disposable {
  #callback: (() => void) | undefined;
  constructor(callback: () => void) {
    this.#callback = callback;
  }
  dispose(): void {
    this.#callback?.();
    this.#callback = undefined;
  }
}

function createCoreApi(): Record<string, unknown> {
  return {
    version: WORKER_VERSION,
    hostVersion: HOST_VERSION,
    Disposable: CoreDisposable,
    registerFunction(metadata: CoreFunctionMetadata, handler: FunctionCallback): Disposable {
      const capture = state().capture;
      if (capture === undefined) {
        // The worker refuses registrations once the app has started; so does this host.
        throw new Error(
          `A function can only be registered during app startup (function "${metadata?.name}"). ` +
            "The local functions host collects registrations only while it loads the app's entry files.",
        );
      }
      if (capture.functions.some((f) => f.metadata.name.toLowerCase() === metadata.name.toLowerCase())) {
        throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
      }
      const entry = { metadata, handler };
      capture.functions.push(entry);
      return new CoreDisposable(() => {
        const index = capture.functions.indexOf(entry);
        if (index >= 0) capture.functions.splice(index, 1);
      });
    },
    registerHook(name: HookName, callback: HookCallback): Disposable {
      const capture = state().capture;
      if (capture === undefined) {
        throw new Error(`Hooks can only be registered during app startup (hook "${name}").`);
      }
      const entry = { name, callback };
      capture.hooks.push(entry);
      return new CoreDisposable(() => {
        const index = capture.hooks.indexOf(entry);
        if (index >= 0) capture.hooks.splice(index, 1);
      });
    },
    setProgrammingModel(model: ProgrammingModel): void {
      state().programmingModel = model;
    },
    getProgrammingModel(): ProgrammingModel | undefined {
      return state().programmingModel;
    },
    log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
      const current = state();
      if (current.capture !== undefined) current.capture.systemLogs.push({ level, message });
      current.systemLog?.(level, category, message);
    },
  };
}

/** Installs the `@azure/functions-core` module for every later `require` in this process. Idempotent. */
export function installFunctionsCore(): void {
  const current = state();
  if (current.installed) return;
  // A file name that cannot exist on disk, so the cache entry is the only way to reach it.
  const id = path.join(__dirname, "__azure-functions-core__.virtual.js");
  const moduleInternals = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const original = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = function resolveFilename(request: string, ...rest: unknown[]) {
    if (request === CORE_MODULE_NAME) return id;
    return original.call(this, request, ...rest);
  };
  const coreModule = new Module(id);
  coreModule.filename = id;
  coreModule.exports = createCoreApi();
  coreModule.loaded = true;
  moduleInternals._cache[id] = coreModule;
  current.installed = true;
}

/** Runs `load` with registrations collected into a new capture; returns what was registered. */
export function captureRegistrations(load: () => void): Capture {
  installFunctionsCore();
  const current = state();
  if (current.capture !== undefined) {
    throw new Error("Another local functions host is loading its app right now; load apps one at a time.");
  }
  const capture: Capture = { functions: [], hooks: [], systemLogs: [] };
  current.capture = capture;
  try {
    load();
  } finally {
    current.capture = undefined;
  }
  return capture;
}

export function currentProgrammingModel(): ProgrammingModel | undefined {
  return state().programmingModel;
}

export function setSystemLogSink(
  sink: ((level: RpcLogLevel, category: RpcLogCategory, message: string) => void) | undefined,
): void {
  state().systemLog = sink;
}

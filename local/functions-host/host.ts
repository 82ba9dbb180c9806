// A Functions-compatible host on localhost for the app's real registrations: it loads the app's
// entry files with `@azure/functions-core` provided in-process (./core-api.ts), then serves
// - HTTP triggers at /{routePrefix}/{route} with route parameters, methods and auth levels;
// - Event Grid triggers at /runtime/webhooks/eventgrid?functionName=NAME (./event-grid.ts);
// - timer triggers on their schedules (./timers.ts) and on demand at POST /admin/functions/{name};
// - the Durable extension's HTTP API at /runtime/webhooks/durabletask/... (system key) and, for the
//   DurableClient, on a second loopback listener at `rpcBaseUrl`, as the extension does; unlike the
//   extension's, that listener also needs the Durable system key (or the master key): `rpcBaseUrl`
//   carries it in its path (`http://127.0.0.1:PORT/KEY/durabletask/`), so durable-functions' client,
//   which resolves every request relative to `rpcBaseUrl`, presents it unchanged;
// and runs orchestrations and activities with the Durable engine in ../durable.
//
// Every invocation goes through @azure/functions' own programming model (./invoke.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { GuardError } from "../../errors";
import {
  type ActivityOutcome,
  type DurableBehaviourOptions,
  DurableEngine,
  type DurableFunctionRunner,
  durableBehaviour,
  type OrchestratorOutcome,
} from "../durable/engine";
import { type DurableClientData, DurableHttpApi, durableClientData } from "../durable/http-api";
import { type RegisteredFunction, setSystemLogSink } from "./core-api";
import type { RpcHttpData, RpcParameterBinding, RpcTypedData } from "./core-types";
import { classifyEventGridRequest, MAX_EVENT_GRID_BODY_BYTES } from "./event-grid";
import {
  BodyTooLarge,
  readBody,
  refuseTooLarge,
  toRpcHttpRequest,
  writeJson,
  writeRpcHttpResponse,
  writeText,
} from "./http-io";
import { FunctionInvoker, jsonTypedData, triggerBinding, typedDataValue } from "./invoke";
import {
  type HostKeyOptions,
  type HostKeys,
  isAuthorized,
  parseAuthLevel,
  presentedKey,
  stateDirKeys,
} from "./keys";
import { evictAppModules, loadApp } from "./load-app";
import { errorMessage, type HostLogger, hostNotice, jsonLineLogger } from "./logger";
import { parseSchedule } from "./ncrontab";
import { privateDir } from "./private-files";
import { compareRoutes, matchRoute, parseRoute, type RouteTemplate } from "./routes";
import { type TimerFunction, type TimerInfo, TimerScheduler } from "./timers";

export interface FunctionsHostOptions {
  /** The app's entry files (JavaScript, or TypeScript transpiled on load), relative to `cwd`. */
  entryFiles: readonly string[];
  /** Port of the host (0 picks a free one). Default 7071, as Core Tools. */
  port?: number;
  hostname?: string;
  /** Where the Durable task hub and timer schedule monitors are kept. */
  stateDir: string;
  /** App settings: set as environment variables before the app loads, restored on close. */
  settings?: Record<string, string>;
  /** Host keys; any not given is generated once and kept in `stateDir/host-keys.json` (0600), never logged. */
  keys?: HostKeyOptions;
  logger?: HostLogger;
  /** Durable task hub name (default "TestHubName", the local default). */
  taskHub?: string;
  /** HTTP route prefix (host.json extensions.http.routePrefix); default "api". */
  routePrefix?: string;
  /** Run timer triggers on their schedules (default true). They always run on demand. */
  runTimers?: boolean;
  /** How the Durable engine follows the extension on Azure Storage (../durable/README.md). */
  durable?: DurableBehaviourOptions;
  cwd?: string;
}

export interface FunctionInfo {
  name: string;
  triggerType: string;
  bindings: Record<string, unknown>;
  route?: string;
  methods?: string[];
  authLevel?: string;
  schedule?: string;
}

export interface FunctionsHost {
  /** Base URL, e.g. http://127.0.0.1:7071 */
  url: string;
  port: number;
  keys: HostKeys;
  functions: FunctionInfo[];
  durable: {
    engine: DurableEngine;
    /** What the durableClient input binding carries; `rpcBaseUrl` is the DurableClient's base. */
    clientData(): DurableClientData;
    /** A durable-functions DurableClient (the library's own) connected to this host. */
    client(): df.DurableClient;
  };
  /** Resolves when nothing is runnable now: no orchestration/activity work, no trigger run in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface HttpRoute {
  fn: RegisteredFunction;
  route: RouteTemplate;
  methods: string[] | undefined;
  authLevel: "anonymous" | "function" | "admin";
}

const SUPPORTED_TRIGGERS = new Set([
  "httptrigger",
  "eventgridtrigger",
  "timertrigger",
  "orchestrationtrigger",
  "activitytrigger",
]);
const CLIENT_INPUTS = new Set(["durableclient", "orchestrationclient"]);

function lower(value: unknown): string {
  return typeof value === "string" ? value.toLowerCase() : "";
}

function unsupported(message: string): GuardError {
  return new GuardError("EMULATOR_UNSUPPORTED", `${message} is not supported by the local functions host.`);
}

/** `%NAME%` in a binding property reads app setting NAME, as the host's binding expressions do. */
function resolveSettings(value: string, functionName: string): string {
  return value.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const setting = process.env[name];
    if (setting === undefined) {
      throw new GuardError(
        "CONFIG_INVALID",
        `Function "${functionName}" refers to app setting "${name}", which is not set.`,
      );
    }
    return setting;
  });
}

function validateBindings(fn: RegisteredFunction): void {
  const name = fn.metadata.name;
  for (const [bindingName, binding] of Object.entries(fn.metadata.bindings)) {
    const type = lower(binding.type);
    if (/trigger$/.test(type)) {
      if (type === "entitytrigger") throw unsupported(`Durable entities (function "${name}")`);
      if (!SUPPORTED_TRIGGERS.has(type))
        throw unsupported(`The trigger type "${binding.type}" (function "${name}")`);
    } else if (binding.direction === "in") {
      if (!CLIENT_INPUTS.has(type))
        throw unsupported(`The input binding "${binding.type}" (function "${name}")`);
    } else if (!(bindingName === "$return" && type === "http")) {
      throw unsupported(`The output binding "${binding.type}" (function "${name}")`);
    }
  }
}

function activityResultText(data: RpcTypedData | null | undefined): string | null {
  if (data === null || data === undefined) return null;
  if (typeof data.string === "string") return JSON.stringify(data.string);
  if (typeof data.json === "string") return data.json;
  if (typeof data.int === "number") return String(data.int);
  if (typeof data.double === "number") return String(data.double);
  if (data.bytes !== null && data.bytes !== undefined)
    return JSON.stringify(Buffer.from(data.bytes).toString("base64"));
  return null;
}

function httpOutput(
  fn: RegisteredFunction,
  returnValue: RpcTypedData | null | undefined,
  outputs: RpcParameterBinding[],
): RpcHttpData | undefined {
  if (returnValue?.http) return returnValue.http;
  for (const output of outputs) {
    const binding =
      output.name === null || output.name === undefined ? undefined : fn.metadata.bindings[output.name];
    if (lower(binding?.type) === "http" && output.data?.http) return output.data.http;
  }
  return undefined;
}

export async function startFunctionsHost(options: FunctionsHostOptions): Promise<FunctionsHost> {
  const logger = options.logger ?? jsonLineLogger;
  durableBehaviour(options.durable); // refuse bad Durable options before anything starts
  const hostname = options.hostname ?? "127.0.0.1";
  const routePrefix = (options.routePrefix ?? "api").replace(/^\/+|\/+$/g, "");
  const taskHub = options.taskHub ?? "TestHubName";
  const stateDir = path.resolve(options.cwd ?? process.cwd(), options.stateDir);
  privateDir(stateDir);
  const { keys, keysFile } = stateDirKeys(stateDir, options.keys);

  const server = createServer();
  const rpcServer = createServer();
  const listen = (target: Server, listenPort: number, address: string) =>
    new Promise<void>((resolve, reject) => {
      target.once("error", reject);
      target.listen(listenPort, address, () => resolve());
    });
  try {
    await listen(server, options.port ?? 7071, hostname);
    await listen(rpcServer, 0, "127.0.0.1");
  } catch (error) {
    for (const s of [server, rpcServer]) if (s.listening) s.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const publicHost = hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
  const url = `http://${publicHost}:${port}`;
  const rpcOrigin = `http://127.0.0.1:${(rpcServer.address() as AddressInfo).port}`;
  const rpcBaseUrl = `${rpcOrigin}/${encodeURIComponent(keys.system.durabletask_extension)}/durabletask/`;
  const webhookBaseUrl = `${url}/runtime/webhooks/durabletask`;
  const clientData = (): DurableClientData =>
    durableClientData({
      webhookBaseUrl,
      rpcBaseUrl,
      taskHub,
      systemKey: keys.system.durabletask_extension,
      connectionName: "Storage",
    });

  // App settings become environment variables before the app loads, as in the worker. Without
  // WEBSITE_HOSTNAME, durable-functions rewrites management URLs to localhost:7071 (Core Tools).
  const settings: Record<string, string> = { WEBSITE_HOSTNAME: `${publicHost}:${port}`, ...options.settings };
  const previousEnv = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(settings)) {
    previousEnv.set(name, process.env[name]);
    process.env[name] = value;
  }
  const restoreEnv = () => {
    for (const [name, value] of previousEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  const closeServers = async () => {
    const closing = [server, rpcServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of [server, rpcServer]) s.closeIdleConnections();
    await Promise.all(closing);
  };

  setSystemLogSink((level, category, message) =>
    logger({ kind: "log", time: new Date().toISOString(), level, category, message }),
  );

  let capture: ReturnType<typeof loadApp>;
  const httpRoutes: HttpRoute[] = [];
  const eventGridFunctions = new Map<string, RegisteredFunction>();
  const timerFunctions = new Map<string, { fn: RegisteredFunction; timer: TimerFunction }>();
  const orchestrators = new Map<string, RegisteredFunction>();
  const activities = new Map<string, RegisteredFunction>();
  const allFunctions = new Map<string, RegisteredFunction>();
  const infos: FunctionInfo[] = [];
  try {
    capture = loadApp(options.entryFiles, options.cwd);
    if (capture.functions.length === 0) {
      throw new GuardError(
        "CONFIG_INVALID",
        "The app's entry files registered no functions. If @azure/functions was used before the local host " +
          "installed @azure/functions-core, it stays in test mode: start the host (or call installFunctionsCore) first.",
      );
    }
    if (capture.systemLogs.some((log) => log.message === "HTTP streaming enabled.")) {
      // @azure/functions would wait for the worker's HTTP proxy, which this host does not run.
      throw unsupported("HTTP streaming (app.setup({ enableHttpStream: true }))");
    }
    for (const fn of capture.functions) {
      validateBindings(fn);
      const name = fn.metadata.name;
      if (fn.metadata.retryOptions !== undefined && fn.metadata.retryOptions !== null) {
        hostNotice(
          logger,
          "warning",
          `Function "${name}" has a retry policy, which the local functions host does not apply.`,
        );
      }
      allFunctions.set(name.toLowerCase(), fn);
      const trigger = triggerBinding(fn);
      const binding = fn.metadata.bindings[trigger.name] ?? {};
      const info: FunctionInfo = { name, triggerType: trigger.type, bindings: fn.metadata.bindings };
      switch (trigger.type.toLowerCase()) {
        case "httptrigger": {
          const template = resolveSettings(typeof binding.route === "string" ? binding.route : name, name);
          const methods = Array.isArray(binding.methods)
            ? binding.methods.map((m) => String(m).toUpperCase())
            : undefined;
          const authLevel = parseAuthLevel(binding.authLevel, name);
          httpRoutes.push({ fn, route: parseRoute(template, name), methods, authLevel });
          info.route = template;
          if (methods !== undefined) info.methods = methods;
          info.authLevel = authLevel;
          break;
        }
        case "eventgridtrigger":
          eventGridFunctions.set(name.toLowerCase(), fn);
          break;
        case "timertrigger": {
          const expression = resolveSettings(String(binding.schedule ?? ""), name);
          const schedule = parseSchedule(expression);
          schedule.next(new Date());
          timerFunctions.set(name.toLowerCase(), {
            fn,
            timer: {
              name,
              schedule,
              useMonitor: binding.useMonitor !== false,
              runOnStartup: binding.runOnStartup === true,
            },
          });
          info.schedule = expression;
          break;
        }
        case "orchestrationtrigger":
          orchestrators.set(name.toLowerCase(), fn);
          break;
        case "activitytrigger":
          activities.set(name.toLowerCase(), fn);
          break;
      }
      infos.push(info);
    }
    httpRoutes.sort((a, b) => compareRoutes(a.route, b.route));
  } catch (error) {
    setSystemLogSink(undefined);
    evictAppModules();
    restoreEnv();
    await closeServers();
    throw error;
  }

  const invoker = new FunctionInvoker(capture.hooks, logger);
  const clientInputs = (fn: RegisteredFunction): RpcParameterBinding[] =>
    Object.entries(fn.metadata.bindings)
      .filter(([, binding]) => binding.direction === "in" && CLIENT_INPUTS.has(lower(binding.type)))
      .map(([name]) => ({ name, data: { string: JSON.stringify(clientData()) } }));
  const triggerInput = (fn: RegisteredFunction, data: RpcTypedData | undefined): RpcParameterBinding[] => [
    { name: triggerBinding(fn).name, ...(data === undefined ? {} : { data }) },
    ...clientInputs(fn),
  ];

  const runner: DurableFunctionRunner = {
    resolveOrchestrator: (name) => orchestrators.get(name.toLowerCase())?.metadata.name,
    resolveActivity: (name) => activities.get(name.toLowerCase())?.metadata.name,
    async runOrchestrator(name, trigger, meta): Promise<OrchestratorOutcome> {
      const fn = orchestrators.get(name.toLowerCase());
      if (fn === undefined)
        return { ok: false, message: `The orchestrator function '${name}' is not registered.` };
      const outcome = await invoker.invoke(fn, {
        inputData: triggerInput(fn, jsonTypedData(trigger)),
        instanceId: meta.instanceId,
        isReplay: meta.isReplay,
      });
      if (!outcome.ok) return { ok: false, message: errorMessage(outcome.error) };
      return { ok: true, state: typedDataValue(outcome.response?.returnValue) };
    },
    async runActivity(name, input, meta): Promise<ActivityOutcome> {
      const fn = activities.get(name.toLowerCase());
      if (fn === undefined)
        return { ok: false, message: `The activity function '${name}' is not registered.`, details: null };
      const outcome = await invoker.invoke(fn, {
        inputData: triggerInput(fn, jsonTypedData(input)),
        instanceId: meta.instanceId,
      });
      if (!outcome.ok) {
        const stack = outcome.error instanceof Error ? (outcome.error.stack ?? null) : null;
        return { ok: false, message: errorMessage(outcome.error), details: stack };
      }
      return { ok: true, result: activityResultText(outcome.response?.returnValue) };
    },
  };

  const engine = new DurableEngine({
    stateDir,
    runner,
    logger,
    ...(options.durable === undefined ? {} : { behaviour: options.durable }),
  });
  const durableApi = new DurableHttpApi(engine, clientData);
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const runTimer = async (timer: TimerFunction, info: TimerInfo): Promise<void> => {
    const entry = timerFunctions.get(timer.name.toLowerCase());
    if (entry === undefined) return;
    await track(invoker.invoke(entry.fn, { inputData: triggerInput(entry.fn, jsonTypedData(info)) }));
  };
  const scheduler = new TimerScheduler(stateDir, runTimer);

  async function serveDurable(
    request: IncomingMessage,
    response: ServerResponse,
    requestUrl: URL,
    below: string,
  ): Promise<void> {
    const body = (await readBody(request)).toString("utf8");
    const segments = below
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
    const answer = await durableApi.handle({
      method: request.method ?? "GET",
      segments,
      query: requestUrl.searchParams,
      body,
    });
    if (answer.body === undefined) writeText(response, answer.status, "", answer.headers);
    else writeJson(response, answer.status, answer.body, answer.headers);
  }

  async function serveHttpTrigger(
    request: IncomingMessage,
    response: ServerResponse,
    requestUrl: URL,
    below: string,
  ): Promise<void> {
    let segments: string[];
    try {
      segments = below
        .split("/")
        .filter((s) => s !== "")
        .map((s) => decodeURIComponent(s));
    } catch {
      writeText(response, 400);
      return;
    }
    const method = (request.method ?? "GET").toUpperCase();
    let found: { entry: HttpRoute; params: Record<string, string> } | undefined;
    for (const entry of httpRoutes) {
      const params = matchRoute(entry.route, segments);
      if (params === undefined) continue;
      if (entry.methods !== undefined && !entry.methods.includes(method)) continue;
      found = { entry, params };
      break;
    }
    if (found === undefined) {
      writeText(response, 404);
      return;
    }
    if (!isAuthorized(found.entry.authLevel, presentedKey(request.headers, requestUrl), keys)) {
      writeText(response, 401);
      return;
    }
    const body = await readBody(request);
    const fn = found.entry.fn;
    const rpcRequest = toRpcHttpRequest(request, requestUrl, body, found.params);
    const outcome = await invoker.invoke(fn, { inputData: triggerInput(fn, { http: rpcRequest }) });
    if (!outcome.ok) {
      writeText(response, 500);
      return;
    }
    const http = httpOutput(fn, outcome.response?.returnValue, outcome.response?.outputData ?? []);
    // A handler that returns no response: 204 here (the real host's answer for this case is unverified).
    if (http === undefined) writeText(response, 204);
    else writeRpcHttpResponse(response, http);
  }

  async function serveEventGrid(
    request: IncomingMessage,
    response: ServerResponse,
    requestUrl: URL,
  ): Promise<void> {
    if (!isAuthorized({ system: "eventgrid_extension" }, presentedKey(request.headers, requestUrl), keys)) {
      writeText(response, 401);
      return;
    }
    const functionName = requestUrl.searchParams.get("functionName") ?? "";
    const fn = eventGridFunctions.get(functionName.toLowerCase());
    if (fn === undefined) {
      writeText(response, 404, `cannot find function: '${functionName}'`);
      return;
    }
    const eventType = request.headers["aeg-event-type"];
    const refused = (status: 400 | 413, problem: string) => {
      hostNotice(logger, "warning", "Event Grid delivery refused", {
        functionName: fn.metadata.name,
        status,
        problem,
      });
      if (status === 413) refuseTooLarge(request, response, problem);
      else writeText(response, status, problem);
    };
    let bodyText: string;
    try {
      bodyText = (await readBody(request, MAX_EVENT_GRID_BODY_BYTES)).toString("utf8");
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      refused(413, `The request body is over ${MAX_EVENT_GRID_BODY_BYTES} bytes, Event Grid's limit.`);
      return;
    }
    const classified = classifyEventGridRequest(
      Array.isArray(eventType) ? eventType[0] : eventType,
      bodyText,
    );
    switch (classified.kind) {
      case "validation":
        hostNotice(
          logger,
          "information",
          `perform handshake with eventGrid for function: ${fn.metadata.name}`,
        );
        writeJson(response, 200, { validationResponse: classified.code });
        return;
      case "unsubscribe":
        writeText(response, 202);
        return;
      case "bad":
        if (classified.message === "") writeText(response, 400);
        else refused(400, classified.message);
        return;
      case "tooLarge":
        refused(413, classified.message);
        return;
      case "notification": {
        // Each event's own JSON text goes to the worker as is: nothing here re-serializes (or walks)
        // what the sender nested.
        const outcomes = await Promise.all(
          classified.events.map((event) =>
            invoker.invoke(fn, { inputData: triggerInput(fn, { json: event }) }),
          ),
        );
        const failed = outcomes.find((outcome) => !outcome.ok);
        if (failed !== undefined) writeText(response, 500, errorMessage(failed.error));
        else writeText(response, 202);
        return;
      }
    }
  }

  async function serveAdmin(
    request: IncomingMessage,
    response: ServerResponse,
    requestUrl: URL,
    below: string,
  ): Promise<void> {
    if (!isAuthorized("admin", presentedKey(request.headers, requestUrl), keys)) {
      writeText(response, 401);
      return;
    }
    const [area, name, ...rest] = below
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
    const method = (request.method ?? "GET").toUpperCase();
    if (area === "host" && name === "status" && rest.length === 0 && method === "GET") {
      writeJson(response, 200, { state: "Running", version: "local", functions: infos.map((i) => i.name) });
      return;
    }
    if (area !== "functions" || rest.length > 0) {
      writeText(response, 404);
      return;
    }
    if (name === undefined) {
      if (method === "GET")
        writeJson(
          response,
          200,
          infos.map((i) => ({ name: i.name, config: { bindings: i.bindings } })),
        );
      else writeText(response, 404);
      return;
    }
    const fn = allFunctions.get(name.toLowerCase());
    if (fn === undefined || method !== "POST") {
      writeText(response, 404);
      return;
    }
    let input: unknown;
    try {
      const text = (await readBody(request)).toString("utf8");
      input = text.trim() === "" ? undefined : (JSON.parse(text) as { input?: unknown }).input;
    } catch {
      writeText(response, 400, 'The request body must be JSON: {"input": "..."}.');
      return;
    }
    const type = triggerBinding(fn).type.toLowerCase();
    if (type === "timertrigger") {
      const entry = timerFunctions.get(name.toLowerCase());
      if (entry !== undefined) void runTimer(entry.timer, scheduler.info(entry.timer, false));
    } else if (type === "eventgridtrigger") {
      // `input` as JSON text is the event itself; passed on as is, never re-serialized.
      let event: RpcTypedData | undefined;
      if (typeof input === "string") {
        try {
          JSON.parse(input);
          event = { json: input };
        } catch {
          event = jsonTypedData(input);
        }
      } else {
        try {
          event = jsonTypedData(input);
        } catch {
          writeText(response, 400, "The input cannot be passed on as JSON.");
          return;
        }
      }
      void track(invoker.invoke(fn, { inputData: triggerInput(fn, event) }));
    } else {
      writeText(
        response,
        400,
        `Function '${fn.metadata.name}' (${triggerBinding(fn).type}) cannot be invoked through the admin API.`,
      );
      return;
    }
    writeText(response, 202);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, rpc: boolean): Promise<void> {
    const requestUrl = new URL(
      request.url ?? "/",
      rpc ? rpcBaseUrl : `http://${request.headers.host ?? `${publicHost}:${port}`}`,
    );
    const pathname = requestUrl.pathname;
    if (rpc) {
      // `/KEY/durabletask/…` (rpcBaseUrl) or `/durabletask/…` with the key in x-functions-key or code.
      const keyed = /^\/([^/]+)\/durabletask\//.exec(pathname);
      let key: string | undefined;
      let below: string;
      if (keyed !== null) {
        try {
          key = decodeURIComponent(keyed[1] ?? "");
        } catch {
          key = undefined;
        }
        below = pathname.slice(keyed[0].length);
      } else if (pathname.startsWith("/durabletask/")) {
        key = presentedKey(request.headers, requestUrl);
        below = pathname.slice("/durabletask/".length);
      } else {
        writeText(response, 404);
        return;
      }
      if (!isAuthorized({ system: "durabletask_extension" }, key, keys)) {
        writeText(response, 401);
        return;
      }
      await serveDurable(request, response, requestUrl, below);
      return;
    }
    const prefix = routePrefix === "" ? "/" : `/${routePrefix}/`;
    if (pathname === "/runtime/webhooks/eventgrid") {
      await serveEventGrid(request, response, requestUrl);
    } else if (pathname.startsWith("/runtime/webhooks/durabletask/")) {
      if (
        !isAuthorized({ system: "durabletask_extension" }, presentedKey(request.headers, requestUrl), keys)
      ) {
        writeText(response, 401);
        return;
      }
      await serveDurable(
        request,
        response,
        requestUrl,
        pathname.slice("/runtime/webhooks/durabletask/".length),
      );
    } else if (pathname.startsWith("/admin/")) {
      await serveAdmin(request, response, requestUrl, pathname.slice("/admin/".length));
    } else if (
      pathname.toLowerCase().startsWith(prefix.toLowerCase()) ||
      pathname.toLowerCase() === `/${routePrefix.toLowerCase()}`
    ) {
      // The prefix is part of the route template, matched case-insensitively like the rest.
      await serveHttpTrigger(request, response, requestUrl, pathname.slice(prefix.length));
    } else if (pathname === "/" && request.method === "GET") {
      writeJson(response, 200, { state: "Running", functions: infos.map((i) => i.name) });
    } else {
      writeText(response, 404);
    }
  }

  const listener = (rpc: boolean) => (request: IncomingMessage, response: ServerResponse) => {
    void track(
      handle(request, response, rpc).catch((error: unknown) => {
        if (!response.headersSent) {
          if (error instanceof BodyTooLarge) refuseTooLarge(request, response);
          else writeText(response, 500, errorMessage(error));
        } else response.end();
        if (!(error instanceof BodyTooLarge)) {
          hostNotice(logger, "error", "Request failed in the local functions host", {
            error: errorMessage(error),
          });
        }
      }),
    );
  };
  server.on("request", listener(false));
  rpcServer.on("request", listener(true));

  try {
    await invoker.runAppHooks(
      "appStart",
      path.dirname(path.resolve(options.cwd ?? process.cwd(), options.entryFiles[0] ?? ".")),
    );
  } catch (error) {
    // An app that refuses to start (e.g. its settings check in an appStart hook) leaves nothing behind.
    setSystemLogSink(undefined);
    evictAppModules();
    restoreEnv();
    await closeServers();
    throw error;
  }
  engine.start();
  if (options.runTimers !== false) scheduler.start([...timerFunctions.values()].map((t) => t.timer));

  // Keys are never logged (logs are shared more widely than the state directory): the function key
  // only, and where the others are kept when they were not given.
  hostNotice(logger, "information", "Functions host started", {
    url,
    rpcBaseUrl: `${rpcOrigin}/{durabletask_extension key}/durabletask/`,
    stateDir,
    functionKey: keys.function,
    ...(keysFile === undefined ? {} : { keysFile }),
    functions: infos.map(({ bindings: _bindings, ...info }) => info),
  });

  let closed: Promise<void> | undefined;
  const host: FunctionsHost = {
    url,
    port,
    keys,
    functions: infos,
    durable: {
      engine,
      clientData,
      client() {
        const binding = df.input.durableClient();
        const context = new InvocationContext({
          functionName: "localFunctionsHostClient",
          invocationId: "local",
          options: {
            trigger: { name: "trigger", type: "httpTrigger" },
            extraInputs: [binding],
            extraOutputs: [],
          },
        });
        context.extraInputs.set(binding, clientData());
        return df.getClient(context);
      },
    },
    async idle() {
      for (;;) {
        await engine.idle();
        if (inFlight.size === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          if (inFlight.size === 0 && engine.isIdle()) return;
        }
        await Promise.allSettled([...inFlight]);
      }
    },
    close() {
      closed ??= (async () => {
        scheduler.stop();
        // The engine first: the work item in progress may still call this host (a durable client in
        // an activity), so the listeners stay up until it is done.
        await engine.close();
        await closeServers();
        await Promise.allSettled([...inFlight]);
        await engine.close(); // writes down what requests still in flight changed
        await invoker.runAppHooks("appTerminate", stateDir).catch(() => undefined);
        setSystemLogSink(undefined);
        evictAppModules();
        restoreEnv();
        hostNotice(logger, "information", "Functions host stopped", { url });
      })();
      return closed;
    },
  };
  return host;
}

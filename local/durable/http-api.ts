// The Durable extension's HTTP API (HttpApiHandler), which durable-functions' DurableClient calls:
// since durable-functions 3 the client talks to `rpcBaseUrl` (`orchestrators/{name}/{id?}`,
// `instances/{id?}/{operation?}`, `instances/{id}/raiseEvent/{event}`), and the URLs it hands out
// (createCheckStatusResponse) point at the public webhook `/runtime/webhooks/durabletask/...`.
// Both are served from here with the extension's status codes, so the real DurableClient works
// against this engine unchanged.
import type { DurableEngine, InstanceQuery } from "./engine";
import type { RuntimeStatus } from "./store";

export interface DurableApiRequest {
  method: string;
  /** Path below the API base, e.g. "instances/abc" (already URL-decoded per segment). */
  segments: string[];
  query: URLSearchParams;
  body: string;
}

export interface DurableApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the extension puts in the `durableClient` input binding (OrchestrationClientInputData). */
export interface DurableClientData {
  taskHubName: string;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  httpBaseUrl: string;
}

export interface DurableUrls {
  /** Public webhook base, e.g. http://127.0.0.1:7071/runtime/webhooks/durabletask */
  webhookBaseUrl: string;
  /** The loopback RPC base the client uses, ending in "/". */
  rpcBaseUrl: string;
  taskHub: string;
  systemKey: string;
  connectionName: string;
}

const INSTANCE_ID_PLACEHOLDER = "INSTANCEID";

export function durableClientData(urls: DurableUrls): DurableClientData {
  const base = urls.webhookBaseUrl;
  const code = `code=${encodeURIComponent(urls.systemKey)}`;
  const hub = `taskHub=${encodeURIComponent(urls.taskHub)}&connection=${encodeURIComponent(urls.connectionName)}&${code}`;
  const instance = `${base}/instances/${INSTANCE_ID_PLACEHOLDER}`;
  return {
    taskHubName: urls.taskHub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${code}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
    },
    managementUrls: managementUrls(instance, hub),
    baseUrl: base,
    requiredQueryStringParameters: code,
    rpcBaseUrl: urls.rpcBaseUrl,
    httpBaseUrl: "",
  };
}

function managementUrls(instance: string, hub: string): Record<string, string> {
  return {
    id: INSTANCE_ID_PLACEHOLDER,
    statusQueryGetUri: `${instance}?${hub}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${hub}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${hub}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${hub}`,
    purgeHistoryDeleteUri: `${instance}?${hub}`,
    restartPostUri: `${instance}/restart?${hub}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${hub}`,
    resumePostUri: `${instance}/resume?reason={text}&${hub}`,
  };
}

/** The management links for one instance (HttpManagementPayload), as createCheckStatusResponse gives. */
export function managementPayload(data: DurableClientData, instanceId: string): Record<string, string> {
  const payload: Record<string, string> = {};
  for (const [key, value] of Object.entries(data.managementUrls)) {
    payload[key] = value.replaceAll(INSTANCE_ID_PLACEHOLDER, encodeURIComponent(instanceId));
  }
  payload.id = instanceId;
  return payload;
}

const STATUSES: readonly RuntimeStatus[] = [
  "Pending",
  "Running",
  "ContinuedAsNew",
  "Completed",
  "Failed",
  "Terminated",
];

function flag(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  return undefined;
}

function date(query: URLSearchParams, name: string): Date | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

function instanceQuery(query: URLSearchParams): InstanceQuery {
  const statuses = query
    .getAll("runtimeStatus")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v): v is RuntimeStatus => (STATUSES as readonly string[]).includes(v));
  const result: InstanceQuery = {};
  if (statuses.length > 0) result.runtimeStatus = statuses;
  const from = date(query, "createdTimeFrom");
  if (from !== undefined) result.createdTimeFrom = from;
  const to = date(query, "createdTimeTo");
  if (to !== undefined) result.createdTimeTo = to;
  const prefix = query.get("instanceIdPrefix");
  if (prefix !== null) result.instanceIdPrefix = prefix;
  const showInput = flag(query, "showInput");
  if (showInput !== undefined) result.showInput = showInput;
  return result;
}

function error(status: number, message: string): DurableApiResponse {
  return { status, body: { Message: message } };
}

function notSupported(what: string): DurableApiResponse {
  return error(501, `${what} is not supported by the local functions host.`);
}

function jsonBody(text: string): { ok: true; value: string | null } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: null };
  try {
    JSON.parse(text);
    return { ok: true, value: text };
  } catch {
    return { ok: false };
  }
}

export class DurableHttpApi {
  readonly #engine: DurableEngine;
  readonly #clientData: () => DurableClientData;

  constructor(engine: DurableEngine, clientData: () => DurableClientData) {
    this.#engine = engine;
    this.#clientData = clientData;
  }

  async handle(request: DurableApiRequest): Promise<DurableApiResponse> {
    const [controller, first, second, third, ...rest] = request.segments;
    const method = request.method.toUpperCase();
    if (controller === "orchestrators" && first !== undefined && third === undefined) {
      if (method !== "POST") return { status: 404 };
      return this.#start(request, first, second);
    }
    if (controller === "entities") return notSupported("Durable entities");
    if (controller !== "instances" || rest.length > 0) return { status: 404 };
    if (second === "raiseEvent" && third !== undefined) {
      if (method !== "POST" || first === undefined) return { status: 404 };
      return this.#raiseEvent(first, third, request.body);
    }
    if (third !== undefined) return { status: 404 };
    if (first === undefined || first === "") {
      if (method === "GET")
        return { status: 200, body: this.#engine.listInstances(instanceQuery(request.query)) };
      if (method === "DELETE") return this.#purgeWhere(request.query);
      return { status: 404 };
    }
    if (second === undefined) {
      if (method === "GET") return this.#status(first, request.query);
      if (method === "DELETE") return this.#purge(first);
      return { status: 404 };
    }
    if (method !== "POST") return { status: 404 };
    switch (second.toLowerCase()) {
      case "terminate":
        return this.#terminate(first, request.query.get("reason"));
      case "rewind":
        return notSupported("Rewind");
      case "restart":
        return notSupported("Restart");
      case "suspend":
        return notSupported("Suspend");
      case "resume":
        return notSupported("Resume");
      default:
        return { status: 404 };
    }
  }

  async #start(
    request: DurableApiRequest,
    functionName: string,
    instanceId: string | undefined,
  ): Promise<DurableApiResponse> {
    const input = jsonBody(request.body);
    if (!input.ok) return error(400, "Invalid JSON content");
    const result = await this.#engine.startNewAsync(functionName, instanceId, input.value);
    if (result.kind === "badRequest") return error(400, result.message);
    if (result.kind === "conflict") return error(409, result.message);
    const timeout = Number(request.query.get("timeout"));
    const interval = Number(request.query.get("pollingInterval"));
    if (timeout > 0 && interval > 0) {
      try {
        const status = await this.#engine.waitForStatus(
          result.instanceId,
          ["Completed", "Failed", "Terminated"],
          timeout * 1000,
        );
        if (status.runtimeStatus === "Completed") return { status: 200, body: status.output };
        return { status: 200, body: status };
      } catch {
        // fall through to the check-status answer, as the extension does on timeout
      }
    }
    return this.#checkStatus(result.instanceId);
  }

  #checkStatus(instanceId: string): DurableApiResponse {
    const payload = managementPayload(this.#clientData(), instanceId);
    return {
      status: 202,
      body: payload,
      headers: { Location: payload.statusQueryGetUri ?? "", "Retry-After": "10" },
    };
  }

  #status(instanceId: string, query: URLSearchParams): DurableApiResponse {
    const status = this.#engine.getStatus(instanceId, {
      showHistory: flag(query, "showHistory") ?? false,
      showHistoryOutput: flag(query, "showHistoryOutput") ?? false,
      showInput: flag(query, "showInput") ?? true,
    });
    if (status === undefined) return { status: 404 };
    switch (status.runtimeStatus) {
      case "Pending":
      case "Running":
      case "ContinuedAsNew":
        return {
          status: 202,
          body: status,
          headers: {
            Location: managementPayload(this.#clientData(), instanceId).statusQueryGetUri ?? "",
            "Retry-After": "5",
          },
        };
      case "Failed":
        return {
          status: flag(query, "returnInternalServerErrorOnFailure") === true ? 500 : 200,
          body: status,
        };
      default:
        return { status: 200, body: status };
    }
  }

  #raiseEvent(instanceId: string, eventName: string, body: string): DurableApiResponse {
    const input = jsonBody(body);
    if (!input.ok) return error(400, "Invalid JSON content");
    switch (this.#engine.raiseEvent(instanceId, eventName, input.value)) {
      case "notFound":
        return error(404, `No instance with ID '${instanceId}' found.`);
      case "gone":
        return error(410, `The instance '${instanceId}' is not running.`);
      default:
        return { status: 202 };
    }
  }

  #terminate(instanceId: string, reason: string | null): DurableApiResponse {
    switch (this.#engine.terminate(instanceId, reason)) {
      case "notFound":
        return { status: 404 };
      case "gone":
        return { status: 410 };
      default:
        return { status: 202 };
    }
  }

  #purge(instanceId: string): DurableApiResponse {
    const result = this.#engine.purge(instanceId);
    if (result === "notFound") return { status: 404 };
    if (result !== "purged") {
      return error(
        412,
        `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${result.notTerminal}`,
      );
    }
    return { status: 200, body: { instancesDeleted: 1 } };
  }

  #purgeWhere(query: URLSearchParams): DurableApiResponse {
    if (date(query, "createdTimeFrom") === undefined) {
      return error(400, "Please provide value for 'createdTimeFrom' parameter.");
    }
    const filter = instanceQuery(query);
    filter.createdTimeTo ??= new Date();
    const deleted = this.#engine.purgeWhere(filter);
    return deleted === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: deleted } };
  }
}

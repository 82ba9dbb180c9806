// Azure SDK clients for one cloud: the real ones, pointed at real ARM or at the local emulator.
// The SDK packages are required on first use (./sdk): only their types are imported here.
import type { ContainerServiceClient } from "@azure/arm-containerservice";
import type { NetworkManagementClient } from "@azure/arm-network";
import type { TokenCredential } from "@azure/core-auth";
import type { Pipeline, PipelinePolicy, PipelineResponse, RetryStrategy } from "@azure/core-rest-pipeline";
import type { Cloud } from "../catalog";
import { CLOUD_ENDPOINTS } from "./clouds";
import { armContainerService, armNetwork, coreRestPipeline, identity } from "./sdk";

export interface ArmConnection {
  cloud: Cloud;
  credential: TokenCredential;
  /** Overrides the cloud's ARM endpoint (the local emulator); real Azure when absent. */
  endpoint?: string;
  /** PEM of a CA to trust for this connection only (the emulator's self-signed CA). */
  caCertPem?: string;
  /** LRO polling interval; the SDK default (2 s) when absent. Firewall writes take minutes in Azure. */
  pollIntervalMs?: number;
  /**
   * Retries of reads (GET) inside the SDK pipeline: 5xx/408/network errors with exponential backoff
   * (defaults: 3 retries, 1 s doubling up to 64 s, as core-rest-pipeline's). Writes are never retried
   * by the SDK: the write loop (azure/firewall.ts) re-reads the group before every PUT. The write
   * loop's own backoff uses `retryDelayInMs`/`maxRetryDelayInMs` too.
   */
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /**
   * The longest the SDK may wait on its own for a `Retry-After` (default 30 s): a throttled read
   * (429/503) asking for longer is handed to the caller at once, and a long-running operation's poll
   * interval is lowered to it.
   */
  sdkMaxWaitMs?: number;
}

/** Default for `ArmConnection.sdkMaxWaitMs`. */
export const DEFAULT_SDK_MAX_WAIT_MS = 30_000;

/** The local ARM emulator accepts any bearer token; the SDK still insists on asking a credential. */
export function localEmulatorCredential(): TokenCredential {
  return {
    getToken: async () => ({
      token: "local-emulator",
      expiresOnTimestamp: Date.now() + 3_600_000,
      tokenType: "Bearer",
    }),
  };
}

export function isLocalEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host === "::1";
}

/**
 * A connection to real ARM (the cloud's endpoint, DefaultAzureCredential) or, given a localhost
 * endpoint, to the emulator (dummy token, its CA, fast polling and retries).
 */
export function armConnection(cloud: Cloud, endpoint?: string, caCertPem?: string): ArmConnection {
  if (endpoint === undefined) return { cloud, credential: defaultCredential(cloud) };
  const local = isLocalEndpoint(endpoint);
  return {
    cloud,
    credential: local ? localEmulatorCredential() : defaultCredential(cloud),
    endpoint: new URL(endpoint).origin,
    ...(caCertPem ? { caCertPem } : {}),
    ...(local ? { pollIntervalMs: 50, retryOptions: { retryDelayInMs: 50, maxRetryDelayInMs: 500 } } : {}),
  };
}

/** DefaultAzureCredential for the cloud's Entra authority (managed identity in Azure, az login locally). */
export function defaultCredential(cloud: Cloud): TokenCredential {
  return new (identity().DefaultAzureCredential)({ authorityHost: CLOUD_ENDPOINTS[cloud].authorityHost });
}

function commonOptions(connection: ArmConnection) {
  const endpoint = connection.endpoint ?? CLOUD_ENDPOINTS[connection.cloud].armEndpoint;
  return {
    endpoint,
    scope: CLOUD_ENDPOINTS[connection.cloud].tokenScope,
    ...(connection.caCertPem ? { tlsOptions: { ca: connection.caCertPem } } : {}),
    userAgentOptions: { userAgentPrefix: "aks-egress-guard" },
  };
}

// Waits inside the SDK are invisible to the write budget, and core-rest-pipeline 1.24 (through
// @typespec/ts-http-runtime 0.3.6) puts no cap on them: its throttlingRetryStrategy waits whatever
// `Retry-After` a 429/503 names, up to 3 times, for any method; `maxRetryDelayInMs` caps only the
// exponential strategy; and core-lro 2.7.2 waits a poll's `Retry-After` as given. So the app's clients
// replace the default retry policy with this one and cap the poll interval.

const READ_METHODS = new Set(["GET", "HEAD"]);
const SYSTEM_ERRORS = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "ENOTFOUND",
]);

/** `Retry-After` of a throttling answer in ms, read the way core-rest-pipeline reads it. */
export function throttlingRetryAfterMs(response: PipelineResponse | undefined): number | undefined {
  if (!response || (response.status !== 429 && response.status !== 503)) return undefined;
  for (const [name, factor] of [
    ["retry-after-ms", 1],
    ["x-ms-retry-after-ms", 1],
    ["retry-after", 1000],
  ] as const) {
    const value = response.headers.get(name);
    if (value === undefined || value.trim() === "") continue;
    const number = Number(value);
    if (Number.isFinite(number)) return Math.max(0, number * factor);
    if (name === "retry-after") {
      const date = Date.parse(value);
      if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
    }
  }
  return undefined;
}

function appRetryStrategy(connection: ArmConnection): RetryStrategy {
  const base = connection.retryOptions?.retryDelayInMs ?? 1000;
  const max = connection.retryOptions?.maxRetryDelayInMs ?? 64_000;
  const maxWait = connection.sdkMaxWaitMs ?? DEFAULT_SDK_MAX_WAIT_MS;
  return {
    name: "aksEgressGuardRetryStrategy",
    retry({ retryCount, response, responseError }) {
      const method = (response?.request ?? responseError?.request)?.method;
      // A write is retried only by the write loop, after a fresh read: an SDK retry of a PUT whose
      // answer was lost would be a second write that nobody checked.
      if (method === undefined || !READ_METHODS.has(method)) return { skipStrategy: true };
      const retryAfter = throttlingRetryAfterMs(response);
      if (retryAfter !== undefined)
        return retryAfter <= maxWait ? { retryAfterInMs: retryAfter } : { skipStrategy: true };
      const status = response?.status;
      const transient =
        status === undefined
          ? SYSTEM_ERRORS.has(responseError?.code ?? "")
          : status === 408 || (status >= 500 && status !== 501 && status !== 505);
      if (!transient) return { skipStrategy: true };
      const delay = Math.min(max, base * 2 ** retryCount);
      return { retryAfterInMs: delay / 2 + Math.random() * (delay / 2) };
    },
  };
}

/** Caps a long-running operation's poll interval; keeps `If-Match` on writes only. */
function pollPolicy(connection: ArmConnection): PipelinePolicy {
  const maxSeconds = Math.floor((connection.sdkMaxWaitMs ?? DEFAULT_SDK_MAX_WAIT_MS) / 1000);
  return {
    name: "aksEgressGuardPollPolicy",
    async sendRequest(request, next) {
      // The SDK repeats a write's custom headers on its polls and final GET; a stale If-Match there
      // could fail a read of a write that succeeded.
      if (READ_METHODS.has(request.method)) request.headers.delete("If-Match");
      const response = await next(request);
      const retryAfter = response.headers.get("retry-after");
      if (response.status < 400 && retryAfter !== undefined) {
        const seconds = Number(retryAfter);
        const tooLong = Number.isFinite(seconds)
          ? seconds > maxSeconds
          : Date.parse(retryAfter) - Date.now() > maxSeconds * 1000;
        if (tooLong) response.headers.set("retry-after", String(maxSeconds));
      }
      return response;
    },
  };
}

/** Swaps the SDK's default retry policy for the app's; fails loudly if the SDK's pipeline changed. */
function withAppPolicies<T extends { pipeline: Pipeline }>(client: T, connection: ArmConnection): T {
  const removed = client.pipeline.removePolicy({ name: "defaultRetryPolicy" });
  if (removed.length !== 1) {
    throw new Error(`expected one defaultRetryPolicy in the SDK pipeline, found ${removed.length}`);
  }
  client.pipeline.addPolicy(
    coreRestPipeline().retryPolicy([appRetryStrategy(connection)], {
      maxRetries: connection.retryOptions?.maxRetries ?? 3,
    }),
    { phase: "Retry" },
  );
  client.pipeline.addPolicy(pollPolicy(connection));
  return client;
}

const networkClients = new WeakMap<ArmConnection, Map<string, NetworkManagementClient>>();
const containerClients = new WeakMap<ArmConnection, Map<string, ContainerServiceClient>>();

function cached<T>(
  store: WeakMap<ArmConnection, Map<string, T>>,
  connection: ArmConnection,
  key: string,
  make: () => T,
): T {
  let byKey = store.get(connection);
  if (byKey === undefined) {
    byKey = new Map();
    store.set(connection, byKey);
  }
  let client = byKey.get(key);
  if (client === undefined) {
    client = make();
    byKey.set(key, client);
  }
  return client;
}

export function networkClient(connection: ArmConnection, subscriptionId: string): NetworkManagementClient {
  return cached(networkClients, connection, subscriptionId.toLowerCase(), () => {
    const { scope, ...options } = commonOptions(connection);
    // Classic client: scopes are passed explicitly so sovereign clouds never ask for a public-cloud token.
    const client = new (armNetwork().NetworkManagementClient)(connection.credential, subscriptionId, {
      ...options,
      credentialScopes: [scope],
    });
    return withAppPolicies(client, connection);
  });
}

export function containerClient(connection: ArmConnection, subscriptionId: string): ContainerServiceClient {
  return cached(containerClients, connection, subscriptionId.toLowerCase(), () => {
    const { scope, ...options } = commonOptions(connection);
    // Modular client: it defaults to the public cloud's scope unless told (azure-notes §5).
    const client = new (armContainerService().ContainerServiceClient)(connection.credential, subscriptionId, {
      ...options,
      credentials: { scopes: [scope] },
    });
    return withAppPolicies(client, connection);
  });
}

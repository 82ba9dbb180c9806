// Azure SDK clients for one cloud: the real ones, pointed at real ARM or at the local emulator.
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { NetworkManagementClient } from "@azure/arm-network";
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import type { Cloud } from "../catalog";
import { CLOUD_ENDPOINTS } from "./clouds";

export interface ArmConnection {
  cloud: Cloud;
  credential: TokenCredential;
  /** Overrides the cloud's ARM endpoint (the local emulator); real Azure when absent. */
  endpoint?: string;
  /** PEM of a CA to trust for this connection only (the emulator's self-signed CA). */
  caCertPem?: string;
  /** LRO polling interval; the SDK default (2 s) when absent. Firewall writes take minutes in Azure. */
  pollIntervalMs?: number;
  /** The SDK's own retries of 5xx/429/network errors; its defaults (3 retries, 0.8 s doubling) when absent. */
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
}

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
  return new DefaultAzureCredential({ authorityHost: CLOUD_ENDPOINTS[cloud].authorityHost });
}

function commonOptions(connection: ArmConnection) {
  const endpoint = connection.endpoint ?? CLOUD_ENDPOINTS[connection.cloud].armEndpoint;
  return {
    endpoint,
    scope: CLOUD_ENDPOINTS[connection.cloud].tokenScope,
    ...(connection.caCertPem ? { tlsOptions: { ca: connection.caCertPem } } : {}),
    ...(connection.retryOptions ? { retryOptions: connection.retryOptions } : {}),
    userAgentOptions: { userAgentPrefix: "aks-egress-guard" },
  };
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
    return new NetworkManagementClient(connection.credential, subscriptionId, {
      ...options,
      credentialScopes: [scope],
    });
  });
}

export function containerClient(connection: ArmConnection, subscriptionId: string): ContainerServiceClient {
  return cached(containerClients, connection, subscriptionId.toLowerCase(), () => {
    const { scope, ...options } = commonOptions(connection);
    // Modular client: it defaults to the public cloud's scope unless told (azure-notes §5).
    return new ContainerServiceClient(connection.credential, subscriptionId, {
      ...options,
      credentials: { scopes: [scope] },
    });
  });
}

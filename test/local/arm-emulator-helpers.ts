// Shared by the ARM emulator tests: the real SDK clients pointed at an emulator, and a raw HTTPS
// request for what the SDKs will not send (bad bodies, missing headers).
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { NetworkManagementClient } from "@azure/arm-network";
import type { ArmConnection } from "../../azure/clients";
import { type ArmEmulator, staticTokenCredential } from "../../local/arm-emulator";

export const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";
export const SMALL_ESTATE = join(__dirname, "..", "fixtures", "arm", "small-estate.json");
export const NETWORK_RG = "rg-network-weu";
export const AKS_RG = "rg-aks-weu";
export const POLICY = "fw-policy";
export const POLICY_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/firewallPolicies/${POLICY}`;
export const GROUP_PATH = `${POLICY_ID}/ruleCollectionGroups`;

/** Short retry delays so that retried faults cost milliseconds, not seconds. */
const FAST_RETRIES = { retryDelayInMs: 5, maxRetryDelayInMs: 20 };

export function clientsFor(emulator: ArmEmulator): {
  network: NetworkManagementClient;
  aks: ContainerServiceClient;
} {
  const credential = staticTokenCredential();
  return {
    network: new NetworkManagementClient(credential, SUBSCRIPTION, {
      ...emulator.clientOptions(),
      retryOptions: FAST_RETRIES,
    }),
    aks: new ContainerServiceClient(credential, SUBSCRIPTION, {
      ...emulator.clientOptions(),
      retryOptions: FAST_RETRIES,
    }),
  };
}

/** Poll fast: core-lro 2.x polls every 2 s unless told otherwise (the emulator sends Retry-After: 0). */
export const FAST_POLL = { updateIntervalInMs: 10 };

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** One HTTPS request trusting the emulator's CA; a bearer token unless `authorization: null`. */
export function raw(
  emulator: ArmEmulator,
  method: string,
  pathAndQuery: string,
  options: { body?: unknown; headers?: Record<string, string>; authorization?: string | null } = {},
): Promise<RawResponse> {
  const url = new URL(pathAndQuery, emulator.endpoint);
  const text =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== null) headers.Authorization = options.authorization ?? "Bearer test-token";
  if (text !== undefined) headers["Content-Type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: emulator.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = body === "" ? undefined : JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: body, json });
      });
    });
    req.on("error", reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

/** The `error.code` of an ARM error body. */
export function errorCode(response: RawResponse): unknown {
  const body = response.json as { error?: { code?: unknown } } | undefined;
  return body?.error?.code;
}

/** A rule collection group body the way the app writes one. */
export function managedGroupBody(priority = 500, fqdn = "mcr.microsoft.com") {
  return {
    priority,
    ruleCollections: [
      {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection" as const,
        name: "aks-weu-prod-1a2b3c-app",
        priority: 1000,
        action: { type: "Allow" as const },
        rules: [
          {
            ruleType: "ApplicationRule" as const,
            name: "base-mcr",
            description:
              "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/aks-weu-prod",
            protocols: [{ protocolType: "Https" as const, port: 443 }],
            sourceAddresses: ["10.10.0.0/22", "10.10.4.0/22"],
            targetFqdns: [fqdn],
          },
        ],
      },
    ],
  };
}

/**
 * An ArmConnection (as the app's adapters take it) to the emulator, polling and retrying fast. A new
 * object each call: the adapters cache SDK clients per connection object.
 */
export function emulatorConnection(emulator: ArmEmulator, extra: Partial<ArmConnection> = {}): ArmConnection {
  return {
    cloud: "AzureCloud",
    credential: staticTokenCredential(),
    endpoint: emulator.endpoint,
    caCertPem: emulator.caCertPem,
    pollIntervalMs: 10,
    retryOptions: FAST_RETRIES,
    ...extra,
  };
}

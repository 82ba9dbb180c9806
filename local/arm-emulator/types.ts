// Shapes shared by the ARM emulator's parts. Resources are kept in ARM's wire format (the JSON the
// real service sends), so what the SDK deserialises here is what it would deserialise in Azure.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** One ARM resource as it travels on the wire: at least its `id`. */
export interface ArmResource {
  id: string;
  [key: string]: JsonValue;
}

/**
 * The whole estate at one moment, one list per kind of resource, each item a full ARM resource with
 * `id`. A virtual network is kept without its subnets and peerings: those are resources of their own
 * (as in ARM) and are embedded again when the network is read.
 */
export interface EmulatorState {
  managedClusters: ArmResource[];
  subnets: ArmResource[];
  firewallPolicies: ArmResource[];
  ruleCollectionGroups: ArmResource[];
  virtualNetworks: ArmResource[];
  virtualNetworkPeerings: ArmResource[];
  routeTables: ArmResource[];
  azureFirewalls: ArmResource[];
  virtualHubs: ArmResource[];
  hubVirtualNetworkConnections: ArmResource[];
  routingIntents: ArmResource[];
}

/**
 * The estate the emulator starts from: any of the state's lists. Same shape as a state, so a state
 * can seed another emulator. A virtual network may embed its subnets and peerings (as a PUT to ARM
 * does); they are stored as resources of their own.
 */
export type EmulatorSeed = Partial<EmulatorState>;

/** Which requests a fault applies to. */
export interface FaultMatch {
  /** HTTP method, case-insensitive; any method when absent. */
  method?: string;
  /** Substring of the request path (no query), case-insensitive; every ARM request when absent. */
  pathContains?: string;
  /** How many matching requests it fires on; 1 when absent. */
  times?: number;
}

export type FaultSpec =
  | (FaultMatch & {
      /** 429 `RetryableErrorDueToAnotherOperation` with `Retry-After`. */
      kind: "throttle";
      /** Seconds in `Retry-After`; 0 when absent (the SDK then retries at once). */
      retryAfterSeconds?: number;
      code?: string;
      message?: string;
    })
  | (FaultMatch & {
      /** 500 `InternalServerError` (or another 5xx given in `status`). */
      kind: "serverError";
      status?: number;
      code?: string;
      message?: string;
    })
  | (FaultMatch & {
      /** 409 with the given code, e.g. `AnotherOperationInProgress`. */
      kind: "conflict";
      code: string;
      message?: string;
    })
  | (FaultMatch & {
      /** 403 `AuthorizationFailed`: the caller's role does not grant the read or write. */
      kind: "forbidden";
      message?: string;
    })
  | (FaultMatch & {
      /** 412 `PreconditionFailed`. */
      kind: "preconditionFailed";
      message?: string;
    })
  | (FaultMatch & {
      /** 503 `ServiceUnavailable`, with `Retry-After` when `retryAfterSeconds` is given. */
      kind: "serviceUnavailable";
      retryAfterSeconds?: number;
      code?: string;
      message?: string;
    })
  | (FaultMatch & {
      /** The socket is destroyed without any response; the request is not processed. */
      kind: "dropConnection";
    })
  | (FaultMatch & {
      /** A PUT/DELETE is accepted as usual, but its long-running operation ends `Failed`. */
      kind: "lroFailed";
      code?: string;
      message?: string;
    })
  | (FaultMatch & {
      /**
       * A PUT/DELETE is accepted and applied (its operation starts), then the socket is destroyed
       * instead of answering: the client never learns that Azure took the write.
       */
      kind: "responseLost";
    })
  | (FaultMatch & {
      /**
       * A PUT/DELETE is accepted and its operation stays `InProgress` (group and policy `Updating`)
       * for `holdMs`, or until `POST /_emulator/operations/settle` when absent.
       */
      kind: "stuckUpdating";
      holdMs?: number;
    });

/** Kinds consumed by a write that is accepted, rather than answering the request themselves. */
export const WRITE_FAULT_KINDS: ReadonlySet<FaultSpec["kind"]> = new Set([
  "lroFailed",
  "responseLost",
  "stuckUpdating",
]);

export type FaultKind = FaultSpec["kind"];

export interface FaultStatus {
  id: string;
  spec: FaultSpec;
  /** How many more times it fires. */
  remaining: number;
  fired: number;
}

/** One request as the emulator saw it. Control requests (`/_emulator/...`) are not logged. */
export interface RequestLogEntry {
  seq: number;
  /** When the request arrived, ISO 8601. */
  at: string;
  method: string;
  /** Path without the query, as sent (casing kept). */
  path: string;
  query: Record<string, string>;
  /** Selected request headers, lower-cased names; the bearer token itself is never kept. */
  headers: Record<string, string>;
  /** The status answered; 0 when the connection was dropped. */
  status: number;
  /** ARM error code of an error answer. */
  errorCode?: string;
  /** The fault that fired on this request, if any. */
  fault?: FaultKind;
  /** The parsed JSON body of a write. */
  body?: JsonValue;
  durationMs: number;
}

export type OperationStatus = "InProgress" | "Succeeded" | "Failed";

// An Azure Resource Manager stand-in on localhost, speaking ARM's wire format for exactly what
// aks-egress-guard uses (managed clusters, virtual networks with their subnets and peerings, route
// tables, Azure Firewalls, Virtual WAN hubs, firewall policies and their rule collection groups), so the
// real Azure SDK clients can be tested without Azure.
//
// Trusting its CA: pass the emulator's endpoint and CA through each client's own pipeline options.
// Both the classic `NetworkManagementClient` (core-client) and the modular `ContainerServiceClient`
// (@azure-rest/core-client) build their pipeline with core-rest-pipeline's
// `createPipelineFromOptions`, whose `tlsOptions` become the HTTPS agent options of every request:
//
//   const { endpoint, tlsOptions } = emulator.clientOptions();
//   new NetworkManagementClient(credential, subscriptionId, { endpoint, tlsOptions });
//   new ContainerServiceClient(credential, subscriptionId, { endpoint, tlsOptions });
//
// `tlsOptions.ca` replaces the default CA list for that client only; nothing process-wide changes.

import type { AddressInfo } from "node:net";
import { GuardError } from "../../errors";
import { BLOB_PATH_PREFIX, type BlobService } from "./blob";
import { createCertificates } from "./certificates";
import { EmulatorCore, type EmulatorSettings } from "./core";
import { type DnsAnswer, startEmulatorDns } from "./dns";
import { parseSeed, readSeedFile } from "./seed";
import { createArmServer } from "./server";
import { type ReceivedCloudEvent, TOPIC_PATH } from "./topic";
import type {
  ArmResource,
  EmulatorSeed,
  EmulatorState,
  FaultSpec,
  FaultStatus,
  RequestLogEntry,
} from "./types";

export { staticTokenCredential } from "./credential";
export type { ReceivedCloudEvent } from "./topic";
export type {
  ArmResource,
  EmulatorSeed,
  EmulatorState,
  FaultKind,
  FaultSpec,
  FaultStatus,
  JsonObject,
  JsonValue,
  RequestLogEntry,
} from "./types";

export interface ArmEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  seed?: EmulatorSeed;
  /** A JSON file with the seed's shape; give `seed` or `seedFile`, not both. */
  seedFile?: string;
  /** How long a rule collection group write stays `InProgress`; 50 ms by default. */
  lroDelayMs?: number;
  /**
   * `Retry-After` (seconds) on operation polls; 0 by default. @azure/core-lro 2.x (arm-network 36)
   * ignores 0 and then polls at the caller's `updateIntervalInMs` (2000 ms unless given); any value
   * of 1 or more makes it wait that many whole seconds. Tests pass `updateIntervalInMs: 10` or so.
   */
  lroRetryAfterSeconds?: number;
  /** Page size for list answers, to exercise `nextLink`; one page when absent. */
  pageSize?: number;
}

export interface ArmEmulator {
  /** `https://127.0.0.1:PORT` (or the host given). */
  readonly endpoint: string;
  readonly caCertPem: string;
  /** The CA certificate as a PEM file (removed by `close()`). */
  readonly caFile: string;
  /** `{ endpoint, tlsOptions: { ca } }`: spread into either SDK client's options. */
  clientOptions(): { endpoint: string; tlsOptions: { ca: string } };
  requests(): RequestLogEntry[];
  clearRequests(): void;
  /** A deep copy of the estate, after completing any operation whose time has come. */
  state(): EmulatorState;
  /** The stand-in Event Grid topic's endpoint (for AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT). */
  readonly topicEndpoint: string;
  /** The CloudEvents published to that topic, oldest first. */
  notifications(): ReceivedCloudEvent[];
  /** The stand-in Blob service's container URL for the catalog store (AKS_EGRESS_CATALOG_STORE_URL). */
  readonly catalogStoreUrl: string;
  /** The stand-in Blob service: read or plant blobs as someone else would. */
  readonly blobs: BlobService;
  /** Arms a fault; returns its id. */
  injectFault(spec: FaultSpec): string;
  faults(): FaultStatus[];
  clearFaults(): void;
  /** Applies to writes started from now on. */
  setLroDelay(ms: number): void;
  /** Completes every running operation now. */
  settleOperations(): void;
  /** Back to the seed: estate, operations, faults and request log. */
  reset(): void;
  /**
   * Replaces or adds any emulated resource by its ID, in ARM's shape (as if changed in Azure): clusters,
   * virtual networks (embedding subnets and peerings, or without), subnets, peerings, route tables,
   * Azure Firewalls, virtual hubs with their connections and routing intent, firewall policies and
   * rule collection groups. Also `PUT /_emulator/resources`. Throws naming what is wrong.
   */
  upsert(resource: ArmResource): void;
  /**
   * The clusters' public DNS (`127.0.0.1:PORT`, for AKS_EGRESS_RESOLVERS): each managedCluster's `fqdn`
   * resolves to a stable 20.x.y.z address unless `setDnsAnswer` says otherwise.
   */
  readonly dnsServer: string;
  /** What an FQDN resolves to from now on ("fail" answers SERVFAIL); undefined restores the default. */
  setDnsAnswer(fqdn: string, answer: DnsAnswer | undefined): void;
  close(): Promise<void>;
}

const DEFAULT_LRO_DELAY_MS = 50;

function checkNonNegativeInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new GuardError("BAD_ARGUMENT", `${name} must be a non-negative integer, got ${value}`);
  }
}

async function loadSeed(options: ArmEmulatorOptions): Promise<EmulatorSeed> {
  if (options.seed !== undefined && options.seedFile !== undefined) {
    throw new GuardError("BAD_ARGUMENT", "give the emulator a seed or a seedFile, not both");
  }
  if (options.seedFile !== undefined) return readSeedFile(options.seedFile);
  return options.seed === undefined ? {} : parseSeed(options.seed, "(options.seed)");
}

export async function startArmEmulator(options: ArmEmulatorOptions = {}): Promise<ArmEmulator> {
  checkNonNegativeInteger("port", options.port);
  checkNonNegativeInteger("lroDelayMs", options.lroDelayMs);
  checkNonNegativeInteger("lroRetryAfterSeconds", options.lroRetryAfterSeconds);
  if (options.pageSize !== undefined && !(Number.isInteger(options.pageSize) && options.pageSize > 0)) {
    throw new GuardError("BAD_ARGUMENT", `pageSize must be a positive integer, got ${options.pageSize}`);
  }
  const settings: EmulatorSettings = {
    lroDelayMs: options.lroDelayMs ?? DEFAULT_LRO_DELAY_MS,
    lroRetryAfterSeconds: options.lroRetryAfterSeconds ?? 0,
    pageSize: options.pageSize,
  };
  const core = new EmulatorCore(await loadSeed(options), settings);
  const certificates = await createCertificates();
  const server = createArmServer(core, { key: certificates.serverKeyPem, cert: certificates.serverCertPem });
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error: unknown) {
    await certificates.dispose();
    throw new GuardError("BAD_ARGUMENT", `the ARM emulator cannot listen on ${host}:${options.port ?? 0}`, {
      cause: error,
    });
  }
  const { port } = server.address() as AddressInfo;
  const dns = await startEmulatorDns(() => core.store.list("managedClusters", ""), host);
  const endpoint = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;

  return {
    endpoint,
    caCertPem: certificates.caCertPem,
    caFile: certificates.caFile,
    clientOptions: () => ({ endpoint, tlsOptions: { ca: certificates.caCertPem } }),
    requests: () => core.log.all(),
    clearRequests: () => core.log.clear(),
    state: () => core.state(),
    topicEndpoint: `${endpoint}${TOPIC_PATH}`,
    notifications: () => core.topic.events(),
    catalogStoreUrl: `${endpoint}${BLOB_PATH_PREFIX}catalog-watch`,
    blobs: core.blobs,
    injectFault: (spec) => core.faults.add(spec),
    faults: () => core.faults.list(),
    clearFaults: () => core.faults.clear(),
    setLroDelay: (ms) => {
      checkNonNegativeInteger("lroDelayMs", ms);
      settings.lroDelayMs = ms;
    },
    settleOperations: () => core.operations.settleAll(Date.now()),
    reset: () => core.reset(),
    upsert: (resource) => {
      core.store.upsert(resource);
    },
    dnsServer: dns.server,
    setDnsAnswer: (fqdn, answer) => dns.setAnswer(fqdn, answer),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Clients keep connections alive; without this, close() would wait for them to idle out.
        server.closeAllConnections();
      })
        .then(() => dns.close())
        .then(() => certificates.dispose());
      return closed;
    },
  };
}

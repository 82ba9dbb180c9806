// The emulator's moving parts in one place, shared by the HTTP server and the programmatic API.

import type { IncomingHttpHeaders } from "node:http";
import { BlobService } from "./blob";
import { FaultBook } from "./faults";
import { OperationBook } from "./operations";
import type { PathParams } from "./paths";
import type { ArmReply } from "./replies";
import { RequestLog } from "./request-log";
import { EstateStore } from "./store";
import { NotificationTopic } from "./topic";
import type { EmulatorSeed, EmulatorState, JsonValue } from "./types";

export interface EmulatorSettings {
  /** How long a rule collection group write stays `InProgress`. */
  lroDelayMs: number;
  /** `Retry-After` on operation polls, in seconds. */
  lroRetryAfterSeconds: number;
  /** Page size of list answers (with `nextLink`); everything on one page when undefined. */
  pageSize: number | undefined;
}

/** One ARM request after the server has read and checked it. */
export interface ArmRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when there is none or it is not JSON. */
  body: JsonValue | undefined;
  bodyText: string;
  /** `https://host:port` as the client addressed us, for the URLs we hand out. */
  baseUrl: string;
  apiVersion: string;
  now: number;
}

export type Handler = (request: ArmRequest, params: PathParams, core: EmulatorCore) => ArmReply;

export class EmulatorCore {
  readonly faults = new FaultBook();
  readonly log = new RequestLog();
  readonly topic = new NotificationTopic();
  /** The stand-in Blob service's containers and blobs (the catalog watch's store). */
  readonly blobs = new BlobService();
  store: EstateStore;
  operations: OperationBook;
  /** The seed as first loaded (with filled-in etags), so `reset()` returns to exactly that. */
  private readonly initial: EmulatorState;

  constructor(
    seed: EmulatorSeed,
    readonly settings: EmulatorSettings,
  ) {
    this.store = new EstateStore(seed);
    this.operations = new OperationBook(this.store);
    this.initial = this.store.snapshot();
  }

  state(): EmulatorState {
    this.operations.settle(Date.now());
    return this.store.snapshot();
  }

  reset(): void {
    this.store = new EstateStore(this.initial);
    this.operations = new OperationBook(this.store);
    this.faults.clear();
    this.log.clear();
    this.topic.clear();
    this.blobs.clear();
  }
}

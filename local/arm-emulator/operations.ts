// Long-running writes of rule collection groups. Azure takes minutes and refuses a second write to
// any group of the same policy meanwhile; here an operation lasts `lroDelayMs` and completes lazily
// (`settle` runs before every request and every state read), so no timers outlive `close()`.
import { randomUUID } from "node:crypto";
import { asString } from "./json";
import { type EstateStore, propertiesOf } from "./store";
import type { JsonObject, OperationStatus } from "./types";

export interface OperationError {
  code: string;
  message: string;
}

export interface Operation {
  id: string;
  kind: "put" | "delete";
  subscription: string;
  /** Azure region in the operation URL: the policy's location. */
  location: string;
  policyKey: string;
  groupKey: string;
  startedAt: number;
  completesAt: number;
  /** How it will end (a `lroFailed` fault makes it `Failed`). */
  outcome: Exclude<OperationStatus, "InProgress">;
  error?: OperationError;
  status: OperationStatus;
  endedAt?: number;
}

export interface StartOperation {
  kind: Operation["kind"];
  subscription: string;
  location: string;
  policyKey: string;
  groupKey: string;
  durationMs: number;
  failWith?: OperationError;
}

export class OperationBook {
  private readonly operations = new Map<string, Operation>();

  constructor(private readonly store: EstateStore) {}

  start(request: StartOperation, now: number): Operation {
    const operation: Operation = {
      id: randomUUID(),
      kind: request.kind,
      subscription: request.subscription,
      location: request.location,
      policyKey: request.policyKey,
      groupKey: request.groupKey,
      startedAt: now,
      completesAt: now + request.durationMs,
      outcome: request.failWith ? "Failed" : "Succeeded",
      status: "InProgress",
      ...(request.failWith ? { error: request.failWith } : {}),
    };
    this.operations.set(operation.id, operation);
    return operation;
  }

  get(id: string): Operation | undefined {
    return this.operations.get(id.toLowerCase());
  }

  /** The write still running on this policy, if any. */
  inProgressOn(policyKey: string): Operation | undefined {
    return [...this.operations.values()].find(
      (op) => op.status === "InProgress" && op.policyKey === policyKey,
    );
  }

  /** Completes every operation whose time has come, applying its effect to the estate. */
  settle(now: number): void {
    for (const operation of this.operations.values()) {
      if (operation.status !== "InProgress" || operation.completesAt > now) continue;
      operation.status = operation.outcome;
      operation.endedAt = now;
      this.apply(operation);
    }
  }

  /** Finishes every running operation at once (tests that do not want to wait). */
  settleAll(now: number): void {
    for (const operation of this.operations.values()) {
      if (operation.status === "InProgress") operation.completesAt = now;
    }
    this.settle(now);
  }

  clear(): void {
    this.operations.clear();
  }

  private apply(operation: Operation): void {
    const policy = this.store.get("firewallPolicies", operation.policyKey);
    const group = this.store.get("ruleCollectionGroups", operation.groupKey);
    const failed = operation.status === "Failed";
    // A failed write leaves the group and its policy `Failed` (as Azure shows them) with the content
    // that was sent; the next successful write repairs both.
    if (operation.kind === "delete" && !failed) {
      this.store.delete("ruleCollectionGroups", operation.groupKey);
      this.store.refreshPolicyGroups(operation.policyKey);
    } else if (group) {
      setProvisioningState(propertiesOf(group), failed ? "Failed" : "Succeeded");
    }
    if (policy) setProvisioningState(propertiesOf(policy), failed ? "Failed" : "Succeeded");
  }
}

function setProvisioningState(properties: JsonObject, state: string): void {
  if (asString(properties.provisioningState) !== state) properties.provisioningState = state;
}

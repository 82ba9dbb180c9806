// PUT and DELETE of rule collection groups as long-running operations, and the operation URLs the
// SDK polls. Azure serialises writes per firewall policy: a second write to any group of a policy
// while one runs gets 409 `AnotherOperationInProgress`.
import type { ArmRequest, EmulatorCore, Handler } from "./core";
import { asString, cloneJson } from "./json";
import type { Operation, OperationError } from "./operations";
import { GROUP_ID, keyFrom, type PathParams, resourceKey } from "./paths";
import { childNotFound, findPolicy, idFrom, isReply } from "./reads";
import { type ArmReply, armError, ok } from "./replies";
import { dnsProxyEnabled, groupSize, newEtag, propertiesOf, RESOURCE_TYPES } from "./store";
import type { ArmResource, FaultSpec } from "./types";
import { isGroupBodyProblem, validateGroupBody } from "./validation";

const OPERATIONS_PATH = "/subscriptions/{subscription}/providers/Microsoft.Network/locations/{location}";
export const OPERATION_STATUS = `${OPERATIONS_PATH}/nfvOperations/{operation}`;
export const OPERATION_RESULT = `${OPERATIONS_PATH}/nfvOperationResults/{operation}`;

function header(request: ArmRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** Etags compare as strings; `W/` is dropped on both sides as Azure ignores weakness here. */
function sameEtag(a: string, b: string): boolean {
  const strip = (etag: string): string => etag.trim().replace(/^W\//i, "");
  return strip(a) === strip(b);
}

/** `If-Match` / `If-None-Match: *` as ARM applies them to a write. */
function preconditionFailure(request: ArmRequest, existing: ArmResource | undefined): ArmReply | undefined {
  const ifMatch = header(request, "if-match");
  if (ifMatch !== undefined) {
    const current = asString(existing?.etag);
    const matches =
      current !== undefined && ifMatch.split(",").some((tag) => tag.trim() === "*" || sameEtag(tag, current));
    if (!matches) {
      return armError(
        412,
        "PreconditionFailed",
        `The If-Match condition ${ifMatch} does not match the current etag ${current ?? "(no resource)"}.`,
      );
    }
  }
  if (header(request, "if-none-match")?.trim() === "*" && existing) {
    return armError(412, "PreconditionFailed", "The resource exists and If-None-Match is '*'.");
  }
  return undefined;
}

function operationUrl(request: ArmRequest, pattern: string, operation: Operation): string {
  const path = pattern
    .replace("{subscription}", operation.subscription)
    .replace("{location}", operation.location)
    .replace("{operation}", operation.id);
  const url = new URL(path, request.baseUrl);
  url.searchParams.set("api-version", request.apiVersion);
  return url.toString();
}

function busy(request: ArmRequest, core: EmulatorCore, policyKey: string): ArmReply | undefined {
  const running = core.operations.inProgressOn(policyKey);
  if (!running) return undefined;
  return armError(
    409,
    "AnotherOperationInProgress",
    "Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: " +
      `${operationUrl(request, OPERATION_STATUS, running)}.`,
  );
}

function retryAfter(core: EmulatorCore): Record<string, string> {
  return { "Retry-After": String(core.settings.lroRetryAfterSeconds) };
}

function lroFailure(fault: FaultSpec | undefined): OperationError | undefined {
  if (fault?.kind !== "lroFailed") return undefined;
  return {
    code: fault.code ?? "InternalServerError",
    message: fault.message ?? "An error occurred while updating the firewall policy (injected fault).",
  };
}

/** How long the operation runs: a `stuckUpdating` fault holds it (until settled when no `holdMs`). */
function operationDuration(fault: FaultSpec | undefined, core: EmulatorCore): number {
  if (fault?.kind !== "stuckUpdating") return core.settings.lroDelayMs;
  return fault.holdMs ?? Number.POSITIVE_INFINITY;
}

/**
 * Starts the operation and marks the policy busy, as Azure does while it reprograms the firewall.
 * A write fault armed for this request is consumed here, once the write is accepted.
 */
function startWrite(
  request: ArmRequest,
  core: EmulatorCore,
  params: PathParams,
  policy: ArmResource,
  kind: Operation["kind"],
  groupKey: string,
): { operation: Operation; fault: FaultSpec | undefined } {
  policy.etag = newEtag();
  propertiesOf(policy).provisioningState = "Updating";
  const fault = core.faults.take(request.method, request.path, "write");
  const failWith = lroFailure(fault);
  const operation = core.operations.start(
    {
      kind,
      subscription: params.subscription ?? "",
      location: asString(policy.location) ?? "westeurope",
      policyKey: resourceKey(policy.id),
      groupKey,
      durationMs: operationDuration(fault, core),
      ...(failWith ? { failWith } : {}),
    },
    request.now,
  );
  return { operation, fault };
}

function withFault(reply: ArmReply, fault: FaultSpec | undefined): ArmReply {
  return fault ? { ...reply, fault } : reply;
}

export const putGroup: Handler = (request, params, core) => {
  const policy = findPolicy(params, core);
  if (isReply(policy)) return policy;
  if (request.body === undefined && request.bodyText.trim() !== "") {
    return armError(400, "InvalidRequestFormat", "Cannot parse the request: the body is not valid JSON.");
  }
  const checked = validateGroupBody(request.body, { dnsProxyEnabled: dnsProxyEnabled(policy) });
  if (isGroupBodyProblem(checked)) return armError(400, checked.code, checked.message);
  const groupKey = keyFrom(GROUP_ID, params);
  const existing = core.store.get("ruleCollectionGroups", groupKey);
  const refused = preconditionFailure(request, existing) ?? busy(request, core, resourceKey(policy.id));
  if (refused) return refused;

  const group: ArmResource = {
    id: existing?.id ?? `${policy.id}/ruleCollectionGroups/${params.group}`,
    name: existing?.name ?? params.group ?? "",
    type: RESOURCE_TYPES.ruleCollectionGroups,
    etag: newEtag(),
    properties: {
      provisioningState: "Updating",
      priority: checked.priority,
      size: groupSize(checked.ruleCollections),
      ruleCollections: cloneJson(checked.ruleCollections),
    },
  };
  core.store.set("ruleCollectionGroups", group);
  core.store.refreshPolicyGroups(resourceKey(policy.id));
  const { operation, fault } = startWrite(request, core, params, policy, "put", groupKey);
  return withFault(
    ok(cloneJson(group), existing ? 200 : 201, {
      "Azure-AsyncOperation": operationUrl(request, OPERATION_STATUS, operation),
      ...retryAfter(core),
    }),
    fault,
  );
};

export const deleteGroup: Handler = (request, params, core) => {
  const policy = findPolicy(params, core);
  if (isReply(policy)) return policy;
  const groupKey = keyFrom(GROUP_ID, params);
  const existing = core.store.get("ruleCollectionGroups", groupKey);
  const refused = preconditionFailure(request, existing);
  if (refused) return refused;
  // Deleting what is not there succeeds at once, as ARM's DELETE is idempotent.
  if (!existing) return { status: 204 };
  const conflict = busy(request, core, resourceKey(policy.id));
  if (conflict) return conflict;
  propertiesOf(existing).provisioningState = "Deleting";
  const { operation, fault } = startWrite(request, core, params, policy, "delete", groupKey);
  return withFault(
    {
      status: 202,
      headers: {
        "Azure-AsyncOperation": operationUrl(request, OPERATION_STATUS, operation),
        Location: operationUrl(request, OPERATION_RESULT, operation),
        ...retryAfter(core),
      },
    },
    fault,
  );
};

function findOperation(params: PathParams, core: EmulatorCore): Operation | undefined {
  const operation = core.operations.get(params.operation ?? "");
  return operation && operation.subscription.toLowerCase() === params.subscription?.toLowerCase()
    ? operation
    : undefined;
}

/** The `Azure-AsyncOperation` URL: `{ status }`, with `Retry-After` while running. */
export const getOperationStatus: Handler = (_request, params, core) => {
  const operation = findOperation(params, core);
  if (!operation) return childNotFound(idFrom(OPERATION_STATUS, params));
  const body = {
    name: operation.id,
    status: operation.status,
    startTime: new Date(operation.startedAt).toISOString(),
    ...(operation.endedAt !== undefined ? { endTime: new Date(operation.endedAt).toISOString() } : {}),
    ...(operation.status === "Failed" && operation.error ? { error: { ...operation.error } } : {}),
  };
  return ok(body, 200, operation.status === "InProgress" ? retryAfter(core) : undefined);
};

/** The `Location` URL: 202 while running, then the outcome as the final status code. */
export const getOperationResult: Handler = (request, params, core) => {
  const operation = findOperation(params, core);
  if (!operation) return childNotFound(idFrom(OPERATION_RESULT, params));
  if (operation.status === "InProgress") {
    return {
      status: 202,
      headers: { Location: operationUrl(request, OPERATION_RESULT, operation), ...retryAfter(core) },
    };
  }
  if (operation.status === "Failed") {
    return armError(
      400,
      operation.error?.code ?? "InternalServerError",
      operation.error?.message ?? "Failed",
    );
  }
  if (operation.kind === "delete") return { status: 204 };
  const group = core.store.get("ruleCollectionGroups", operation.groupKey);
  return group ? ok(cloneJson(group)) : { status: 204 };
};

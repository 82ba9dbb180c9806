// The Azure SDK packages the app calls, each required the first time something needs it, never when
// the app loads: they are most of what loading the app would otherwise cost (@azure/arm-network alone
// was over a third of the deployment bundle), and a cold start only has to register the functions
// (benchmark 3, bench/README.md). A `require` inside a function keeps the callers synchronous; the
// deployment bundle keeps these packages out of index.js and loads them from a second file on the
// same first call (scripts/package.mjs). Elsewhere, import only types from these packages.
import type * as ArmContainerService from "@azure/arm-containerservice";
import type * as ArmNetwork from "@azure/arm-network";
import type * as CoreAuth from "@azure/core-auth";
import type * as CoreRestPipeline from "@azure/core-rest-pipeline";
import type * as EventGrid from "@azure/eventgrid";
import type * as Identity from "@azure/identity";
import type * as StorageBlob from "@azure/storage-blob";

function onFirstUse<T>(load: () => T): () => T {
  let module: T | undefined;
  return () => {
    module ??= load();
    return module;
  };
}

// Each `require` names its package literally, so that bundlers can find it.
export const armContainerService = onFirstUse((): typeof ArmContainerService =>
  require("@azure/arm-containerservice"),
);
export const armNetwork = onFirstUse((): typeof ArmNetwork => require("@azure/arm-network"));
export const coreAuth = onFirstUse((): typeof CoreAuth => require("@azure/core-auth"));
export const coreRestPipeline = onFirstUse((): typeof CoreRestPipeline =>
  require("@azure/core-rest-pipeline"),
);
export const eventGrid = onFirstUse((): typeof EventGrid => require("@azure/eventgrid"));
export const identity = onFirstUse((): typeof Identity => require("@azure/identity"));
export const storageBlob = onFirstUse((): typeof StorageBlob => require("@azure/storage-blob"));

/**
 * The SDK's own check (a RestError, or an error named "RestError" from another copy of the SDK).
 * The errors it is asked about come from SDK calls, so @azure/core-rest-pipeline is loaded by then.
 */
export function isRestError(error: unknown): error is CoreRestPipeline.RestError {
  return coreRestPipeline().isRestError(error);
}

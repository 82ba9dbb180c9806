// The catalog store this process uses: the blob container of AKS_EGRESS_CATALOG_STORE_URL, reached as
// ARM is (the local emulator's Blob service with its CA and a dummy token; Azure with the app's
// identity), or, when none is configured, one process-wide memory store that a restart forgets.
import fs from "node:fs";
import { blobCatalogStore, type CatalogStore, memoryCatalogStore } from "../azure/catalog-store";
import { defaultCredential, isLocalEndpoint, localEmulatorCredential } from "../azure/clients";
import type { AppSettings } from "./settings";

// One store per configuration: the SDK clients (and their connections) are made once per process,
// and every caller in the process shares the one memory store, as they would share a container.
const stores = new Map<string, CatalogStore>();
let memory: CatalogStore | undefined;

export function catalogStoreFor(settings: AppSettings): CatalogStore {
  const url = settings.catalogStoreUrl;
  if (url === undefined) {
    memory ??= memoryCatalogStore();
    return memory;
  }
  const local = isLocalEndpoint(url);
  // The credential depends on the cloud (its Entra authority), the CA only on the emulator's file.
  const key = `${url}|${settings.cloud}|${local ? (settings.armCaFile ?? "") : ""}`;
  let store = stores.get(key);
  if (store === undefined) {
    // The emulator's CA only for localhost: a CA given to the client replaces the public ones, so real
    // Azure would no longer be trusted with it.
    const caCertPem = local && settings.armCaFile ? fs.readFileSync(settings.armCaFile, "utf8") : undefined;
    store = blobCatalogStore(
      url,
      local ? localEmulatorCredential() : defaultCredential(settings.cloud),
      caCertPem === undefined ? {} : { caCertPem },
    );
    stores.set(key, store);
  }
  return store;
}

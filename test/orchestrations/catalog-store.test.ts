// AKS_EGRESS_CATALOG_STORE_URL: validated at start, and turned into the process's catalog store: the
// emulator's Blob service (its CA from AKS_EGRESS_ARM_CA_FILE, a dummy token) for localhost, memory when
// unset. The stores themselves: test/azure/catalog-store.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { catalogStoreFor } from "../../orchestrations/catalog-store";
import { loadSettings, SETTING_NAMES } from "../../orchestrations/settings";

const BASE = {
  AKS_EGRESS_FIREWALL_POLICIES:
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net/providers/Microsoft.Network/firewallPolicies/fw",
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
};
const settingsWith = (extra: Record<string, string>) => loadSettings({ ...BASE, ...extra });

let emulator: ArmEmulator;
beforeAll(async () => {
  emulator = await startArmEmulator();
});
afterAll(async () => emulator.close());

describe(`${SETTING_NAMES.catalogStoreUrl}`, () => {
  it.each([
    "https://stabc123.blob.core.windows.net/catalog-watch",
    "https://stabc123.blob.core.chinacloudapi.cn/catalog-watch/",
    "https://127.0.0.1:8443/devstoreaccount1/catalog-watch",
    "https://localhost:8443/devstoreaccount1/catalog-watch",
  ])("accepts %s", (url) => {
    expect(settingsWith({ AKS_EGRESS_CATALOG_STORE_URL: url }).catalogStoreUrl).toBe(url.replace(/\/$/, ""));
  });

  it("is optional", () => {
    expect(settingsWith({}).catalogStoreUrl).toBeUndefined();
    expect(settingsWith({ AKS_EGRESS_CATALOG_STORE_URL: " " }).catalogStoreUrl).toBeUndefined();
  });

  it.each([
    ["catalog-watch", /expected the https URL of a blob container/],
    ["http://127.0.0.1:10000/devstoreaccount1/catalog-watch", /HTTPS only/],
    ["https://st.blob.core.windows.net/catalog-watch?sv=2024-01-01&sig=abc", /not a SAS/],
    ["https://st.blob.core.windows.net/", /expected https:\/\/<account>/],
    ["https://st.blob.core.windows.net/catalog-watch/state", /expected https:\/\/<account>/],
    ["https://127.0.0.1:8443/catalog-watch", /devstoreaccount1/],
    ["https://st.blob.core.windows.net/Catalog_Watch", /3-63 lower-case/],
  ])("refuses %s, naming the setting", (url, message) => {
    expect(() => settingsWith({ AKS_EGRESS_CATALOG_STORE_URL: url })).toThrow(
      new RegExp(
        `AKS_EGRESS_CATALOG_STORE_URL="${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}": .*${message.source}`,
      ),
    );
  });
});

describe("catalogStoreFor", () => {
  it("without a URL: one memory store for the whole process", () => {
    const store = catalogStoreFor(settingsWith({}));
    expect(store.describe()).toBe("process memory (lost on restart)");
    expect(catalogStoreFor(settingsWith({}))).toBe(store);
  });

  it("for the emulator: its Blob service over HTTPS, with the CA file and a dummy token; one store per URL", async () => {
    const url = `${emulator.endpoint}/devstoreaccount1/catalog-watch`;
    const settings = settingsWith({
      AKS_EGRESS_CATALOG_STORE_URL: url,
      AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
      AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
    });
    const store = catalogStoreFor(settings);
    expect(store.describe()).toBe(`blob container ${url}`);
    expect(catalogStoreFor({ ...settings })).toBe(store);
    expect(catalogStoreFor({ ...settings, catalogStoreUrl: `${url}-2` })).not.toBe(store);
    // The container does not exist yet: the store creates it on the first write.
    const etag = await store.write("watch.json", { seen: "abc" }, undefined);
    expect(await store.read("watch.json")).toEqual({ value: { seen: "abc" }, etag });
  });
});

// The catalog store: one table of behaviours run against the memory store and against the blob store
// (the real @azure/storage-blob client over HTTPS to the ARM emulator's Blob service), so that code
// tested against memory behaves the same in Azure. Then what only the blob store has: the token scope,
// content types, the CA, the read cap, tampering, a missing container.
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { blobCatalogStore, type CatalogStore, memoryCatalogStore } from "../../azure/catalog-store";
import { pageHash } from "../../catalog/import/version";
import { type ErrorCode, type GuardError, isGuardError } from "../../errors";
import { staticTokenCredential } from "../../local/arm-emulator";
import { BLOB_ACCOUNT } from "../../local/arm-emulator/blob";
import { createCertificates, type EmulatorCertificates } from "../../local/arm-emulator/certificates";
import { EmulatorCore } from "../../local/arm-emulator/core";
import { createArmServer } from "../../local/arm-emulator/server";

const CONTAINER = "catalog-watch";
const PAGE =
  "# Outbound network and FQDN rules for AKS clusters\n\n| FQDN | Port |\n|---|---|\n| mcr.microsoft.com | HTTPS:443 |\n";

// The emulator built from its parts (as startArmEmulator does), so tests can reach the Blob service's
// memory and change a blob behind the store's back.
let core: EmulatorCore;
let certificates: EmulatorCertificates;
let server: ReturnType<typeof createArmServer>;
let endpoint: string;

beforeAll(async () => {
  core = new EmulatorCore({}, { lroDelayMs: 0, lroRetryAfterSeconds: 0, pageSize: undefined });
  certificates = await createCertificates();
  server = createArmServer(core, { key: certificates.serverKeyPem, cert: certificates.serverCertPem });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await certificates.dispose();
});
beforeEach(() => core.reset());

const containerUrl = (container = CONTAINER) => `${endpoint}/${BLOB_ACCOUNT}/${container}`;

/** What failed, as a GuardError code (or the thrown value when it is not one). */
async function failure(promise: Promise<unknown>): Promise<ErrorCode | unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return isGuardError(error) ? error.code : error;
  }
  return "no error";
}

interface Backend {
  name: string;
  /** A store over a container that exists, as infra makes it. */
  make(): CatalogStore;
  /** The container goes away (blob); nothing to lose (memory). */
  dropContainer(): void;
}

const backends: Backend[] = [
  { name: "memory", make: () => memoryCatalogStore(), dropContainer: () => {} },
  {
    name: "blob (emulator, HTTPS, real SDK)",
    make: () => {
      core.blobs.put(CONTAINER, ".keep", "");
      return blobCatalogStore(containerUrl(), staticTokenCredential(), { caCertPem: certificates.caCertPem });
    },
    dropContainer: () => core.blobs.deleteContainer(CONTAINER),
  },
];

describe.each(backends)("catalog store: $name", (backend) => {
  let store: CatalogStore;
  beforeEach(() => {
    store = backend.make();
  });

  it("reads a document that does not exist as undefined", async () => {
    expect(await store.read("watch.json")).toBeUndefined();
  });

  it("creates with ifMatch undefined, once; a second create is a conflict", async () => {
    const etag = await store.write("watch.json", { etag: "W/1", sha: "abc" }, undefined);
    expect(etag).toEqual(expect.any(String));
    expect(await store.read("watch.json")).toEqual({ value: { etag: "W/1", sha: "abc" }, etag });
    expect(await failure(store.write("watch.json", { other: true }, undefined))).toBe(
      "CATALOG_STORE_CONFLICT",
    );
    expect((await store.read("watch.json"))?.value).toEqual({ etag: "W/1", sha: "abc" });
  });

  it("updates only from the current etag: a stale one is a conflict, the current one gives a new etag", async () => {
    const first = await store.write("watch.json", { n: 1 }, undefined);
    const second = await store.write("watch.json", { n: 2 }, first);
    expect(second).not.toBe(first);
    expect(await failure(store.write("watch.json", { n: 3 }, first))).toBe("CATALOG_STORE_CONFLICT");
    const third = await store.write("watch.json", { n: 3 }, second);
    expect(await store.read("watch.json")).toEqual({ value: { n: 3 }, etag: third });
  });

  it("an update of a document that does not exist is a conflict, not a create", async () => {
    const etag = await store.write("adoptions.json", [], undefined);
    expect(await failure(store.write("watch.json", { n: 1 }, etag))).toBe("CATALOG_STORE_CONFLICT");
    expect(await store.read("watch.json")).toBeUndefined();
  });

  it("keeps documents apart by name, and a value read is a copy", async () => {
    await store.write("watch.json", { a: 1 }, undefined);
    await store.write("adoptions.json", { b: [1, 2] }, undefined);
    await store.write("history/2026-06.json", "text", undefined);
    const read = (await store.read("adoptions.json"))?.value as { b: number[] };
    read.b.push(3);
    expect((await store.read("adoptions.json"))?.value).toEqual({ b: [1, 2] });
    expect((await store.read("watch.json"))?.value).toEqual({ a: 1 });
    expect((await store.read("history/2026-06.json"))?.value).toBe("text");
  });

  it("stores a page under its SHA-256 (pageHash), idempotently, and gives it back", async () => {
    const sha = await store.putPage(PAGE);
    expect(sha).toBe(pageHash(PAGE));
    expect(await store.putPage(PAGE)).toBe(sha);
    expect(await store.getPage(sha)).toBe(PAGE);
    expect(await store.getPage(sha.toUpperCase())).toBe(PAGE);
    // Text exactly as given: non-ASCII and a leading byte-order mark survive, and so does the hash.
    const odd = "\uFEFF# Règles sortantes — 出站规则\n";
    expect(await store.getPage(await store.putPage(odd))).toBe(odd);
    expect(await store.getPage(pageHash("never stored"))).toBeUndefined();
  });

  it("refuses what is not a SHA-256", async () => {
    for (const bad of ["", "abc", `${"0".repeat(63)}g`, "../watch.json", `${"a".repeat(64)}.md`])
      expect(await failure(store.getPage(bad))).toBe("BAD_ARGUMENT");
  });

  it.each([
    "",
    "/watch.json",
    "../watch.json",
    "a/../watch.json",
    "a..json",
    "./watch.json",
    ".watch.json",
    "watch.json/",
    "a//b.json",
    "a\\b.json",
    "watch json",
    "pages/x.md",
    `${"a".repeat(300)}.json`,
  ])("refuses the document name %j", async (name) => {
    expect(await failure(store.read(name))).toBe("BAD_ARGUMENT");
    expect(await failure(store.write(name, {}, undefined))).toBe("BAD_ARGUMENT");
  });

  it("refuses values that are not JSON and etags that are not etags", async () => {
    expect(await failure(store.write("watch.json", undefined, undefined))).toBe("BAD_ARGUMENT");
    expect(await failure(store.write("watch.json", { n: 1n }, undefined))).toBe("BAD_ARGUMENT");
    expect(await failure(store.write("watch.json", {}, ""))).toBe("BAD_ARGUMENT");
    // "*" would overwrite whatever is there: not what a caller holding an etag means.
    await store.write("watch.json", {}, undefined);
    expect(await failure(store.write("watch.json", {}, "*"))).toBe("BAD_ARGUMENT");
  });

  it("works when the container is missing (the blob store creates it)", async () => {
    backend.dropContainer();
    expect(await store.read("watch.json")).toBeUndefined();
    expect(await store.getPage(pageHash(PAGE))).toBeUndefined();
    const etag = await store.write("watch.json", { n: 1 }, undefined);
    expect(await store.read("watch.json")).toEqual({ value: { n: 1 }, etag });
    backend.dropContainer();
    expect(await store.putPage(PAGE)).toBe(pageHash(PAGE));
  });

  it("describes where it keeps things", () => {
    expect(store.describe()).toBe(
      backend.name === "memory" ? "process memory (lost on restart)" : `blob container ${containerUrl()}`,
    );
  });
});

describe("memory catalog store", () => {
  it("each store is its own, and an etag of one never matches another's", async () => {
    const a = memoryCatalogStore();
    const b = memoryCatalogStore();
    const etag = await a.write("watch.json", { n: 1 }, undefined);
    expect(await b.read("watch.json")).toBeUndefined();
    await b.write("watch.json", { n: 1 }, undefined);
    expect(await failure(b.write("watch.json", { n: 2 }, etag))).toBe("CATALOG_STORE_CONFLICT");
  });
});

describe("blob catalog store", () => {
  const store = (credential: TokenCredential = staticTokenCredential(), caCertPem = certificates.caCertPem) =>
    blobCatalogStore(containerUrl(), credential, { caCertPem });

  it("asks the credential for Azure Storage's scope", async () => {
    const scopes: (string | string[])[] = [];
    const recording: TokenCredential = {
      getToken: async (scope: string | string[], _options?: GetTokenOptions): Promise<AccessToken> => {
        scopes.push(scope);
        return { token: "t", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    await store(recording).read("watch.json");
    expect(scopes.flat()).toEqual(["https://storage.azure.com/.default"]);
  });

  it("writes JSON as application/json and pages as markdown, at pages/<sha>.md", async () => {
    const s = store();
    await s.write("watch.json", { a: "é" }, undefined);
    const sha = await s.putPage(PAGE);
    const doc = core.blobs.get(CONTAINER, "watch.json");
    expect(doc?.contentType).toBe("application/json");
    expect(doc?.content.toString("utf8")).toBe('{"a":"é"}');
    const page = core.blobs.get(CONTAINER, `pages/${sha}.md`);
    expect(page?.contentType).toBe("text/markdown; charset=utf-8");
    expect(page?.content.toString("utf8")).toBe(PAGE);
  });

  it("sees a change made by someone else as a conflict", async () => {
    const s = store();
    const etag = await s.write("watch.json", { n: 1 }, undefined);
    core.blobs.put(CONTAINER, "watch.json", '{"n":99}', "application/json");
    expect(await failure(s.write("watch.json", { n: 2 }, etag))).toBe("CATALOG_STORE_CONFLICT");
    expect((await s.read("watch.json"))?.value).toEqual({ n: 99 });
  });

  it("survives a restart: a new store over the same container reads what the old one wrote", async () => {
    const etag = await store().write("watch.json", { seen: "sha" }, undefined);
    const sha = await store().putPage(PAGE);
    const restarted = store();
    expect(await restarted.read("watch.json")).toEqual({ value: { seen: "sha" }, etag });
    expect(await restarted.getPage(sha)).toBe(PAGE);
  });

  it("refuses a tampered page on read, and does not overwrite it on put", async () => {
    const s = store();
    const sha = await s.putPage(PAGE);
    core.blobs.put(CONTAINER, `pages/${sha}.md`, `${PAGE}| evil.example.com | HTTPS:443 |\n`);
    expect(await failure(s.getPage(sha))).toBe("CATALOG_STORE_CORRUPT");
    expect(await failure(s.putPage(PAGE))).toBe("CATALOG_STORE_CORRUPT");
    // Bytes that are not UTF-8 under a sha of those very bytes: still not a page.
    const bytes = Buffer.from([0x23, 0x20, 0xff, 0xfe]);
    const byteSha = createHash("sha256").update(bytes).digest("hex");
    core.blobs.put(CONTAINER, `pages/${byteSha}.md`, bytes);
    expect(await failure(s.getPage(byteSha))).toBe("CATALOG_STORE_CORRUPT");
  });

  it("refuses a document that is not JSON", async () => {
    core.blobs.put(CONTAINER, "watch.json", "{not json", "application/json");
    expect(await failure(store().read("watch.json"))).toBe("CATALOG_STORE_CORRUPT");
  });

  it("reads at most 8 MB", async () => {
    core.blobs.put(CONTAINER, "watch.json", Buffer.alloc(8 * 1024 * 1024 + 1, 0x20));
    const error = await store()
      .read("watch.json")
      .catch((e: unknown) => e);
    expect(isGuardError(error, "CATALOG_STORE_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/watch\.json .*8 MB/);
    expect(await failure(store().write("watch.json", "x".repeat(8 * 1024 * 1024), undefined))).toBe(
      "BAD_ARGUMENT",
    );
  });

  it("creates a missing container once, before the write that needed it", async () => {
    const s = store();
    expect(core.blobs.get(CONTAINER, ".keep")).toBeUndefined();
    await s.write("watch.json", { n: 1 }, undefined);
    expect(core.blobs.get(CONTAINER, "watch.json")).toBeDefined();
    // An update whose document went with the container is still a conflict after the container is back.
    const etag = (await s.read("watch.json"))?.etag;
    core.blobs.deleteContainer(CONTAINER);
    expect(await failure(s.write("watch.json", { n: 2 }, etag))).toBe("CATALOG_STORE_CONFLICT");
  });

  it("trusts the emulator's CA for this client only: without it, a failure naming the container and blob", async () => {
    const error = await blobCatalogStore(containerUrl(), staticTokenCredential())
      .read("watch.json")
      .catch((e: unknown) => e);
    expect(isGuardError(error, "CATALOG_STORE_FAILED")).toBe(true);
    expect((error as Error).message).toContain(`reading "watch.json" in blob container ${containerUrl()}`);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it("wraps what it does not expect in CATALOG_STORE_FAILED, with status, code and cause", async () => {
    // A token the service does not accept (here: an empty one) is answered 401, for reads and writes.
    const rejected: TokenCredential = {
      getToken: async () => ({ token: "", expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    for (const attempt of [
      () => store(rejected).read("watch.json"),
      () => store(rejected).write("watch.json", {}, undefined),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isGuardError(error, "CATALOG_STORE_FAILED")).toBe(true);
      expect((error as Error).message).toMatch(
        /"watch\.json" in blob container https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/catalog-watch failed: 401 InvalidAuthenticationInfo: .*token was not accepted/,
      );
      expect((error as GuardError).details).toMatchObject({ blob: "watch.json", status: 401 });
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
  });

  it.each([
    ["http://127.0.0.1:1/devstoreaccount1/c-1", /HTTPS only/],
    ["https://acct.blob.example.net/catalog-watch?sv=2024&sig=x", /not a SAS/],
    ["https://acct.blob.example.net/catalog-watch/sub", /expected https/],
    ["https://127.0.0.1:1/catalog-watch", /expected https/],
    ["https://acct.blob.example.net/Catalog_Watch", /expected https/],
    ["not a url", /not a URL/],
  ])("refuses the container URL %s", (url, message) => {
    expect(() => blobCatalogStore(url, staticTokenCredential())).toThrow(message);
  });
});

// Where the catalog watch keeps what must survive a restart: small JSON documents (the last version it
// saw, adoptions) written with optimistic concurrency, and the page sources it imported, stored under
// their SHA-256 so that a page read back is provably the one that was imported. In Azure: a blob
// container the app's identity has a data role on; in tests and when nothing is configured: memory,
// with the same etag and conflict rules, so code written against one behaves the same on the other.
import { createHash } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import type { ContainerClient, StoragePipelineOptions } from "@azure/storage-blob";
import { GuardError, isGuardError } from "../errors";
// Required on first use, not at import: the Functions cold start does not pay for a client it may not
// call, and the deployment bundle keeps the SDK out of index.js (azure/sdk.ts, scripts/package.mjs).
import { storageBlob } from "./sdk";

export interface StoredDocument {
  value: unknown;
  etag: string;
}

export interface CatalogStore {
  /** The named JSON document (e.g. "watch.json") and its ETag; undefined when it does not exist. */
  read(name: string): Promise<StoredDocument | undefined>;
  /** Writes only while the document is still at `ifMatch` (undefined: only while it does not exist). Returns the new ETag. Throws GuardError code "CATALOG_STORE_CONFLICT" when it moved/exists. */
  write(name: string, value: unknown, ifMatch: string | undefined): Promise<string>;
  /** Stores a page's markdown source under its SHA-256 (hex, as catalog/import/version.ts pageHash computes it) at pages/<sha>.md; idempotent (an existing identical blob is fine). Returns the sha. */
  putPage(source: string): Promise<string>;
  /** The page source stored under that sha, verified against it (GuardError "CATALOG_STORE_CORRUPT" on mismatch); undefined when absent. */
  getPage(sha256: string): Promise<string | undefined>;
  /** For traces and errors: "blob container <url>" or "process memory (lost on restart)". */
  describe(): string;
}

/** Documents and pages are small (Microsoft's page is tens of KB); a bigger blob is not ours to load. */
const MAX_BYTES = 8 * 1024 * 1024;
const PAGES = "pages/";
/** Slash-separated segments of letters, digits, `.`, `_`, `-`, each starting with a letter or digit. */
const DOCUMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Azure Storage's Entra token scope, the same in every cloud (only the endpoints' suffixes differ). */
const STORAGE_SCOPE = "https://storage.azure.com/.default";
const MEMORY = "process memory (lost on restart)";

/** What a write waits for: the blob must not exist yet, or must still be at this etag. */
type Condition = { ifNoneMatch: "*" } | { ifMatch: string };
const CONFLICT = Symbol("conflict");

/** The few blob operations the store needs; memory and Azure implement them alike. */
interface Blobs {
  get(path: string): Promise<{ bytes: Buffer; etag: string } | undefined>;
  /** The new etag, or CONFLICT when the condition did not hold. `idempotent`: safe for the SDK to retry. */
  put(
    path: string,
    bytes: Buffer,
    contentType: string,
    condition: Condition,
    idempotent: boolean,
  ): Promise<string | typeof CONFLICT>;
}

// Page hashes as catalog/import/version.ts pageHash computes them (SHA-256 of the UTF-8 text, hex). Not
// imported from there: that module brings the importer (markdown-it, the judgements) into every cold start.
const sha256Hex = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

function checkName(name: string): void {
  const problem =
    typeof name !== "string" || !DOCUMENT_NAME.test(name)
      ? "expected a relative name such as watch.json: letters, digits, . _ - and / between segments"
      : name.includes("..")
        ? "must not contain .."
        : name.length > 256
          ? "longer than 256 characters"
          : name.startsWith(PAGES)
            ? `${PAGES} holds page sources (putPage/getPage)`
            : undefined;
  if (problem !== undefined)
    throw new GuardError("BAD_ARGUMENT", `catalog store document name "${String(name)}": ${problem}`, {
      details: { name },
    });
}

/** UTF-8 text exactly as stored: invalid bytes are an error, and a leading BOM is kept (the hash covers it). */
function decode(bytes: Buffer, what: string, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error: unknown) {
    throw new GuardError("CATALOG_STORE_CORRUPT", `${what} in ${where} is not UTF-8 text`, { cause: error });
  }
}

function checkSize(bytes: Buffer, what: string): void {
  if (bytes.length > MAX_BYTES)
    throw new GuardError(
      "BAD_ARGUMENT",
      `${what} is ${bytes.length} bytes; the catalog store keeps at most ${MAX_BYTES} (8 MB)`,
    );
}

function storeOver(blobs: Blobs, where: string): CatalogStore {
  const pagePath = (sha: string) => `${PAGES}${sha}.md`;
  return {
    async read(name) {
      checkName(name);
      const found = await blobs.get(name);
      if (found === undefined) return undefined;
      const text = decode(found.bytes, name, where);
      try {
        return { value: JSON.parse(text) as unknown, etag: found.etag };
      } catch (error: unknown) {
        throw new GuardError("CATALOG_STORE_CORRUPT", `${name} in ${where} is not JSON`, { cause: error });
      }
    },

    async write(name, value, ifMatch) {
      checkName(name);
      if (
        ifMatch !== undefined &&
        (typeof ifMatch !== "string" || ifMatch.trim() === "" || ifMatch.trim() === "*")
      )
        throw new GuardError(
          "BAD_ARGUMENT",
          `catalog store write of ${name}: ifMatch must be the etag read, or undefined to create (got "${String(ifMatch)}")`,
        );
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error: unknown) {
        throw new GuardError("BAD_ARGUMENT", `${name}: the value cannot be written as JSON`, {
          cause: error,
        });
      }
      if (text === undefined)
        throw new GuardError(
          "BAD_ARGUMENT",
          `${name}: the value cannot be written as JSON (${typeof value})`,
        );
      const bytes = Buffer.from(text, "utf8");
      checkSize(bytes, name);
      const condition: Condition = ifMatch === undefined ? { ifNoneMatch: "*" } : { ifMatch };
      // Not idempotent: a retried PUT whose first answer was lost would meet its own write and report a
      // conflict; the caller re-reads and decides instead.
      const etag = await blobs.put(name, bytes, "application/json", condition, false);
      if (etag !== CONFLICT) return etag;
      throw new GuardError(
        "CATALOG_STORE_CONFLICT",
        ifMatch === undefined
          ? `${name} already exists in ${where}: read it and write with its etag`
          : `${name} in ${where} is no longer at etag ${ifMatch}: it was changed or deleted since it was read`,
        { details: { name, ifMatch: ifMatch ?? null } },
      );
    },

    async putPage(source) {
      if (typeof source !== "string") throw new GuardError("BAD_ARGUMENT", "a page source must be text");
      const bytes = Buffer.from(source, "utf8");
      const sha = sha256Hex(bytes);
      const path = pagePath(sha);
      checkSize(bytes, path);
      // Create-only: a page's blob never changes. Retrying is safe, since an existing blob is checked.
      for (let attempt = 0; attempt < 2; attempt++) {
        if (
          (await blobs.put(path, bytes, "text/markdown; charset=utf-8", { ifNoneMatch: "*" }, true)) !==
          CONFLICT
        )
          return sha;
        const existing = await blobs.get(path);
        if (existing === undefined) continue; // deleted between the two calls: store it again
        const stored = sha256Hex(existing.bytes);
        if (stored === sha) return sha;
        throw new GuardError(
          "CATALOG_STORE_CORRUPT",
          `${path} in ${where} holds other content (SHA-256 ${stored}); delete that blob so the page can be stored again`,
          { details: { path, sha256: sha, found: stored } },
        );
      }
      throw new GuardError(
        "CATALOG_STORE_FAILED",
        `${path} in ${where} keeps disappearing while being stored`,
      );
    },

    async getPage(sha256) {
      const sha = typeof sha256 === "string" ? sha256.toLowerCase() : "";
      if (!SHA256_HEX.test(sha))
        throw new GuardError("BAD_ARGUMENT", `"${String(sha256)}" is not a SHA-256 (64 hex digits)`);
      const path = pagePath(sha);
      const found = await blobs.get(path);
      if (found === undefined) return undefined;
      const stored = sha256Hex(found.bytes);
      if (stored !== sha)
        throw new GuardError(
          "CATALOG_STORE_CORRUPT",
          `${path} in ${where} does not hold that page: its content has SHA-256 ${stored}`,
          { details: { path, sha256: sha, found: stored } },
        );
      return decode(found.bytes, path, where);
    },

    describe: () => where,
  };
}

// Process-wide, so an etag from one memory store never matches another's.
let memoryEtags = 0;

export function memoryCatalogStore(): CatalogStore {
  const blobs = new Map<string, { bytes: Buffer; etag: string }>();
  return storeOver(
    {
      async get(path) {
        const blob = blobs.get(path);
        return blob === undefined ? undefined : { bytes: Buffer.from(blob.bytes), etag: blob.etag };
      },
      async put(path, bytes, _contentType, condition) {
        const existing = blobs.get(path);
        const holds =
          "ifNoneMatch" in condition ? existing === undefined : existing?.etag === condition.ifMatch;
        if (!holds) return CONFLICT;
        memoryEtags += 1;
        const etag = `"mem-${memoryEtags}"`;
        blobs.set(path, { bytes: Buffer.from(bytes), etag });
        return etag;
      },
    },
    MEMORY,
  );
}

// ---------------------------------------------------------------------------------------------------
// Azure Blob Storage
// ---------------------------------------------------------------------------------------------------

/** Hosts the SDK addresses path-style (`/<account>/<container>`): localhost and IP literals. */
const PATH_STYLE_HOST = /^(localhost|\[[0-9a-f:.]+\]|\d{1,3}(\.\d{1,3}){3})$/i;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

function checkContainerUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error: unknown) {
    throw new GuardError("BAD_ARGUMENT", `catalog store: "${raw}" is not a URL`, { cause: error });
  }
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const container = segments.at(-1) ?? "";
  const problem =
    url.protocol !== "https:"
      ? "the Storage client sends its bearer token over HTTPS only"
      : url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== ""
        ? "no query, fragment or user: the app signs in with its identity, not a SAS or key"
        : segments.length !== (PATH_STYLE_HOST.test(url.hostname) ? 2 : 1) || !CONTAINER_NAME.test(container)
          ? "expected https://<account host>/<container> (https://127.0.0.1:<port>/<account>/<container> locally)"
          : undefined;
  if (problem !== undefined)
    throw new GuardError("BAD_ARGUMENT", `catalog store container URL ${raw}: ${problem}`, {
      details: { url: raw },
    });
  return url;
}

/** Status and Azure Storage error code of an SDK failure (RestError), read without loading the SDK. */
function storageFailure(error: unknown): { status?: number; code?: string; message: string } {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { headers?: { get?: (name: string) => string | undefined } };
  };
  const header =
    typeof e.response?.headers?.get === "function" ? e.response.headers.get("x-ms-error-code") : undefined;
  const code = header ?? (typeof e.code === "string" ? e.code : undefined);
  // Storage messages end with RequestId/Time lines; the first line says what went wrong.
  const message = (typeof e.message === "string" ? e.message : String(error)).split("\n")[0] ?? "";
  return {
    ...(typeof e.statusCode === "number" ? { status: e.statusCode } : {}),
    ...(code !== undefined ? { code } : {}),
    message,
  };
}

async function readCapped(stream: NodeJS.ReadableStream, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BYTES) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new GuardError(
        "CATALOG_STORE_FAILED",
        `${what} is larger than the ${MAX_BYTES} bytes (8 MB) the store reads`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function blobCatalogStore(
  containerUrl: string,
  credential: TokenCredential,
  options: { caCertPem?: string } = {},
): CatalogStore {
  const url = checkContainerUrl(containerUrl);
  const display = `${url.origin}${url.pathname.replace(/\/$/, "")}`;
  const where = `blob container ${display}`;
  const local = PATH_STYLE_HOST.test(url.hostname);

  let clients: { retrying: ContainerClient; once: ContainerClient } | undefined;
  const connect = () => {
    if (clients !== undefined) return clients;
    const { ContainerClient } = storageBlob();
    const make = (maxTries: number) => {
      const pipeline: StoragePipelineOptions & { tlsOptions?: { ca: string } } = {
        audience: STORAGE_SCOPE,
        userAgentOptions: { userAgentPrefix: "aks-egress-guard" },
        retryOptions: local
          ? { maxTries, retryDelayInMs: 50, maxRetryDelayInMs: 500 }
          : { maxTries, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 },
        // Not in StoragePipelineOptions' type, but handed on to core-rest-pipeline's
        // createPipelineFromOptions (as the ARM clients' tlsOptions are): the CA is trusted by this
        // client only, nothing process-wide.
        ...(options.caCertPem ? { tlsOptions: { ca: options.caCertPem } } : {}),
      };
      return new ContainerClient(display, credential, pipeline);
    };
    // Writes that are not idempotent go out once: see CatalogStore.write.
    clients = { retrying: make(4), once: make(1) };
    return clients;
  };

  /** `operation` names what failed, e.g. `writing "watch.json"`; `blob` is null for the container. */
  const failed = (operation: string, blob: string | null, error: unknown): GuardError => {
    if (isGuardError(error)) return error;
    const { status, code, message } = storageFailure(error);
    const hint =
      status === 403
        ? " (the app's identity needs Storage Blob Data Contributor or Owner on the account or container)"
        : status === 401
          ? " (the token was not accepted: check the identity, its tenant, and that the URL is the account's)"
          : "";
    return new GuardError(
      "CATALOG_STORE_FAILED",
      `catalog store: ${operation} in ${where} failed: ${status ?? "no answer"}${code ? ` ${code}` : ""}: ${message}${hint}`,
      { cause: error, details: { container: display, blob, status: status ?? null, code: code ?? null } },
    );
  };

  // Azure creates no container on write. Infra creates it; if it is missing anyway (deleted, or a
  // deployment without it), the first write creates it: the app's role (Storage Blob Data Owner) allows.
  let creating: Promise<void> | undefined;
  const createContainer = () => {
    creating ??= Promise.resolve()
      .then(() => connect().retrying.createIfNotExists())
      .then(
        () => {
          creating = undefined;
        },
        (error: unknown) => {
          creating = undefined;
          throw failed("creating the container", null, error);
        },
      );
    return creating;
  };

  return storeOver(
    {
      async get(path) {
        try {
          const { retrying } = connect();
          const response = await retrying.getBlobClient(path).download();
          const stream = response.readableStreamBody;
          if (stream === undefined) throw new Error("the answer has no body stream");
          if ((response.contentLength ?? 0) > MAX_BYTES) {
            (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
            throw new GuardError(
              "CATALOG_STORE_FAILED",
              `${path} in ${where} is ${response.contentLength} bytes, more than the ${MAX_BYTES} (8 MB) the store reads`,
            );
          }
          const bytes = await readCapped(stream, `${path} in ${where}`);
          if (response.etag === undefined) throw new Error("the answer has no ETag");
          return { bytes, etag: response.etag };
        } catch (error: unknown) {
          const { status, code } = storageFailure(error);
          // A missing container holds no documents: absent, as for a missing blob.
          if (status === 404 && (code === "BlobNotFound" || code === "ContainerNotFound")) return undefined;
          throw failed(`reading "${path}"`, path, error);
        }
      },

      async put(path, bytes, contentType, condition, idempotent) {
        const upload = async () => {
          const client = connect()[idempotent ? "retrying" : "once"];
          const response = await client.getBlockBlobClient(path).upload(bytes, bytes.length, {
            blobHTTPHeaders: { blobContentType: contentType },
            conditions: "ifMatch" in condition ? { ifMatch: condition.ifMatch } : { ifNoneMatch: "*" },
          });
          if (response.etag === undefined) throw new Error("the answer has no ETag");
          return response.etag;
        };
        for (let attempt = 0; ; attempt++) {
          try {
            return await upload();
          } catch (error: unknown) {
            const { status, code } = storageFailure(error);
            // Azure: If-None-Match: * on an existing blob is 409 BlobAlreadyExists; any other unmet
            // condition, If-Match on a missing blob included, is 412 ConditionNotMet.
            if (status === 412 || (status === 409 && code === "BlobAlreadyExists")) return CONFLICT;
            // Nothing was written, so writing again after creating the container is the first write.
            if (attempt === 0 && status === 404 && code === "ContainerNotFound") {
              await createContainer();
              continue;
            }
            throw failed(`writing "${path}"`, path, error);
          }
        }
      },
    },
    where,
  );
}

// A minimal Azure Blob service beside the emulated ARM, for the catalog watch's store: the app talks to
// it with the real @azure/storage-blob client over HTTPS. Path-style addressing, as the SDK uses for
// localhost and IP hosts: `https://127.0.0.1:PORT/devstoreaccount1/<container>/<blob>`.
//
// Only what the store sends is served: create container, Put Blob (block blobs, whole), Get Blob and
// Get Blob Properties (whole blobs), with Azure's status codes, error codes (`x-ms-error-code` and an
// XML body) and conditional-write rules. Anything else answers `EmulatorUnsupported`, never a guess.
import { createHash, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";

/** The one storage account; Azurite's well-known name, so tools that know it feel at home. */
export const BLOB_ACCOUNT = "devstoreaccount1";
export const BLOB_PATH_PREFIX = `/${BLOB_ACCOUNT}/`;

/** A stand-in far above what the app writes (its store caps documents at 8 MB). */
const MAX_BLOB_BYTES = 32 * 1024 * 1024;
/** The service version answered when the client names none. */
const DEFAULT_VERSION = "2026-10-06";
// Azure's container name rule: 3-63 lower-case letters, digits and single hyphens, starting and ending
// with a letter or digit.
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

export interface StoredBlob {
  content: Buffer;
  contentType: string;
  /** Quoted, as Azure sends it: `"0x8D…"`. */
  etag: string;
  lastModified: Date;
  createdOn: Date;
  contentMd5: string;
}

interface Container {
  etag: string;
  lastModified: Date;
  blobs: Map<string, StoredBlob>;
}

interface BlobReply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer;
}

// Never repeats within a process, even across reset(): a conditional write must never match a blob
// that was replaced since it was read.
let etagCounter = 0;
function nextEtag(): string {
  etagCounter += 1;
  return `"0x8DE${etagCounter.toString(16).toUpperCase().padStart(12, "0")}"`;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function blobError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): BlobReply {
  const requestId = randomUUID();
  // Azure's shape: the message carries the request id and time on lines of their own.
  const body = Buffer.from(
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(
      `${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`,
    )}</Message></Error>`,
    "utf8",
  );
  return {
    status,
    headers: {
      "x-ms-request-id": requestId,
      "x-ms-error-code": code,
      "Content-Type": "application/xml",
      ...headers,
    },
    body,
  };
}

const unsupported = (what: string) => blobError(400, "EmulatorUnsupported", `${what} is not emulated`);

/** `"etag"` and `etag` are the same tag; Azure accepts either in conditional headers. */
const sameTag = (a: string, b: string) => a.replace(/^"|"$/g, "") === b.replace(/^"|"$/g, "");

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

function checkAuthorization(headers: IncomingHttpHeaders): BlobReply | undefined {
  const authorization = header(headers, "authorization");
  if (authorization !== undefined && /^Bearer\s+\S+/i.test(authorization)) return undefined;
  // The app's account has shared keys off (infra/modules/storage.bicep): Azure says so for SharedKey.
  if (authorization !== undefined && /^SharedKey(Lite)?\s/i.test(authorization)) {
    return blobError(
      403,
      "KeyBasedAuthenticationNotPermitted",
      "Key based authentication is not permitted on this storage account.",
    );
  }
  return blobError(
    401,
    authorization === undefined ? "NoAuthenticationInformation" : "InvalidAuthenticationInfo",
    "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
    {
      "WWW-Authenticate":
        "Bearer authorization_uri=https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/oauth2/authorize resource_id=https://storage.azure.com",
    },
  );
}

export class BlobService {
  private containers = new Map<string, Container>();

  /** Test access: a copy of a stored blob, or undefined. */
  get(container: string, name: string): StoredBlob | undefined {
    const blob = this.containers.get(container)?.blobs.get(name);
    return blob === undefined ? undefined : { ...blob, content: Buffer.from(blob.content) };
  }

  /**
   * Test access: writes a blob as someone else would (a person, another tool), creating its container
   * if needed, with no conditions. Returns its new etag.
   */
  put(
    container: string,
    name: string,
    content: string | Buffer,
    contentType = "application/octet-stream",
  ): string {
    const target = this.containers.get(container) ?? this.createContainer(container);
    const bytes = Buffer.from(content);
    const now = new Date();
    const blob: StoredBlob = {
      content: bytes,
      contentType,
      etag: nextEtag(),
      lastModified: now,
      createdOn: target.blobs.get(name)?.createdOn ?? now,
      contentMd5: createHash("md5").update(bytes).digest("base64"),
    };
    target.blobs.set(name, blob);
    return blob.etag;
  }

  /** Test access: removes a container and its blobs (as if deleted in Azure). */
  deleteContainer(container: string): void {
    this.containers.delete(container);
  }

  clear(): void {
    this.containers.clear();
  }

  /** Serves one request under BLOB_PATH_PREFIX: reads the body itself, since blobs are bytes. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = (request.method ?? "GET").toUpperCase();
    const url = new URL(request.url ?? "/", "https://emulator.invalid");
    let reply: BlobReply;
    try {
      const unauthorized = checkAuthorization(request.headers);
      const body = unauthorized ? undefined : await readBody(request);
      if (unauthorized) {
        reply = unauthorized;
        request.resume();
      } else if (body === undefined) {
        reply = blobError(
          413,
          "RequestBodyTooLarge",
          "The request body is too large and exceeds the maximum permissible limit.",
        );
      } else reply = this.route(method, url, request.headers, body);
    } catch (error: unknown) {
      if (error instanceof URIError)
        reply = blobError(
          400,
          "InvalidUri",
          "The requested URI does not represent any resource on the server.",
        );
      // A bug in the emulator must not look like an Azure outage: the SDK retries 500 quietly, not 501.
      else if (request.destroyed) return;
      else
        reply = blobError(
          501,
          "EmulatorInternalError",
          error instanceof Error ? (error.stack ?? error.message) : String(error),
        );
    }
    send(request, response, method, reply);
  }

  private createContainer(name: string): Container {
    const container: Container = { etag: nextEtag(), lastModified: new Date(), blobs: new Map() };
    this.containers.set(name, container);
    return container;
  }

  private route(method: string, url: URL, headers: IncomingHttpHeaders, body: Buffer): BlobReply {
    // The path after the account: `<container>` or `<container>/<blob name, may hold slashes>`.
    const rest = url.pathname.slice(BLOB_PATH_PREFIX.length);
    const slash = rest.indexOf("/");
    const containerName = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
    const blobName = slash < 0 ? "" : decodeURIComponent(rest.slice(slash + 1));
    if (!CONTAINER_NAME.test(containerName))
      return blobError(
        400,
        "InvalidResourceName",
        "The specified resource name contains invalid characters.",
      );
    const restype = url.searchParams.get("restype");
    const comp = url.searchParams.get("comp");
    if (comp !== null) return unsupported(`${method} ?comp=${comp}`);
    if (restype === "container") {
      if (blobName !== "") return unsupported(`${method} of a blob with restype=container`);
      if (method !== "PUT") return unsupported(`${method} of a container`);
      return this.putContainer(containerName);
    }
    if (restype !== null) return unsupported(`restype=${restype}`);
    if (blobName === "") return unsupported(`${method} of a container without restype=container`);
    if (blobName.length > 1024)
      return blobError(
        400,
        "InvalidResourceName",
        "The specified resource name length is not within the permissible limits.",
      );
    switch (method) {
      case "PUT":
        return this.putBlob(containerName, blobName, headers, body);
      case "GET":
      case "HEAD":
        return this.getBlob(containerName, blobName, headers);
      default:
        return unsupported(`${method} of a blob`);
    }
  }

  private putContainer(name: string): BlobReply {
    if (this.containers.has(name))
      return blobError(409, "ContainerAlreadyExists", "The specified container already exists.");
    const container = this.createContainer(name);
    return {
      status: 201,
      headers: { ETag: container.etag, "Last-Modified": container.lastModified.toUTCString() },
    };
  }

  private putBlob(
    containerName: string,
    name: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): BlobReply {
    const blobType = header(headers, "x-ms-blob-type");
    if (blobType === undefined)
      return blobError(
        400,
        "MissingRequiredHeader",
        "An HTTP header that's mandatory for this request is not specified.",
        {
          "x-ms-header-name": "x-ms-blob-type",
        },
      );
    if (blobType !== "BlockBlob") return unsupported(`x-ms-blob-type: ${blobType}`);
    for (const unhandled of [
      "range",
      "x-ms-range",
      "if-modified-since",
      "if-unmodified-since",
      "x-ms-lease-id",
    ])
      if (header(headers, unhandled) !== undefined) return unsupported(`Put Blob with ${unhandled}`);
    const container = this.containers.get(containerName);
    if (container === undefined)
      return blobError(404, "ContainerNotFound", "The specified container does not exist.");
    const existing = container.blobs.get(name);
    // Azure's rules for a create: If-None-Match: * on an existing blob is 409 BlobAlreadyExists; any
    // other unmet condition (If-Match on a missing blob included) is 412 ConditionNotMet.
    const ifNoneMatch = header(headers, "if-none-match");
    const ifMatch = header(headers, "if-match");
    if (ifNoneMatch !== undefined && existing !== undefined) {
      if (ifNoneMatch.trim() === "*")
        return blobError(409, "BlobAlreadyExists", "The specified blob already exists.");
      if (sameTag(ifNoneMatch.trim(), existing.etag)) return conditionNotMet();
    }
    if (ifMatch !== undefined) {
      const tag = ifMatch.trim();
      if (existing === undefined || (tag !== "*" && !sameTag(tag, existing.etag))) return conditionNotMet();
    }
    const etag = this.put(
      containerName,
      name,
      body,
      header(headers, "x-ms-blob-content-type") ?? "application/octet-stream",
    );
    const stored = container.blobs.get(name) as StoredBlob;
    return {
      status: 201,
      headers: {
        ETag: etag,
        "Last-Modified": stored.lastModified.toUTCString(),
        "Content-MD5": stored.contentMd5,
        "x-ms-request-server-encrypted": "true",
      },
    };
  }

  private getBlob(containerName: string, name: string, headers: IncomingHttpHeaders): BlobReply {
    // The store reads whole blobs, unconditionally: a range or condition would need emulating first.
    for (const unhandled of [
      "range",
      "x-ms-range",
      "if-match",
      "if-none-match",
      "if-modified-since",
      "if-unmodified-since",
    ])
      if (header(headers, unhandled) !== undefined) return unsupported(`Get Blob with ${unhandled}`);
    const container = this.containers.get(containerName);
    if (container === undefined)
      return blobError(404, "ContainerNotFound", "The specified container does not exist.");
    const blob = container.blobs.get(name);
    if (blob === undefined) return blobError(404, "BlobNotFound", "The specified blob does not exist.");
    return {
      status: 200,
      headers: {
        "Content-Type": blob.contentType,
        "Content-MD5": blob.contentMd5,
        ETag: blob.etag,
        "Last-Modified": blob.lastModified.toUTCString(),
        "x-ms-creation-time": blob.createdOn.toUTCString(),
        "Accept-Ranges": "bytes",
        "x-ms-blob-type": "BlockBlob",
        "x-ms-lease-status": "unlocked",
        "x-ms-lease-state": "available",
        "x-ms-server-encrypted": "true",
      },
      body: blob.content,
    };
  }
}

const conditionNotMet = () =>
  blobError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.");

/** The request body; undefined when it exceeds MAX_BLOB_BYTES (the rest is drained, not kept). */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BLOB_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BLOB_BYTES ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function send(request: IncomingMessage, response: ServerResponse, method: string, reply: BlobReply): void {
  const headers: Record<string, string> = {
    "x-ms-request-id": randomUUID(),
    "x-ms-version": header(request.headers, "x-ms-version") ?? DEFAULT_VERSION,
    Date: new Date().toUTCString(),
    Server: "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
    ...reply.headers,
  };
  const clientRequestId = header(request.headers, "x-ms-client-request-id");
  if (clientRequestId !== undefined) headers["x-ms-client-request-id"] = clientRequestId;
  const body = reply.body ?? Buffer.alloc(0);
  headers["Content-Length"] = String(body.length);
  // HEAD answers the headers GET would, without the body.
  response.writeHead(reply.status, headers).end(method === "HEAD" ? undefined : body);
}

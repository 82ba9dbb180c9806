// A stand-in for raw.githubusercontent.com serving Microsoft's AKS outbound-rules page, one version
// after another, so that the catalog watch can be shown (npm start) and tested without the network.
// It serves the current file until it is advanced: by `POST /_next`, or by itself once the current
// version has been fetched `advanceAfter` times. Loopback only.
import { createHash } from "node:crypto";
import fs from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** Where raw.githubusercontent.com serves the page (MicrosoftDocs/azure-aks-docs, branch main). */
export const PAGE_PATH = "/MicrosoftDocs/azure-aks-docs/main/articles/aks/outbound-rules-control-egress.md";

export interface PageServerOptions {
  /** Page files, served in this order; the last one stays once reached. */
  files: readonly string[];
  /** Default 0: any free port. Always 127.0.0.1. */
  port?: number;
  /** The page's path (default PAGE_PATH); any other path but the control paths is a 404. */
  pagePath?: string;
  /** Advance by itself after the current version has been fetched this many times (GET, 200 or 304). */
  advanceAfter?: number;
  /** Told about every fetch of the page and every advance (for a log line). */
  onFetch?: (fetch: { file: string; index: number; status: 200 | 304; fetches: number }) => void;
  onAdvance?: (state: PageServerState) => void;
}

export interface PageServerState {
  /** Index in `files` of the version served now. */
  index: number;
  /** The files' names (without their folder), in serving order. */
  files: string[];
  /** The name of the file served now. */
  current: string;
  /** GETs of the current version so far (200 and 304 alike). */
  fetches: number;
  advanceAfter: number | null;
}

export interface PageServer {
  /** The page's URL (what AKS_EGRESS_CATALOG_WATCH_URL is set to). */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  state(): PageServerState;
  /** Serves the next file; false when the last one is served already. */
  next(): boolean;
  close(): Promise<void>;
}

interface Page {
  name: string;
  body: Buffer;
  etag: string;
}

/** A strong ETag: the quoted SHA-256 of the body, as raw.githubusercontent.com gives. */
export function etagOf(body: Buffer | string): string {
  return `"${createHash("sha256").update(body).digest("hex")}"`;
}

/** If-None-Match matches (weak comparison, as RFC 9110 has it for this header; `*` matches anything). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  if (options.files.length === 0) throw new Error("the page server needs at least one page file");
  const advanceAfter = options.advanceAfter;
  if (advanceAfter !== undefined && (!Number.isInteger(advanceAfter) || advanceAfter < 1))
    throw new Error(`advanceAfter must be a whole number of fetches, 1 or more (got ${advanceAfter})`);
  // Read once: what is served does not change under a client between its fetches.
  const pages: Page[] = options.files.map((file) => {
    const body = fs.readFileSync(file);
    return { name: path.basename(file), body, etag: etagOf(body) };
  });
  const pagePath = options.pagePath ?? PAGE_PATH;
  let index = 0;
  let fetches = 0;

  const state = (): PageServerState => ({
    index,
    files: pages.map((p) => p.name),
    current: pages[index]?.name ?? "",
    fetches,
    advanceAfter: advanceAfter ?? null,
  });
  const next = (): boolean => {
    if (index >= pages.length - 1) return false;
    index++;
    fetches = 0;
    options.onAdvance?.(state());
    return true;
  };

  const send = (
    response: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body?: Buffer | string,
  ) => {
    response.writeHead(status, {
      ...headers,
      ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}),
    });
    response.end(body);
  };
  const json = (response: ServerResponse, status: number, value: unknown) =>
    send(
      response,
      status,
      { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
      `${JSON.stringify(value)}\n`,
    );
  const text = (
    response: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => send(response, status, { "content-type": "text/plain; charset=utf-8", ...headers }, body);

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? "GET";
    const { pathname } = new URL(request.url ?? "/", "http://127.0.0.1");
    if (pathname === "/_state") {
      if (method !== "GET") return text(response, 405, "GET only\n", { allow: "GET" });
      return json(response, 200, state());
    }
    if (pathname === "/_next") {
      if (method !== "POST") return text(response, 405, "POST only\n", { allow: "POST" });
      const advanced = next();
      return json(response, 200, { advanced, ...state() });
    }
    if (pathname !== pagePath) return text(response, 404, "404: Not Found");
    if (method !== "GET" && method !== "HEAD")
      return text(response, 405, "GET or HEAD only\n", { allow: "GET, HEAD" });
    const page = pages[index] as Page;
    const headers = {
      "content-type": "text/plain; charset=utf-8",
      etag: page.etag,
      "cache-control": "max-age=300",
      "x-content-type-options": "nosniff",
    };
    const ifNoneMatch = request.headers["if-none-match"];
    const status = matches(ifNoneMatch, page.etag) ? 304 : 200;
    if (status === 304) {
      response.writeHead(304, { etag: page.etag, "cache-control": "max-age=300" });
      response.end();
    } else if (method === "HEAD") {
      response.writeHead(200, { ...headers, "content-length": String(page.body.length) });
      response.end();
    } else {
      send(response, 200, headers, page.body);
    }
    if (method !== "GET") return;
    fetches++;
    options.onFetch?.({ file: page.name, index, status, fetches });
    if (advanceAfter !== undefined && fetches >= advanceAfter) next();
  };

  const server = http.createServer((request, response) => {
    try {
      handle(request, response);
    } catch (error) {
      if (!response.headersSent)
        text(response, 500, `${error instanceof Error ? error.message : String(error)}\n`);
      else response.destroy();
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  return {
    url: `${origin}${pagePath}`,
    origin,
    state,
    next,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** The files in `folder` whose names start with each prefix, one per prefix, in the prefixes' order. */
export function findPages(folder: string, prefixes: readonly string[]): string[] {
  const names = fs.readdirSync(folder).filter((n) => n.endsWith(".md"));
  return prefixes.map((prefix) => {
    const found = names.filter((n) => n.startsWith(prefix)).sort();
    if (found.length === 0) throw new Error(`no page ${prefix}*.md in ${folder}`);
    if (found.length > 1)
      throw new Error(`more than one page ${prefix}*.md in ${folder}: ${found.join(", ")}`);
    return path.join(folder, found[0] as string);
  });
}

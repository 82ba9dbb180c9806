// The local page server (local/page-server): what the catalog watch reads in `npm start` and tests,
// over real HTTP on localhost.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etagOf, findPages, PAGE_PATH, type PageServer, startPageServer } from "../../local/page-server";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-pages-"));
const FIRST = "# Outbound rules\n\nThe first edition: ünïcode too.\n";
const SECOND = "# Outbound rules\n\nThe second edition.\n";
const sha = (text: string) => `"${createHash("sha256").update(text, "utf8").digest("hex")}"`;

beforeAll(() => {
  fs.writeFileSync(path.join(folder, "2025-02-06-f998eb20c.md"), FIRST);
  fs.writeFileSync(path.join(folder, "2026-06-18-1bdcfff99.md"), SECOND);
  fs.writeFileSync(path.join(folder, "2026-07-02-aaaaaaaaa.md"), SECOND);
  fs.writeFileSync(path.join(folder, "README.md"), "not a page");
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const files = () => findPages(folder, ["2025-02", "2026-06"]);

async function withServer(
  options: Partial<Parameters<typeof startPageServer>[0]>,
  body: (server: PageServer) => Promise<void>,
) {
  const server = await startPageServer({ files: files(), ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

describe("page server", () => {
  it("serves the page as raw.githubusercontent.com does: text/plain, a strong SHA-256 ETag, 304 on a match", async () => {
    await withServer({}, async (server) => {
      expect(server.url).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/MicrosoftDocs\/azure-aks-docs\/main\/articles\/aks\/outbound-rules-control-egress\.md$/,
      );
      const first = await fetch(server.url);
      expect(first.status).toBe(200);
      expect(first.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      const etag = first.headers.get("etag");
      expect(etag).toBe(sha(FIRST));
      expect(etag).toBe(etagOf(FIRST));
      expect(await first.text()).toBe(FIRST);
      expect(Number(first.headers.get("content-length"))).toBe(Buffer.byteLength(FIRST));

      for (const ifNoneMatch of [etag as string, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const again = await fetch(server.url, { headers: { "if-none-match": ifNoneMatch } });
        expect(again.status, ifNoneMatch).toBe(304);
        expect(again.headers.get("etag")).toBe(etag);
        expect(await again.text()).toBe("");
      }
      const other = await fetch(server.url, { headers: { "if-none-match": '"something-else"' } });
      expect(other.status).toBe(200);
      expect(await other.text()).toBe(FIRST);

      const head = await fetch(server.url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("etag")).toBe(etag);
      // GETs only are counted (200s and 304s alike).
      expect(server.state().fetches).toBe(6);
    });
  });

  it("serves the versions in turn: POST /_next advances, GET /_state tells, the last one stays", async () => {
    await withServer({}, async (server) => {
      const state = await (await fetch(`${server.origin}/_state`)).json();
      expect(state).toEqual({
        index: 0,
        files: ["2025-02-06-f998eb20c.md", "2026-06-18-1bdcfff99.md"],
        current: "2025-02-06-f998eb20c.md",
        fetches: 0,
        advanceAfter: null,
      });
      const etag = (await fetch(server.url)).headers.get("etag") as string;

      const next = await fetch(`${server.origin}/_next`, { method: "POST" });
      expect(next.status).toBe(200);
      expect(await next.json()).toMatchObject({
        advanced: true,
        index: 1,
        current: "2026-06-18-1bdcfff99.md",
      });
      // The ETag the client holds is the old version's: it gets the new one.
      const second = await fetch(server.url, { headers: { "if-none-match": etag } });
      expect(second.status).toBe(200);
      expect(second.headers.get("etag")).toBe(sha(SECOND));
      expect(await second.text()).toBe(SECOND);

      const last = await fetch(`${server.origin}/_next`, { method: "POST" });
      expect(await last.json()).toMatchObject({
        advanced: false,
        index: 1,
        current: "2026-06-18-1bdcfff99.md",
      });
      expect(server.next()).toBe(false);
      expect(await (await fetch(server.url)).text()).toBe(SECOND);
    });
  });

  it("advances by itself after the current version was fetched K times", async () => {
    const advances: string[] = [];
    const fetches: string[] = [];
    await withServer(
      {
        advanceAfter: 2,
        onAdvance: (s) => advances.push(s.current),
        onFetch: (f) => fetches.push(`${f.status} ${f.file} ${f.fetches}`),
      },
      async (server) => {
        const first = await fetch(server.url);
        await first.text();
        expect(server.state()).toMatchObject({ index: 0, fetches: 1, advanceAfter: 2 });
        const etag = first.headers.get("etag") as string;
        // A 304 is a fetch too: the second one moves the server on.
        expect((await fetch(server.url, { headers: { "if-none-match": etag } })).status).toBe(304);
        expect(server.state()).toMatchObject({ index: 1, fetches: 0, current: "2026-06-18-1bdcfff99.md" });
        const next = await fetch(server.url, { headers: { "if-none-match": etag } });
        expect(next.status).toBe(200);
        expect(await next.text()).toBe(SECOND);
        await (await fetch(server.url)).text();
        await (await fetch(server.url)).text();
        expect(server.state()).toMatchObject({ index: 1, fetches: 3 });
      },
    );
    expect(advances).toEqual(["2026-06-18-1bdcfff99.md"]);
    expect(fetches).toEqual([
      "200 2025-02-06-f998eb20c.md 1",
      "304 2025-02-06-f998eb20c.md 2",
      "200 2026-06-18-1bdcfff99.md 1",
      "200 2026-06-18-1bdcfff99.md 2",
      "200 2026-06-18-1bdcfff99.md 3",
    ]);
  });

  it("answers 404 for other paths and 405 for a wrong method", async () => {
    await withServer({}, async (server) => {
      for (const p of [
        "/",
        "/favicon.ico",
        `${PAGE_PATH}x`,
        "/MicrosoftDocs/azure-aks-docs/main/README.md",
      ]) {
        const response = await fetch(`${server.origin}${p}`);
        expect(response.status, p).toBe(404);
        await response.text();
      }
      expect((await fetch(`${server.origin}/_next`)).status).toBe(405);
      expect((await fetch(`${server.origin}/_state`, { method: "POST" })).status).toBe(405);
      expect((await fetch(server.url, { method: "PUT", body: "x" })).status).toBe(405);
      expect(server.state()).toMatchObject({ index: 0, fetches: 0 });
    });
  });

  it("finds page files by name, and refuses what it cannot serve", async () => {
    expect(files().map((f) => path.basename(f))).toEqual([
      "2025-02-06-f998eb20c.md",
      "2026-06-18-1bdcfff99.md",
    ]);
    expect(() => findPages(folder, ["2024-06"])).toThrow(/no page 2024-06\*\.md in /);
    expect(() => findPages(folder, ["2026-"])).toThrow(/more than one page 2026-\*\.md/);
    await expect(startPageServer({ files: [] })).rejects.toThrow(/at least one page file/);
    await expect(startPageServer({ files: files(), advanceAfter: 0 })).rejects.toThrow(/advanceAfter/);
    await expect(startPageServer({ files: [path.join(folder, "missing.md")] })).rejects.toThrow(/ENOENT/);
  });
});

// What every page the app serves shares: escaping by default, one self-contained layout (no script,
// no external asset, so the Content-Security-Policy can forbid both), and content negotiation
// between browsers (HTML) and API clients (JSON).
import type { HttpRequest, HttpResponseInit } from "@azure/functions";

/** Markup that is already safe: only `html` and `raw` make one. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Part = SafeHtml | string | number | undefined | null | false | readonly Part[];

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return "";
  if (part instanceof SafeHtml) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

/**
 * A template whose every interpolation is escaped unless it is itself `html` (or `raw`): a cluster
 * named `<script>` or a tag holding `"><img onerror>` is text on the page, whatever the caller forgets.
 */
export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  let out = strings[0] ?? "";
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** Trusted markup from this module's callers (never from input). */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** No referrer (approval links carry their token), no framing, no script, nothing from elsewhere. */
export const PAGE_SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
} as const;

// Wraps every long token (cluster IDs, hosts, CIDR lists) instead of hiding it behind a scrollbar;
// additions, removals and changes carry a word and a sign, colour only repeats what they say.
const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;line-height:1.45;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
code,.mono{font-family:ui-monospace,"Cascadia Mono",Consolas,monospace;font-size:.92em;overflow-wrap:anywhere;word-break:break-word}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.75rem;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.5rem 0;table-layout:fixed}th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
col.kind{width:6.5rem}col.ports{width:7.5rem}col.wide{width:34%}col.mid{width:24%}col.code{width:13rem}
th{background:#f3f3f3}
.kind{font-weight:600;white-space:nowrap}
.add .kind{color:#116329}.remove .kind{color:#a40e26}.modify .kind{color:#7d4e00}
tr.add{background:#f0fff4}tr.remove{background:#fff5f5}tr.modify{background:#fffbea}
.summary{border:2px solid #444;border-radius:6px;padding:.75rem 1rem;background:#fafafa}
.warn{border-color:#a40e26;background:#fff5f5}
.ok{border-color:#116329;background:#f0fff4}
.muted{color:#555}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
textarea{width:100%;max-width:40rem;font:inherit}
button{font-size:1rem;padding:.4rem 1rem;margin:.5rem 1rem .5rem 0}
`;

export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<style>${raw(STYLE)}</style></head>
<body>${body}</body></html>`.text;
}

/** Browsers ask for text/html first; API clients (curl, scripts) get JSON unless they ask otherwise. */
export function wantsHtml(request: HttpRequest): boolean {
  const accept = (request.headers.get("accept") ?? "").toLowerCase();
  return accept.includes("text/html");
}

export function htmlResponse(status: number, title: string, body: SafeHtml): HttpResponseInit {
  return {
    status,
    body: layout(title, body),
    headers: { "Content-Type": "text/html; charset=utf-8", ...PAGE_SECURITY_HEADERS },
  };
}

/** "12.5%": shares as people read them. */
export function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

// Reads the page's markdown source with markdown-it: its front matter, headings, and tables with the
// source line of every row. No judgement here: only what the markdown says, in the page's order.
import type MarkdownIt from "markdown-it";

type Token = MarkdownIt.Token;

/** One piece of a cell's inline content. `break` is an HTML line break (`<br/>`). */
export type Atom =
  | { kind: "code"; text: string }
  | { kind: "text"; text: string; link: boolean }
  | { kind: "break" };

export interface Cell {
  /** The cell's markdown exactly as written (trimmed). */
  raw: string;
  atoms: Atom[];
  /** The cell as a reader sees it: markup removed, whitespace collapsed. */
  plain: string;
}

export interface Heading {
  level: number;
  text: string;
  /** The heading's anchor, unique in the page (repeats get -1, -2, … as published). */
  anchor: string;
  /** 1-based source line. */
  line: number;
}

export interface TableRow {
  /** 1-based source line of the row. */
  line: number;
  /** The row's source line as written. */
  source: string;
  cells: Cell[];
  /** The source row has more cells than the header (markdown drops the extra ones). */
  extraCells: number;
}

export interface Table {
  line: number;
  headers: Cell[];
  rows: TableRow[];
  /** The headings the table sits under, outermost first (the page title included). */
  headings: Heading[];
}

export interface Page {
  frontMatter: Record<string, string>;
  headings: Heading[];
  tables: Table[];
  /** HTML tables (`<table>` blocks) the importer does not read: reported, never skipped silently. */
  htmlTables: { line: number; source: string }[];
}

// markdown-it (with its HTML entity tables) is required when the first page is read, not when the app
// loads: only the catalog watch and adoption read pages (benchmark 3, bench/README.md). The `require`
// names the package literally, so that bundlers find it (scripts/package.mjs).
let markdown: MarkdownIt | undefined;
function parser(): MarkdownIt {
  if (markdown === undefined) {
    const Markdown: typeof MarkdownIt = require("markdown-it");
    markdown = new Markdown({ html: true, linkify: false, typographer: false });
  }
  return markdown;
}

/** YAML front matter between `---` lines: top-level `key: value` pairs only (all the page uses). */
function splitFrontMatter(lines: string[]): { frontMatter: Record<string, string>; end: number } {
  const frontMatter: Record<string, string> = {};
  if (lines[0]?.trim() !== "---") return { frontMatter, end: 0 };
  const close = lines.findIndex((line, i) => i > 0 && line.trim() === "---");
  if (close < 0) return { frontMatter, end: 0 };
  for (const line of lines.slice(1, close)) {
    const pair = /^([A-Za-z][\w.-]*):\s*(.*)$/.exec(line);
    if (pair?.[1] === undefined) continue;
    frontMatter[pair[1]] = (pair[2] ?? "").trim().replace(/^(["'])(.*)\1$/, "$2");
  }
  return { frontMatter, end: close + 1 };
}

function atomsOf(inline: Token | undefined): Atom[] {
  const atoms: Atom[] = [];
  let link = false;
  for (const child of inline?.children ?? []) {
    switch (child.type) {
      case "text":
        atoms.push({ kind: "text", text: child.content, link });
        break;
      case "code_inline":
        atoms.push({ kind: "code", text: child.content });
        break;
      case "html_inline":
        // `<br/>` separates; any other tag (e.g. a `<location>` outside code) is text as written.
        if (/^<br\s*\/?>$/i.test(child.content)) atoms.push({ kind: "break" });
        else atoms.push({ kind: "text", text: child.content, link });
        break;
      case "softbreak":
      case "hardbreak":
        atoms.push({ kind: "break" });
        break;
      case "link_open":
        link = true;
        break;
      case "link_close":
        link = false;
        break;
      case "image":
        atoms.push({ kind: "text", text: child.content, link });
        break;
      default:
        // Emphasis and strong markers carry no content of their own.
        if (child.content !== "") atoms.push({ kind: "text", text: child.content, link });
    }
  }
  return atoms;
}

export function plainText(atoms: readonly Atom[]): string {
  return atoms
    .map((a) => (a.kind === "break" ? " " : a.text))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
}

function cellOf(inline: Token | undefined): Cell {
  const atoms = atomsOf(inline);
  return { raw: (inline?.content ?? "").trim(), atoms, plain: plainText(atoms) };
}

/** Anchors as the published page makes them: lower case, punctuation dropped, spaces to hyphens. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

/** Cells in a source row: unescaped pipes, ignoring the outer ones. */
function countCells(line: string): number {
  const inner = line
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "");
  return inner.split(/(?<!\\)\|/).length;
}

export function readPage(source: string): Page {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const { frontMatter, end } = splitFrontMatter(lines);
  // Blank out the front matter rather than cut it, so markdown-it's line numbers stay the page's.
  const body = lines.map((line, i) => (i < end ? "" : line)).join("\n");
  const tokens = parser().parse(body, {});

  const headings: Heading[] = [];
  const tables: Table[] = [];
  const htmlTables: Page["htmlTables"] = [];
  const anchors = new Map<string, number>();
  let chain: Heading[] = [];

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type === "heading_open") {
      const text = plainText(atomsOf(tokens[i + 1]));
      const base = slug(text);
      const seen = anchors.get(base) ?? 0;
      anchors.set(base, seen + 1);
      const heading: Heading = {
        level: Number(token.tag.slice(1)),
        text,
        anchor: seen === 0 ? base : `${base}-${seen}`,
        line: (token.map?.[0] ?? 0) + 1,
      };
      headings.push(heading);
      chain = [...chain.filter((h) => h.level < heading.level), heading];
    } else if (token.type === "html_block" && /<table[\s>]/i.test(token.content)) {
      const line = (token.map?.[0] ?? 0) + 1;
      htmlTables.push({ line, source: token.content.trim() });
    } else if (token.type === "table_open") {
      const table: Table = { line: (token.map?.[0] ?? 0) + 1, headers: [], rows: [], headings: chain };
      let inHead = false;
      let row: TableRow | undefined;
      for (i++; i < tokens.length && tokens[i]!.type !== "table_close"; i++) {
        const t = tokens[i]!;
        if (t.type === "thead_open") inHead = true;
        else if (t.type === "thead_close") inHead = false;
        else if (t.type === "tr_open" && !inHead) {
          const at = t.map?.[0] ?? 0;
          const text = lines[at] ?? "";
          row = { line: at + 1, source: text.trim(), cells: [], extraCells: 0 };
          table.rows.push(row);
        } else if (t.type === "inline") {
          if (inHead) table.headers.push(cellOf(t));
          else row?.cells.push(cellOf(t));
        }
      }
      for (const r of table.rows) r.extraCells = Math.max(0, countCells(r.source) - table.headers.length);
      tables.push(table);
    }
  }
  return { frontMatter, headings, tables, htmlTables };
}

// Reads one table cell: the destinations a destination cell lists (with their separators, labels and
// parenthesised remarks), and the ports a port cell (plus an optional protocol cell) gives.
// Pure reading: what a name means is decided elsewhere, from the judgements.
import type { PortSpec, Protocol } from "../schema";
import { PROTOCOLS } from "../schema";
import type { Judgements } from "./judgements";
import type { Atom, Cell } from "./page";

/** How two neighbouring destinations of a cell are joined. */
export type Join = "comma" | "or" | "break";

export interface CellItem {
  /** The destination as written, without its port suffix (e.g. `*.hcp.<location>.azmk8s.io`). */
  written: string;
  /** A `:port` suffix written on the destination (e.g. `*:1194`). */
  port?: number;
  /** Text before ` - ` (e.g. the link "ServiceTag" or "Regional CIDRs"). */
  label?: string;
  /** Parenthesised remarks after the destination, without the parentheses. */
  remarks: string[];
}

export interface DestinationCell {
  items: CellItem[];
  /** The joins between consecutive items (items.length - 1 of them). */
  joins: Join[];
  problems: string[];
}

type Piece =
  | { kind: "endpoint"; text: string }
  | { kind: "word"; text: string; link: boolean }
  | { kind: "remark"; text: string }
  | { kind: "join"; join: Join };

const WORD_OR = /^or$/i;
const DASH = /^[-–—]$/;

/** Splits text outside parentheses into words, commas and remarks; `depth` carries over between atoms. */
function piecesOf(atoms: readonly Atom[]): Piece[] {
  const pieces: Piece[] = [];
  let depth = 0;
  let remark = "";
  const closeRemark = () => {
    pieces.push({ kind: "remark", text: remark.replace(/\s+/g, " ").trim() });
    remark = "";
  };
  for (const atom of atoms) {
    if (atom.kind === "break") {
      if (depth > 0) remark += " ";
      else pieces.push({ kind: "join", join: "break" });
      continue;
    }
    if (atom.kind === "code") {
      const text = atom.text.trim();
      if (depth > 0) remark += text;
      else if (/^\(.*\)$/s.test(text)) pieces.push({ kind: "remark", text: text.slice(1, -1).trim() });
      else {
        // A code span may list several hosts: `mcr.microsoft.com, *.data.mcr.microsoft.com`.
        text.split(",").forEach((part, index) => {
          if (index > 0) pieces.push({ kind: "join", join: "comma" });
          if (part.trim() !== "") pieces.push({ kind: "endpoint", text: part.trim() });
        });
      }
      continue;
    }
    let word = "";
    const flush = () => {
      if (word.trim() === "") {
        word = "";
        return;
      }
      for (const w of word.trim().split(/\s+/)) {
        if (WORD_OR.test(w)) pieces.push({ kind: "join", join: "or" });
        else pieces.push({ kind: "word", text: w, link: atom.link });
      }
      word = "";
    };
    for (const char of atom.text) {
      if (char === "(") {
        if (depth === 0) flush();
        else remark += char;
        depth++;
      } else if (char === ")" && depth > 0) {
        depth--;
        if (depth === 0) closeRemark();
        else remark += char;
      } else if (depth > 0) remark += char;
      else if (char === ",") {
        flush();
        pieces.push({ kind: "join", join: "comma" });
      } else word += char;
    }
    flush();
  }
  if (depth > 0) pieces.push({ kind: "word", text: `(${remark}`, link: false });
  return pieces;
}

/** Looks like a destination written as plain text: a host, `*`, or a name, with an optional port. */
const BARE_ENDPOINT = /^(\*|[A-Za-z0-9*<>{}_.-]*\.[A-Za-z0-9*<>{}_.-]+)(:\d+)?$/;

export function readDestinationCell(cell: Cell): DestinationCell {
  const problems: string[] = [];
  const segments: Piece[][] = [[]];
  const separators: Join[][] = [[]];
  for (const piece of piecesOf(cell.atoms)) {
    if (piece.kind === "join") {
      // Consecutive separators (`<br/> *Or* <br/>`) join the same two destinations.
      if (segments.at(-1)!.length > 0) {
        segments.push([]);
        separators.push([]);
      }
      separators.at(-1)!.push(piece.join);
    } else segments.at(-1)!.push(piece);
  }
  const filled = segments
    .map((s, i) => ({ pieces: s, before: separators[i] ?? [] }))
    .filter((s) => s.pieces.length > 0);

  const items: CellItem[] = [];
  const joins: Join[] = [];
  filled.forEach((segment, index) => {
    if (index > 0) {
      const seen = segment.before;
      joins.push(seen.includes("or") ? "or" : seen.includes("comma") ? "comma" : "break");
    }
    const endpoints = segment.pieces.filter((p) => p.kind === "endpoint");
    const words = segment.pieces.filter((p) => p.kind === "word");
    const remarks = segment.pieces.filter((p) => p.kind === "remark").map((p) => p.text);
    let written: string | undefined;
    let label: string | undefined;
    if (endpoints.length === 1) {
      written = endpoints[0]!.text;
      // Words before the destination are its label ("[ServiceTag](…) - `AzureMonitor:443`").
      const firstEndpoint = segment.pieces.findIndex((p) => p.kind === "endpoint");
      const before = segment.pieces.slice(0, firstEndpoint).filter((p) => p.kind === "word");
      const after = segment.pieces.slice(firstEndpoint + 1).filter((p) => p.kind === "word");
      if (after.length > 0)
        problems.push(`cannot read "${after.map((w) => w.text).join(" ")}" after ${written}`);
      const labelWords = before.map((w) => w.text).filter((w) => !DASH.test(w));
      if (labelWords.length > 0)
        label = labelWords
          .join(" ")
          .replace(/[-–—:]$/, "")
          .trim();
    } else if (endpoints.length > 1) {
      problems.push(
        `${endpoints.map((e) => e.text).join(" and ")} are not separated by a comma, "or" or a line break`,
      );
    } else {
      // No code span: the destination may be plain text, after an optional "label -".
      const dash = words.findIndex((w) => DASH.test(w.text));
      const labelWords = dash >= 0 ? words.slice(0, dash) : words.filter((w) => w.link);
      const rest = dash >= 0 ? words.slice(dash + 1) : words.filter((w) => !w.link);
      if (rest.length === 1 && BARE_ENDPOINT.test(rest[0]!.text)) {
        written = rest[0]!.text;
        if (labelWords.length > 0) label = labelWords.map((w) => w.text).join(" ");
      } else if (words.length > 0) {
        problems.push(`cannot read "${words.map((w) => w.text).join(" ")}" as a destination`);
      } else {
        problems.push(`a remark without a destination: "(${remarks.join(") (")})"`);
      }
    }
    if (written === undefined) return;
    const withPort = /^(.*):(\d+)$/.exec(written);
    const item: CellItem = { written: withPort ? withPort[1]! : written, remarks };
    if (withPort) item.port = Number(withPort[2]);
    if (label !== undefined && label !== "") item.label = label;
    items.push(item);
  });
  if (items.length === 0 && problems.length === 0) problems.push("the destination cell is empty");
  // A join recorded for a segment that produced no item would misalign; keep them in step.
  return { items, joins: joins.slice(0, Math.max(0, items.length - 1)), problems };
}

export interface PortsRead {
  ports: PortSpec[];
  notes: string[];
  problems: string[];
}

function protocolOf(text: string): Protocol | undefined {
  return PROTOCOLS.find((p) => p === text.toUpperCase());
}

/**
 * Ports from a port cell (`HTTPS:443`, `HTTPS: 443`, `443`, `TCP:443, UDP:53`) and, where the table has
 * one, its protocol cell (`UDP`, `TCP/UDP`). A bare port in an application-rule table takes its protocol
 * from the judgements; anywhere else it is a problem.
 */
export function readPorts(
  portCell: Cell,
  protocolCell: Cell | undefined,
  applicationTable: boolean,
  judgements: Judgements,
): PortsRead {
  const ports: PortSpec[] = [];
  const notes: string[] = [];
  const problems: string[] = [];
  const columnProtocols: Protocol[] = [];
  if (protocolCell !== undefined && protocolCell.plain !== "") {
    for (const part of protocolCell.plain.split(/\s*(?:[,/]|\band\b|\bor\b)\s*/i).filter((p) => p !== "")) {
      const protocol = protocolOf(part);
      if (protocol === undefined) problems.push(`cannot read the protocol "${part}"`);
      else columnProtocols.push(protocol);
    }
  }
  const parts = portCell.plain.split(/\s*(?:[,;]|\band\b)\s*/i).filter((p) => p !== "");
  if (parts.length === 0) problems.push("the port cell is empty");
  const add = (protocol: Protocol, port: number) => {
    if (port < 1 || port > 65535) problems.push(`port ${port} is out of range 1-65535`);
    else if (!ports.some((p) => p.protocol === protocol && p.port === port)) ports.push({ protocol, port });
  };
  for (const part of parts) {
    const written = /^([A-Za-z]+)\s*:\s*(\d+)$/.exec(part);
    const bare = /^(\d+)$/.exec(part);
    if (written) {
      const protocol = protocolOf(written[1]!);
      const port = Number(written[2]);
      if (protocol === undefined) problems.push(`cannot read the protocol of "${part}"`);
      else if (columnProtocols.length > 0 && !columnProtocols.includes(protocol))
        problems.push(`"${part}" disagrees with the protocol column (${columnProtocols.join(", ")})`);
      else if (protocol === "HTTP" && port === 443) {
        if (judgements.normalisations.http443 === undefined)
          problems.push(`"${part}": HTTP on port 443 needs a judgement`);
        else {
          add("HTTPS", 443);
          notes.push(judgements.normalisations.http443);
        }
      } else add(protocol, port);
    } else if (bare) {
      const port = Number(bare[1]);
      if (columnProtocols.length > 0) for (const protocol of columnProtocols) add(protocol, port);
      else {
        const rule = applicationTable
          ? judgements.bareApplicationPorts.find((b) => b.port === port)
          : undefined;
        if (rule === undefined)
          problems.push(
            applicationTable
              ? `the bare port ${port} names no protocol, and no judgement gives one`
              : `the bare port ${port} names no protocol, and the table has no protocol column`,
          );
        else {
          add(rule.protocol, port);
          if (!notes.includes(rule.note)) notes.push(rule.note);
        }
      }
    } else problems.push(`cannot read the port "${part}"`);
  }
  return { ports, notes, problems };
}

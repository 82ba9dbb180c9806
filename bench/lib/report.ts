// One table, two renderings: cli-table3 for the terminal, a Markdown table for RESULTS.md.
import fs from "node:fs";
import os from "node:os";
import Table from "cli-table3";

export interface BenchTable {
  title: string;
  head: string[];
  rows: string[][];
}

export function terminalTable(table: BenchTable): string {
  const t = new Table({
    head: table.head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of table.rows) t.push(row);
  return `${table.title}\n${t.toString()}`;
}

export function markdownTable(table: BenchTable): string {
  const cellText = (cell: string) => cell.replaceAll("|", "\\|").replaceAll("\n", "<br>");
  const line = (cells: string[]) => `| ${cells.map(cellText).join(" | ")} |`;
  return [line(table.head), line(table.head.map(() => "---")), ...table.rows.map(line)].join("\n");
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const fmt = {
  ms: (v: number | null | undefined) =>
    v === null || v === undefined || Number.isNaN(v)
      ? "–"
      : v < 10
        ? v.toFixed(2)
        : v < 100
          ? v.toFixed(1)
          : v.toFixed(0),
  s: (ms: number | null | undefined) => (ms === null || ms === undefined ? "–" : (ms / 1000).toFixed(2)),
  ratio: (v: number | null | undefined) =>
    v === null || v === undefined || !Number.isFinite(v) ? "–" : `${v < 10 ? v.toFixed(2) : v.toFixed(1)}×`,
  mib: (v: number) => v.toFixed(0),
  bytes: (v: number) =>
    v >= 1024 * 1024
      ? `${(v / 1024 / 1024).toFixed(2)} MiB`
      : v >= 1024
        ? `${(v / 1024).toFixed(0)} KiB`
        : `${v} B`,
  int: (v: number) => v.toLocaleString("en-US"),
};

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
}

export function machine(): Machine {
  let distro = "";
  try {
    const release = fs.readFileSync("/etc/os-release", "utf8");
    distro = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(release)?.[1] ?? "";
  } catch {
    // not Linux, or no os-release: the kernel line below still says what it is
  }
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model.trim() ?? "unknown"}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ""}`,
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${distro ? `${distro}, ` : ""}${os.type()} ${os.release()} ${os.arch()}`,
  };
}

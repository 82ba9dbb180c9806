// Shared helpers for the person-readable outputs.
import Table from "cli-table3";

/** A borderless-enough table that survives being pasted into a ticket (ASCII only). */
export function table(head: string[], rows: string[][], widths: number[]): string {
  const t = new Table({
    head,
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [], compact: false },
    chars: {
      top: "-",
      "top-mid": "+",
      "top-left": "+",
      "top-right": "+",
      bottom: "-",
      "bottom-mid": "+",
      "bottom-left": "+",
      "bottom-right": "+",
      left: "|",
      "left-mid": "+",
      mid: "-",
      "mid-mid": "+",
      right: "|",
      "right-mid": "+",
      middle: "|",
    },
  });
  t.push(...rows);
  return t.toString();
}

/** Splits the terminal width over columns: fixed ones as given, the last takes the rest. */
export function widths(columns: number, fixed: number[], minLast = 30): number[] {
  const used = fixed.reduce((a, b) => a + b, 0) + fixed.length + 2;
  return [...fixed, Math.max(minLast, columns - used)];
}

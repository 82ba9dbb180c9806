// Shared helpers for the person-readable outputs.
import Table from "cli-table3";

/** The narrowest the last column (prose: purposes, reasons) gets when it gives room to the others. */
const MIN_LAST = 20;
/** Where a token too long for its column is best broken: after these characters. */
const BREAK_AFTER = new Set(["/", ".", "-", "?", "&", "=", "_", ",", ":"]);

/**
 * A borderless-enough table that survives being pasted into a ticket (ASCII only). Nothing in a cell
 * is ever cut off: a column too narrow for its longest word (a host, a path) is widened, taking room
 * from the last column while that has room to spare, and a word that still does not fit is wrapped
 * (after a `/`, `.` or `-` where it can be) so that its lines, joined, give it back whole.
 */
export function table(head: string[], rows: string[][], widths: number[]): string {
  const colWidths = fitted(head, rows, widths);
  const t = new Table({
    head,
    colWidths,
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
  // cli-table3 cuts a word longer than its cell with "…": break such words first (1 space of padding a side).
  t.push(...rows.map((row) => row.map((cell, i) => breakLongWords(cell, (colWidths[i] ?? 3) - 2))));
  return t.toString();
}

/** Splits the terminal width over columns: fixed ones as given, the last takes the rest. */
export function widths(columns: number, fixed: number[], minLast = 30): number[] {
  const used = fixed.reduce((a, b) => a + b, 0) + fixed.length + 2;
  return [...fixed, Math.max(minLast, columns - used)];
}

const longestWord = (texts: readonly string[]) =>
  Math.max(0, ...texts.flatMap((t) => t.split(/\s+/)).map((w) => w.length));

/** The widths, with columns other than the last widened (from the last one's spare room) to fit their longest word. */
function fitted(head: readonly string[], rows: readonly string[][], widths: readonly number[]): number[] {
  const result = [...widths];
  const last = result.length - 1;
  if (last < 1) return result;
  const need = (i: number) => longestWord([head[i] ?? "", ...rows.map((r) => r[i] ?? "")]) + 2;
  const lastWidth = result[last] ?? 0;
  const lastFloor = Math.min(lastWidth, Math.max(MIN_LAST, need(last)));
  let spare = lastWidth - lastFloor;
  for (let i = 0; i < last && spare > 0; i++) {
    const extra = Math.min(spare, need(i) - (result[i] ?? 0));
    if (extra <= 0) continue;
    result[i] = (result[i] ?? 0) + extra;
    result[last] = (result[last] ?? 0) - extra;
    spare -= extra;
  }
  return result;
}

/** Each word longer than `width` put on lines of at most `width`, broken after a separator where one is near. */
export function breakLongWords(text: string, width: number): string {
  if (width < 1) return text;
  return text
    .split("\n")
    .map((line) =>
      line
        .split(" ")
        .map((word) => (word.length <= width ? word : pieces(word, width).join("\n")))
        .join(" "),
    )
    .join("\n");
}

function pieces(word: string, width: number): string[] {
  const result: string[] = [];
  let rest = word;
  while (rest.length > width) {
    // After the last `/` of the first `width` characters (a path's folders), else after the last other
    // separator, as long as the line is not left shorter than half its width; else at the width.
    const head = rest.slice(0, width);
    const slash = head.lastIndexOf("/") + 1;
    let cut = slash > width / 2 ? slash : width;
    if (cut === width) {
      for (let i = width; i > width / 2; i--) {
        if (BREAK_AFTER.has(rest[i - 1] ?? "")) {
          cut = i;
          break;
        }
      }
    }
    result.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  result.push(rest);
  return result;
}

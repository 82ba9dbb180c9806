// Timer trigger schedules: NCRONTAB with six fields (second minute hour day month day-of-week), as
// the Functions timer trigger reads them, in UTC; or a TimeSpan ("hh:mm:ss", "d.hh:mm:ss") meaning a
// fixed interval. No cron library is installed, so this is the subset below, with an error naming
// the expression and the field for anything else.
//
// Per field: `*`, numbers, ranges `a-b`, lists `a,b`, steps `*/n`, `a-b/n`, `a/n`; month names
// (JAN-DEC) and day names (SUN-SAT). Day of week is 0-6 with 0 = Sunday. As in NCrontab, a time
// matches only when every field matches: day of month AND day of week.
import { GuardError } from "../../errors";

export interface Schedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day-of-week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

function invalid(expression: string, why: string): GuardError {
  return new GuardError(
    "CONFIG_INVALID",
    `Timer schedule "${expression}" is not supported by the local functions host: ${why}. ` +
      'Expected six NCRONTAB fields "{second} {minute} {hour} {day} {month} {day-of-week}" or a TimeSpan "hh:mm:ss".',
  );
}

function parseValue(text: string, field: Field, expression: string): number {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) throw invalid(expression, `"${text}" is not a valid ${field.name}`);
  const value = Number(text);
  if (value < field.min || value > field.max) {
    throw invalid(expression, `${field.name} ${value} is outside ${field.min}-${field.max}`);
  }
  return value;
}

function parseField(text: string, field: Field, expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [rangeText = "", stepText] = part.split("/");
    if (part.split("/").length > 2) throw invalid(expression, `"${part}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw invalid(expression, `step "${stepText}" in the ${field.name} field`);
      }
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (rangeText === "*") {
      low = field.min;
      high = field.max;
    } else if (rangeText.includes("-")) {
      const [from = "", to = ""] = rangeText.split("-");
      low = parseValue(from, field, expression);
      high = parseValue(to, field, expression);
      if (low > high)
        throw invalid(expression, `range "${rangeText}" in the ${field.name} field runs backwards`);
    } else {
      low = parseValue(rangeText, field, expression);
      high = stepText === undefined ? low : field.max;
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/;

export function parseSchedule(expression: string): Schedule {
  const trimmed = expression.trim();
  const span = TIMESPAN.exec(trimmed);
  if (span !== null) {
    const [, days = "0", hours = "0", minutes = "0", seconds = "0"] = span;
    const ms =
      ((Number(days) * 24 + Number(hours)) * 60 * 60 + Number(minutes) * 60 + Number(seconds)) * 1000;
    if (ms <= 0) throw invalid(expression, "the interval is zero");
    return { expression, next: (after) => new Date(after.getTime() + ms) };
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 6) throw invalid(expression, `it has ${parts.length} fields`);
  const [seconds, minutes, hours, days, months, weekdays] = FIELDS.map((field, i) =>
    parseField(parts[i] ?? "", field, expression),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];

  function next(after: Date): Date {
    const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
    const limit = after.getTime() + 5 * 366 * 24 * 60 * 60 * 1000;
    while (t.getTime() <= limit) {
      if (!months.has(t.getUTCMonth() + 1)) {
        t.setUTCMonth(t.getUTCMonth() + 1, 1);
        t.setUTCHours(0, 0, 0, 0);
        continue;
      }
      if (!days.has(t.getUTCDate()) || !weekdays.has(t.getUTCDay())) {
        t.setUTCDate(t.getUTCDate() + 1);
        t.setUTCHours(0, 0, 0, 0);
        continue;
      }
      if (!hours.has(t.getUTCHours())) {
        t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
        continue;
      }
      if (!minutes.has(t.getUTCMinutes())) {
        t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
        continue;
      }
      if (!seconds.has(t.getUTCSeconds())) {
        t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
        continue;
      }
      return t;
    }
    throw invalid(expression, "it never fires");
  }
  return { expression, next };
}

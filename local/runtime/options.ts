// `npm start`'s options: what parseArgs accepts and what `npm start -- --help` says, from one table
// (the README's "Running locally" lists the same; a test keeps the three in step).
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Each cloud's traces, `TIME AksEgressGuard.<Event> {json}` a line, in STATE_DIR/<cloud>/, across restarts. */
export const TRACES_FILE = "traces.log";

/** Where the state is kept unless --state-dir says otherwise. */
export const DEFAULT_STATE_DIR = path.join(ROOT, ".local-state");

interface Option {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** For the help: the value's placeholder. */
  value?: string;
  /** One line. */
  help: string;
}

export const START_OPTIONS = {
  cloud: {
    type: "string",
    multiple: true,
    value: "NAME",
    help: "only this cloud: AzureCloud, AzureChinaCloud or AzureUSGovernment (repeatable; default: all three)",
  },
  "base-port": {
    type: "string",
    default: "7071",
    value: "PORT",
    help: "the first host's port; the other hosts and the page server follow (default 7071; 0: free ports)",
  },
  "state-dir": {
    type: "string",
    default: DEFAULT_STATE_DIR,
    value: "DIR",
    help: "where task hubs, estates, keys, approval links and traces are kept (default .local-state/)",
  },
  reset: {
    type: "boolean",
    default: false,
    help: "delete the state directory first: start over, with new keys and the demo estates as seeded",
  },
  "no-sweep": {
    type: "boolean",
    default: false,
    help: "do not sweep at start (no pass, no table); pending approvals are still printed",
  },
  "no-catalog-demo": {
    type: "boolean",
    default: false,
    help: "no local page server: the catalog watch keeps the app's defaults (Microsoft's URL, daily)",
  },
  "exit-when-done": {
    type: "boolean",
    default: false,
    help: "stop after the sweep's table instead of serving on (exit 1 if a pass had not finished)",
  },
  events: {
    type: "boolean",
    default: false,
    help: "also print each AksEgressGuard.* trace as is (as Application Insights keeps it)",
  },
  help: { type: "boolean", short: "h", default: false, help: "print this and exit" },
} as const satisfies Record<string, Option>;

/** What parseArgs takes (the help texts left out). */
export function parseArgsOptions() {
  return Object.fromEntries(
    Object.entries(START_OPTIONS as Record<string, Option>).map(([name, { help, value, ...rest }]) => [
      name,
      rest,
    ]),
  ) as { [K in keyof typeof START_OPTIONS]: Omit<(typeof START_OPTIONS)[K], "help" | "value"> };
}

/** Lines of `name  help`, the names padded to one width. */
export function optionLines(entries: [string, string][]): string[] {
  const width = Math.max(...entries.map(([name]) => name.length)) + 2;
  return entries.map(([name, help]) => `  ${name.padEnd(width)}${help}`);
}

export function startHelp(): string {
  const entries = Object.entries(START_OPTIONS as Record<string, Option>).map(
    ([name, o]): [string, string] => [
      `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`,
      o.help,
    ],
  );
  return [
    "npm start [-- OPTIONS]: the app on this machine, one local deployment per cloud (an ARM emulator",
    "with a demo estate, the app's functions in a local Functions host), a sweep, and a table; then it",
    "keeps serving until Ctrl-C. A restart continues where the last run stopped (same state directory).",
    "",
    "Options:",
    ...optionLines(entries),
    "",
    "Then, in another terminal: npm run demo -- --help (README: Running locally, and its walkthrough).",
  ].join("\n");
}

// `npm start` entry: runs the local functions host as a process until SIGINT/SIGTERM.
//
//   node dist/local/functions-host/main.js --entry 'dist/functions/*.js' \
//     [--port 7071] [--state-dir .local-state] [--settings local.settings.json] [--no-timers]
//
// App settings come from local.settings.json's "Values" (as Core Tools reads them) when the file
// exists; its "Host.LocalHttpPort" is the default port. Every log entry is one JSON line on stdout.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startFunctionsHost } from "./host";
import { jsonLineLogger } from "./logger";

interface LocalSettingsFile {
  Values?: Record<string, unknown>;
  Host?: { LocalHttpPort?: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entry: { type: "string", multiple: true },
      port: { type: "string" },
      hostname: { type: "string" },
      "state-dir": { type: "string", default: ".local-state" },
      settings: { type: "string", default: "local.settings.json" },
      "task-hub": { type: "string" },
      "master-key": { type: "string" },
      "function-key": { type: "string" },
      "no-timers": { type: "boolean", default: false },
    },
  });
  const entryFiles = values.entry ?? [];
  if (entryFiles.length === 0) {
    process.stderr.write("local functions host: give the app's entry files with --entry FILE (repeatable)\n");
    process.exit(2);
  }
  let file: LocalSettingsFile = {};
  const settingsPath = values.settings ?? "local.settings.json";
  if (existsSync(settingsPath)) file = JSON.parse(readFileSync(settingsPath, "utf8")) as LocalSettingsFile;
  const settings = Object.fromEntries(Object.entries(file.Values ?? {}).map(([k, v]) => [k, String(v)]));
  const port = values.port !== undefined ? Number(values.port) : (file.Host?.LocalHttpPort ?? 7071);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`local functions host: --port ${values.port} is not a port number\n`);
    process.exit(2);
  }
  const host = await startFunctionsHost({
    entryFiles,
    port,
    stateDir: values["state-dir"] ?? ".local-state",
    settings,
    logger: jsonLineLogger,
    runTimers: values["no-timers"] !== true,
    ...(values.hostname === undefined ? {} : { hostname: values.hostname }),
    ...(values["task-hub"] === undefined ? {} : { taskHub: values["task-hub"] }),
    keys: {
      ...(values["master-key"] === undefined ? {} : { master: values["master-key"] }),
      ...(values["function-key"] === undefined ? {} : { function: values["function-key"] }),
    },
  });
  const stop = () => {
    void host.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`local functions host: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

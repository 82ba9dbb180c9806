// The page server as a process:
//   node dist/local/page-server/main.js [--port 8088] [--advance-after K] PAGE.md [PAGE.md …]
// Prints the page's URL, then one line per fetch and per advance. Ctrl-C stops it.
import { parseArgs } from "node:util";
import { startPageServer } from ".";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "0" },
      "advance-after": { type: "string" },
    },
  });
  if (positionals.length === 0) {
    process.stderr.write(
      "usage: node dist/local/page-server/main.js [--port N] [--advance-after K] PAGE.md [PAGE.md …]\n",
    );
    return 2;
  }
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const server = await startPageServer({
    files: positionals,
    port: Number(values.port),
    ...(values["advance-after"] !== undefined ? { advanceAfter: Number(values["advance-after"]) } : {}),
    onFetch: (f) => say(`${f.status} ${f.file} (fetch ${f.fetches})`),
    onAdvance: (s) => say(`now serving ${s.current} (${s.index + 1} of ${s.files.length})`),
  });
  say(`serving ${server.state().current} at ${server.url}`);
  say(`control: curl -X POST ${server.origin}/_next; curl ${server.origin}/_state`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`page server: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

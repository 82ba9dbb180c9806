// Runs the emulator as its own process, for the local runtime, demos and curl:
//   node dist/local/arm-emulator/main.js --seed test/fixtures/arm/small-estate.json --port 8443
// Prints one JSON line `{ endpoint, caFile, dnsServer }` once it listens; stops on SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { startArmEmulator } from "./index";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "lro-delay-ms": { type: "string" },
      "retry-after-seconds": { type: "string" },
    },
    strict: true,
  });
  const number = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`--${name} must be a non-negative integer, got ${text}`);
    return value;
  };
  const lroDelayMs = number("lro-delay-ms", values["lro-delay-ms"]);
  const lroRetryAfterSeconds = number("retry-after-seconds", values["retry-after-seconds"]);
  const emulator = await startArmEmulator({
    port: number("port", values.port) ?? 0,
    host: values.host ?? "127.0.0.1",
    ...(values.seed !== undefined ? { seedFile: values.seed } : {}),
    ...(lroDelayMs !== undefined ? { lroDelayMs } : {}),
    ...(lroRetryAfterSeconds !== undefined ? { lroRetryAfterSeconds } : {}),
  });
  process.stdout.write(
    `${JSON.stringify({ endpoint: emulator.endpoint, caFile: emulator.caFile, dnsServer: emulator.dnsServer })}\n`,
  );
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`arm-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});

// `aks-egress emulator`: the local ARM stand-in, for trying `check` (and the app) without Azure.
import path from "node:path";
import type { Command } from "commander";
import { GuardError } from "../../errors";
import { startArmEmulator } from "../../local/arm-emulator";
import { CA_FILE_VARIABLE, ENDPOINT_VARIABLE } from "../connection";
import type { CliContext } from "../main";

export function registerEmulatorCommand(program: Command, context: CliContext): void {
  program
    .command("emulator")
    .description("run the local ARM emulator (HTTPS, self-signed CA) until interrupted")
    .option("--port <port>", "port to listen on (0 = any free port)", "8443")
    .option(
      "--state <file>",
      "JSON estate to seed it with (managedClusters, subnets, firewallPolicies, ruleCollectionGroups)",
    )
    .option("--lro-delay <ms>", "how long a firewall write stays Updating", "2000")
    .action(async (options: { port: string; state?: string; lroDelay: string }) => {
      const port = Number(options.port);
      const lroDelayMs = Number(options.lroDelay);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new GuardError("BAD_ARGUMENT", `bad --port "${options.port}": expected 0-65535.`);
      if (!Number.isInteger(lroDelayMs) || lroDelayMs < 0)
        throw new GuardError("BAD_ARGUMENT", `bad --lro-delay "${options.lroDelay}": expected milliseconds.`);
      const emulator = await startArmEmulator({
        port,
        lroDelayMs,
        ...(options.state ? { seedFile: path.resolve(options.state) } : {}),
      }).catch((error: unknown) => {
        throw listenFailure(error, port) ?? error;
      });
      context.io.out(
        [
          `ARM emulator listening on ${emulator.endpoint}`,
          `CA certificate: ${emulator.caFile}`,
          `DNS for its clusters' API server FQDNs: ${emulator.dnsServer}`,
          "Use it with (the same variables the app reads):",
          `  export ${ENDPOINT_VARIABLE}=${emulator.endpoint} ${CA_FILE_VARIABLE}=${emulator.caFile} AKS_EGRESS_RESOLVERS=${emulator.dnsServer}`,
          "  aks-egress check --firewall-policy <id>",
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await emulator.close();
    });
}

/** Why the emulator could not listen, said with the port and what to do; undefined for other failures. */
function listenFailure(error: unknown, port: number): GuardError | undefined {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; address?: unknown } | undefined) : undefined;
  const where = `${typeof cause?.address === "string" ? cause.address : "127.0.0.1"}:${port}`;
  if (cause?.code === "EADDRINUSE")
    return new GuardError(
      "BAD_ARGUMENT",
      `the ARM emulator cannot listen on ${where}: ${where} is in use (is \`npm start\` or another \`aks-egress emulator\` running?). Stop it, or pass --port 0 for any free port.`,
      { cause: error },
    );
  if (cause?.code === "EACCES")
    return new GuardError(
      "BAD_ARGUMENT",
      `the ARM emulator may not listen on ${where} (ports below 1024 need privileges): pass another --port, or --port 0 for any free port.`,
      { cause: error },
    );
  return undefined;
}

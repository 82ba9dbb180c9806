// `aks-egress emulator`: the local ARM stand-in, for trying `check` (and the app) without Azure.
import path from "node:path";
import type { Command } from "commander";
import { GuardError } from "../../errors";
import { startArmEmulator } from "../../local/arm-emulator";
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
      });
      context.io.out(
        [
          `ARM emulator listening on ${emulator.endpoint}`,
          `CA certificate: ${emulator.caFile}`,
          "Use it with:",
          `  export AKS_EGRESS_ENDPOINT=${emulator.endpoint} AKS_EGRESS_CA_FILE=${emulator.caFile}`,
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

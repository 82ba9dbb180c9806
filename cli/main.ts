// `aks-egress`: the command-line face of aks-egress-guard. Commander parses; each command lives in
// cli/commands/. Exit codes: 0 ok, 1 error, 2 bad input (and, for `check`, drift found).
import { Command, CommanderError } from "commander";
import { registerCatalogCommands } from "./commands/catalog";
import { CHECK_EXIT, registerCheckCommand } from "./commands/check";
import { registerEmulatorCommand } from "./commands/emulator";
import { registerRulesCommand } from "./commands/rules";
import { EXIT, type Io, processIo, reportError } from "./io";

export interface CliContext {
  io: Io;
  /** Set by the command that ran. */
  exitCode: number;
}

export function buildProgram(context: CliContext): Command {
  const program = new Command("aks-egress")
    .description(
      "Egress rules for AKS clusters behind Azure Firewall, from Microsoft's published requirements.",
    )
    .version(readVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => context.io.out(s),
      writeErr: (s) => context.io.err(s),
    })
    .exitOverride();
  registerRulesCommand(program, context);
  registerCatalogCommands(program, context);
  registerCheckCommand(program, context);
  registerEmulatorCommand(program, context);
  // Every sub-command reports errors the same way and never calls process.exit itself.
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function readVersion(): string {
  // package.json sits two levels above dist/cli/ and one above cli/ when run from source.
  for (const path of ["../../package.json", "../package.json"]) {
    try {
      return (require(path) as { version: string }).version;
    } catch {
      // try the next location
    }
  }
  return "0.0.0";
}

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const context: CliContext = { io, exitCode: EXIT.ok };
  const program = buildProgram(context);
  // `check` uses 2 for "drift found" (like terraform plan -detailed-exitcode): its bad input is 1.
  const badInput = argv[0] === "check" ? CHECK_EXIT.error : EXIT.badInput;
  try {
    await program.parseAsync([...argv], { from: "user" });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every parsing problem is bad input.
      return error.exitCode === 0 ? EXIT.ok : badInput;
    }
    return reportError(io, error, badInput);
  }
}

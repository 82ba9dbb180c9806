// `npm run demo`'s commands and options, for its --help and the README (a test keeps them in step).
import { optionLines } from "./options";

export const DEMO_COMMANDS = {
  status: {
    args: "",
    help: "each policy's phase, last pass and pending approval (by ID, never its link), as a table",
  },
  "add-gpu-pool": {
    args: "",
    help: "a GPU pool appears on aks-weu-batch (AzureCloud), and ARM's event for it is delivered",
  },
  approve: {
    args: "[POLICY…]",
    help: "approve each pending approval through its link, on the host as it runs now (exit 1: none pending)",
  },
  "ask-again": {
    args: "[POLICY…]",
    help: "withdraw a pending approval whose link is lost and run a pass, which asks again with a new link",
  },
} as const;

export type DemoCommand = keyof typeof DEMO_COMMANDS;

export const DEMO_OPTIONS = {
  "state-dir": {
    type: "string",
    value: "DIR",
    help: "the npm start to talk to, by its state directory (default $AKS_EGRESS_LOCAL_STATE or .local-state/)",
  },
  help: { type: "boolean", value: "", help: "print this and exit" },
} as const;

export function demoHelp(): string {
  return [
    "npm run demo -- [--state-dir DIR] <command>: pokes the running npm start the way Azure would.",
    "",
    "Commands:",
    ...optionLines(
      Object.entries(DEMO_COMMANDS).map(([name, c]): [string, string] => [
        `${name}${c.args ? ` ${c.args}` : ""}`,
        c.help,
      ]),
    ),
    "",
    "Options:",
    ...optionLines(
      Object.entries(DEMO_OPTIONS).map(([name, o]): [string, string] => [
        `--${name}${o.value ? ` ${o.value}` : ""}`,
        o.help,
      ]),
    ),
  ].join("\n");
}

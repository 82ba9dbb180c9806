// The public cloud's demo estate as a seed to change per test, and the network rules a plan writes.
import fs from "node:fs";
import path from "node:path";
import type { Plan } from "../../drift/types";
import type { EmulatorSeed } from "../../local/arm-emulator";
import { ROOT } from "./paths";

/** A fresh copy of local/demo/estates/azurecloud.json, typed as the test needs it. */
export function demoEstate<T extends EmulatorSeed = EmulatorSeed>(): T {
  return JSON.parse(
    fs.readFileSync(path.join(ROOT, "local", "demo", "estates", "azurecloud.json"), "utf8"),
  ) as T;
}

export interface PlannedNetworkRule {
  ruleType?: string;
  ipProtocols?: string[];
  destinationPorts?: string[];
  destinationAddresses?: string[];
  sourceAddresses?: string[];
}

/** Every network rule the plan's body writes, on `port` when given. */
export function networkRulesOf(plan: Plan, port?: string): PlannedNetworkRule[] {
  return (plan.body?.ruleCollections ?? [])
    .flatMap((c) => (c.rules ?? []) as PlannedNetworkRule[])
    .filter(
      (r) =>
        r.ruleType === "NetworkRule" && (port === undefined || (r.destinationPorts ?? []).includes(port)),
    );
}

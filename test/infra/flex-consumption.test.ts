// Durable Functions on Flex Consumption as Microsoft advises it (an always-ready instance for the durable
// group, task hub queues polled at least every 10 seconds), and the region check: Flex Consumption is
// not offered everywhere, and which regions offer it changes, so the preprovision hook asks Azure before
// anything is created instead of main.bicep carrying a list that would go stale. The POSIX hook is run
// against a stand-in `az`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths";
import {
  bicepFile,
  bicepParam,
  bicepStrings,
  block,
  type ModuleUse,
  moduleUses,
  read,
  stripBicepComments,
  topLevelEntries,
} from "./infra-files";

const main = bicepFile(path.join("infra", "main.bicep"));
const functionApp = stripBicepComments(read("infra", "modules", "functionapp.bicep"));

/** "hh:mm:ss" (a .NET TimeSpan as host.json takes it) in seconds. */
function timeSpanSeconds(value: string): number {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
  if (!m) throw new Error(`not a TimeSpan: ${value}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

describe("Durable Functions on Flex Consumption", () => {
  it("keeps an instance of the durable group always ready (by default)", () => {
    const config = block(functionApp, functionApp.indexOf("functionAppConfig:"));
    const scale = topLevelEntries(block(config, config.indexOf("scaleAndConcurrency:")));
    const alwaysReady = scale.get("alwaysReady") ?? "";
    expect(alwaysReady).toMatch(
      /\[\{\s*name:\s*'durable',\s*instanceCount:\s*durableAlwaysReadyInstances\s*\}\]/,
    );
    const module = moduleUses(main).find((u) => u.path === "modules/functionapp.bicep") as ModuleUse;
    expect(module.paramValues.get("durableAlwaysReadyInstances")).toBe("durableAlwaysReadyInstances");
    const param = bicepParam(main, "durableAlwaysReadyInstances");
    expect(Number(/= (\d+)$/.exec(param.declaration)?.[1])).toBeGreaterThanOrEqual(1);
    // It counts against the scale-out limit, whose minimum is higher.
    const max = Number(/@maxValue\((\d+)\)/.exec(param.decorators)?.[1]);
    const scaleOutMin = Number(
      /@minValue\((\d+)\)/.exec(bicepParam(main, "maximumInstanceCount").decorators)?.[1],
    );
    expect(max).toBeLessThanOrEqual(scaleOutMin);
    const parameters = JSON.parse(read("infra", "main.parameters.json")) as {
      parameters: Record<string, { value: string }>;
    };
    expect(parameters.parameters.durableAlwaysReadyInstances?.value).toBe(
      `\${GUARD_DURABLE_ALWAYS_READY_INSTANCES=1}`,
    );
  });

  it("polls the task hub queues at least every 10 seconds", () => {
    const host = JSON.parse(read("host.json")) as {
      extensions: { durableTask: { storageProvider?: { maxQueuePollingInterval?: string } } };
    };
    const interval = host.extensions.durableTask.storageProvider?.maxQueuePollingInterval;
    expect(interval).toBeDefined();
    expect(timeSpanSeconds(interval as string)).toBeGreaterThan(0);
    expect(timeSpanSeconds(interval as string)).toBeLessThanOrEqual(10);
    // The extension's default, 30 seconds, would not do.
    expect(timeSpanSeconds("00:00:30")).toBeGreaterThan(10);
  });
});

describe("the Flex Consumption region check", () => {
  const HOOKS = [
    path.join("infra", "hooks", "preprovision.sh"),
    path.join("infra", "hooks", "preprovision.ps1"),
  ];

  it("runs before provisioning, on every platform", () => {
    const yaml = read("azure.yaml");
    const hooks = yaml.slice(yaml.search(/^hooks:$/m));
    expect(hooks).toMatch(/^ {2}preprovision:$/m);
    expect(hooks).toContain("run: ./infra/hooks/preprovision.sh");
    expect(hooks).toContain("run: ./infra/hooks/preprovision.ps1");
    for (const hook of HOOKS) {
      expect(fs.existsSync(path.join(ROOT, hook))).toBe(true);
      expect(read(hook)).toContain("list-flexconsumption-locations");
    }
  });

  it("main.bicep carries no region list of its own, and says where the check is", () => {
    const location = bicepParam(main, "location");
    expect(location.decorators).not.toMatch(/@allowed/);
    expect(bicepStrings(location.decorators).join(" ")).toContain("list-flexconsumption-locations");
  });

  // The stand-in az: `functionapp list-flexconsumption-locations` answers $FAKE_REGIONS (one per line),
  // or fails like an az without the command when FAKE_MISSING is set.
  function runHook(env: Record<string, string>, withAz = true) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preprovision-"));
    const log = path.join(dir, "az.log");
    if (withAz)
      fs.writeFileSync(
        path.join(dir, "az"),
        `#!/bin/sh
echo "$*" >> "${log}"
case "$*" in
  "functionapp list-flexconsumption-locations"*)
    if [ -n "\${FAKE_MISSING:-}" ]; then echo "'list-flexconsumption-locations' is misspelled or not recognized by the system." >&2; exit 2; fi
    printf '%s\\n' "$FAKE_REGIONS" ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
`,
        { mode: 0o755 },
      );
    // Only the stand-in and the basic tools on PATH: no real az.
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const tool of ["tr", "sed", "grep", "sort", "cat", "printf"]) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      if (found.startsWith("/")) fs.symlinkSync(found, path.join(bin, tool));
    }
    const result = spawnSync("/bin/sh", [path.join(ROOT, "infra", "hooks", "preprovision.sh")], {
      env: { PATH: withAz ? `${dir}:${bin}` : bin, ...env },
      encoding: "utf8",
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
    fs.rmSync(dir, { recursive: true, force: true });
    return { ...result, calls };
  }

  const REGIONS = "eastus\nnortheurope\nwesteurope\n";

  it("lets a region that offers Flex Consumption through, whatever its spelling", () => {
    for (const location of ["westeurope", "West Europe", "WESTEUROPE"]) {
      const run = runHook({
        AZURE_LOCATION: location,
        AZURE_SUBSCRIPTION_ID: "sub-1",
        FAKE_REGIONS: REGIONS,
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain("Flex Consumption is offered in");
    }
  });

  it("asks about the deployment's subscription", () => {
    const run = runHook({ AZURE_LOCATION: "eastus", AZURE_SUBSCRIPTION_ID: "sub-1", FAKE_REGIONS: REGIONS });
    expect(run.calls).toContain("functionapp list-flexconsumption-locations --subscription sub-1 ");
  });

  it("stops a region that does not, naming those that do", () => {
    const run = runHook({
      AZURE_LOCATION: "chinanorth3",
      AZURE_SUBSCRIPTION_ID: "sub-1",
      FAKE_REGIONS: REGIONS,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Flex Consumption is not offered in chinanorth3");
    expect(run.stderr).toContain("eastus northeurope westeurope");
    expect(run.stderr).toContain("azd env set AZURE_LOCATION");
  });

  it("says so and goes on when it cannot know (no az, an az without the command, an empty list)", () => {
    for (const [env, withAz] of [
      [{ AZURE_LOCATION: "westeurope", FAKE_MISSING: "1" }, true],
      [{ AZURE_LOCATION: "westeurope", FAKE_REGIONS: "" }, true],
      [{ AZURE_LOCATION: "westeurope" }, false],
    ] as const) {
      const run = runHook(env, withAz);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/warning: .*westeurope/);
    }
  });

  it("does nothing before a region is chosen, or when told to skip", () => {
    const unset = runHook({ FAKE_REGIONS: REGIONS });
    expect(unset.status).toBe(0);
    expect(unset.calls).toBe("");
    const skipped = runHook({
      AZURE_LOCATION: "nowhere",
      GUARD_SKIP_REGION_CHECK: "true",
      FAKE_REGIONS: REGIONS,
    });
    expect(skipped.status).toBe(0);
    expect(skipped.calls).toBe("");
  });
});

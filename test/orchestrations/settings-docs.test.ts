// Every setting the code reads is in local.settings.json.example and in the README's table.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HOST_SETTING_NAMES, SETTING_NAMES } from "../../orchestrations/settings";
import { ROOT } from "../helpers/paths";

describe("settings documentation", () => {
  const example = JSON.parse(fs.readFileSync(path.join(ROOT, "local.settings.json.example"), "utf8")) as {
    Values: Record<string, string>;
  };
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const names = [...Object.values(SETTING_NAMES), ...HOST_SETTING_NAMES];

  it.each(names)("%s is in local.settings.json.example and the README", (name) => {
    expect(Object.keys(example.Values)).toContain(name);
    expect(readme).toContain(`\`${name}\``);
  });

  it("the example names no setting the code does not read", () => {
    const known = new Set<string>([...names, "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"]);
    expect(Object.keys(example.Values).filter((k) => !known.has(k))).toEqual([]);
  });
});

// Several environments side by side, and azd's own safety: every module deployment is named per
// environment and region (a subscription-scope deployment keeps the region it was first made in, so a
// fixed name fails a second environment elsewhere with InvalidDeploymentLocation); the custom role's
// assignments wait for the role; azure.yaml requires an azd whose `azd down` only offers what the
// template created.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bicepFile, bicepVar, filesUnder, type ModuleUse, moduleUses, read } from "./infra-files";

const SAFE_AZD = "1.24.0";
const main = bicepFile(path.join("infra", "main.bicep"));
const bicepFiles = filesUnder("infra", ".bicep").map((f) => bicepFile(f));

/** The per-environment token a file's module names must carry. */
const tokenOf = (file: string) =>
  file.endsWith(`${path.sep}main.bicep`) ? "resourceToken" : "deploymentSuffix";

/** Why a module deployment's name could clash with another environment's, or with a sibling's. */
function nameProblems(file: string, use: ModuleUse): string[] {
  const problems: string[] = [];
  const interpolations = [...use.name.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] as string);
  if (!/^'.*'$/.test(use.name))
    problems.push(`${file}: ${use.symbol} has no literal-based name (${use.name})`);
  if (!interpolations.some((i) => new RegExp(`\\b${tokenOf(file)}\\b`).test(i)))
    problems.push(`${file}: ${use.symbol}'s name ${use.name} does not carry ${tokenOf(file)}`);
  if (use.loopVariable && !interpolations.some((i) => new RegExp(`\\b${use.loopVariable}\\b`).test(i)))
    problems.push(`${file}: ${use.symbol} is a loop whose name does not carry ${use.loopVariable}`);
  return problems;
}

describe("module deployment names", () => {
  it("resourceToken is unique per subscription, environment and region", () => {
    const token = bicepVar(main, "resourceToken") ?? "";
    expect(token).toMatch(/uniqueString\(/);
    for (const part of ["subscription().id", "environmentName", "location"]) expect(token).toContain(part);
  });

  it("every module deployment is named with the environment's token (and its loop item)", () => {
    const uses = bicepFiles.flatMap((f) => moduleUses(f).map((u) => [f.file, u] as const));
    expect(uses.length).toBeGreaterThan(10);
    expect(uses.flatMap(([file, use]) => nameProblems(file, use))).toEqual([]);
  });

  it("modules that deploy modules get the token from main.bicep", () => {
    for (const file of bicepFiles.filter((f) => moduleUses(f).length > 0 && !f.file.endsWith("main.bicep"))) {
      expect(file.params.get("deploymentSuffix"), file.file).toEqual({ required: true });
      const callers = moduleUses(main).filter((u) => path.join("infra", u.path) === file.file);
      expect(callers.length, file.file).toBeGreaterThan(0);
      for (const caller of callers) expect(caller.paramValues.get("deploymentSuffix")).toBe("resourceToken");
    }
  });

  it("would catch the fixed name that broke a second environment", () => {
    const fixed = bicepFile(path.join("infra", "main.bicep"));
    fixed.text = fixed.text.replace(
      `name: 'firewall-policy-role-\${resourceToken}'`,
      "name: 'firewall-policy-role'",
    );
    const role = moduleUses(fixed).find((u) => u.symbol === "firewallPolicyWriter") as ModuleUse;
    expect(nameProblems(fixed.file, role)).toHaveLength(1);
    const loop = moduleUses(fixed).find((u) => u.symbol === "readerOnSubscription") as ModuleUse;
    expect(nameProblems(fixed.file, { ...loop, name: `'reader-sub-\${resourceToken}'` })).toHaveLength(1);
  });
});

describe("the custom role and its assignments", () => {
  const uses = moduleUses(main);
  const role = uses.find((u) => u.path === "modules/firewall-policy-role.bicep") as ModuleUse;

  it("every assignment of the custom role takes it from the role module's outputs (ARM orders them)", () => {
    const assigning = uses.filter((u) =>
      u.paramValues.get("roleDefinitionGuid")?.startsWith(`${role.symbol}.`),
    );
    expect(assigning.map((u) => u.symbol).sort()).toEqual(["firewallOnPolicy", "firewallOnResourceGroup"]);
    for (const use of assigning)
      expect(use.paramValues.get("roleDefinitionGuid")).toBe(`${role.symbol}.outputs.roleGuid`);
    // No assignment names the custom role's GUID some other way (which ARM would not order).
    const others = uses.filter((u) => !assigning.includes(u) && u.params.has("roleDefinitionGuid"));
    for (const use of others) expect(use.paramValues.get("roleDefinitionGuid")).toMatch(/RoleId$/);
    expect(main.text).not.toMatch(/roleDefinitionGuid:\s*guid\(/);
  });

  it("infra/README.md says what to do when the role has not replicated yet", () => {
    const readme = read("infra", "README.md");
    expect(readme).toContain("RoleDefinitionDoesNotExist");
    expect(readme).toMatch(/run\s+`azd provision`\s+again/);
  });
});

describe("azd version", () => {
  const yaml = read("azure.yaml");

  it(`azure.yaml requires azd ${SAFE_AZD} or later`, () => {
    const m = /^requiredVersions:\n {2}azd: "([^"]+)"$/m.exec(yaml);
    expect(m?.[1]).toBe(`>= ${SAFE_AZD}`);
  });

  it("the READMEs' prerequisites name that version", () => {
    const readme = read("README.md");
    const deploying = readme.slice(readme.indexOf("## Deploying to Azure"));
    const section = deploying.slice(0, deploying.indexOf("\n## ", 1));
    expect(section).toMatch(new RegExp(`Prerequisites:[^]*azd[^]*${SAFE_AZD.replace(/\./g, "\\.")}`));
    const infraReadme = read("infra", "README.md");
    const prerequisites = infraReadme.slice(infraReadme.indexOf("## Prerequisites"));
    expect(prerequisites.slice(0, prerequisites.indexOf("\n## ", 1))).toContain(`azd ${SAFE_AZD}`);
  });
});

// Seeds: the estate a test starts from, as wire-format ARM resources. A typo in a top-level key would
// silently seed nothing, so unknown keys are refused.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { GuardError } from "../../errors";
import { RESOURCE_KINDS } from "./store";
import type { EmulatorSeed } from "./types";

const resource = z.looseObject({ id: z.string().min(1) });

/** One optional list per kind the estate keeps, and nothing else. */
const seedSchema = z.strictObject(
  Object.fromEntries(RESOURCE_KINDS.map((kind) => [kind, z.array(resource).optional()])),
);

export function parseSeed(data: unknown, source: string): EmulatorSeed {
  const result = seedSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new GuardError("BAD_ARGUMENT", `invalid emulator seed ${source}:\n  ${problems.join("\n  ")}`, {
      details: { source, problems },
    });
  }
  // Plain JSON in, plain JSON out: the structural check above is all the typing the seed needs.
  return JSON.parse(JSON.stringify(result.data)) as EmulatorSeed;
}

export async function readSeedFile(file: string): Promise<EmulatorSeed> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error: unknown) {
    throw new GuardError("BAD_ARGUMENT", `cannot read emulator seed ${file}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error: unknown) {
    throw new GuardError("BAD_ARGUMENT", `emulator seed ${file} is not JSON`, { cause: error });
  }
  return parseSeed(data, file);
}

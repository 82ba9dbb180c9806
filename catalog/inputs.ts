// Names users type (clouds, features) checked against the catalog's vocabulary, with messages that
// name the bad value and list the valid ones. Shared by the CLI and by cluster tag parsing.
import { GuardError } from "../errors";
import { closest, didYouMean } from "./regions";
import { CLOUDS, type Cloud, type Feature, OPTIONAL_FEATURES } from "./schema";

export function parseCloud(value: string): Cloud {
  const match = CLOUDS.find((c) => c.toLowerCase() === value.trim().toLowerCase());
  if (match !== undefined) return match;
  throw new GuardError("UNKNOWN_CLOUD", `unknown cloud "${value}". Valid clouds: ${CLOUDS.join(", ")}.`, {
    details: { value, valid: CLOUDS },
  });
}

/** Parses "gpu,windows" (or a list of them); `base` is accepted and implied. Duplicates collapse. */
export function parseFeatures(values: readonly string[]): Feature[] {
  const names = values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "" && v !== "base");
  const features: Feature[] = [];
  for (const name of names) {
    const feature = OPTIONAL_FEATURES.find((f) => f === name);
    if (feature === undefined) {
      const suggestions = closest(name, OPTIONAL_FEATURES);
      throw new GuardError(
        "UNKNOWN_FEATURE",
        `unknown feature "${name}".${didYouMean(suggestions)} Valid features: ${OPTIONAL_FEATURES.join(", ")} (base is always on).`,
        { details: { value: name, valid: OPTIONAL_FEATURES, suggestions } },
      );
    }
    if (!features.includes(feature)) features.push(feature);
  }
  return features;
}

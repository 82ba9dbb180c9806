// The small estate with names and tags an attacker (or a careless operator) could give: pages must
// show them as text. Written to a temp file for the emulator's seed.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SMALL_ESTATE } from "../local/arm-emulator-helpers";

export const HOSTILE_NAME = "<script>alert('name')</script>";
export const HOSTILE_TAG = '"><img src=x onerror=alert(1)>';

export function hostileEstate(): string {
  const seed = JSON.parse(readFileSync(SMALL_ESTATE, "utf8")) as {
    managedClusters: { name: string; tags?: Record<string, string> }[];
  };
  const cluster = seed.managedClusters[0];
  if (cluster === undefined) throw new Error("the small estate has no cluster");
  cluster.name = HOSTILE_NAME;
  cluster.tags = { ...cluster.tags, "aks-egress-guard/features": HOSTILE_TAG };
  const file = path.join(mkdtempSync(path.join(tmpdir(), "aks-egress-hostile-")), "estate.json");
  writeFileSync(file, JSON.stringify(seed));
  return file;
}

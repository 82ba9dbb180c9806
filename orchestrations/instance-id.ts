import { createHash } from "node:crypto";

/** Instance IDs may not contain / \ ? #: a stable hash of the lower-cased policy ID instead. */
export function instanceIdFor(policyId: string): string {
  return `policy-${createHash("sha256").update(policyId.trim().toLowerCase()).digest("hex").slice(0, 32)}`;
}

// Approval links carry a token: HMAC-SHA256 over what it approves (the instance, the approval and the
// exact plan's hash) and when it expires. The orchestration makes it single-use: it accepts one
// decision for the approval it is waiting on, and a superseded or decided approval has no taker.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { GuardError } from "../errors";

export interface ApprovalClaims {
  /** The reconciler instance that waits for the decision. */
  instanceId: string;
  approvalId: string;
  planHash: string;
  /** ISO 8601. */
  expiresAt: string;
}

const claimsSchema = z
  .object({
    instanceId: z.string().min(1).max(200),
    approvalId: z.string().min(1).max(200),
    planHash: z.string().regex(/^[0-9a-f]{64}$/),
    expiresAt: z.iso.datetime(),
  })
  .strict();

const sign = (key: string, payload: string) => createHmac("sha256", key).update(payload).digest();

export function createApprovalToken(claims: ApprovalClaims, key: string): string {
  const payload = Buffer.from(JSON.stringify(claimsSchema.parse(claims))).toString("base64url");
  return `${payload}.${sign(key, payload).toString("base64url")}`;
}

/**
 * Checks signature, shape, expiry and that it is the approval named in the URL. Every failure is
 * APPROVAL_INVALID with a reason that does not help a forger (no expected values in it).
 */
export function verifyApprovalToken(
  token: string,
  key: string,
  approvalId: string,
  now: Date,
): ApprovalClaims {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined)
    throw new GuardError("APPROVAL_INVALID", "malformed approval token.");
  const expected = sign(key, payload);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new GuardError("APPROVAL_INVALID", "approval token signature does not match.");
  }
  let claims: ApprovalClaims;
  try {
    claims = claimsSchema.parse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
  } catch {
    throw new GuardError("APPROVAL_INVALID", "malformed approval token.");
  }
  if (claims.approvalId !== approvalId)
    throw new GuardError("APPROVAL_INVALID", "approval token is for another approval.");
  if (Date.parse(claims.expiresAt) <= now.getTime())
    throw new GuardError("APPROVAL_INVALID", "approval token has expired.");
  return claims;
}

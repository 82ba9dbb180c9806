// Approval links carry a token: HMAC-SHA256 over what it approves (the instance, the approval and the
// exact change's hash) and when it expires. A decision raised to the orchestrator carries a second
// HMAC, the proof, which only the approval endpoint can make after checking the token: the
// orchestrator checks it itself, so a raised event with values copied from the status decides nothing.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { GuardError } from "../errors";

export interface ApprovalClaims {
  /** The reconciler instance that waits for the decision. */
  instanceId: string;
  approvalId: string;
  /** The one change approved: from the managed group as read to the group to write. */
  changeHash: string;
  /** ISO 8601. */
  expiresAt: string;
}

const claimsSchema = z
  .object({
    instanceId: z.string().min(1).max(200),
    approvalId: z.string().min(1).max(200),
    changeHash: z.string().regex(/^[0-9a-f]{64}$/),
    expiresAt: z.iso.datetime(),
  })
  .strict();

/** Tokens are short; anything longer is refused before any work. */
const TOKEN_MAX_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const sign = (key: string, payload: string) => createHmac("sha256", key).update(payload).digest();

/**
 * Strict base64url: only the alphabet, no padding, and the canonical encoding of what it decodes to
 * (Node's decoder ignores stray bits and characters, so two spellings could carry one signature).
 */
function decodeStrict(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

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
  if (token.length > TOKEN_MAX_LENGTH) throw new GuardError("APPROVAL_INVALID", "malformed approval token.");
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined)
    throw new GuardError("APPROVAL_INVALID", "malformed approval token.");
  const given = decodeStrict(signature);
  const payloadBytes = decodeStrict(payload);
  if (given === undefined || payloadBytes === undefined)
    throw new GuardError("APPROVAL_INVALID", "malformed approval token.");
  const expected = sign(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new GuardError("APPROVAL_INVALID", "approval token signature does not match.");
  }
  let claims: ApprovalClaims;
  try {
    claims = claimsSchema.parse(JSON.parse(payloadBytes.toString("utf8")));
  } catch {
    throw new GuardError("APPROVAL_INVALID", "malformed approval token.");
  }
  if (claims.approvalId !== approvalId)
    throw new GuardError("APPROVAL_INVALID", "approval token is for another approval.");
  if (Date.parse(claims.expiresAt) <= now.getTime())
    throw new GuardError("APPROVAL_INVALID", "approval token has expired.");
  return claims;
}

/** What a decision event says; the proof binds every field of it. */
export interface DecisionFacts {
  instanceId: string;
  approvalId: string;
  changeHash: string;
  decision: "approve" | "reject";
  /** Random per POST: tells the caller whether its own decision is the one that took effect. */
  decisionId: string;
  approver: string;
}

function proofPayload(f: DecisionFacts): string {
  return JSON.stringify([
    "decision",
    f.instanceId,
    f.approvalId,
    f.changeHash,
    f.decision,
    f.decisionId,
    f.approver,
  ]);
}

export function decisionProof(facts: DecisionFacts, key: string): string {
  return sign(key, proofPayload(facts)).toString("base64url");
}

/** Deterministic (no clock, no I/O): safe inside the orchestrator. */
export function verifyDecisionProof(facts: DecisionFacts, proof: unknown, key: string): boolean {
  if (typeof proof !== "string") return false;
  const given = decodeStrict(proof);
  const expected = sign(key, proofPayload(facts));
  return given !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
}

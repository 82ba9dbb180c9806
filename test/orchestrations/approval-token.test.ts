import { describe, expect, it } from "vitest";
import {
  createApprovalToken,
  decisionProof,
  verifyApprovalToken,
  verifyDecisionProof,
} from "../../orchestrations/approval-token";

const KEY = "s".repeat(40);
const claims = {
  instanceId: "policy-abc",
  approvalId: "3-0123456789abcdef",
  changeHash: "a".repeat(64),
  expiresAt: "2026-11-24T10:00:00.000Z",
};
const now = new Date("2026-11-23T10:00:00Z");

describe("approval tokens", () => {
  it("round-trips the claims it signs", () => {
    expect(verifyApprovalToken(createApprovalToken(claims, KEY), KEY, claims.approvalId, now)).toEqual(
      claims,
    );
  });

  it.each([
    [
      "a token signed with another key",
      () => createApprovalToken(claims, "t".repeat(40)),
      claims.approvalId,
      now,
      /signature does not match/,
    ],
    [
      "a tampered change hash",
      () => {
        const [, sig] = createApprovalToken(claims, KEY).split(".");
        const forged = Buffer.from(JSON.stringify({ ...claims, changeHash: "b".repeat(64) })).toString(
          "base64url",
        );
        return `${forged}.${sig}`;
      },
      claims.approvalId,
      now,
      /signature does not match/,
    ],
    [
      "an expired token",
      () => createApprovalToken(claims, KEY),
      claims.approvalId,
      new Date("2026-11-25T00:00:00Z"),
      /expired/,
    ],
    [
      "a token for another approval",
      () => createApprovalToken(claims, KEY),
      "4-ffffffffffffffff",
      now,
      /another approval/,
    ],
    ["garbage", () => "not-a-token", claims.approvalId, now, /malformed/],
    ["an empty token", () => "", claims.approvalId, now, /malformed/],
  ])("refuses %s", (_, make, approvalId, at, message) => {
    expect(() => verifyApprovalToken(make(), KEY, approvalId, at)).toThrow(message);
  });

  it("refuses non-canonical base64url spellings of a valid token", () => {
    const token = createApprovalToken(claims, KEY);
    const [payload, sig] = token.split(".") as [string, string];
    // The last character of a 32-byte signature carries 2 unused bits: Node decodes both spellings alike.
    const last = sig.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const variant = `${payload}.${sig.slice(0, -1)}${sibling}`;
    expect(Buffer.from(variant.split(".")[1] as string, "base64url")).toEqual(Buffer.from(sig, "base64url"));
    expect(() => verifyApprovalToken(variant, KEY, claims.approvalId, now)).toThrow(/malformed/);
    expect(() => verifyApprovalToken(`${payload}=.${sig}`, KEY, claims.approvalId, now)).toThrow(/malformed/);
    expect(() => verifyApprovalToken(`${payload}.${sig}==`, KEY, claims.approvalId, now)).toThrow(
      /malformed/,
    );
    expect(() => verifyApprovalToken("a".repeat(5000), KEY, claims.approvalId, now)).toThrow(/malformed/);
  });
});

describe("decision proofs", () => {
  const facts = {
    instanceId: "policy-abc",
    approvalId: "6f1c1a52-0d1e-5b3a-9c1d-0a1b2c3d4e5f",
    changeHash: "a".repeat(64),
    decision: "approve" as const,
    decisionId: "d1",
    approver: "ana@example.com",
  };
  it("verifies only with the signing key and every field unchanged", () => {
    const proof = decisionProof(facts, KEY);
    expect(verifyDecisionProof(facts, proof, KEY)).toBe(true);
    expect(verifyDecisionProof(facts, proof, "t".repeat(40))).toBe(false);
    expect(verifyDecisionProof({ ...facts, decision: "reject" }, proof, KEY)).toBe(false);
    expect(verifyDecisionProof({ ...facts, approver: "mallory" }, proof, KEY)).toBe(false);
    expect(verifyDecisionProof({ ...facts, changeHash: "b".repeat(64) }, proof, KEY)).toBe(false);
    expect(verifyDecisionProof(facts, undefined, KEY)).toBe(false);
    expect(verifyDecisionProof(facts, "", KEY)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { createApprovalToken, verifyApprovalToken } from "../../orchestrations/approval-token";

const KEY = "s".repeat(40);
const claims = {
  instanceId: "policy-abc",
  approvalId: "3-0123456789abcdef",
  planHash: "a".repeat(64),
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
      "a tampered plan hash",
      () => {
        const [, sig] = createApprovalToken(claims, KEY).split(".");
        const forged = Buffer.from(JSON.stringify({ ...claims, planHash: "b".repeat(64) })).toString(
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
});

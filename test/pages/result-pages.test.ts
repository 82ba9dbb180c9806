// The pages a link shows when it can no longer decide: each says what happened and what did not.
import { describe, expect, it } from "vitest";
import { alreadyDecidedPage, gonePage, refusedPage } from "../../functions/pages/result-pages";
import type { PassRecord } from "../../orchestrations/reconciler";

const links = { estate: "/api/estate", status: "/api/status?policy=p" };
const pass = (outcome: PassRecord["outcome"], summary: string): PassRecord => ({
  pass: 3,
  completedAt: "2026-11-29T10:00:00.000Z",
  outcome,
  summary,
  clusterCount: 4,
  changes: 2,
});

describe("pages of links that cannot decide", () => {
  it("expired: says nobody decided in time and nothing was written", () => {
    const text = gonePage(pass("expired", "approval expired"), links).text;
    expect(text).toContain("It expired: nobody decided in time, so nothing was written.");
    expect(text).toContain("<strong>expired</strong>");
  });

  it("superseded: says the change moved and a new link was asked for", () => {
    const text = gonePage(pass("superseded", "the group moved"), links).text;
    expect(text).toContain("It was superseded");
    expect(text).toContain("A new approval with a new link was asked for.");
  });

  it("unknown why: names both possibilities, and where to look", () => {
    const text = gonePage(undefined, links).text;
    expect(text).toContain("It expired, or the change moved");
    expect(text).toContain("<code>/api/estate</code>");
  });

  it("decided: who, when and the comment, escaped", () => {
    const text = alreadyDecidedPage(
      {
        approvalId: "a-1",
        decisionId: "d-1",
        decision: "reject",
        approver: "Grace <Hopper>",
        comment: "CAB-9 & <b>no</b>",
        at: "2026-11-29T10:00:00.000Z",
      },
      links,
    ).text;
    expect(text).toContain("rejected");
    expect(text).toContain("Grace &#60;Hopper&#62;");
    expect(text).toContain("CAB-9 &#38; &#60;b&#62;no&#60;/b&#62;");
  });

  it("forged: the reason, and that nothing was shown or decided", () => {
    const text = refusedPage("the token's signature does not match").text;
    expect(text).toContain("the token&#39;s signature does not match");
    expect(text).toContain("Nothing was shown or decided.");
  });
});

import { describe, expect, it } from "vitest";
import { allocatePriorities, type CollectionKind } from "../../drift";

type Request = Parameters<typeof allocatePriorities>[0][number];
const both: CollectionKind[] = ["app", "net"];
const req = (clusterKey: string, existing: Request["existing"] = {}, kinds = both): Request => ({
  clusterKey,
  kinds,
  existing,
});

describe("allocatePriorities", () => {
  it.each<[string, Request[], number[], Record<string, Request["existing"]>]>([
    [
      "fresh clusters take slots in ID order",
      [req("b"), req("a")],
      [],
      { a: { app: 100, net: 101 }, b: { app: 110, net: 111 } },
    ],
    [
      "existing priorities are kept; a new cluster takes the first free slot",
      [req("a", { app: 110, net: 111 }), req("b")],
      [],
      { a: { app: 110, net: 111 }, b: { app: 100, net: 101 } },
    ],
    [
      "a missing collection lands next to its sibling",
      [req("a", { app: 300 })],
      [],
      { a: { app: 300, net: 301 } },
    ],
    [
      "next to the sibling is taken: a fresh slot instead",
      [req("a", { app: 300 })],
      [301],
      { a: { app: 300, net: 101 } },
    ],
    ["reserved priorities are skipped", [req("a")], [100], { a: { app: 110, net: 111 } }],
    [
      "a cluster with one kind reserves its whole slot",
      [req("a", {}, ["net"]), req("b")],
      [],
      { a: { net: 101 }, b: { app: 110, net: 111 } },
    ],
    [
      "an out-of-range priority is replaced",
      [req("a", { app: 99, net: 70000 })],
      [],
      { a: { app: 100, net: 101 } },
    ],
    [
      "a priority taken twice stays with the first cluster by ID",
      [req("b", { app: 200, net: 201 }), req("a", { app: 200, net: 201 })],
      [],
      { a: { app: 200, net: 201 }, b: { app: 100, net: 101 } },
    ],
  ])("%s", (_, requests, reserved, expected) => {
    expect(Object.fromEntries(allocatePriorities(requests, reserved))).toEqual(expected);
  });

  it("keeps counting past 65000 so that the plan can refuse with the numbers", () => {
    const requests = Array.from({ length: 6500 }, (_, i) => req(`c${String(i).padStart(5, "0")}`));
    const last = allocatePriorities(requests, []).get("c06499");
    expect(last?.net).toBeGreaterThan(65000);
  });
});

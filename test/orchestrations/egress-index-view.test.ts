// Which reconciler indexes the event narrowing trusts (orchestrations/signal.ts egressIndexView): only
// an idle reconciler's index from its last pass. A pass under way, or one whose index has not reached
// the input yet, may have read the network before the change: then the policy is concerned.
import type { DurableClient } from "durable-functions";
import { describe, expect, it } from "vitest";
import { egressIndexView } from "../../orchestrations/signal";
import { egressIndexOf, type NetworkTopology } from "../../topology";
import { IDS } from "../topology/estate";

const topology: NetworkTopology = {
  subscriptions: [],
  routeTables: {},
  firewalls: {},
  virtualHubs: {},
  unread: [],
};
const index = egressIndexOf({ policyId: IDS.policy, egress: [], topology, firewallsListed: true });

/** A client whose getStatus answers `status` (or throws, as durable-functions 3 does for no instance). */
const client = (status: unknown) =>
  ({
    getStatus: async (_: string, options?: { showInput?: boolean }) => {
      if (status === undefined) throw new Error("404");
      expect(options?.showInput).toBe(true);
      return status;
    },
  }) as unknown as DurableClient;
const status = (phase: string, lastPass: number | undefined, egress: unknown) => ({
  runtimeStatus: "Running",
  customStatus: { phase, ...(lastPass !== undefined ? { last: { pass: lastPass } } : {}) },
  input: { policyId: IDS.policy, pass: 4, pending: [], ...(egress ? { egress } : {}) },
});

describe("the egress index the event narrowing trusts", () => {
  it("an idle reconciler's index from its last pass", async () => {
    expect(await egressIndexView(client(status("idle", 3, { pass: 3, index })), IDS.policy)).toEqual({
      index,
    });
  });

  it.each([
    ["no reconciler", undefined, "no reconciler yet"],
    [
      "an instance from before indexes (no egress in its input)",
      status("idle", 3, undefined),
      "no index yet",
    ],
    [
      "an index of another version",
      status("idle", 3, { pass: 3, index: { ...index, v: 2 } }),
      "no index yet",
    ],
    ["a pass under way", status("planning", 3, { pass: 3, index }), "a pass is under way (planning)"],
    [
      "waiting for approval",
      status("awaiting-approval", 3, { pass: 3, index }),
      "a pass is under way (awaiting-approval)",
    ],
    [
      "an index older than the last pass (before continueAsNew, or its read failed)",
      status("idle", 4, { pass: 3, index }),
      "its index predates its last pass",
    ],
  ])("not %s", async (_, answer, missing) => {
    expect(await egressIndexView(client(answer), IDS.policy)).toEqual({ missing });
  });
});

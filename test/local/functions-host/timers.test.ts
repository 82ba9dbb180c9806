// Timer triggers: the NCRONTAB subset, runs on demand through the admin API (master key), runs on
// the schedule, and the schedule monitor's past-due run after a restart.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isGuardError } from "../../../errors";
import { parseSchedule } from "../../../local/functions-host";
import { newStateDir, startSampleHost } from "./sample-host";

describe("NCRONTAB schedules", () => {
  const next = (expression: string, after: string) =>
    parseSchedule(expression).next(new Date(after)).toISOString();

  it.each([
    ["0 */5 * * * *", "2024-05-01T10:02:30Z", "2024-05-01T10:05:00.000Z"],
    ["0 0 */6 * * *", "2024-05-01T10:02:30Z", "2024-05-01T12:00:00.000Z"],
    ["30 15 9 * * MON-FRI", "2024-05-03T10:00:00Z", "2024-05-06T09:15:30.000Z"],
    ["0 0 0 1 JAN *", "2024-05-01T00:00:00Z", "2025-01-01T00:00:00.000Z"],
    ["*/10 * * * * *", "2024-05-01T10:00:05Z", "2024-05-01T10:00:10.000Z"],
    ["0 0 12 * * 0", "2024-05-01T00:00:00Z", "2024-05-05T12:00:00.000Z"],
    ["5,45 0 0 * * *", "2024-05-01T00:00:05Z", "2024-05-01T00:00:45.000Z"],
    // day of month AND day of week, as NCrontab: the 13th that is a Friday
    ["0 0 0 13 * FRI", "2024-01-01T00:00:00Z", "2024-09-13T00:00:00.000Z"],
    ["00:00:30", "2024-05-01T10:00:05Z", "2024-05-01T10:00:35.000Z"],
  ])("%s after %s is %s", (expression, after, expected) => {
    expect(next(expression, after)).toBe(expected);
  });

  it.each([
    ["0 */5 * * *", /5 fields/],
    ["0 0 25 * * *", /hour 25 is outside 0-23/],
    ["0 0 0 L * *", /"L" is not a valid day/],
    ["0 0 0 ? * *", /"\?" is not a valid day/],
    ["0 0 0 30 FEB *", /never fires/],
  ])("refuses %s clearly", (expression, message) => {
    expect(() => parseSchedule(expression).next(new Date("2024-01-01T00:00:00Z"))).toSatisfy(
      (fn: () => unknown) => {
        try {
          fn();
          return false;
        } catch (error) {
          return isGuardError(error, "CONFIG_INVALID") && message.test(error.message);
        }
      },
    );
  });
});

describe("timer triggers", () => {
  it("runs on demand through POST /admin/functions/{name} with the master key only", async () => {
    const sample = await startSampleHost();
    try {
      const admin = `${sample.host.url}/admin/functions/sweep`;
      const body = JSON.stringify({ input: "" });
      expect((await fetch(admin, { method: "POST", body })).status).toBe(401);
      const byFunctionKey = await fetch(admin, {
        method: "POST",
        body,
        headers: { "x-functions-key": sample.host.keys.function },
      });
      expect(byFunctionKey.status).toBe(401);
      const accepted = await fetch(admin, {
        method: "POST",
        body,
        headers: { "x-functions-key": sample.host.keys.master },
      });
      expect(accepted.status).toBe(202);
      await sample.host.idle();
      expect(sample.effects()).toEqual([
        { kind: "timer", isPastDue: false, adjustForDST: true, next: expect.stringMatching(/T\d\d:00:00/) },
      ]);
      expect(sample.invocations("sweep")).toEqual([
        expect.objectContaining({ trigger: "timerTrigger", result: "Succeeded" }),
      ]);
      const unknown = await fetch(`${sample.host.url}/admin/functions/nope`, {
        method: "POST",
        body,
        headers: { "x-functions-key": sample.host.keys.master },
      });
      expect(unknown.status).toBe(404);
    } finally {
      await sample.host.close();
    }
  });

  it("runs on its schedule", async () => {
    const sample = await startSampleHost({ runTimers: true, settings: { SWEEP_SCHEDULE: "* * * * * *" } });
    try {
      await expect
        .poll(() => sample.effects().length, { timeout: 3000, interval: 50 })
        .toBeGreaterThanOrEqual(1);
      expect(sample.effects()[0]).toMatchObject({ kind: "timer", isPastDue: false });
    } finally {
      await sample.host.close();
    }
  });

  it("runs once with isPastDue when the host starts after a missed occurrence", async () => {
    const stateDir = newStateDir();
    mkdirSync(path.join(stateDir, "timers"), { recursive: true });
    writeFileSync(
      path.join(stateDir, "timers", "sweep.json"),
      JSON.stringify({
        last: "2024-05-01T06:00:00.000Z",
        next: "2024-05-01T12:00:00.000Z",
        lastUpdated: "2024-05-01T06:00:00.000Z",
      }),
    );
    const sample = await startSampleHost({ stateDir, runTimers: true });
    try {
      await expect.poll(() => sample.effects().length, { timeout: 3000, interval: 20 }).toBe(1);
      expect(sample.effects()[0]).toMatchObject({ kind: "timer", isPastDue: true });
    } finally {
      await sample.host.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

// Timer triggers: each runs on its schedule (./ncrontab.ts), never overlapping itself, with the
// schedule monitor the Functions host keeps when `useMonitor` is on (the default): the last and next
// occurrence are recorded under the state directory, and a host that starts after a missed
// occurrence runs the function once at start with `isPastDue: true`. `runOnStartup` runs it once when
// the host starts. The trigger value is the host's TimerInfo (`Schedule`, `ScheduleStatus`,
// `IsPastDue`), which @azure/functions camel-cases into the `Timer` object.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Schedule } from "./ncrontab";
import { privateDir, writePrivateFileSync } from "./private-files";

export interface ScheduleStatus {
  last: string;
  next: string;
  lastUpdated: string;
}

export interface TimerInfo {
  Schedule: { AdjustForDST: boolean };
  ScheduleStatus: { Last: string; Next: string; LastUpdated: string } | null;
  IsPastDue: boolean;
}

export interface TimerFunction {
  name: string;
  schedule: Schedule;
  useMonitor: boolean;
  runOnStartup: boolean;
}

type Invoke = (timer: TimerFunction, info: TimerInfo) => Promise<void>;

const NEVER = "0001-01-01T00:00:00";

export class TimerScheduler {
  readonly #directory: string;
  readonly #invoke: Invoke;
  readonly #handles = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(stateDir: string, invoke: Invoke) {
    this.#directory = path.join(stateDir, "timers");
    privateDir(this.#directory, true);
    this.#invoke = invoke;
  }

  #file(name: string): string {
    return path.join(this.#directory, `${encodeURIComponent(name.toLowerCase())}.json`);
  }

  readStatus(name: string): ScheduleStatus | undefined {
    try {
      return JSON.parse(readFileSync(this.#file(name), "utf8")) as ScheduleStatus;
    } catch {
      return undefined;
    }
  }

  #writeStatus(name: string, status: ScheduleStatus): void {
    // Written to a new 0600 file and renamed over (atomic on one file system).
    writePrivateFileSync(this.#file(name), JSON.stringify(status));
  }

  /** The TimerInfo the host passes for a run (also used for runs started on demand). */
  info(timer: TimerFunction, isPastDue: boolean): TimerInfo {
    const status = timer.useMonitor ? this.readStatus(timer.name) : undefined;
    const next = timer.schedule.next(new Date()).toISOString();
    return {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: timer.useMonitor
        ? {
            Last: status?.last ?? NEVER,
            Next: status?.next ?? next,
            LastUpdated: status?.lastUpdated ?? NEVER,
          }
        : null,
      IsPastDue: isPastDue,
    };
  }

  start(timers: readonly TimerFunction[]): void {
    const now = new Date();
    for (const timer of timers) {
      const status = timer.useMonitor ? this.readStatus(timer.name) : undefined;
      const pastDue = status !== undefined && Date.parse(status.next) < now.getTime();
      if (pastDue || timer.runOnStartup) {
        void this.#run(timer, pastDue, status !== undefined ? Date.parse(status.next) : now.getTime());
      } else {
        if (timer.useMonitor && status === undefined) this.#record(timer, undefined, now);
        this.#arm(timer);
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const handle of this.#handles.values()) clearTimeout(handle);
    this.#handles.clear();
  }

  #record(timer: TimerFunction, last: Date | undefined, now: Date): void {
    if (!timer.useMonitor) return;
    const previous = this.readStatus(timer.name);
    this.#writeStatus(timer.name, {
      last: last?.toISOString() ?? previous?.last ?? NEVER,
      next: timer.schedule.next(now).toISOString(),
      lastUpdated: now.toISOString(),
    });
  }

  #arm(timer: TimerFunction): void {
    if (this.#stopped) return;
    const next = timer.schedule.next(new Date());
    const delay = Math.min(Math.max(next.getTime() - Date.now(), 0), 2_147_483_647);
    const handle = setTimeout(() => {
      this.#handles.delete(timer.name);
      void this.#run(timer, false, next.getTime());
    }, delay);
    handle.unref();
    this.#handles.set(timer.name, handle);
  }

  async #run(timer: TimerFunction, isPastDue: boolean, occurrence: number): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#invoke(timer, this.info(timer, isPastDue));
    } finally {
      if (!this.#stopped) {
        this.#record(timer, new Date(occurrence), new Date());
        this.#arm(timer);
      }
    }
  }
}

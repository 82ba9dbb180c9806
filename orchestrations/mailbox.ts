// External events without losses. In durable-functions, a waitForExternalEvent task that lost a
// Task.any stays registered, and events go to the newest registered waiter first: an event that
// arrives while the orchestrator is busy (in an activity) lands on such a leftover waiter. So every
// waiter is kept, each is yielded exactly once (a task yielded twice is registered twice and could
// take two events, keeping only the last), and whatever any of them received is harvested.
import type { OrchestrationContext, Task } from "durable-functions";

export class Mailbox<T> {
  private open: Task[] = [];

  constructor(
    private readonly context: OrchestrationContext,
    private readonly name: string,
  ) {}

  /** A fresh waiter: yield it (inside one Task.any) exactly once. */
  waiter(): Task {
    const task = this.context.df.waitForExternalEvent(this.name);
    this.open.push(task);
    return task;
  }

  /** Every event received so far and not yet taken, in the order the waiters were made. */
  take(): T[] {
    const received = this.open.filter((t) => t.isCompleted);
    this.open = this.open.filter((t) => !t.isCompleted);
    return received.map((t) => t.result as T);
  }
}

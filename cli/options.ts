// Option values more than one command takes, checked the same way everywhere.
import { GuardError } from "../errors";

/** A rule collection group priority, as Azure takes it (100-65000). */
export function parseGroupPriority(value: string): number {
  const priority = Number(value);
  if (!Number.isInteger(priority) || priority < 100 || priority > 65000) {
    throw new GuardError(
      "BAD_ARGUMENT",
      `bad --group-priority "${value}": expected a whole number from 100 to 65000.`,
    );
  }
  return priority;
}

// What the local runtime keeps on disk (the task hub's instances, timer monitors, emulated estates,
// host keys, runtime.json, approval links) can hold secrets: keys, approval tokens, orchestration
// inputs. Files are created 0600 and directories 0700, readable by the user running it only.
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `directory` and any missing parent 0700. `owned`: the directory belongs to the runtime
 * alone (not one the user named), so an existing one is made 0700 as well.
 */
export function privateDir(directory: string, owned = false): void {
  mkdirSync(directory, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (owned) chmodSync(directory, PRIVATE_DIR_MODE);
}

function temporaryFor(file: string): string {
  return `${file}.${randomUUID()}.tmp`;
}

/** Writes `file` atomically (a new 0600 file, then renamed over it): readable by the owner only. */
export function writePrivateFileSync(file: string, data: string): void {
  const temporary = temporaryFor(file);
  writeFileSync(temporary, data, { mode: PRIVATE_FILE_MODE, flag: "wx" });
  renameSync(temporary, file);
}

/** `writePrivateFileSync`, asynchronously. */
export async function writePrivateFile(file: string, data: string): Promise<void> {
  const temporary = temporaryFor(file);
  await writeFile(temporary, data, { mode: PRIVATE_FILE_MODE, flag: "wx" });
  await rename(temporary, file);
}

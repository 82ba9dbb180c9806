import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The CLI tests spawn `node dist/...`; `npm test` builds first (pretest).
    testTimeout: 30_000,
    pool: "forks",
    // Most files wait on timers, sockets and child processes rather than the CPU (debounce windows,
    // long-running writes, the local host), so three workers fit even two cores; vitest's default
    // there (cores - 1) runs the files one by one: about 500 s instead of about 250 s.
    maxWorkers: Math.max(3, availableParallelism() - 1),
  },
});

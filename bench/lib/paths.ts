import path from "node:path";

/** The project root, from dist/bench/lib. */
export const ROOT = path.resolve(__dirname, "..", "..", "..");

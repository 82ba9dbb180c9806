import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
/** `../shared` beside the project, as CI lays it out. */
export const SHARED = path.resolve(ROOT, "..", "shared");

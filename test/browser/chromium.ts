// Debian's Chromium driven by playwright-core (Playwright's own browser downloads are not available
// where this runs). Missing Chromium is a failure that names the package, never a skip.
import fs from "node:fs";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { ROOT } from "../helpers/paths";

export const CHROMIUM = process.env.AKS_EGRESS_CHROMIUM ?? "/usr/bin/chromium";
/** Screenshots of every page the browser tests visit: artefacts of the run, not committed. */
export const SCREENSHOTS = path.join(ROOT, "test-artifacts", "browser");

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium; .ci/run does it when it is missing) or set AKS_EGRESS_CHROMIUM to a Chromium binary.`,
    );
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function screenshotPath(name: string): string {
  return path.join(SCREENSHOTS, `${name}.png`);
}

// `npm start`: the whole app on this machine. One local deployment per cloud (emulated ARM estate +
// the app's real functions in the local host), a sweep, live progress, and a table of what was
// found and done. Then it keeps serving, so the README walkthrough can send events and approve.
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { CLOUDS, type Cloud, DEFAULT_CATALOG_VERSION, parseCloud } from "../../catalog";
import { table } from "../../cli/format/text";
import { isGuardError } from "../../errors";
import type { HostLogEntry } from "../functions-host";
import { type HostKeys, KEYS_FILE, stateDirKeys } from "../functions-host/keys";
import { privateDir, writePrivateFileSync } from "../functions-host/private-files";
import { findPages, type PageServer, startPageServer } from "../page-server";
import { APPROVAL_LINKS_FILE, onHost, policyName, receivedApprovals, recordApproval } from "./approvals";
import type { PendingAtStart, RunnerConfig, RunnerMessage } from "./estate-runner";
import { DEFAULT_STATE_DIR, parseArgsOptions, ROOT, startHelp, TRACES_FILE } from "./options";

function parseStartArgs(argv: string[]) {
  return parseArgs({ args: argv, options: parseArgsOptions() }).values;
}

/**
 * The function key is fixed, so the README's curl lines work as written (local only: never used in
 * Azure). The master and system keys are generated once per state directory, kept in
 * `STATE_DIR/host-keys.json` (0600) and never printed: with them anyone could start, raise events
 * to and terminate the local orchestrations, or deliver events.
 */
export const LOCAL_FUNCTION_KEY = "local-function-key";

const ESTATES: Record<Cloud, string> = {
  AzureCloud: "azurecloud.json",
  AzureChinaCloud: "azurechinacloud.json",
  AzureUSGovernment: "azureusgovernment.json",
};

export interface RuntimeInfo {
  /** npm start's process: `npm run demo` checks that it still runs. */
  pid: number;
  clouds: {
    cloud: Cloud;
    url: string;
    armEndpoint: string;
    caFile: string;
    policies: string[];
    clusters: string[];
  }[];
  keys: HostKeys;
  /** The catalog watch demo's page server (POST /_next, GET /_state), when it runs. */
  catalogPages?: { url: string; origin: string };
}

interface PolicyProgress {
  cloud: Cloud;
  policyId: string;
  drift?: string;
  action?: string;
  approvalId?: string;
  expiresAt?: string;
  /** The pending approval's link, on the host as it runs now. */
  link?: string;
  /** Pending since before this start, and npm start no longer has its link. */
  linkLost?: boolean;
  clusters: string[];
  done: boolean;
}

/**
 * The catalog watch demo: the apps read Microsoft's page from a local page server that serves the
 * 2025-02 edition until the user moves it on (POST /_next), then the 2026-06 one; with catalog 2025-02
 * in use the first matches and the second is the change Microsoft made. On demand, so that the change
 * (and the approvals it asks for) never lands in the middle of the walkthrough's own approval. The
 * schedule fires every minute.
 */
export const CATALOG_DEMO = {
  pages: ["2025-02-", "2026-06-18-1bdcfff99"],
  catalogVersion: "2025-02",
  schedule: "0 * * * * *",
  /** A change is offered to every policy, which plans with the page and asks a person. */
  adoption: "approve",
} as const;

/** The catalog watch's schedule without the demo (infra's too): daily. */
const WATCH_SCHEDULE = "0 30 5 * * *";

/** Where the page versions are: ../shared beside the project, as CI lays it out. */
const PAGES_DIR = path.resolve(ROOT, "..", "shared", "reference", "pages");

/** Demo defaults, and local.settings.json's Values (non-empty) that go over them (and over the catalog demo's). */
function settings(
  stateDir: string,
  say: (s: string) => void,
): { defaults: Record<string, string>; given: Record<string, string> } {
  const keyFile = path.join(stateDir, "signing-key");
  if (!fs.existsSync(keyFile)) writePrivateFileSync(keyFile, randomBytes(32).toString("base64url"));
  const defaults: Record<string, string> = {
    AKS_EGRESS_TASK_HUB: "local",
    AKS_EGRESS_MODE: "auto",
    AKS_EGRESS_APPROVAL_SIGNING_KEY: fs.readFileSync(keyFile, "utf8").trim(),
    AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
    AKS_EGRESS_CATALOG_WATCH_SCHEDULE: WATCH_SCHEDULE,
    AKS_EGRESS_DEBOUNCE_SECONDS: "3",
  };
  const file = path.join(ROOT, "local.settings.json");
  if (!fs.existsSync(file)) {
    say(
      "Settings: demo defaults (mode auto; removals need approval). Copy local.settings.json.example to local.settings.json to change them.",
    );
    return { defaults, given: {} };
  }
  const values =
    (JSON.parse(fs.readFileSync(file, "utf8")) as { Values?: Record<string, string> }).Values ?? {};
  const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
  say(`Settings: local.settings.json over the demo defaults (${Object.keys(given).length} values).`);
  return { defaults, given };
}

/**
 * Starts the page server for the catalog watch demo and gives the settings that point the apps at it,
 * unless local.settings.json points the watch elsewhere or the page versions are not there (then it
 * says why, and the watch keeps its defaults).
 */
async function startCatalogDemo(
  given: Record<string, string>,
  port: number,
  say: (s: string) => void,
  onAdvance: (current: string) => void,
): Promise<{ server: PageServer; settings: Record<string, string> } | undefined> {
  const url = given.AKS_EGRESS_CATALOG_WATCH_URL;
  if (url !== undefined) {
    say(
      `Catalog watch: reads ${url} (local.settings.json) on schedule ${given.AKS_EGRESS_CATALOG_WATCH_SCHEDULE ?? WATCH_SCHEDULE}; the local page demo is off.`,
    );
    return undefined;
  }
  const off = (why: string) =>
    say(
      `Catalog watch demo: off (${why}). The watch keeps its daily schedule and Microsoft's URL; the rest runs as usual.`,
    );
  let files: string[];
  try {
    if (!fs.existsSync(PAGES_DIR))
      throw new Error(
        `${PAGES_DIR} does not exist: the page versions come from ../shared beside the project`,
      );
    files = findPages(PAGES_DIR, CATALOG_DEMO.pages);
  } catch (error) {
    off(error instanceof Error ? error.message : String(error));
    return undefined;
  }
  let server: PageServer;
  try {
    server = await startPageServer({
      files,
      port,
      onAdvance: (state) => onAdvance(state.current),
    });
  } catch (error) {
    off(
      `the page server could not listen on port ${port}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
  const settings = {
    AKS_EGRESS_CATALOG_WATCH_URL: server.url,
    AKS_EGRESS_CATALOG_VERSION: CATALOG_DEMO.catalogVersion,
    AKS_EGRESS_CATALOG_WATCH_SCHEDULE: CATALOG_DEMO.schedule,
    AKS_EGRESS_CATALOG_ADOPTION: CATALOG_DEMO.adoption,
  };
  const effective = { ...settings, ...given };
  say(
    `Catalog watch: every app reads Microsoft's page from ${server.origin} (${files.map((f) => path.basename(f)).join(", then ")}), compares it with catalog ${effective.AKS_EGRESS_CATALOG_VERSION} (adoption ${effective.AKS_EGRESS_CATALOG_ADOPTION}), schedule ${effective.AKS_EGRESS_CATALOG_WATCH_SCHEDULE}.`,
  );
  say(`Catalog watch: to publish Microsoft's next edit, run: curl -s -X POST ${server.origin}/_next`);
  return { server, settings };
}

/** A path as printed: relative to the working directory when inside it, else absolute. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** A word for a shell command line, quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w./:@%+=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The catalogWatch function's result line (`catalog watch: {"outcome": …}`). */
function watchOutcome(entry: HostLogEntry): { outcome: string; importedAs?: string } | undefined {
  if (entry.kind !== "log" || entry.functionName?.toLowerCase() !== "catalogwatch") return undefined;
  if (!entry.message.startsWith("catalog watch: {")) return undefined;
  try {
    const parsed = JSON.parse(entry.message.slice("catalog watch: ".length)) as unknown;
    return typeof parsed === "object" && parsed !== null && "outcome" in parsed
      ? (parsed as { outcome: string; importedAs?: string })
      : undefined;
  } catch {
    return undefined;
  }
}

/** What an AksEgressGuard.CatalogChanged trace says, in one line. */
export function catalogChangedLine(props: Record<string, unknown>): string {
  const counts = (props.counts ?? {}) as {
    added?: number;
    removed?: number;
    changed?: number;
    total?: number;
  };
  const cloud = String(props.cloud ?? "");
  const first = ((props.firstChanges as string[] | undefined) ?? [])
    .slice(0, 3)
    // "added AzureCloud azure-monitor host HTTPS:443": the cloud is the line's prefix already.
    .map((line) => line.replace(` ${cloud} `, " "));
  const more = (counts.total ?? first.length) > first.length ? ", …" : "";
  const sent = String(props.sentTo ?? "").startsWith("nowhere")
    ? "not sent: no notification topic is set"
    : "see the notification topic";
  const offered =
    props.offered === true ? "; offered to each policy, which plans with it and asks a person" : "";
  return (
    `Microsoft's page (${props.pageDate}) differs from catalog ${props.catalogVersion}: ` +
    `${counts.added ?? 0} added, ${counts.removed ?? 0} removed, ${counts.changed ?? 0} changed` +
    `${first.length > 0 ? `; first: ${first.join(", ")}${more}` : ""} (${sent}${offered})`
  );
}

function message(entry: HostLogEntry): { name: string; props: Record<string, unknown> } | undefined {
  if (entry.kind !== "log" || !entry.message.startsWith("AksEgressGuard.")) return undefined;
  const at = entry.message.indexOf(" ");
  try {
    return {
      name: entry.message.slice(0, at),
      props: JSON.parse(entry.message.slice(at + 1)) as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

/** How long the sweep's table waits for passes, at most; a pending approval counts as done at once. */
const SWEEP_WAIT_MS = 120_000;
/** While it waits, it says for what, this often. */
const SWEEP_NOTICE_MS = 20_000;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  let values: ReturnType<typeof parseStartArgs>;
  try {
    values = parseStartArgs(argv);
  } catch (error) {
    process.stderr.write(
      `npm start: ${error instanceof Error ? error.message : String(error)}. The options: npm start -- --help\n`,
    );
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${startHelp()}\n`);
    return 0;
  }
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const clouds = values.cloud ? values.cloud.map(parseCloud) : [...CLOUDS];
  const basePort = Number(values["base-port"]);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65000) {
    process.stderr.write(
      `npm start: bad --base-port "${values["base-port"]}": expected a port number (0 = any free port).\n`,
    );
    return 2;
  }
  const stateRoot = path.resolve(values["state-dir"]);
  const ownStateDir = stateRoot === DEFAULT_STATE_DIR;
  /** `npm run demo -- …` (or `npm start -- …`) for this state directory. */
  const withState = (npm: string, rest: string) =>
    `${npm} -- ${ownStateDir ? "" : `--state-dir ${shellWord(shown(stateRoot))} `}${rest}`;
  if (values.reset) fs.rmSync(stateRoot, { recursive: true, force: true });
  // Everything under it is private (0700/0600); the default directory is ours, so it is made 0700
  // even if an older version created it; a directory the user names is made 0700 only if new.
  privateDir(stateRoot, ownStateDir);
  const { defaults, given } = settings(stateRoot, say);
  // The page server's port follows the hosts' (7074 by default), so that the README's curl lines work.
  const pagesPort = basePort === 0 ? 0 : basePort + CLOUDS.length;
  const catalogDemo = values["no-catalog-demo"]
    ? undefined
    : await startCatalogDemo(given, pagesPort, say, (current) => {
        say(
          `catalog: the page server now serves ${current}, Microsoft's next edit; the next watch run reads it`,
        );
      });
  // local.settings.json goes over the demo's defaults, the catalog demo's included.
  const common = { ...defaults, ...catalogDemo?.settings, ...given };
  const catalogInUse = common.AKS_EGRESS_CATALOG_VERSION ?? DEFAULT_CATALOG_VERSION;
  const { keys } = stateDirKeys(stateRoot, { function: LOCAL_FUNCTION_KEY });

  const progress = new Map<string, PolicyProgress>();
  const children: ChildProcess[] = [];
  const exits: Promise<void>[] = [];
  const info: RuntimeInfo = {
    pid: process.pid,
    clouds: [],
    keys,
    ...(catalogDemo
      ? { catalogPages: { url: catalogDemo.server.url, origin: catalogDemo.server.origin } }
      : {}),
  };
  let stopping = false;
  const stopAll = () => {
    stopping = true;
    for (const child of children) child.kill("SIGTERM");
    void catalogDemo?.server.close();
  };
  process.once("SIGINT", stopAll);
  process.once("SIGTERM", stopAll);
  /** The host's URL per cloud, as it runs now. */
  const hostUrl = new Map<Cloud, string>();

  const ready = clouds.map(
    (cloud, index) =>
      new Promise<void>((resolve, reject) => {
        const child = fork(path.join(__dirname, "estate-runner.js"), [], {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        children.push(child);
        exits.push(new Promise<void>((done) => child.once("exit", () => done())));
        const config: RunnerConfig = {
          cloud,
          port: basePort === 0 ? 0 : basePort + index,
          stateDir: path.join(stateRoot, cloud),
          estateFile: path.join(ROOT, "local", "demo", "estates", ESTATES[cloud]),
          settings: common,
          keys,
        };
        child.send(config);
        child.on("exit", (code) => {
          if (code !== 0 && code !== null)
            reject(new Error(`${cloud}: the local deployment stopped (exit ${code})`));
        });
        child.on("message", (raw) => {
          const m = raw as RunnerMessage;
          if (m.kind === "error") reject(new Error(`${cloud}: ${m.message}`));
          if (m.kind === "ready") {
            hostUrl.set(cloud, m.url);
            info.clouds.push({
              cloud,
              url: m.url,
              armEndpoint: m.armEndpoint,
              caFile: m.caFile,
              policies: m.policies,
              clusters: m.clusters,
            });
            for (const policyId of m.policies)
              progress.set(policyId.toLowerCase(), { cloud, policyId, clusters: [], done: false });
            say(
              `[${cloud}] app at ${m.url}, ARM emulator at ${m.armEndpoint}: ${m.clusters.length} cluster(s), ${m.policies.length} firewall policy`,
            );
            for (const pending of m.pending) onPendingAtStart(cloud, m.url, pending);
            for (const { policyId, error } of m.unread)
              say(
                `[${cloud}] ${policyName(policyId)}: its status could not be read at start (${error}), so an approval it may wait for is not shown here; ${withState("npm run demo", "status")} shows it`,
              );
            resolve();
          }
          if (m.kind === "log") onLog(m.cloud, m.entry);
          if (m.kind === "approval") onApproval(m);
        });
      }),
  );

  /**
   * An approval pending since an earlier run: the reconciler's status names it (no pass asks again).
   * Its link is the one the topic delivered then, if npm start still has it, on the host as it runs now.
   */
  function onPendingAtStart(cloud: Cloud, url: string, pending: PendingAtStart) {
    const p = progress.get(pending.policyId.toLowerCase());
    const where = `[${cloud}] ${policyName(pending.policyId)}:`;
    const received = receivedApprovals(stateRoot).find(
      (a) =>
        a.policyId.toLowerCase() === pending.policyId.toLowerCase() && a.approvalId === pending.approvalId,
    );
    const link = received ? onHost(received.link, url) : undefined;
    if (p) {
      p.action = "waiting for approval";
      p.approvalId = pending.approvalId;
      p.expiresAt = pending.expiresAt;
      if (pending.drift) p.drift = pending.drift;
      if (received?.clusters) p.clusters = received.clusters;
      if (link) p.link = link;
      else p.linkLost = true;
      p.done = true;
    }
    const about = `waiting for approval ${pending.approvalId} (asked before this start; expires ${pending.expiresAt}; ${pending.summary.replace(/\.$/, "")})`;
    if (link) {
      say(`${where} ${about}: ${link}`);
      return;
    }
    say(`${where} ${about}`);
    say(
      `${where}   its link went to the notification topic then, and ${shown(path.join(stateRoot, APPROVAL_LINKS_FILE))} (npm start's copy of what the topic delivered) does not have it; the app never sends a link twice. For a new link: ${withState("npm run demo", `ask-again ${policyName(pending.policyId)}`)} (or let it expire: a later pass asks again).`,
    );
  }

  /** A link published to the (emulated) notification topic, as a chat or mail subscriber would get it. */
  function onApproval(m: Extract<RunnerMessage, { kind: "approval" }>) {
    const url = hostUrl.get(m.cloud);
    const link = url ? onHost(m.link, url) : m.link;
    const p = progress.get(m.policyId.toLowerCase());
    if (p) {
      p.action = "waiting for approval";
      p.approvalId = m.approvalId;
      if (m.expiresAt) p.expiresAt = m.expiresAt;
      p.link = link;
      delete p.linkLost;
      p.done = true;
    }
    say(`[${m.cloud}] ${policyName(m.policyId)}: waiting for approval: ${link}`);
    // For `npm run demo -- approve`: kept in the local state (0600), like a subscriber's inbox.
    recordApproval(stateRoot, {
      cloud: m.cloud,
      policyId: m.policyId,
      approvalId: m.approvalId,
      ...(m.expiresAt ? { expiresAt: m.expiresAt } : {}),
      ...(p && p.clusters.length > 0 ? { clusters: p.clusters } : {}),
      link: m.link,
    });
  }

  /** Clouds whose watch has said that the page matches (said once). */
  const matched = new Set<string>();

  function onLog(cloud: Cloud, entry: HostLogEntry) {
    if (entry.kind === "log" && entry.level === "error") say(`[${cloud}] error: ${entry.message}`);
    if (entry.kind === "invocation" && entry.result === "Failed")
      say(
        `[${cloud}] error: ${entry.functionName} (${entry.trigger}) failed: ${entry.error ?? "no error given"}`,
      );
    const outcome = watchOutcome(entry);
    if (outcome?.outcome === "matches" && !matched.has(`${cloud} ${outcome.importedAs}`)) {
      matched.add(`${cloud} ${outcome.importedAs}`);
      const readAs = outcome.importedAs === catalogInUse ? "" : ` (read as ${outcome.importedAs})`;
      say(`[${cloud}] catalog: page matches ${catalogInUse}${readAs}; nothing to report`);
    }
    const event = message(entry);
    if (event === undefined) return;
    // --events: the trace as Application Insights keeps it in `traces.message`.
    if (values.events && entry.kind === "log") say(`[${cloud}] ${entry.message}`);
    const policyId = String(event.props.policyId ?? "");
    const p = progress.get(policyId.toLowerCase());
    const where = `[${cloud}] ${policyName(policyId)}:`;
    switch (event.name) {
      case "AksEgressGuard.PassStarted":
        say(
          `${where} pass ${event.props.pass} started (${Number(event.props.reasonCount ?? (event.props.reasons as unknown[]).length)} reason(s))`,
        );
        break;
      case "AksEgressGuard.PlanComputed": {
        const risk = event.props.risk as { added: number; changed: number; removed: number };
        const drift =
          event.props.action === "none" ? "none" : `+${risk.added} ~${risk.changed} -${risk.removed}`;
        if (p) {
          p.drift = drift;
          p.clusters = (event.props.clusters as string[] | undefined) ?? p.clusters;
        }
        say(
          `${where} planned: ${drift} -> ${event.props.outcome} (${(event.props.reasons as string[]).join("; ")})`,
        );
        for (const finding of (event.props.topFindings as string[] | undefined) ?? [])
          say(`${where}   finding: ${finding}`);
        break;
      }
      case "AksEgressGuard.ApprovalRequested":
        // The log names the approval; the link itself arrives on the notification topic (onApproval).
        if (p) {
          p.action = "waiting for approval";
          p.approvalId = String(event.props.approvalId);
          p.expiresAt = String(event.props.expiresAt ?? "");
        }
        say(`${where} approval ${event.props.approvalId} requested; the link goes to the notification topic`);
        break;
      case "AksEgressGuard.ApprovalDecided": {
        const comment = String(event.props.comment ?? "");
        say(
          `${where} approval ${event.props.approvalId} ${event.props.decision === "approve" ? "approved" : "rejected"} by ${event.props.approver}${comment ? ` (comment: ${comment})` : ""}`,
        );
        break;
      }
      case "AksEgressGuard.ApprovalRefused":
        say(`${where} a decision for approval ${event.props.approvalId} was refused: ${event.props.reason}`);
        break;
      case "AksEgressGuard.ApprovalExpired":
        say(
          `${where} approval ${event.props.approvalId} expired without a decision; its link now answers 410`,
        );
        break;
      case "AksEgressGuard.ApprovalSuperseded":
        say(
          `${where} approval ${event.props.approvalId} superseded: the change moved (its link now answers 410); a new plan follows`,
        );
        break;
      case "AksEgressGuard.PlanApplied":
        say(`${where} applied with ${event.props.writes} write(s); converged: ${event.props.converged}`);
        break;
      case "AksEgressGuard.PassFailed":
        say(`${where} pass ${event.props.pass} failed: ${event.props.error}`);
        break;
      case "AksEgressGuard.PassCompleted":
        if (p) {
          p.action =
            { applied: "auto-fixed", "no-drift": "in sync", reported: "reported (audit)" }[
              String(event.props.outcome)
            ] ?? String(event.props.outcome);
          p.clusters = (event.props.clusters as string[]) ?? [];
          delete p.link;
          delete p.linkLost;
          delete p.approvalId;
          delete p.expiresAt;
          p.done = true;
        }
        for (const cluster of (event.props.clusters as string[]) ?? [])
          say(`${where}   cluster ${cluster.split("/").at(-1)}`);
        say(`${where} pass ${event.props.pass} done: ${event.props.summary}`);
        break;
      case "AksEgressGuard.EventAccepted":
        say(`[${cloud}] event ${event.props.detail}`);
        break;
      case "AksEgressGuard.EventDropped":
        say(`[${cloud}] event dropped: ${event.props.reason}`);
        break;
      case "AksEgressGuard.CatalogChanged":
        say(`[${cloud}] catalog: ${catalogChangedLine(event.props)}`);
        break;
      case "AksEgressGuard.CatalogWatchFailed":
        say(`[${cloud}] catalog: the watch failed (${event.props.stage}): ${event.props.reason}`);
        break;
      case "AksEgressGuard.CatalogAdoption":
        say(
          `${where} catalog page ${event.props.importedAs}: ${event.props.state}${event.props.by ? ` by ${event.props.by}` : ""}`,
        );
        break;
    }
  }

  try {
    await Promise.all(ready);
  } catch (error) {
    process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
    stopAll();
    return 1;
  }
  // In the order of the clouds asked for, whichever came up first.
  const order = (cloud: Cloud) => clouds.indexOf(cloud);
  info.clouds.sort((a, b) => order(a.cloud) - order(b.cloud));
  writePrivateFileSync(path.join(stateRoot, "runtime.json"), `${JSON.stringify(info, null, 2)}\n`);

  if (!values["no-sweep"]) {
    say("Sweeping every firewall policy…");
    for (const c of info.clouds) {
      const response = await fetch(`${c.url}/admin/functions/sweep`, {
        method: "POST",
        headers: { "x-functions-key": keys.master, "Content-Type": "application/json" },
        body: JSON.stringify({ input: "" }),
      });
      if (response.status !== 202) say(`[${c.cloud}] the sweep did not start: HTTP ${response.status}`);
    }
    const began = Date.now();
    let noticed = began;
    const waiting = () => [...progress.values()].filter((p) => !p.done);
    while (!stopping && waiting().length > 0 && Date.now() - began < SWEEP_WAIT_MS) {
      await new Promise((r) => setTimeout(r, 200));
      if (Date.now() - noticed >= SWEEP_NOTICE_MS) {
        noticed = Date.now();
        say(
          `(waiting for ${waiting()
            .map((p) => `[${p.cloud}] ${policyName(p.policyId)}`)
            .join(
              ", ",
            )} to finish its pass; the table follows, at the latest ${Math.round((SWEEP_WAIT_MS - (noticed - began)) / 1000)} s from now)`,
        );
      }
    }
    if (!stopping) printTable();
  }
  if (!stopping) {
    const first = info.clouds.find((c) => c.cloud === "AzureCloud") ?? info.clouds[0];
    const demos = [
      ["status", "every policy: phase, last pass, pending approval"],
      ["add-gpu-pool", "a new GPU pool on aks-weu-batch, and its ARM event"],
      ["approve", "approve the pending plan (or open its link in a browser)"],
    ].map(([command, what]) => [withState("npm run demo", command ?? ""), what]);
    const width = Math.max(...demos.map(([command]) => command?.length ?? 0)) + 2;
    say(
      [
        "",
        "Keeps serving. Try (see the README's walkthrough):",
        ...info.clouds.map(
          (c) =>
            `  Estate page [${c.cloud}] (open in a browser; add &format=json for JSON): ${c.url}/api/estate?code=${encodeURIComponent(keys.function)}`,
        ),
        `  curl -s "${first?.url}/api/status?policy=${encodeURIComponent(first?.policies[0] ?? "")}" -H "x-functions-key: ${keys.function}"`,
        ...demos.map(([command, what]) => `  ${command?.padEnd(width)}# ${what}`),
        `History: each step of a pass is an AksEgressGuard.* trace (in Azure, in Application Insights); npm start prints a short line for each${values.events ? " and, with --events, the trace itself" : " (--events: the trace itself too)"}, and keeps every trace of every run in ${shown(stateRoot)}/<cloud>/${TRACES_FILE}.`,
        `Ctrl-C stops; state is kept in ${shown(stateRoot)}/ (${withState("npm start", "--reset")} starts over); the master and system keys are in ${shown(path.join(stateRoot, KEYS_FILE))}.`,
      ].join("\n"),
    );
  }
  let code = 0;
  if (values["exit-when-done"] && !stopping) {
    code = [...progress.values()].every((p) => p.done) ? 0 : 1;
    stopAll();
  }
  // Until Ctrl-C (or now, with --exit-when-done): each deployment saves its estate as it stops.
  await Promise.all(exits);
  await catalogDemo?.server.close();
  return code;

  function printTable() {
    const rows = [...progress.values()]
      .sort((a, b) => order(a.cloud) - order(b.cloud))
      .map((p) => [
        p.cloud,
        policyName(p.policyId),
        String(p.clusters.length || "-"),
        p.drift ?? "?",
        p.action ?? "still running",
        p.approvalId
          ? `${p.approvalId}${p.expiresAt ? ` until ${p.expiresAt.replace(/\.\d+Z$/, "Z")}` : ""}${p.linkLost ? " (link lost: see above)" : ""}`
          : "",
      ]);
    say("");
    say(
      table(
        ["Cloud", "Firewall policy", "Clusters", "Drift (+ ~ -)", "Action", "Approval"],
        rows,
        [19, 22, 10, 15, 22, 40],
      ),
    );
    const links = [...progress.values()].filter((p) => p.link);
    if (links.length > 0) {
      say(
        `Approval links (whoever holds one can decide; open it in a browser, or ${withState("npm run demo", "approve")}):`,
      );
      for (const p of links) say(`  [${p.cloud}] ${policyName(p.policyId)}: ${p.link}`);
    }
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `npm start: ${isGuardError(error) || error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}

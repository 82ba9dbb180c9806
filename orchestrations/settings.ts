// The app's settings: environment variables (app settings in Azure, local.settings.json locally),
// read and validated once, with one message that names every bad setting.
import { z } from "zod";
import { resolverServerProblem } from "../azure/api-server-address";
import {
  CLOUDS,
  type Cloud,
  catalogVersions,
  DEFAULT_CATALOG_VERSION,
  type Feature,
  parseFeatures,
} from "../catalog";
import { MODES, type Mode } from "../drift/types";
import { GuardError, isGuardError } from "../errors";

export interface AppSettings {
  cloud: Cloud;
  /** Firewall policies in scope; events about others are ignored. */
  firewallPolicies: string[];
  defaultPolicyId?: string;
  includeUntaggedWhenDefault: boolean;
  subscriptions: string[];
  groupName: string;
  groupPriority: number;
  catalogVersion: string;
  mode: Mode;
  removalsNeedApproval: boolean;
  /** A plan removing more than this share of the managed rules always needs approval. */
  maxRemovedShare: number;
  /** The rolling window over which unapproved removals add up against maxRemovedShare. */
  removalWindowHours: number;
  /**
   * Who fronts the approval routes: "appservice" (App Service Authentication, set by infra) makes the
   * signed-in principal the approver; "none" records an unauthenticated link holder.
   */
  approverAuth: "none" | "appservice";
  approvalTimeoutMinutes: number;
  signingKey: string;
  /** The app's managed identity: events it caused are dropped. */
  appObjectId?: string;
  appClientId?: string;
  notificationTopicEndpoint?: string;
  notificationTopicKey?: string;
  sweepSchedule: string;
  /** NCRONTAB of the catalog watch; the timer binding reads the setting itself (see loadSettings). */
  catalogWatchSchedule: string;
  /** Where the watch reads Microsoft's AKS outbound-rules page (its markdown source). */
  catalogWatchUrl: string;
  /** What a change of the page leads to: "notify" only reports it ("approve" is not built yet). */
  catalogAdoption: CatalogAdoption;
  /**
   * The blob container where the catalog watch keeps what must survive restarts (the last version seen,
   * imported pages); process memory when absent (lost on restart).
   */
  catalogStoreUrl?: string;
  debounceSeconds: number;
  defaultFeatures: Feature[];
  /**
   * DNS servers (`ip`, `ip:port`) a pass asks for public API servers' addresses; the host's own when
   * empty. The firewall's DNS proxy gives the answer the nodes see.
   */
  resolvers: string[];
  allowAnySource: boolean;
  /** Base URL for approval links, e.g. https://myapp.azurewebsites.net. */
  publicBaseUrl: string;
  /** The local ARM emulator (npm start, tests); real ARM when absent. */
  armEndpoint?: string;
  armCaFile?: string;
}

/** Every setting the code reads, with what it means (README and infra cross-checks use this). */
export const SETTING_NAMES = {
  cloud: "AKS_EGRESS_CLOUD",
  firewallPolicies: "AKS_EGRESS_FIREWALL_POLICIES",
  defaultPolicyId: "AKS_EGRESS_DEFAULT_FIREWALL_POLICY",
  includeUntaggedWhenDefault: "AKS_EGRESS_INCLUDE_UNTAGGED",
  subscriptions: "AKS_EGRESS_SUBSCRIPTIONS",
  groupName: "AKS_EGRESS_GROUP_NAME",
  groupPriority: "AKS_EGRESS_GROUP_PRIORITY",
  catalogVersion: "AKS_EGRESS_CATALOG_VERSION",
  mode: "AKS_EGRESS_MODE",
  removalsNeedApproval: "AKS_EGRESS_REMOVALS_NEED_APPROVAL",
  maxRemovedShare: "AKS_EGRESS_MAX_REMOVED_SHARE",
  removalWindowHours: "AKS_EGRESS_REMOVAL_WINDOW_HOURS",
  approverAuth: "AKS_EGRESS_APPROVER_AUTH",
  approvalTimeoutMinutes: "AKS_EGRESS_APPROVAL_TIMEOUT_MINUTES",
  signingKey: "AKS_EGRESS_APPROVAL_SIGNING_KEY",
  appObjectId: "AKS_EGRESS_APP_OBJECT_ID",
  appClientId: "AKS_EGRESS_APP_CLIENT_ID",
  notificationTopicEndpoint: "AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT",
  notificationTopicKey: "AKS_EGRESS_NOTIFICATION_TOPIC_KEY",
  sweepSchedule: "AKS_EGRESS_SWEEP_SCHEDULE",
  catalogWatchSchedule: "AKS_EGRESS_CATALOG_WATCH_SCHEDULE",
  catalogWatchUrl: "AKS_EGRESS_CATALOG_WATCH_URL",
  catalogAdoption: "AKS_EGRESS_CATALOG_ADOPTION",
  catalogStoreUrl: "AKS_EGRESS_CATALOG_STORE_URL",
  debounceSeconds: "AKS_EGRESS_DEBOUNCE_SECONDS",
  defaultFeatures: "AKS_EGRESS_DEFAULT_FEATURES",
  resolvers: "AKS_EGRESS_RESOLVERS",
  allowAnySource: "AKS_EGRESS_ALLOW_ANY_SOURCE",
  publicBaseUrl: "AKS_EGRESS_PUBLIC_BASE_URL",
  armEndpoint: "AKS_EGRESS_ARM_ENDPOINT",
  armCaFile: "AKS_EGRESS_ARM_CA_FILE",
} as const satisfies Record<keyof AppSettings, string>;

export const CATALOG_ADOPTIONS = ["notify", "approve"] as const;
export type CatalogAdoption = (typeof CATALOG_ADOPTIONS)[number];
/** The raw markdown of Microsoft's page, on the main branch of its public repository. */
export const DEFAULT_CATALOG_WATCH_URL =
  "https://raw.githubusercontent.com/MicrosoftDocs/azure-aks-docs/main/articles/aks/outbound-rules-control-egress.md";

/** Read by host.json and the timer binding, not by code: listed so docs and infra stay complete. */
export const HOST_SETTING_NAMES = ["AKS_EGRESS_TASK_HUB"] as const;

const POLICY_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.network\/firewallpolicies\/[^/]+$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const list = (raw: string | undefined) =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
// Schemas are made when the settings are read, not when the app loads (benchmark 3).
const bool = () =>
  z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" }));
const asBool = (raw: string) => ["true", "1", "yes"].includes(raw);
const number = (min: number, max: number, integer = true) =>
  z.coerce
    .number({ message: "expected a number" })
    .refine((n) => (!integer || Number.isInteger(n)) && n >= min && n <= max, {
      message: `expected ${integer ? "a whole number" : "a number"} from ${min} to ${max}`,
    });
// The catalog store's blob container: `https://<account host>/<container>`, or path-style
// `https://127.0.0.1:<port>/<account>/<container>` for localhost (the ARM emulator's Blob service), as
// @azure/storage-blob addresses those hosts. HTTPS only: the SDK sends its bearer token over nothing
// else. No query: the app signs in with its identity, never a SAS.
const PATH_STYLE_HOST = /^(localhost|\[[0-9a-f:.]+\]|\d{1,3}(\.\d{1,3}){3})$/i;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const blobContainerUrl = () =>
  z.string().superRefine((raw, ctx) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({ code: "custom", message: "expected the https URL of a blob container" });
      return;
    }
    const segments = url.pathname.split("/").filter((s) => s !== "");
    const message =
      url.protocol !== "https:"
        ? "expected https: the Storage client sends its bearer token over HTTPS only (the local ARM emulator serves HTTPS)"
        : url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== ""
          ? "expected no query, fragment or user: the app signs in with its identity, not a SAS or key"
          : segments.length !== (PATH_STYLE_HOST.test(url.hostname) ? 2 : 1) ||
              !CONTAINER_NAME.test(segments.at(-1) ?? "")
            ? "expected https://<account>.blob.<storage suffix>/<container> (https://127.0.0.1:<port>/devstoreaccount1/<container> for the local emulator); a container name is 3-63 lower-case letters, digits and hyphens"
            : undefined;
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  });
// NCRONTAB with six fields (seconds first), as the Functions timer trigger takes it.
const NCRONTAB = /^(\S+\s+){5}\S+$/;

type Env = Record<string, string | undefined>;

/**
 * A Key Vault reference as written in an app setting. App Service replaces it by the secret when it can
 * read it; when it cannot (no access, wrong syntax, secret missing) the app gets this text unchanged.
 */
const isKeyVaultReference = (value: string) => value.trim().toLowerCase().startsWith("@microsoft.keyvault(");

/** Reads and validates every setting; one GuardError("CONFIG_INVALID") lists every problem. */
export function loadSettings(env: Env = process.env): AppSettings {
  const problems: string[] = [];
  const get = (key: keyof typeof SETTING_NAMES) => {
    const value = env[SETTING_NAMES[key]];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  function check<T>(key: keyof typeof SETTING_NAMES, schema: z.ZodType<T>, fallback: T): T {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(`${SETTING_NAMES[key]}="${raw}": ${result.error.issues.map((i) => i.message).join("; ")}`);
    return fallback;
  }
  const policyList = (key: "firewallPolicies" | "defaultPolicyId") => {
    const values = list(get(key));
    const bad = values.filter((v) => !POLICY_ID.test(v));
    if (bad.length > 0)
      problems.push(`${SETTING_NAMES[key]}: not a firewall policy resource ID: ${bad.join(", ")}`);
    return values.filter((v) => POLICY_ID.test(v));
  };

  const cloud = check(
    "cloud",
    z.enum(CLOUDS, { message: `expected one of ${CLOUDS.join(", ")}` }),
    "AzureCloud",
  );
  const firewallPolicies = policyList("firewallPolicies");
  const [defaultPolicyId] = policyList("defaultPolicyId");
  const subscriptions = list(get("subscriptions"));
  const badSubscriptions = subscriptions.filter((s) => !GUID.test(s));
  if (badSubscriptions.length > 0)
    problems.push(`${SETTING_NAMES.subscriptions}: not a subscription ID: ${badSubscriptions.join(", ")}`);
  const resolvers: string[] = [];
  for (const server of list(get("resolvers"))) {
    const problem = resolverServerProblem(server);
    if (problem === undefined) resolvers.push(server);
    else problems.push(`${SETTING_NAMES.resolvers}: ${problem}`);
  }
  let defaultFeatures: Feature[] = [];
  try {
    defaultFeatures = parseFeatures(list(get("defaultFeatures")));
  } catch (error) {
    if (!isGuardError(error)) throw error;
    problems.push(`${SETTING_NAMES.defaultFeatures}: ${error.message}`);
  }
  const signingKey = get("signingKey");
  if (signingKey === undefined) {
    problems.push(
      `${SETTING_NAMES.signingKey} is missing: approval links are signed with it (use 32 or more random characters).`,
    );
  } else if (isKeyVaultReference(signingKey)) {
    // App Service passes a Key Vault reference it cannot resolve to the app as its own text, which is
    // long enough to pass the length check and public: links would be signed with a guessable value.
    problems.push(
      `${SETTING_NAMES.signingKey} is an unresolved Key Vault reference (@Microsoft.KeyVault(...)): App Service could not read the secret and passed the reference text instead. Check that the app's identity (keyVaultReferenceIdentity) has Key Vault Secrets User on the secret and that the reference syntax is @Microsoft.KeyVault(SecretUri=https://<vault>/secrets/<name>) or @Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>); the app's Environment variables blade shows the reference's status.`,
    );
  } else if (signingKey.length < 32) {
    problems.push(
      `${SETTING_NAMES.signingKey} is too short (${signingKey.length} characters): use 32 or more random characters.`,
    );
  }
  const topicEndpoint = check(
    "notificationTopicEndpoint",
    z.url({ message: "expected an https URL" }),
    undefined,
  );
  const hostName = env.WEBSITE_HOSTNAME;
  const publicBaseUrl = check(
    "publicBaseUrl",
    z.url({ message: "expected a URL such as https://myapp.azurewebsites.net" }),
    hostName ? `https://${hostName}` : "http://localhost:7071",
  ).replace(/\/$/, "");

  const settings: AppSettings = {
    cloud,
    firewallPolicies: [...new Set([...firewallPolicies, ...(defaultPolicyId ? [defaultPolicyId] : [])])],
    ...(defaultPolicyId ? { defaultPolicyId } : {}),
    includeUntaggedWhenDefault: asBool(check("includeUntaggedWhenDefault", bool(), "false")),
    subscriptions,
    resolvers,
    groupName: check(
      "groupName",
      z
        .string()
        // ARM's name rule for rule collection groups: 1-80 characters, letters, digits, . _ -,
        // starting with a letter or digit and not ending with . or -.
        .regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$/, {
          message:
            "expected 1-80 letters, digits, . _ -, starting with a letter or digit, not ending with . or -",
        }),
      "aks-egress-guard",
    ),
    groupPriority: check("groupPriority", number(100, 65000), 300),
    catalogVersion: check(
      "catalogVersion",
      z.string().refine((v) => catalogVersions().includes(v), {
        message: `expected one of ${catalogVersions().join(", ")}`,
      }),
      DEFAULT_CATALOG_VERSION,
    ),
    mode: check("mode", z.enum(MODES, { message: `expected one of ${MODES.join(", ")}` }), "approve"),
    removalsNeedApproval: asBool(check("removalsNeedApproval", bool(), "true")),
    maxRemovedShare: check("maxRemovedShare", number(0, 1, false), 0.25),
    removalWindowHours: check("removalWindowHours", number(0, 24 * 30, false), 24),
    approverAuth: check(
      "approverAuth",
      z
        .string()
        .transform((v) => v.toLowerCase())
        .pipe(z.enum(["none", "appservice"], { message: "expected none or appservice" })),
      "none",
    ),
    approvalTimeoutMinutes: check("approvalTimeoutMinutes", number(0.05, 7 * 24 * 60, false), 24 * 60),
    signingKey: signingKey ?? "",
    ...(get("appObjectId")
      ? { appObjectId: check("appObjectId", z.string().regex(GUID, { message: "expected a GUID" }), "") }
      : {}),
    ...(get("appClientId")
      ? { appClientId: check("appClientId", z.string().regex(GUID, { message: "expected a GUID" }), "") }
      : {}),
    ...(topicEndpoint ? { notificationTopicEndpoint: topicEndpoint } : {}),
    ...(get("notificationTopicKey") ? { notificationTopicKey: get("notificationTopicKey") as string } : {}),
    sweepSchedule: check(
      "sweepSchedule",
      z.string().regex(NCRONTAB, { message: "expected a six-field NCRONTAB expression, e.g. 0 0 */6 * * *" }),
      "",
    ),
    // Like the sweep's, the watch's schedule is a binding expression (%AKS_EGRESS_CATALOG_WATCH_SCHEDULE%)
    // resolved by the host, so a default here would not reach the binding: infra and the examples set it
    // (0 30 5 * * *). Checked when given; not demanded here, because the host already refuses to load a
    // timer whose setting is missing, and the reconciler must not stop over the watch's setting.
    catalogWatchSchedule: check(
      "catalogWatchSchedule",
      z.string().regex(NCRONTAB, { message: "expected a six-field NCRONTAB expression, e.g. 0 30 5 * * *" }),
      "",
    ),
    catalogWatchUrl: check(
      "catalogWatchUrl",
      z.url({ protocol: /^https?$/, message: "expected an http(s) URL of the page's markdown source" }),
      DEFAULT_CATALOG_WATCH_URL,
    ),
    catalogAdoption: check(
      "catalogAdoption",
      z
        .string()
        .transform((v) => v.toLowerCase())
        .pipe(z.enum(CATALOG_ADOPTIONS, { error: () => `expected one of ${CATALOG_ADOPTIONS.join(", ")}` })),
      "notify",
    ),
    ...(get("catalogStoreUrl")
      ? { catalogStoreUrl: check("catalogStoreUrl", blobContainerUrl(), "").replace(/\/$/, "") }
      : {}),
    debounceSeconds: check("debounceSeconds", number(0, 3600), 30),
    defaultFeatures,
    allowAnySource: asBool(check("allowAnySource", bool(), "false")),
    publicBaseUrl,
    ...(get("armEndpoint")
      ? { armEndpoint: check("armEndpoint", z.url({ message: "expected a URL" }), "") }
      : {}),
    ...(get("armCaFile") ? { armCaFile: get("armCaFile") as string } : {}),
  };
  // The timer trigger reads it as a binding expression (%AKS_EGRESS_SWEEP_SCHEDULE%), so the host needs
  // it set; a default in code would not reach the binding.
  if (get("sweepSchedule") === undefined) {
    problems.push(
      `${SETTING_NAMES.sweepSchedule} is missing: the sweep timer's schedule, six-field NCRONTAB, e.g. 0 0 */6 * * *.`,
    );
  }
  if (settings.firewallPolicies.length === 0) {
    problems.push(
      `${SETTING_NAMES.firewallPolicies} (or ${SETTING_NAMES.defaultPolicyId}) is empty: name at least one firewall policy to manage.`,
    );
  }
  // Offers and answers must be seen by every instance and survive restarts: process memory will not do.
  if (settings.catalogAdoption === "approve" && settings.catalogStoreUrl === undefined) {
    problems.push(
      `${SETTING_NAMES.catalogAdoption}="approve" needs ${SETTING_NAMES.catalogStoreUrl}: the offered page and each policy's answer are kept there, for every instance and across restarts.`,
    );
  }
  if (problems.length > 0) {
    throw new GuardError("CONFIG_INVALID", `invalid settings:\n  ${problems.join("\n  ")}`, {
      details: { problems },
    });
  }
  return settings;
}

let cached: AppSettings | undefined;

/** The settings of this process, validated on first use. */
export function appSettings(): AppSettings {
  cached ??= loadSettings();
  return cached;
}

/** For tests and the local host, which change the environment between runs. */
export function resetSettingsCache(): void {
  cached = undefined;
}

// Where the CLI's ARM connection points (the app's own variables, an option, or the cloud's ARM), and
// what to tell a person when it cannot be reached or its certificate is not trusted: the endpoint, the
// setting it came from, and what to change. The socket's error code says which; the Azure SDK keeps
// it on its RestError (`code`), possibly under a GuardError's `cause` or in an AggregateError.
import { SETTING_NAMES } from "../orchestrations/settings";

/** The app's names (orchestrations/settings.ts): the CLI reads the same. */
export const ENDPOINT_VARIABLE = SETTING_NAMES.armEndpoint;
export const CA_FILE_VARIABLE = SETTING_NAMES.armCaFile;
/** Names the CLI read before it shared the app's; still read, with a note. */
const DEPRECATED = { AKS_EGRESS_ENDPOINT: ENDPOINT_VARIABLE, AKS_EGRESS_CA_FILE: CA_FILE_VARIABLE } as const;

export interface Setting {
  value: string;
  /** Where the value came from: an option (`--endpoint`) or a variable's name. */
  from: string;
}

export interface ArmVariables {
  endpoint?: Setting;
  caFile?: Setting;
  /** One line for stderr when a deprecated name was set, else undefined. */
  note?: string;
}

/** The ARM endpoint and CA file from the environment: the app's names first, then the old ones. */
export function readArmVariables(env: NodeJS.ProcessEnv): ArmVariables {
  const set = (name: string): Setting | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : { value, from: name };
  };
  const result: ArmVariables = {};
  const notes: string[] = [];
  for (const [old, current] of Object.entries(DEPRECATED)) {
    const newer = set(current);
    const older = set(old);
    const chosen = newer ?? older;
    if (chosen !== undefined) result[current === ENDPOINT_VARIABLE ? "endpoint" : "caFile"] = chosen;
    if (older !== undefined)
      notes.push(
        newer === undefined
          ? `${old} is deprecated: set ${current} instead`
          : `${old} is deprecated and ignored, as ${current} is set`,
      );
  }
  if (notes.length > 0) result.note = `aks-egress: note: ${notes.join("; ")} (the names the app reads).`;
  return result;
}

/** What the failed connection was to, for the message. */
export interface ArmTarget {
  endpoint: string;
  /** `--endpoint` or a variable's name; undefined for the cloud's own ARM endpoint. */
  endpointFrom: string | undefined;
  caFile?: Setting;
  /** A loopback endpoint: the local emulator (`aks-egress emulator` or `npm start`). */
  local: boolean;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection closed",
  ETIMEDOUT: "timed out",
  ESOCKETTIMEDOUT: "timed out",
  UND_ERR_CONNECT_TIMEOUT: "timed out",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

const CERTIFICATE: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "a certificate this machine does not trust",
  UNABLE_TO_GET_ISSUER_CERT: "a certificate this machine does not trust",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "a certificate this machine does not trust",
  SELF_SIGNED_CERT_IN_CHAIN: "a certificate signed by a CA this machine does not trust",
  DEPTH_ZERO_SELF_SIGNED_CERT: "a self-signed certificate",
  CERT_UNTRUSTED: "a certificate this machine does not trust",
  CERT_SIGNATURE_FAILURE: "a certificate whose signature does not verify",
  CERT_HAS_EXPIRED: "a certificate that has expired",
  CERT_NOT_YET_VALID: "a certificate that is not valid yet",
  CERT_REVOKED: "a revoked certificate",
  ERR_TLS_CERT_ALTNAME_INVALID: "a certificate for another host name",
};

/** TLS spoken to something that does not speak it (a plain-HTTP server on that port). */
const NOT_TLS = new Set(["EPROTO", "ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);

/** The first socket or TLS error code in the error, its causes and aggregated errors, with its message. */
function socketFailure(error: unknown, depth = 0): { code: string; message: string } | undefined {
  if (typeof error !== "object" || error === null || depth > 6) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (code in NETWORK || code in CERTIFICATE || NOT_TLS.has(code))) {
    const text = typeof message === "string" && message !== "" ? message : code;
    return { code, message: text.includes(code) ? text : `${code}: ${text}` };
  }
  const nested = [
    (error as { cause?: unknown }).cause,
    ...(error instanceof AggregateError ? (error.errors as unknown[]) : []),
  ];
  for (const inner of nested) {
    const found = socketFailure(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const EMULATOR_RUNNING = "Is `npm start` or `aks-egress emulator` running?";
export const WHERE_THE_CA_IS =
  "`aks-egress emulator` prints its CA file; `npm start` writes each cloud's (`caFile`) to runtime.json in its state folder (.local-state/ by default)";

/**
 * A message for a failure to reach ARM or to trust it, naming the endpoint and the setting to fix;
 * undefined for any other failure (an HTTP answer, a bug), which is reported as it is.
 */
export function describeArmFailure(error: unknown, target: ArmTarget): string | undefined {
  const failure = socketFailure(error);
  if (failure === undefined) return undefined;
  const where = `ARM at ${target.endpoint}${target.endpointFrom ? ` (from ${target.endpointFrom})` : ""}`;
  const setEndpoint = `${ENDPOINT_VARIABLE} (or --endpoint)`;
  const setCa = `${CA_FILE_VARIABLE} (or --ca-file)`;

  if (failure.code in NETWORK) {
    const fix = target.local
      ? `${EMULATOR_RUNNING} Set ${setEndpoint} to the address it prints.`
      : target.endpointFrom !== undefined
        ? `Check the address in ${target.endpointFrom} and this machine's network (a proxy goes in HTTPS_PROXY); for the local emulator, set it to the address \`aks-egress emulator\` prints.`
        : `Check this machine's network and proxy (HTTPS_PROXY), and --cloud; for the local emulator, set ${setEndpoint} to the address \`aks-egress emulator\` prints.`;
    return `cannot reach ${where}: ${NETWORK[failure.code]} (${failure.message}). ${fix}`;
  }

  if (NOT_TLS.has(failure.code)) {
    return `${where} does not answer HTTPS (${failure.message}): is that the ARM emulator's port, or another server's (the local Functions host speaks plain HTTP)? Set ${setEndpoint} to the https:// address the emulator prints.`;
  }

  const what = CERTIFICATE[failure.code] ?? "a certificate this machine does not trust";
  const head = `${where} presented ${what} (${failure.message}).`;
  if (target.caFile !== undefined) {
    const fromEmulator = target.local
      ? ` Is it the CA of the emulator listening there? Each emulator run makes a new CA (${WHERE_THE_CA_IS}).`
      : "";
    const expired =
      failure.code === "CERT_HAS_EXPIRED" && target.local ? " Restart the emulator for a fresh one." : "";
    return `${head} The CA in ${target.caFile.value} (from ${target.caFile.from}) does not verify it.${fromEmulator}${expired}`;
  }
  if (target.local) {
    const expired = failure.code === "CERT_HAS_EXPIRED" ? " Restart the emulator for a fresh one, then" : "";
    return `${head}${expired} Set ${setCa} to the emulator's CA file (${WHERE_THE_CA_IS}).`;
  }
  return `${head} If a proxy on the way re-signs TLS, give its CA in NODE_EXTRA_CA_CERTS; for an endpoint of your own, set ${setCa} to the CA that signed it.`;
}

// The public API server's address, from its FQDN: the one value a pass asks DNS rather than ARM for.
// ARM does not show it; the page names it (APIServerPublicIP) and warns it can change in maintenance.
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

/** What one FQDN resolved to: its IPv4 addresses (IPv6 when it has none), or why not. */
export type Resolved = { addresses: string[] } | { error: string };

export interface ApiServerResolver {
  resolve(fqdn: string): Promise<Resolved>;
}

/** One query's wait for a server; a pass must not hang on DNS (a slow answer is a finding). */
const TIMEOUT_MS = 2000;
const TRIES = 2;

/**
 * Resolves with `servers` (`ip` or `ip:port`, `[ipv6]:port`), or the host's own servers when none are
 * given. Each FQDN is asked once per resolver: a pass makes one and keeps it.
 */
export function apiServerResolver(servers: readonly string[] = []): ApiServerResolver {
  const resolver = new Resolver({ timeout: TIMEOUT_MS, tries: TRIES });
  if (servers.length > 0) resolver.setServers([...servers]);
  const asked = new Map<string, Promise<Resolved>>();
  const ask = async (fqdn: string): Promise<Resolved> => {
    try {
      const v4 = await resolver.resolve4(fqdn).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENODATA") return [];
        throw error;
      });
      const addresses = v4.length > 0 ? v4 : await resolver.resolve6(fqdn);
      const valid = [...new Set(addresses.filter((a) => isIP(a) !== 0))].sort();
      return valid.length > 0 ? { addresses: valid } : { error: "no address records" };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { error: code ? `${code}` : String(error) };
    }
  };
  return {
    resolve(fqdn) {
      const key = fqdn.toLowerCase().replace(/\.$/, "");
      let answer = asked.get(key);
      if (answer === undefined) {
        answer = ask(key);
        asked.set(key, answer);
      }
      return answer;
    },
  };
}

/** `ip`, `ip:port` or `[ipv6]:port`, as Resolver.setServers takes them; the problem named otherwise. */
export function resolverServerProblem(server: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  const [host, port] = bracketed
    ? [bracketed[1] ?? "", bracketed[2]]
    : isIP(server) === 6
      ? [server, undefined]
      : server.split(":").length <= 2
        ? (server.split(":") as [string, string | undefined])
        : ["", undefined];
  if (isIP(host) === 0) return `"${server}" is not an IP address (ip, ip:port or [ipv6]:port)`;
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return `"${server}" has a bad port`;
  return undefined;
}

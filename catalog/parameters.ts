// Values that only a cluster or its operator knows. Checked here so that a rule never carries a
// malformed address, and a bad value is named before anything is rendered.
import { z } from "zod";
import { GuardError } from "../errors";
import { PARAMETERS, type Parameter } from "./schema";

// Built when first used: constructing zod schemas is a cost every cold start would pay (benchmark 3).
let addresses: { ip: z.ZodType<string>; cidr: z.ZodType<string> } | undefined;
const valid = (kind: "ip" | "cidr", raw: string) => {
  addresses ??= { ip: z.union([z.ipv4(), z.ipv6()]), cidr: z.union([z.cidrv4(), z.cidrv6()]) };
  return addresses[kind].safeParse(raw).success;
};

const PARAMETER_RULES: Readonly<
  Record<Parameter, { help: string; parse: (raw: string) => string[] | undefined }>
> = {
  apiServerIp: {
    help: "the API server's public IP address, e.g. 20.50.1.10",
    parse: (raw) => (valid("ip", raw) ? [raw] : undefined),
  },
  dnsServers: {
    help: "comma-separated IP addresses of custom DNS servers, e.g. 10.0.0.4,10.0.0.5",
    parse: (raw) => {
      const list = raw.split(",").map((s) => s.trim());
      return list.length > 0 && list.every((s) => valid("ip", s)) ? list : undefined;
    },
  },
  apiServerSubnet: {
    help: "the API server subnet's CIDR, e.g. 10.1.0.0/28",
    parse: (raw) => (valid("cidr", raw) ? [raw] : undefined),
  },
  devSpacesGuid: {
    help: "the <guid> label of the Dev Spaces controller's dataplaneFqdn, e.g. 3f2b9c1e",
    parse: (raw) =>
      /^[0-9a-f](?:[0-9a-f-]{0,61}[0-9a-f])?$/.test(raw.toLowerCase()) ? [raw.toLowerCase()] : undefined,
  },
};

export type ParameterValues = Partial<Record<Parameter, readonly string[]>>;

export function parameterHelp(): Record<Parameter, string> {
  return Object.fromEntries(PARAMETERS.map((p) => [p, PARAMETER_RULES[p].help])) as Record<Parameter, string>;
}

/** Parses `name=value` pairs; an unknown name or a malformed value is an error that names it. */
export function parseParameters(pairs: readonly string[]): ParameterValues {
  const values: ParameterValues = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const name = at > 0 ? pair.slice(0, at) : pair;
    const raw = at > 0 ? pair.slice(at + 1).trim() : "";
    if (!(PARAMETERS as readonly string[]).includes(name)) {
      throw new GuardError(
        "BAD_PARAMETER",
        `unknown parameter "${name}". Valid parameters: ${PARAMETERS.join(", ")}.`,
        {
          details: { value: name, valid: PARAMETERS },
        },
      );
    }
    const parameter = name as Parameter;
    const rule = PARAMETER_RULES[parameter];
    const parsed = raw === "" ? undefined : rule.parse(raw);
    if (parsed === undefined) {
      throw new GuardError(
        "BAD_PARAMETER",
        `bad value "${raw}" for parameter ${name}: expected ${rule.help}.`,
        {
          details: { parameter: name, value: raw },
        },
      );
    }
    values[parameter] = parsed;
  }
  return values;
}

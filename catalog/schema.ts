// The shape of a catalog version: one Microsoft document turned into data, entry by entry.
// Everything a catalog file holds is checked against this schema when it is loaded.
import { z } from "zod";

export const CLOUDS = ["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"] as const;
export type Cloud = (typeof CLOUDS)[number];

/**
 * Feature ids. `base` is always on. The first seven after it are DESIGN §4's contract; the others are
 * add-ons and features the published page names from 2023 on (the 2020 documents do not mention them):
 * `workload-identity` has its own section from 2025, and the Istio and application-routing add-ons
 * point at the Key Vault provider's rules.
 */
export const FEATURES = [
  "base",
  "ubuntu-updates",
  "gpu",
  "azure-monitor",
  "dev-spaces",
  "azure-policy",
  "windows",
  "pod-api-access",
  "defender",
  "keyvault-secrets-provider",
  "cost-analysis",
  "cluster-extensions",
  "workload-identity",
  "istio",
  "application-routing",
] as const;
export type Feature = (typeof FEATURES)[number];
export const OPTIONAL_FEATURES: readonly Feature[] = FEATURES.filter((f) => f !== "base");

/** Values an entry may need that only a cluster (or the operator) knows. */
export const PARAMETERS = ["apiServerIp", "dnsServers", "apiServerSubnet", "devSpacesGuid"] as const;
export type Parameter = (typeof PARAMETERS)[number];

export const PROTOCOLS = ["HTTP", "HTTPS", "TCP", "UDP"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

// A host name as the firewall sees it, optionally with one leading `*.` and `{placeholder}` labels
// (checked with each placeholder standing in as a plain label).
const HOST = /^(\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const KNOWN_PLACEHOLDERS = new Set<string>(["region", ...PARAMETERS]);

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "");
}

const hostTemplate = z
  .string()
  .refine((h) => HOST.test(h.replace(PLACEHOLDER, "x")), {
    message: "not a valid host name (lower-case letters, digits, hyphens, dots; optional leading *.)",
  })
  .refine((h) => placeholdersOf(h).every((name) => KNOWN_PLACEHOLDERS.has(name)), {
    message: `unknown {placeholder}; known: ${[...KNOWN_PLACEHOLDERS].join(", ")}`,
  });

const port = z.object({
  protocol: z.enum(PROTOCOLS),
  port: z.number().int().min(1, "port out of range 1-65535").max(65535, "port out of range 1-65535"),
});

const destination = z.discriminatedUnion("kind", [
  /** A host name or a wildcard host name. */
  z.object({ kind: z.literal("fqdn"), host: hostTemplate }),
  /** An Azure service tag such as `AzureCloud.{region}`. */
  z.object({
    kind: z.literal("serviceTag"),
    tag: z.string().regex(/^[A-Za-z]+(\.\{region\}|\.[a-z0-9]+)?$/),
  }),
  /**
   * The API server's tunnel end. The documents name it through the `*.hcp`/`*.tun` hosts; with
   * `apiServerIp` known it is that address, otherwise the region's `AzureCloud` service tag (DESIGN §3).
   */
  z.object({ kind: z.literal("apiServer") }),
  /** Addresses only the operator knows (the API server IP, custom DNS servers, a subnet). */
  z.object({ kind: z.literal("parameter"), parameter: z.enum(PARAMETERS) }),
  /** The document names a port but no destination. Never rendered as a rule; always reported. */
  z.object({ kind: z.literal("unspecified") }),
]);

const source = z.object({
  /** The anchor of the document's section, identical across translations. */
  section: z.string().min(1),
  /** The table's label inside the section (e.g. "Azure Global"), when the section has several. */
  table: z.string().min(1).optional(),
  /** 1-based position of the bullet in the section's port list, for entries that come from bullets. */
  bullet: z.number().int().positive().optional(),
  /** 1-based line of the document's source where the entry's destination is written (imported pages). */
  line: z.number().int().positive().optional(),
});

export const entrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "ids are lower-case kebab-case"),
    clouds: z.array(z.enum(CLOUDS)).min(1),
    feature: z.enum(FEATURES),
    /** The document's own classification: required, or optional/recommended. */
    required: z.boolean(),
    destination,
    /** The destination exactly as the document writes it (markup included). */
    asWritten: z.string().min(1),
    ports: z.array(port).min(1),
    /** The port cell exactly as the document writes it, where the entry comes from a table. */
    portsAsWritten: z.string().min(1).optional(),
    purpose: z.string().min(1),
    source,
    /** Says what was normalised and why, wherever the data differs from the text as written. */
    note: z.string().min(1).optional(),
    /** A condition the document attaches, shown to users with the rule. */
    condition: z.string().min(1).optional(),
    /**
     * This host is the API server: its ports other than HTTP/HTTPS are the tunnel, rendered to the
     * API server's address (destination kind `apiServer`), since network rules take no wildcard hosts.
     */
    apiServerHost: z.boolean().optional(),
    /** The document says private clusters do not need this. */
    notForPrivateClusters: z.boolean().optional(),
    /** Rendered only when this parameter is given (the document's condition is "if you have one"). */
    onlyWithParameter: z.enum(PARAMETERS).optional(),
    /**
     * The document offers this entry as an alternative to others it names; kept so the catalog is
     * complete, never rendered. Says which alternative is rendered and why.
     */
    alternative: z.string().min(1).optional(),
    /** The document lists this entry for these regions only. */
    regions: z
      .array(z.string().regex(/^[a-z0-9]+$/))
      .min(1)
      .optional(),
  })
  .strict();

export const catalogSchema = z
  .object({
    version: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/),
    title: z.string().min(1),
    document: z
      .object({
        path: z.string().min(1),
        language: z.string().min(2),
        title: z.string().min(1),
        /** The date the document was handed off or taken (what makes it newer or older). */
        date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        reference: z.string().min(1).optional(),
      })
      .strict(),
    /** Remarks about the document as a whole (e.g. rules it says are no longer needed). */
    remarks: z.array(z.string().min(1)).default([]),
    entries: z.array(entrySchema).min(1),
  })
  .strict()
  .superRefine((catalog, ctx) => {
    const seen = new Map<string, number>();
    catalog.entries.forEach((entry, index) => {
      const first = seen.get(entry.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["entries", index, "id"],
          message: `duplicate id "${entry.id}" (first at entries[${first}])`,
        });
      }
      seen.set(entry.id, index);
    });
  });

export type CatalogEntry = z.infer<typeof entrySchema>;
export type Catalog = z.infer<typeof catalogSchema>;
export type Destination = CatalogEntry["destination"];
export type PortSpec = CatalogEntry["ports"][number];

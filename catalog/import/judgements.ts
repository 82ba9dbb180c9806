// The reviewed judgement calls of the page importer (judgements.json), checked when first used.
// Each one says what the page cannot say by itself; the importer takes everything else from the page.
import { z } from "zod";
import { CLOUDS, entrySchema, FEATURES, PARAMETERS, PROTOCOLS } from "../schema";
import data from "./judgements.json";

// The schema is made when judgements are first parsed, not when the app loads (benchmark 3).
function makeJudgementsSchema() {
  const note = z.string().min(1);
  const phrase = z
    .string()
    .min(1)
    .refine((p) => p === p.toLowerCase().trim(), { message: "write phrases in lower case, trimmed" });

  return z
    .object({
      about: z.string().min(1),
      /** Words the page uses for each cloud, in headings and in cell annotations like "(Azure Government)". */
      clouds: z.array(z.object({ cloud: z.enum(CLOUDS), names: z.array(phrase).min(1), note }).strict()),
      /** The clouds of a table whose headings name none, next to tables of the same kind that do. */
      unlabelledBesideLabelled: z.object({ clouds: z.array(z.enum(CLOUDS)).min(1), note }).strict(),
      /** Heading phrases → feature, tried in order on each heading from the table's own upwards. */
      sections: z.array(
        z
          .object({
            phrases: z.array(phrase).min(1),
            feature: z.enum(FEATURES),
            /** Repeat the note on every entry of the section (for mappings a reader of the entry must see). */
            noteOnEntries: z.boolean().optional(),
            note,
          })
          .strict(),
      ),
      requiredWhenUnstated: z.object({ required: z.boolean(), note }).strict(),
      /** Placeholder names as written inside <...>, and what the catalog writes for them. */
      placeholders: z.array(
        z.object({ written: z.array(phrase).min(1), means: z.literal("region"), note }).strict(),
      ),
      /** The protocol of a bare port number in an application-rule table. */
      bareApplicationPorts: z.array(
        z.object({ port: z.number().int().min(1).max(65535), protocol: z.enum(PROTOCOLS), note }).strict(),
      ),
      /** The "any destination" alternative, never used. */
      anyDestination: z.object({ written: z.string().min(1), note }).strict(),
      /** Names the page writes for addresses only the cluster or its operator knows. */
      endpoints: z.array(
        z
          .object({
            written: z.string().min(1),
            destination: entrySchema.shape.destination,
            feature: z.enum(FEATURES).optional(),
            onlyWithParameter: z.enum(PARAMETERS).optional(),
            note,
          })
          .strict(),
      ),
      /** A set of alternatives the page offers in one cell ("A or B or C"), and the destination used. */
      alternatives: z.array(
        z
          .object({
            offers: z.array(z.string().min(1)).min(2),
            destination: entrySchema.shape.destination,
            note,
          })
          .strict(),
      ),
      /** Host-name suffixes that tell per-cloud alternatives apart when the cell names no cloud. */
      cloudSuffixes: z.array(
        z
          .object({
            cloud: z.enum(CLOUDS),
            suffixes: z.array(z.string().regex(/^\.[a-z0-9.-]+$/)).min(1),
            note,
          })
          .strict(),
      ),
      /** Artefacts of the page's source that are normalised (each with this note); absent ones go to review. */
      normalisations: z
        .object({
          leadingDot: note.optional(),
          emptyHtmlInHost: note.optional(),
          http443: note.optional(),
          bareRegionInServiceTag: note.optional(),
        })
        .strict(),
    })
    .strict();
}

let schema: ReturnType<typeof makeJudgementsSchema> | undefined;

export function judgementsSchema(): ReturnType<typeof makeJudgementsSchema> {
  schema ??= makeJudgementsSchema();
  return schema;
}

export type Judgements = z.infer<ReturnType<typeof makeJudgementsSchema>>;

/** Parses judgement data; bad data fails naming each bad key path. */
export function parseJudgements(value: unknown): Judgements {
  const result = judgementsSchema().safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`,
    );
    throw new Error(`invalid catalog/import/judgements.json:\n  ${problems.join("\n  ")}`);
  }
  return result.data;
}

let cache: Judgements | undefined;

/** The shipped judgements (catalog/import/judgements.json). */
export function shippedJudgements(): Judgements {
  cache ??= parseJudgements(data);
  return cache;
}

// Who is calling, from App Service Authentication (Easy Auth) headers, when infra says it fronts the app.
// App Service strips client-sent x-ms-client-principal* headers and sets its own only when its
// authentication module is on. Without it, those headers are whatever the caller typed, so they are
// read only when AKS_EGRESS_APPROVER_AUTH=appservice (set by infra exactly when it configures
// authsettingsV2), never otherwise.
import { z } from "zod";

const principal = z.object({
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).default([]),
  name_typ: z.string().optional(),
});

/** How the approver is recorded when nothing verified fronts the approval routes. */
export const UNAUTHENTICATED_APPROVER = "unauthenticated link holder";

/** Claims that name a person, in the order they are preferred after the principal's own name_typ. */
const NAME_CLAIMS = [
  "preferred_username",
  "name",
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
  "upn",
];

/**
 * Base64 as App Service sends it (padding tolerated either way); anything else, e.g. base64url or stray
 * characters Buffer.from would skip, is not a principal.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** The principal App Service sent, or undefined when it is absent or not one. */
function parsePrincipal(encoded: string | null): z.infer<typeof principal> | undefined {
  const text = encoded?.trim() ?? "";
  if (text === "" || !BASE64.test(text)) return undefined;
  try {
    return principal.parse(JSON.parse(Buffer.from(text, "base64").toString("utf8")));
  } catch {
    return undefined;
  }
}

/**
 * The approver's name.
 * - `none`: nothing verified fronts the app; any principal header is ignored (anyone can send one)
 *   and the approver is the unauthenticated link holder.
 * - `appservice`: App Service Authentication fronts the approval routes; the approver is the signed-in
 *   principal's name claim, or App Service's x-ms-client-principal-name (set from the same sign-in)
 *   when the principal carries no name claim. `undefined` when the principal is missing or unparsable:
 *   the caller refuses the decision (401) rather than record an unknown approver.
 */
export function approverFrom(
  headers: { get(name: string): string | null },
  auth: "none" | "appservice",
): string | undefined {
  if (auth !== "appservice") return UNAUTHENTICATED_APPROVER;
  const parsed = parsePrincipal(headers.get("x-ms-client-principal"));
  if (parsed === undefined) return undefined;
  const wanted = parsed.name_typ === undefined ? NAME_CLAIMS : [parsed.name_typ, ...NAME_CLAIMS];
  for (const typ of wanted) {
    const value = parsed.claims.find((c) => c.typ === typ)?.val.trim();
    if (value) return value;
  }
  const name = headers.get("x-ms-client-principal-name")?.trim();
  return name ? name : undefined;
}

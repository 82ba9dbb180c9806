// Who is calling, from App Service Authentication (Easy Auth) headers, when it fronts the app.
import { z } from "zod";

const principal = z.object({
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).default([]),
  name_typ: z.string().optional(),
});

/** The approver's name: the principal's name claim, or the link holder when no sign-in fronts the app. */
export function approverFrom(headers: { get(name: string): string | null }): string {
  const encoded = headers.get("x-ms-client-principal");
  if (encoded) {
    try {
      const parsed = principal.parse(JSON.parse(Buffer.from(encoded, "base64").toString("utf8")));
      const wanted = [
        parsed.name_typ,
        "preferred_username",
        "name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "upn",
      ];
      for (const typ of wanted) {
        const claim = parsed.claims.find((c) => c.typ === typ);
        if (claim) return claim.val;
      }
    } catch {
      // fall through to the plain header
    }
  }
  return headers.get("x-ms-client-principal-name") ?? "anonymous link holder";
}

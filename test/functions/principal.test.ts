// The approver's name: read from App Service Authentication's headers only when infra says it fronts
// the app (AKS_EGRESS_APPROVER_AUTH=appservice); otherwise those headers are anyone's to send.
import { describe, expect, it } from "vitest";
import { approverFrom, UNAUTHENTICATED_APPROVER } from "../../functions/http/principal";

const NAME_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");

/** What App Service sends for an Entra ID sign-in (abridged). */
const entraPrincipal = encode({
  auth_typ: "aad",
  claims: [
    { typ: "aud", val: "11111111-1111-1111-1111-111111111111" },
    { typ: NAME_CLAIM, val: "alice@contoso.com" },
    { typ: "name", val: "Alice Example" },
    { typ: "preferred_username", val: "alice@contoso.com" },
  ],
  name_typ: NAME_CLAIM,
  role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
});

const headers = (values: Record<string, string>) => {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower.get(name.toLowerCase()) ?? null };
};

describe("approverFrom", () => {
  const cases: {
    name: string;
    auth: "none" | "appservice";
    headers: Record<string, string>;
    expected: string | undefined;
  }[] = [
    // Nothing verified fronts the app: whatever the caller sends is ignored.
    { name: "none, no headers", auth: "none", headers: {}, expected: UNAUTHENTICATED_APPROVER },
    {
      name: "none ignores a (spoofable) principal",
      auth: "none",
      headers: { "x-ms-client-principal": entraPrincipal },
      expected: UNAUTHENTICATED_APPROVER,
    },
    {
      name: "none ignores a (spoofable) principal name",
      auth: "none",
      headers: { "x-ms-client-principal-name": "ceo@contoso.com" },
      expected: UNAUTHENTICATED_APPROVER,
    },
    {
      name: "none ignores both",
      auth: "none",
      headers: {
        "x-ms-client-principal": entraPrincipal,
        "x-ms-client-principal-name": "alice@contoso.com",
      },
      expected: UNAUTHENTICATED_APPROVER,
    },
    // App Service Authentication fronts the app: the principal names the approver.
    {
      name: "appservice, the principal's name_typ claim",
      auth: "appservice",
      headers: { "x-ms-client-principal": entraPrincipal },
      expected: "alice@contoso.com",
    },
    {
      name: "appservice, name_typ missing: preferred_username first",
      auth: "appservice",
      headers: {
        "x-ms-client-principal": encode({
          claims: [
            { typ: "name", val: "Bob Example" },
            { typ: "preferred_username", val: "bob@contoso.com" },
          ],
        }),
      },
      expected: "bob@contoso.com",
    },
    {
      name: "appservice, name_typ names a claim that is not there: the next known one",
      auth: "appservice",
      headers: {
        "x-ms-client-principal": encode({
          claims: [{ typ: "upn", val: "carol@contoso.com" }],
          name_typ: "custom",
        }),
      },
      expected: "carol@contoso.com",
    },
    {
      name: "appservice, principal without a name claim: App Service's name header",
      auth: "appservice",
      headers: {
        "x-ms-client-principal": encode({ claims: [{ typ: "aud", val: "x" }] }),
        "x-ms-client-principal-name": "dave@contoso.com",
      },
      expected: "dave@contoso.com",
    },
    {
      name: "appservice, principal without any name at all",
      auth: "appservice",
      headers: { "x-ms-client-principal": encode({ claims: [{ typ: "name", val: "  " }] }) },
      expected: undefined,
    },
    { name: "appservice, no headers", auth: "appservice", headers: {}, expected: undefined },
    {
      name: "appservice, name header without a principal is not enough",
      auth: "appservice",
      headers: { "x-ms-client-principal-name": "mallory@contoso.com" },
      expected: undefined,
    },
    {
      name: "appservice, principal not base64",
      auth: "appservice",
      headers: { "x-ms-client-principal": "not base64!", "x-ms-client-principal-name": "mallory" },
      expected: undefined,
    },
    {
      name: "appservice, principal without base64 padding",
      auth: "appservice",
      headers: { "x-ms-client-principal": entraPrincipal.replace(/=+$/, "") },
      expected: "alice@contoso.com",
    },
    {
      name: "appservice, principal in base64url is not App Service's",
      auth: "appservice",
      headers: {
        "x-ms-client-principal": Buffer.from(
          JSON.stringify({ claims: [{ typ: "name", val: "é?>~~~" }] }),
          "utf8",
        ).toString("base64url"),
      },
      expected: undefined,
    },
    {
      name: "appservice, principal base64 but not JSON",
      auth: "appservice",
      headers: { "x-ms-client-principal": Buffer.from("{oops").toString("base64") },
      expected: undefined,
    },
    {
      name: "appservice, principal JSON of the wrong shape",
      auth: "appservice",
      headers: { "x-ms-client-principal": encode({ claims: "alice" }) },
      expected: undefined,
    },
    {
      name: "appservice, empty principal",
      auth: "appservice",
      headers: { "x-ms-client-principal": "" },
      expected: undefined,
    },
  ];

  it.each(cases)("$name", ({ auth, headers: values, expected }) => {
    expect(approverFrom(headers(values), auth)).toBe(expected);
  });

  it("the unpadded case really drops padding", () => {
    expect(entraPrincipal).toMatch(/=$/);
  });

  it("never reads a header when nothing verified fronts the app", () => {
    const read: string[] = [];
    approverFrom(
      {
        get: (name) => {
          read.push(name);
          return null;
        },
      },
      "none",
    );
    expect(read).toEqual([]);
  });
});

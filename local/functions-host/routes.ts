// HTTP trigger route templates, the subset of ASP.NET Core's syntax that Functions routes use:
// literal segments (matched case-insensitively), `{name}`, `{name?}` (trailing only), `{name:int}`
// and the other simple constraints below, and a final catch-all `{*name}`. Anything else is refused
// when the host starts, naming the function and the template.
import { GuardError } from "../../errors";

type Constraint = "int" | "long" | "alpha" | "bool" | "guid" | "double" | "float" | "decimal";

const CONSTRAINTS: Record<Constraint, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  alpha: /^[a-z]+$/i,
  bool: /^(true|false)$/i,
  guid: /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i,
  double: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  float: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  decimal: /^-?\d+(\.\d+)?$/,
};

type Segment =
  | { kind: "literal"; text: string }
  | { kind: "param"; name: string; optional: boolean; constraint?: Constraint }
  | { kind: "catchAll"; name: string };

export interface RouteTemplate {
  template: string;
  segments: Segment[];
}

function unsupported(functionName: string, template: string, why: string): GuardError {
  return new GuardError(
    "EMULATOR_UNSUPPORTED",
    `Function "${functionName}": route "${template}" is not supported by the local functions host (${why}).`,
  );
}

export function parseRoute(template: string, functionName: string): RouteTemplate {
  const trimmed = template.replace(/^\/+|\/+$/g, "");
  const parts = trimmed === "" ? [] : trimmed.split("/");
  const segments: Segment[] = parts.map((part, index) => {
    if (!part.includes("{") && !part.includes("}")) return { kind: "literal", text: part };
    const match = /^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)(\?)?(?::([a-z]+))?\}$/.exec(part);
    if (match === null) throw unsupported(functionName, template, `segment "${part}"`);
    const [, star, name = "", optional, constraint] = match;
    if (star !== undefined) {
      if (index !== parts.length - 1) throw unsupported(functionName, template, "catch-all not last");
      return { kind: "catchAll", name };
    }
    if (constraint !== undefined && !(constraint in CONSTRAINTS)) {
      throw unsupported(functionName, template, `constraint "${constraint}"`);
    }
    return {
      kind: "param",
      name,
      optional: optional !== undefined,
      ...(constraint === undefined ? {} : { constraint: constraint as Constraint }),
    };
  });
  const firstOptional = segments.findIndex((s) => s.kind === "param" && s.optional);
  if (firstOptional >= 0 && segments.slice(firstOptional).some((s) => s.kind !== "param" || !s.optional)) {
    throw unsupported(functionName, template, "optional parameters must come last");
  }
  return { template, segments };
}

/** Route parameters when `pathSegments` (decoded, below the route prefix) match; else undefined. */
export function matchRoute(
  route: RouteTemplate,
  pathSegments: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let index = 0;
  for (const segment of route.segments) {
    if (segment.kind === "catchAll") {
      params[segment.name] = pathSegments.slice(index).join("/");
      return params;
    }
    const value = pathSegments[index];
    if (value === undefined) {
      if (segment.kind === "param" && segment.optional) continue;
      return undefined;
    }
    if (segment.kind === "literal") {
      if (segment.text.toLowerCase() !== value.toLowerCase()) return undefined;
    } else {
      if (segment.constraint !== undefined && !CONSTRAINTS[segment.constraint].test(value)) return undefined;
      params[segment.name] = value;
    }
    index++;
  }
  return index === pathSegments.length ? params : undefined;
}

function rank(segment: Segment | undefined): number {
  if (segment === undefined) return 5;
  if (segment.kind === "literal") return 0;
  if (segment.kind === "catchAll") return 4;
  if (segment.optional) return 3;
  return segment.constraint === undefined ? 2 : 1;
}

/** Orders routes as ASP.NET does, roughly: literal segments before parameters before catch-alls. */
export function compareRoutes(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const difference = rank(a.segments[i]) - rank(b.segments[i]);
    if (difference !== 0) return difference;
  }
  return 0;
}

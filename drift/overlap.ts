// Does one rule's traffic overlap another's? Address, port and host matching for the shadowing check.
// Deliberately approximate: what cannot be known without Azure (service tag and IP group contents,
// DNS answers) is not guessed, except where noted.

type Range = readonly [number, number];

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** An IPv4 address, CIDR or "a-b" range as numbers; undefined for anything else. */
export function ipv4Range(text: string): Range | undefined {
  const value = text.trim();
  const dash = value.indexOf("-");
  if (dash > 0) {
    const from = ipv4(value.slice(0, dash));
    const to = ipv4(value.slice(dash + 1));
    return from !== undefined && to !== undefined && from <= to ? [from, to] : undefined;
  }
  const slash = value.indexOf("/");
  if (slash < 0) {
    const address = ipv4(value);
    return address === undefined ? undefined : [address, address];
  }
  const address = ipv4(value.slice(0, slash));
  const bitsText = value.slice(slash + 1);
  if (address === undefined || !/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) return undefined;
  const size = 2 ** (32 - Number(bitsText));
  const start = Math.floor(address / size) * size;
  return [start, start + size - 1];
}

function rangesOverlap(a: Range, b: Range): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/** Two address entries (IPs, CIDRs, ranges, service tags, "*") that may cover the same host. */
export function addressesOverlap(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (x === "*" || y === "*" || x === y) return true;
  const rx = ipv4Range(x);
  const ry = ipv4Range(y);
  if (rx !== undefined && ry !== undefined) return rangesOverlap(rx, ry);
  // A service tag covers its regional tags: "AzureCloud" covers "AzureCloud.westeurope".
  if (rx === undefined && ry === undefined) return x.startsWith(`${y}.`) || y.startsWith(`${x}.`);
  return false;
}

export function anyAddressOverlap(ours: readonly string[], theirs: readonly string[]): boolean {
  return ours.some((a) => theirs.some((b) => addressesOverlap(a, b)));
}

/** "*", "443", "1000-2000"; undefined when unreadable. */
export function portRange(text: string): Range | undefined {
  const value = text.trim();
  if (value === "*") return [1, 65535];
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (match === null) return undefined;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  return from <= to ? [from, to] : undefined;
}

export function anyPortOverlap(ours: readonly string[], theirs: readonly string[]): boolean {
  return ours.some((a) => {
    const ra = portRange(a);
    return (
      ra !== undefined &&
      theirs.some((b) => {
        const rb = portRange(b);
        return rb !== undefined && rangesOverlap(ra, rb);
      })
    );
  });
}

/**
 * Host patterns as the firewall writes them: "*" (all), "*.x.com" / "*x.com" (a suffix) or a plain
 * host. Two overlap when some host matches both, so a Deny of one host inside a needed wildcard counts.
 */
export function hostsOverlap(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (x === "*" || y === "*" || x === y) return true;
  const sx = x.startsWith("*") ? x.slice(1) : undefined;
  const sy = y.startsWith("*") ? y.slice(1) : undefined;
  if (sx !== undefined && sy !== undefined) return sx.endsWith(sy) || sy.endsWith(sx);
  if (sx !== undefined) return y.endsWith(sx);
  if (sy !== undefined) return x.endsWith(sy);
  return false;
}

export function anyHostOverlap(ours: readonly string[], theirs: readonly string[]): boolean {
  return ours.some((a) => theirs.some((b) => hostsOverlap(a, b)));
}

/** IP protocol lists ("TCP", "UDP", "ICMP", "Any"); an empty list matches nothing. */
export function protocolsOverlap(ours: readonly string[], theirs: readonly string[]): boolean {
  const a = ours.map((p) => p.toUpperCase());
  const b = theirs.map((p) => p.toUpperCase());
  if (a.length === 0 || b.length === 0) return false;
  return a.includes("ANY") || b.includes("ANY") || a.some((p) => b.includes(p));
}

// The emulated clusters' public DNS: answers A queries for each managedCluster's `properties.fqdn`
// over UDP, so a pass resolves API server addresses with Node's real resolver (AKS_EGRESS_RESOLVERS)
// and never leaves the machine. Everything else is NXDOMAIN.
import { createHash } from "node:crypto";
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import * as packet from "dns-packet";
import type { ArmResource } from "./types";

/** Set answers: addresses, or "fail" (SERVFAIL) to stand for a resolver that cannot answer. */
export type DnsAnswer = readonly string[] | "fail";

export interface EmulatorDns {
  /** `127.0.0.1:PORT`, as AKS_EGRESS_RESOLVERS and `check --resolver` take it. */
  readonly server: string;
  /** Overrides what an FQDN resolves to (a maintenance moving the API server); undefined restores it. */
  setAnswer(fqdn: string, answer: DnsAnswer | undefined): void;
  close(): Promise<void>;
}

/**
 * A public cluster's address when none is set: stable per FQDN, in 20.0.0.0/8 (an Azure public range,
 * so it reads as one; never reached).
 */
export function defaultAddressOf(fqdn: string): string {
  const [a, b, c] = createHash("sha256").update(fqdn.toLowerCase()).digest();
  return `20.${a}.${b}.${Math.max(1, Math.min(254, c ?? 1))}`;
}

export async function startEmulatorDns(
  clusters: () => readonly ArmResource[],
  host = "127.0.0.1",
): Promise<EmulatorDns> {
  const answers = new Map<string, DnsAnswer>();
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  const addressesOf = (name: string): DnsAnswer | undefined => {
    const key = name.toLowerCase().replace(/\.$/, "");
    const set = answers.get(key);
    if (set !== undefined) return set;
    const cluster = clusters().find((c) => {
      const properties = c.properties as { fqdn?: unknown } | undefined;
      return typeof properties?.fqdn === "string" && properties.fqdn.toLowerCase() === key;
    });
    return cluster === undefined ? undefined : [defaultAddressOf(key)];
  };
  socket.on("message", (message, from) => {
    let query: packet.Packet;
    try {
      query = packet.decode(message);
    } catch {
      return; // not DNS: no answer, as a real server would drop it
    }
    const question = query.questions?.[0];
    const found = question ? addressesOf(question.name) : undefined;
    const addresses = found === "fail" || found === undefined ? [] : found;
    const reply = packet.encode({
      id: query.id,
      type: "response",
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (found === "fail" ? 2 : found ? 0 : 3),
      questions: query.questions,
      answers:
        question?.type === "A"
          ? addresses
              .filter((a) => !a.includes(":"))
              .map((data) => ({
                type: "A" as const,
                name: question.name,
                ttl: 60,
                class: "IN" as const,
                data,
              }))
          : [],
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const { port } = socket.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    server: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    setAnswer(fqdn, answer) {
      const key = fqdn.toLowerCase().replace(/\.$/, "");
      if (answer === undefined) answers.delete(key);
      else answers.set(key, answer);
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
}

// A throwaway CA and a server certificate for localhost, made at start. HTTPS is not optional: the
// SDKs' bearer-token policy refuses to send a token over plain HTTP. Clients trust the CA through
// their own pipeline options (`tlsOptions: { ca }`), never through NODE_TLS_REJECT_UNAUTHORIZED=0.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface EmulatorCertificates {
  caCertPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** The CA certificate written to disk, for tools that want a file (curl --cacert, NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** Removes `caFile` and its folder. */
  dispose(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function createCertificates(): Promise<EmulatorCertificates> {
  // Backdated a little so that a clock a few seconds apart never makes the certificate "not yet valid".
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 30 * DAY_MS);
  // EC keys: generation takes milliseconds where RSA takes a noticeable share of a test run.
  const ca = await generate([{ name: "commonName", value: "aks-egress-guard ARM emulator CA" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const folder = await mkdtemp(join(tmpdir(), "arm-emulator-"));
  const caFile = join(folder, "ca.pem");
  await writeFile(caFile, ca.cert, { mode: 0o644 });
  return {
    caCertPem: ca.cert,
    serverKeyPem: server.private,
    serverCertPem: server.cert,
    caFile,
    dispose: () => rm(folder, { recursive: true, force: true }),
  };
}

// When ARM cannot be reached or its certificate is not trusted, the CLI says which endpoint, from
// which setting, and what to fix; the CLI and the app read the same variables.
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeArmFailure } from "../../cli/connection";
import { GuardError } from "../../errors";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { runCliAsync as runCli } from "../helpers/cli";
import { ROOT } from "../helpers/paths";
import { POLICY_ID, SMALL_ESTATE } from "../local/arm-emulator-helpers";

/** No ARM variable of either name leaks in from the environment the tests run in. */
const CLEAN = {
  AKS_EGRESS_ARM_ENDPOINT: "",
  AKS_EGRESS_ARM_CA_FILE: "",
  AKS_EGRESS_ENDPOINT: "",
  AKS_EGRESS_CA_FILE: "",
};

let emulator: ArmEmulator;
let other: ArmEmulator;
beforeAll(async () => {
  [emulator, other] = await Promise.all([
    startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 }),
    startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 }),
  ]);
});
afterAll(async () => Promise.all([emulator.close(), other.close()]));

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("aks-egress check: one set of variable names with the app", () => {
  it("reads AKS_EGRESS_ARM_ENDPOINT and AKS_EGRESS_ARM_CA_FILE, as the app does", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
      AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Plan: \d+ to add/);
  });

  it("still reads the old names, with a one-line note naming the new ones", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ENDPOINT: emulator.endpoint,
      AKS_EGRESS_CA_FILE: emulator.caFile,
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Plan: \d+ to add/);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/AKS_EGRESS_ENDPOINT.*deprecated.*AKS_EGRESS_ARM_ENDPOINT/);
    expect(lines[0]).toMatch(/AKS_EGRESS_CA_FILE.*AKS_EGRESS_ARM_CA_FILE/);
  });

  it("prefers the new names when both are set", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
      AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
      AKS_EGRESS_ENDPOINT: `https://127.0.0.1:${await closedPort()}`,
      AKS_EGRESS_CA_FILE: other.caFile,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^aks-egress: .*AKS_EGRESS_ENDPOINT.*ignored.*AKS_EGRESS_ARM_ENDPOINT.*\n$/);
  });
});

describe("aks-egress check: connection and certificate errors", () => {
  it("ARM unreachable: names the endpoint, its variable, and asks whether the emulator runs", async () => {
    const endpoint = `https://127.0.0.1:${await closedPort()}`;
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ARM_ENDPOINT: endpoint,
      AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`cannot reach ARM at ${endpoint}`);
    expect(run.stderr).toContain("AKS_EGRESS_ARM_ENDPOINT");
    expect(run.stderr).toContain("Is `npm start` or `aks-egress emulator` running?");
    expect(run.stderr).toContain("ECONNREFUSED");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("names --endpoint when the endpoint came from it", async () => {
    const endpoint = `https://127.0.0.1:${await closedPort()}`;
    const run = await runCli(["check", "--firewall-policy", POLICY_ID, "--endpoint", endpoint], CLEAN);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach ARM at ${endpoint} (from --endpoint)`);
  });

  it("CA missing: names the endpoint, AKS_EGRESS_ARM_CA_FILE and --ca-file, and where the CA is", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`ARM at ${emulator.endpoint}`);
    expect(run.stderr).toMatch(/certificate/);
    expect(run.stderr).toContain("AKS_EGRESS_ARM_CA_FILE");
    expect(run.stderr).toContain("--ca-file");
    expect(run.stderr).toContain("`aks-egress emulator` prints its CA file");
    expect(run.stderr).not.toMatch(/^aks-egress: unable to verify the first certificate$/m);
  });

  it("CA of another emulator: names the CA file that did not verify", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
      AKS_EGRESS_ARM_CA_FILE: other.caFile,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${other.caFile} (from AKS_EGRESS_ARM_CA_FILE)`);
    expect(run.stderr).toMatch(/new CA/);
  });

  it("an http:// server where HTTPS was expected says so", async () => {
    const server = net.createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
        ...CLEAN,
        AKS_EGRESS_ARM_ENDPOINT: `https://127.0.0.1:${port}`,
        AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`ARM at https://127.0.0.1:${port}`);
      expect(run.stderr).toMatch(/HTTPS/);
    } finally {
      server.close();
    }
  });
});

describe("describeArmFailure", () => {
  const local = {
    endpoint: "https://127.0.0.1:8443",
    endpointFrom: "AKS_EGRESS_ARM_ENDPOINT",
    local: true,
  } as const;
  const azure = { endpoint: "https://management.azure.com", endpointFrom: undefined, local: false } as const;
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
  /** As the Azure SDK throws them: a RestError carrying the socket's code. */
  const rest = (code: string, message: string) =>
    Object.assign(new Error(message), { name: "RestError", code, statusCode: undefined });

  it.each([
    [
      "ECONNREFUSED",
      local,
      /cannot reach ARM at https:\/\/127\.0\.0\.1:8443 \(from AKS_EGRESS_ARM_ENDPOINT\)/,
    ],
    [
      "ENOTFOUND",
      azure,
      /cannot reach ARM at https:\/\/management\.azure\.com.*HTTPS_PROXY.*AKS_EGRESS_ARM_ENDPOINT/,
    ],
    ["ETIMEDOUT", azure, /cannot reach ARM at https:\/\/management\.azure\.com/],
    ["EAI_AGAIN", azure, /cannot reach ARM/],
    ["ECONNRESET", local, /Is `npm start` or `aks-egress emulator` running\?/],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", local, /AKS_EGRESS_ARM_CA_FILE/],
    ["SELF_SIGNED_CERT_IN_CHAIN", azure, /NODE_EXTRA_CA_CERTS/],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", local, /--ca-file/],
    ["CERT_HAS_EXPIRED", local, /expired/],
    ["ERR_TLS_CERT_ALTNAME_INVALID", local, /certificate/],
  ] as const)("%s", (code, target, message) => {
    for (const error of [
      coded(code),
      rest(code, `${code} from the SDK`),
      new GuardError("ARM_REQUEST_FAILED", "reading the group failed", { cause: rest(code, code) }),
      new AggregateError([coded(code)], "all attempts failed"),
    ]) {
      const described = describeArmFailure(error, target);
      expect(described, `${code} in ${error.name}`).toMatch(message);
      expect(described).toContain(code);
    }
  });

  it("leaves other failures alone", () => {
    expect(describeArmFailure(new Error("boom"), local)).toBeUndefined();
    expect(describeArmFailure(coded("ENOENT"), local)).toBeUndefined();
    expect(describeArmFailure(Object.assign(new Error("403"), { statusCode: 403 }), local)).toBeUndefined();
  });
});

describe("aks-egress emulator", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("prints the variables the CLI and the app read; check works with them", async () => {
    child = spawn(
      process.execPath,
      [path.join(ROOT, "bin", "aks-egress.js"), "emulator", "--port", "0", "--state", SMALL_ESTATE],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Press Ctrl-C")) resolve();
      });
      child?.on("exit", (code) => reject(new Error(`emulator exited ${code}: ${out}`)));
    });
    const exported = /export (AKS_EGRESS_ARM_ENDPOINT)=(\S+) (AKS_EGRESS_ARM_CA_FILE)=(\S+)/.exec(out);
    expect(exported, out).not.toBeNull();
    expect(out).not.toMatch(/AKS_EGRESS_ENDPOINT|AKS_EGRESS_CA_FILE/);
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], {
      ...CLEAN,
      AKS_EGRESS_ARM_ENDPOINT: exported?.[2] ?? "",
      AKS_EGRESS_ARM_CA_FILE: exported?.[4] ?? "",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
  });

  it("a port in use: says so, and how to pick another", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const run = await runCli(["emulator", "--port", String(port)], CLEAN);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(`127.0.0.1:${port} is in use`);
      expect(run.stderr).toContain("--port 0");
      expect(run.stderr).toContain("`npm start` or another `aks-egress emulator`");
    } finally {
      server.close();
    }
  });
});

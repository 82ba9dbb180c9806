import { describe, expect, it } from "vitest";
import { catalogVersions, DEFAULT_CATALOG_VERSION, loadCatalog, parseCatalog } from "../../catalog";
import { isGuardError } from "../../errors";

const good = () =>
  structuredClone(loadCatalog("2020-02-29")) as unknown as Record<string, unknown> & {
    entries: Record<string, unknown>[];
  };

function problemOf(file: string, data: unknown): string {
  try {
    parseCatalog(file, data);
  } catch (error) {
    if (isGuardError(error, "CATALOG_INVALID")) return error.message;
    throw error;
  }
  throw new Error("expected the catalog to be rejected");
}

describe("catalog loading", () => {
  it("ships five versions, oldest first, the newest as default", () => {
    expect(catalogVersions()).toEqual(["2020-01-22", "2020-02-29", "2023-06", "2025-02", "2026-06"]);
    expect(DEFAULT_CATALOG_VERSION).toBe("2026-06");
  });

  it("rejects an unknown version naming the valid ones", () => {
    expect(() => loadCatalog("2019-01-01")).toThrow(
      /unknown catalog version "2019-01-01".*2020-01-22, 2020-02-29, 2023-06, 2025-02, 2026-06/,
    );
  });

  it.each([
    [
      "an invalid host name",
      (c: ReturnType<typeof good>) => {
        (c.entries[5] as { destination: unknown }).destination = { kind: "fqdn", host: "bad host!.com" };
      },
      /entries\[5\]\.destination\.host: not a valid host name/,
    ],
    [
      "a port out of range",
      (c: ReturnType<typeof good>) => {
        (c.entries[6] as { ports: unknown }).ports = [{ protocol: "TCP", port: 70000 }];
      },
      /entries\[6\]\.ports\[0\]\.port: port out of range 1-65535/,
    ],
    [
      "an unknown feature",
      (c: ReturnType<typeof good>) => {
        (c.entries[7] as { feature: unknown }).feature = "quantum";
      },
      /entries\[7\]\.feature:/,
    ],
    [
      "an unknown cloud",
      (c: ReturnType<typeof good>) => {
        (c.entries[8] as { clouds: unknown }).clouds = ["AzureGermanCloud"];
      },
      /entries\[8\]\.clouds\[0\]:/,
    ],
    [
      "an unknown placeholder",
      (c: ReturnType<typeof good>) => {
        (c.entries[9] as { destination: unknown }).destination = {
          kind: "fqdn",
          host: "x.{zone}.example.com",
        };
      },
      /entries\[9\]\.destination\.host: unknown \{placeholder\}/,
    ],
    [
      "a duplicate id",
      (c: ReturnType<typeof good>) => {
        (c.entries[10] as { id: unknown }).id = (c.entries[11] as { id: string }).id;
      },
      /entries\[11\]\.id: duplicate id/,
    ],
    [
      "an unexpected key",
      (c: ReturnType<typeof good>) => {
        (c.entries[12] as Record<string, unknown>).colour = "blue";
      },
      /entries\[12\]: Unrecognized key/,
    ],
  ])("rejects %s with the file and key path", (_, breakIt, expected) => {
    const data = good();
    breakIt(data);
    const message = problemOf("catalog/versions/2020-02-29.json", data);
    expect(message).toContain("invalid catalog catalog/versions/2020-02-29.json");
    expect(message).toMatch(expected);
  });

  it("rejects a file whose version does not match its name", () => {
    expect(problemOf("catalog/versions/2024-01.json", good())).toMatch(
      /does not match the file name "2024-01"/,
    );
  });
});

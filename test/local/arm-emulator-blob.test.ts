// The emulator's stand-in Blob service on the wire: Azure's status codes, `x-ms-error-code` headers and
// XML error bodies, conditional writes, and a bearer token required. (The store over it, through the
// real @azure/storage-blob client, is test/azure/catalog-store.test.ts.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { type RawResponse, raw } from "./arm-emulator-helpers";

let emulator: ArmEmulator;

beforeAll(async () => {
  emulator = await startArmEmulator();
});
beforeEach(() => emulator.reset());
afterAll(async () => emulator.close());

const CONTAINER = "/devstoreaccount1/catalog-watch";
const BLOCK = { "x-ms-blob-type": "BlockBlob", "x-ms-version": "2026-10-06" };

/** Azure's error shape: the code in a header and in `<Error><Code>` of an XML body. */
function expectStorageError(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers["x-ms-error-code"]).toBe(code);
  expect(response.headers["content-type"]).toBe("application/xml");
  expect(response.text).toMatch(
    new RegExp(
      `^<\\?xml version="1\\.0" encoding="utf-8"\\?><Error><Code>${code}</Code><Message>[^<]+\\nRequestId:[0-9a-f-]+\\nTime:[^<]+</Message></Error>$`,
    ),
  );
}

const createContainer = () => raw(emulator, "PUT", `${CONTAINER}?restype=container`);

describe("blob service: authentication", () => {
  it("answers 401 without a token, with Azure's challenge and error", async () => {
    const response = await raw(emulator, "GET", `${CONTAINER}/watch.json`, { authorization: null });
    expectStorageError(response, 401, "NoAuthenticationInformation");
    expect(response.headers["www-authenticate"]).toMatch(
      /^Bearer authorization_uri=.* resource_id=https:\/\/storage\.azure\.com$/,
    );
  });

  it("answers 401 for a scheme it does not know and 403 for shared keys (off on the app's account)", async () => {
    const basic = await raw(emulator, "PUT", `${CONTAINER}?restype=container`, {
      authorization: "Basic eA==",
    });
    expectStorageError(basic, 401, "InvalidAuthenticationInfo");
    const sharedKey = await raw(emulator, "PUT", `${CONTAINER}?restype=container`, {
      authorization: "SharedKey devstoreaccount1:c2lnbmF0dXJl",
    });
    expectStorageError(sharedKey, 403, "KeyBasedAuthenticationNotPermitted");
    // Nothing was created by either.
    expectStorageError(await raw(emulator, "GET", `${CONTAINER}/x`), 404, "ContainerNotFound");
  });
});

describe("blob service: containers and blobs", () => {
  it("creates a container once: 201, then 409 ContainerAlreadyExists", async () => {
    const created = await createContainer();
    expect(created.status).toBe(201);
    expect(created.headers.etag).toMatch(/^"0x[0-9A-F]+"$/);
    expectStorageError(await createContainer(), 409, "ContainerAlreadyExists");
  });

  it("answers 404 BlobNotFound, and ContainerNotFound for a missing container, on GET and HEAD", async () => {
    expectStorageError(await raw(emulator, "GET", `${CONTAINER}/watch.json`), 404, "ContainerNotFound");
    expectStorageError(
      await raw(emulator, "PUT", `${CONTAINER}/watch.json`, { headers: BLOCK, body: "{}" }),
      404,
      "ContainerNotFound",
    );
    await createContainer();
    expectStorageError(await raw(emulator, "GET", `${CONTAINER}/watch.json`), 404, "BlobNotFound");
    const head = await raw(emulator, "HEAD", `${CONTAINER}/watch.json`);
    expect(head.status).toBe(404);
    expect(head.headers["x-ms-error-code"]).toBe("BlobNotFound");
    expect(head.text).toBe("");
  });

  it("puts a block blob and gets it back with its etag, length and content type", async () => {
    await createContainer();
    const body = '{"seen":"é"}';
    const put = await raw(emulator, "PUT", `${CONTAINER}/dir/watch.json`, {
      headers: { ...BLOCK, "x-ms-blob-content-type": "application/json" },
      body,
    });
    expect(put.status).toBe(201);
    const etag = put.headers.etag as string;
    expect(etag).toMatch(/^"0x[0-9A-F]+"$/);
    expect(put.headers["content-md5"]).toEqual(expect.any(String));
    const get = await raw(emulator, "GET", `${CONTAINER}/dir/watch.json`);
    expect(get.status).toBe(200);
    expect(get.text).toBe(body);
    expect(get.headers).toMatchObject({
      etag,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "x-ms-blob-type": "BlockBlob",
      "x-ms-version": "2026-10-06",
    });
    const head = await raw(emulator, "HEAD", `${CONTAINER}/dir/watch.json`);
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(etag);
    expect(head.text).toBe("");
  });

  it("applies If-None-Match: * (409 BlobAlreadyExists) and If-Match (412 ConditionNotMet) as Azure does", async () => {
    await createContainer();
    const path = `${CONTAINER}/watch.json`;
    const create = { ...BLOCK, "If-None-Match": "*" };
    expectStorageError(
      await raw(emulator, "PUT", path, { headers: { ...BLOCK, "If-Match": '"0x1"' }, body: "1" }),
      412,
      "ConditionNotMet",
    );
    const first = await raw(emulator, "PUT", path, { headers: create, body: "1" });
    expect(first.status).toBe(201);
    expectStorageError(
      await raw(emulator, "PUT", path, { headers: create, body: "2" }),
      409,
      "BlobAlreadyExists",
    );
    const second = await raw(emulator, "PUT", path, {
      headers: { ...BLOCK, "If-Match": first.headers.etag as string },
      body: "2",
    });
    expect(second.status).toBe(201);
    expect(second.headers.etag).not.toBe(first.headers.etag);
    expectStorageError(
      await raw(emulator, "PUT", path, {
        headers: { ...BLOCK, "If-Match": first.headers.etag as string },
        body: "3",
      }),
      412,
      "ConditionNotMet",
    );
    expect((await raw(emulator, "GET", path)).text).toBe("2");
  });

  it("refuses what it does not emulate instead of guessing", async () => {
    await createContainer();
    expectStorageError(
      await raw(emulator, "PUT", `${CONTAINER}/x`, { headers: { "x-ms-version": "2026-10-06" }, body: "1" }),
      400,
      "MissingRequiredHeader",
    );
    expectStorageError(
      await raw(emulator, "PUT", `${CONTAINER}/x`, { headers: { ...BLOCK, "x-ms-blob-type": "AppendBlob" } }),
      400,
      "EmulatorUnsupported",
    );
    expectStorageError(
      await raw(emulator, "GET", `${CONTAINER}?restype=container&comp=list`),
      400,
      "EmulatorUnsupported",
    );
    expectStorageError(await raw(emulator, "DELETE", `${CONTAINER}/x`), 400, "EmulatorUnsupported");
    expectStorageError(
      await raw(emulator, "GET", `${CONTAINER}/x`, { headers: { "x-ms-range": "bytes=0-1" } }),
      400,
      "EmulatorUnsupported",
    );
    expectStorageError(
      await raw(emulator, "PUT", "/devstoreaccount1/Bad_Name?restype=container"),
      400,
      "InvalidResourceName",
    );
  });

  it("is not ARM: no api-version needed, nothing in the ARM request log; reset() empties it", async () => {
    await createContainer();
    await raw(emulator, "PUT", `${CONTAINER}/watch.json`, { headers: BLOCK, body: "{}" });
    expect(emulator.requests()).toEqual([]);
    emulator.reset();
    expectStorageError(await raw(emulator, "GET", `${CONTAINER}/watch.json`), 404, "ContainerNotFound");
  });
});

// ARM events about the network, in the shapes Event Grid delivers them (the Event Grid schema and
// CloudEvents 1.0), made from the recorded cluster fixtures with the operation and resource swapped.
import fs from "node:fs";
import path from "node:path";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", name), "utf8"));

let sequence = 0;

/** `operation` e.g. "Microsoft.Network/routeTables/write"; a `/delete` one is a ResourceDeleteSuccess. */
export function networkEvent(
  operation: string,
  resourceUri: string,
  schema: "eventgrid" | "cloudevent" = "eventgrid",
): Record<string, unknown> {
  const deleted = operation.toLowerCase().endsWith("/delete");
  const type = deleted
    ? "Microsoft.Resources.ResourceDeleteSuccess"
    : "Microsoft.Resources.ResourceWriteSuccess";
  const base = fixture(
    schema === "eventgrid" ? "cluster-write.eventgrid.json" : "agentpool-write.cloudevent.json",
  );
  const data = base.data as Record<string, unknown>;
  const id = `7c1e0f00-0000-4000-8000-${String(++sequence).padStart(12, "0")}`;
  const payload = {
    ...data,
    authorization: { ...(data.authorization as object), scope: resourceUri, action: operation },
    resourceProvider: "Microsoft.Network",
    resourceUri,
    operationName: operation,
  };
  return schema === "eventgrid"
    ? { ...base, id, subject: resourceUri, eventType: type, data: payload }
    : { ...base, id, subject: resourceUri, type, data: payload };
}

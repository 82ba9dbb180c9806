// Small helpers shared by the HTTP triggers: JSON answers and errors that name the problem.
import type { HttpResponseInit } from "@azure/functions";

export function json(status: number, body: unknown): HttpResponseInit {
  return { status, jsonBody: body, headers: { "Cache-Control": "no-store" } };
}

export function problem(status: number, message: string): HttpResponseInit {
  return json(status, { error: message });
}

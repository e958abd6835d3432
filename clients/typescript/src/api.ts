/**
 * The typed client: openapi-fetch over the generated `paths` of the server's OpenAPI schema
 * (src/schema.d.ts). Every path, parameter, body and answer is checked by tsc against the
 * schema, so a renamed field or path is a compile error here and in every caller.
 */
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type Api = Client<paths>;
export type Schemas = components["schemas"];
export type Transaction = Schemas["Transaction"];
export type Category = Schemas["Category"];
export type Recurring = Schemas["Recurring"];
export type SyncPage = Schemas["SyncPage"];
export type ApiError = Schemas["Error"];

export interface ClientOptions {
  baseUrl: string;
  token: string;
  fetch?: typeof globalThis.fetch;
}

/** A client for one user: every request carries the session token. */
export function apiClient({ baseUrl, token, fetch }: ClientOptions): Api {
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${token}` },
    ...(fetch ? { fetch } : {}),
  });
}

/** The error the client throws for an answer that is not the 2xx the caller expects. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

/** The data of a successful openapi-fetch answer, or an ApiFailure naming `what`. */
export function ok<T>(
  what: string,
  result: { data?: T; error?: unknown; response: Response },
): T {
  if (result.data === undefined || !result.response.ok) {
    throw new ApiFailure(result.response.status, result.error, what);
  }
  return result.data;
}

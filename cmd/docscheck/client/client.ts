// A client generated from billgate's OpenAPI document calls clients.get.
// make docs-check runs it (cmd/docscheck): openapi-typescript turns
// GET /openapi.json into schema.d.ts, tsc type-checks this file against it,
// and node runs it against the booted server. Prints one JSON line.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const baseUrl = process.env.BILLGATE_URL ?? "http://localhost:3080";
const apiKey = process.env.BILLGATE_API_KEY ?? "";
const id = Number(process.env.CLIENT_ID);

const api = createClient<paths>({ baseUrl, headers: { "X-Api-Key": apiKey } });

// clients.get: the path parameter, the result's fields and their types come
// from the document (a wrong name or type fails tsc).
const got = await api.GET("/clients/{id}", { params: { path: { id } } });
if (got.error !== undefined || got.data === undefined) {
  console.error("clients.get failed:", got.response.status, JSON.stringify(got.error));
  process.exit(1);
}
const client = got.data;
const status: "active" | "suspended" | "archived" = client.status;
const reseller: number | null = client.resellers_id;
const created: string = client.created_at;

// A missing client: the documented 404 with the documented error body.
const missing = await api.GET("/clients/{id}", { params: { path: { id: 2147483000 } } });
const errorCode: string | undefined = missing.error?.error.data.code;

// clients.search: a bare array, filters as repeated query values.
const found = await api.GET("/clients", { params: { query: { id: [id], limit: 5 } } });

console.log(JSON.stringify({
  status: got.response.status,
  id: client.id,
  name: client.name,
  client_status: status,
  resellers_id: reseller,
  created_at: created,
  missing_status: missing.response.status,
  missing_code: errorCode,
  search_ids: (found.data ?? []).map((c) => c.id),
}));

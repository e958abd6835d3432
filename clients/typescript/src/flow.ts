/**
 * The SPA's flows against a live server, through the typed client only:
 *   node dist/src/flow.js   (BASE_URL, TOKEN and TOKEN_OTHER from the environment)
 * TOKEN_OTHER is a second, empty user that receives the first one's export.
 * Exits non-zero at the first answer that is not what the SPA relies on.
 */
import assert from "node:assert/strict";

import { type Api, ApiFailure, apiClient, ok } from "./api.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function done(what: string, result: { error?: unknown; response: Response }): void {
  if (!result.response.ok) throw new ApiFailure(result.response.status, result.error, what);
}

function step(name: string): void {
  console.log(`[flow] ${name}`);
}

async function categories(api: Api): Promise<{ food: string; own: string }> {
  step("categories: list the defaults, create, rename, delete one of your own");
  const list = ok("GET /categories", await api.GET("/categories"));
  const food = list.find((row) => row.name === "식비");
  assert.ok(food, "the default 식비 category");
  const own = ok(
    "POST /categories",
    await api.POST("/categories", { body: { name: "동네 빵집", emoji: "🥐" } }),
  );
  const renamed = ok(
    "PATCH /categories/{id}",
    await api.PATCH("/categories/{id}", {
      params: { path: { id: own.id } },
      body: { name: "빵집·디저트" },
    }),
  );
  assert.equal(renamed.name, "빵집·디저트");
  const doomed = ok("POST /categories", await api.POST("/categories", { body: { name: "임시" } }));
  done(
    "DELETE /categories/{id}",
    await api.DELETE("/categories/{id}", { params: { path: { id: doomed.id } } }),
  );
  return { food: food.id, own: own.id };
}

async function transactions(api: Api, food: string, cafe: string): Promise<void> {
  step("transactions: create (an ISO instant read in Seoul), read, update, patch, list, delete");
  const lunch = ok(
    "POST /transactions",
    await api.POST("/transactions", {
      body: {
        date: "2025-07-24T15:00:00.000Z",
        description: "점심 김밥",
        amount: 8500,
        type: "expense",
        category: food,
      },
    }),
  );
  assert.equal(lunch.date, "2025-07-25");
  assert.equal(lunch.amount, 8500);
  assert.equal(lunch.category_name, "식비");
  const path = { params: { path: { id: lunch.id } } };
  const read = ok("GET /transactions/{id}", await api.GET("/transactions/{id}", path));
  assert.deepEqual(read, lunch);
  const put = ok(
    "PUT /transactions/{id}",
    await api.PUT("/transactions/{id}", {
      ...path,
      body: { date: "2025-07-25", description: "점심 김밥", amount: 9000, type: "expense" },
    }),
  );
  assert.equal(put.category, null, "PUT replaces: an omitted category becomes null");
  const patched = ok(
    "PATCH /transactions/{id}",
    await api.PATCH("/transactions/{id}", { ...path, body: { category: cafe } }),
  );
  assert.equal(patched.amount, 9000);
  const page = ok(
    "GET /transactions",
    await api.GET("/transactions", {
      params: { query: { date_from: "2025-07-01", date_to: "2025-07-31", type: "expense" } },
    }),
  );
  assert.ok(page.results.some((row) => row.id === lunch.id));
  assert.equal(typeof page.count, "number");
  const coffee = ok(
    "POST /transactions",
    await api.POST("/transactions", {
      body: { date: "2025-07-26", description: "커피", amount: 4500, type: "expense" },
    }),
  );
  done(
    "DELETE /transactions/{id}",
    await api.DELETE("/transactions/{id}", { params: { path: { id: coffee.id } } }),
  );
  const gone = await api.GET("/transactions/{id}", { params: { path: { id: coffee.id } } });
  assert.equal(gone.response.status, 404);
  assert.equal(gone.error?.error.code !== undefined, true, "a 404 in the one error format");
}

function thisMonth(): { year: number; month: number; label: string } {
  // The server's dates are Seoul dates; a UTC clock is at most a day off, so use mid-month.
  const now = new Date();
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return { year, month, label: `${year}-${String(month).padStart(2, "0")}` };
}

async function recurring(api: Api, food: string): Promise<void> {
  step("recurring: a rule with a past start, generate, the calendar with projection");
  const rule = ok(
    "POST /recurring",
    await api.POST("/recurring", {
      body: {
        template_name: "월세",
        description: "월세",
        amount: 550000,
        type: "expense",
        frequency: "monthly",
        start_date: "2025-01",
        day_of_month: 25,
        is_active: true,
        is_variable_amount: false,
      },
    }),
  );
  const generated = ok(
    "POST /recurring/{id}/generate",
    await api.POST("/recurring/{id}/generate", { params: { path: { id: rule.id } } }),
  );
  assert.equal(generated.length, 0, "a past start is filled at creation; generate is idempotent");
  const history = ok(
    "GET /transactions?recurring=",
    await api.GET("/transactions", { params: { query: { recurring: rule.id, page_size: 500 } } }),
  );
  assert.ok(history.count >= 12, `occurrences from 2025-01 on: ${history.count}`);
  const january = ok(
    "GET /transactions/by-month/{year}/{month}",
    await api.GET("/transactions/by-month/{year}/{month}", {
      params: { path: { year: 2025, month: 1 }, query: { include_projected: true } },
    }),
  );
  assert.ok(january.some((row) => row.recurring === rule.id && row.date === "2025-01-25"));
  // A month past the generation horizon: the rule's occurrence is projected, not stored.
  const later = new Date().getUTCFullYear() + 3;
  const projected = ok(
    "GET /transactions/by-month/{year}/{month} (projected)",
    await api.GET("/transactions/by-month/{year}/{month}", {
      params: { path: { year: later, month: 6 }, query: { include_projected: true } },
    }),
  );
  const entry = projected.find((row) => row.projected);
  assert.ok(entry, `a projected entry in ${later}-06`);
  assert.equal(entry.id, null);
  assert.equal(entry.recurring, rule.id);
  const day = ok(
    "GET /transactions/by-date/{date}",
    await api.GET("/transactions/by-date/{date}", {
      params: { path: { date: `${later}-06-25` }, query: { include_projected: true } },
    }),
  );
  assert.equal(day.length, 1);

  step("recurring: a variable-amount occurrence confirmed with its amount");
  const bill = ok(
    "POST /recurring (variable)",
    await api.POST("/recurring", {
      body: {
        template_name: "전기요금",
        description: "전기요금",
        amount: null,
        type: "expense",
        category: food,
        frequency: "monthly",
        start_date: thisMonth().label,
        day_of_month: 28,
        is_active: true,
        is_variable_amount: true,
      },
    }),
  );
  const next = new Date();
  next.setUTCMonth(next.getUTCMonth() + 1, 1);
  const through = `${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, "0")}`;
  ok(
    "POST /recurring/{id}/generate?through=",
    await api.POST("/recurring/{id}/generate", {
      params: { path: { id: bill.id }, query: { through } },
    }),
  );
  const bills = ok(
    "GET /transactions?recurring= (variable)",
    await api.GET("/transactions", { params: { query: { recurring: bill.id } } }),
  );
  const pending = bills.results.find((row) => row.amount_pending);
  assert.ok(pending, "a pending occurrence of the variable rule");
  assert.equal(pending.amount, null);
  const refused = await api.PATCH("/transactions/{id}", {
    params: { path: { id: pending.id } },
    body: { status: "confirmed" },
  });
  assert.equal(refused.response.status, 400, "confirming needs the amount");
  assert.ok(refused.error?.error.fields?.["amount"]);
  const confirmed = ok(
    "PATCH /transactions/{id} (confirm with amount)",
    await api.PATCH("/transactions/{id}", {
      params: { path: { id: pending.id } },
      body: { status: "confirmed", amount: 48210 },
    }),
  );
  assert.equal(confirmed.status, "confirmed");
  assert.equal(confirmed.amount, 48210);
  assert.equal(confirmed.amount_pending, false);
  assert.equal(confirmed.recurring, bill.id);
}

async function stats(api: Api, food: string): Promise<void> {
  step("stats: summary, monthly, category, assets, trend, budget");
  const period = { date_from: "2025-07-01", date_to: "2025-07-31" };
  const summary = ok(
    "GET /stats/summary",
    await api.GET("/stats/summary", { params: { query: period } }),
  );
  assert.ok(summary.expense >= 9000);
  const monthly = ok(
    "GET /stats/monthly/{year}/{month}",
    await api.GET("/stats/monthly/{year}/{month}", {
      params: { path: { year: 2025, month: 7 }, query: { include_projected: true } },
    }),
  );
  assert.ok(monthly.expense >= 9000);
  const byCategory = ok(
    "GET /stats/category",
    await api.GET("/stats/category", { params: { query: { ...period, type: "expense" } } }),
  );
  assert.ok(Array.isArray(byCategory) ? byCategory.length > 0 : byCategory !== null);
  const assets = ok("GET /stats/assets", await api.GET("/stats/assets"));
  assert.equal(typeof assets.assets, "number");
  const trend = ok(
    "GET /stats/trend",
    await api.GET("/stats/trend", { params: { query: { months: 6 } } }),
  );
  assert.ok(trend !== null);
  const { year, month, label } = thisMonth();
  ok(
    "PUT /budgets/{month}",
    await api.PUT("/budgets/{month}", {
      params: { path: { month: label } },
      body: { total: 2000000, categories: [{ category: food, amount: 600000, carry_over: true }] },
    }),
  );
  const budget = ok(
    "GET /stats/budget/{year}/{month}",
    await api.GET("/stats/budget/{year}/{month}", {
      params: { path: { year, month } },
    }),
  );
  assert.ok(budget !== null);
  const again = await api.GET("/stats/summary", { params: { query: period } });
  assert.ok(again.response.headers.get("ETag"), "stats answers carry an ETag");
}

async function backup(api: Api, other: Api): Promise<void> {
  step("backup: export, import into a second user, the same counts");
  const exported = ok("GET /backup/export", await api.GET("/backup/export"));
  const report = ok(
    "POST /backup/import",
    await other.POST("/backup/import", {
      params: { query: { mode: "replace" } },
      body: exported,
    }),
  );
  assert.ok(report !== null);
  const mine = ok("GET /transactions", await api.GET("/transactions", { params: { query: {} } }));
  const theirs = ok("GET /transactions", await other.GET("/transactions"));
  assert.equal(theirs.count, mine.count, "the import holds every transaction of the export");
  const again = ok("GET /backup/export (second user)", await other.GET("/backup/export"));
  assert.ok(again !== null);
}

async function main(): Promise<void> {
  const baseUrl = env("BASE_URL");
  const api = apiClient({ baseUrl, token: env("TOKEN") });
  const other = apiClient({ baseUrl, token: env("TOKEN_OTHER") });
  step("sign-in: GET /auth/me with the development token");
  const me = ok("GET /auth/me", await api.GET("/auth/me"));
  assert.ok(me.clerk_user_id);
  const { food, own } = await categories(api);
  await transactions(api, food, own);
  await recurring(api, food);
  await stats(api, food);
  await backup(api, other);
  step("OK: every flow passed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

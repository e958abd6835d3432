/**
 * The offline client in a real browser: headless Debian Chromium (/usr/bin/chromium, driven by
 * playwright-core; no browser is downloaded) against a live server.
 *   node dist/test/offline-browser.js   (BASE_URL, TOKEN_DEVICE from the environment)
 *
 * The page (test/page: index.html and the esbuild bundle of src/offline.ts) is served by a
 * small same-origin server here that passes every other request on to the API and can lose
 * one answer: it lets the API write, then cuts the browser's connection before the answer.
 *
 * Device A syncs, goes offline (DevTools network emulation), records three changes, comes
 * back and replays; the first answer is lost, so the replay sends that write again with the
 * same Idempotency-Key. Then the server, device A and a second device syncing from 0 hold the
 * same rows, with no duplicate. A deletion travels as a tombstone, and a revision the server
 * does not know (410) reloads everything.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";

import { apiClient, ok } from "../src/api.js";
import type { LocalRows, ReplayResult, Write } from "../src/offline.js";

const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const here = path.dirname(fileURLToPath(import.meta.url));
const PAGE_DIR = path.resolve(here, "../../test/page");

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

interface Seen {
  method: string;
  url: string;
  key: string | undefined;
  replayed: string | undefined;
  lost: boolean;
}

/** The page's origin: static files from test/page, everything else passed on to the API. */
function pageServer(api: URL) {
  const seen: Seen[] = [];
  let loseNext: string | null = null; // "METHOD path": the next such answer is lost
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? "/";
    if (req.method === "GET" && (url === "/index.html" || url === "/offline.js")) {
      const body = await readFile(path.join(PAGE_DIR, url.slice(1)));
      const type = url.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8";
      res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", Connection: "close" });
      res.end(body);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = { ...req.headers, host: api.host, connection: "close" };
    const upstream = http.request(
      { host: api.hostname, port: api.port, path: url, method: req.method, headers, agent: false },
      (answer) => {
        const key = req.headers["idempotency-key"];
        const lost = loseNext === `${req.method} ${url}`;
        seen.push({
          method: req.method ?? "",
          url,
          key: typeof key === "string" ? key : undefined,
          replayed: answer.headers["idempotent-replayed"] as string | undefined,
          lost,
        });
        if (lost) {
          loseNext = null;
          answer.resume();
          answer.on("end", () => req.socket.destroy()); // written, but the browser never hears
          return;
        }
        // No keep-alive: Chromium silently resends a request whose reused connection drops,
        // which would hide the lost answer from the client under test.
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, connection: "close" });
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      console.error("[proxy]", req.method, url, error.message);
      res.destroy();
    });
    upstream.end(Buffer.concat(chunks));
  });
  return {
    seen,
    loseNextAnswer(method: string, url: string) {
      loseNext = `${method} ${url}`;
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One device: a browser context with its own IndexedDB, the offline client open in it. */
class Device {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, origin: string, token: string, limit: number) {
    const context = await browser.newContext({ timezoneId: "Asia/Seoul" });
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error("[page]", error));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => "HL" in window);
    await page.evaluate(
      async ({ token, limit }) => {
        const w = window as unknown as Record<string, unknown>;
        w["device"] = await window.HL.OfflineClient.open({
          baseUrl: location.origin,
          token,
          database: "ledger",
          limit,
        });
      },
      { token, limit },
    );
    return new Device(context, page);
  }

  private call<T>(method: string, arg?: unknown): Promise<T> {
    return this.page.evaluate(
      async ({ method, arg }) => {
        const device = (window as unknown as Record<string, Record<string, (a?: unknown) => T>>)[
          "device"
        ];
        return await device![method]!.call(device, arg);
      },
      { method, arg },
    ) as Promise<T>;
  }

  pull = () => this.call<number>("pull");
  replay = () => this.call<ReplayResult>("replay");
  rows = () => this.call<LocalRows>("rows");
  enqueue = (write: Write) => this.call<{ key: string }>("enqueue", write);
  queued = () => this.call<{ key: string; attempts: number }[]>("queued");
  forceRevision = (revision: number) => this.call<void>("forceRevision", revision);
}

function byId<T extends { id: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => a.id.localeCompare(b.id));
}

function normal(rows: LocalRows): LocalRows {
  return {
    transactions: byId(rows.transactions),
    recurring: byId(rows.recurring),
    categories: byId(rows.categories),
    budgets: byId(rows.budgets),
  };
}

async function main(): Promise<void> {
  const base = env("BASE_URL");
  const token = env("TOKEN_DEVICE");
  const api = apiClient({ baseUrl: base, token });
  const proxy = pageServer(new URL(base));
  const origin = await proxy.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    console.log("[offline] device A: a first sync, then offline");
    // A small page size, so the pulls below take several pages (has_more).
    const a = await Device.open(browser, origin, token, 5);
    await a.pull();
    const before = await a.rows();
    assert.equal(before.transactions.length, 0, "a new user has no transactions");
    assert.ok(before.categories.length > 5, "the default categories came in pages");

    await a.context.setOffline(true);
    const seenOnline = proxy.seen.length;
    const writes: Write[] = [
      {
        method: "POST",
        path: "/transactions",
        body: { date: "2025-07-25", description: "기차 도시락", amount: 9500, type: "expense" },
      },
      {
        method: "POST",
        path: "/transactions",
        body: { date: "2025-07-25", description: "역 커피", amount: 4800, type: "expense" },
      },
      { method: "POST", path: "/categories", body: { name: "여행", emoji: "🚄" } },
    ];
    const keys: string[] = [];
    for (const write of writes) keys.push((await a.enqueue(write)).key);
    assert.equal(new Set(keys).size, 3, "one key per queued write");
    const offline = await a.replay();
    assert.equal(offline.sent, 0, "nothing is sent offline");
    assert.equal(offline.pending, 3);
    assert.equal(proxy.seen.length, seenOnline, "no request left the browser while offline");

    console.log("[offline] back online; the first answer is lost on the way back");
    await a.context.setOffline(false);
    proxy.loseNextAnswer("POST", "/transactions");
    const first = await a.replay();
    assert.equal(first.sent, 0);
    assert.equal(first.pending, 3, "the write whose answer was lost stays queued");
    const kept = await a.queued();
    assert.deepEqual(kept.map((write) => write.key), keys, "the keys are kept across retries");
    const written = ok("GET /transactions", await api.GET("/transactions"));
    assert.equal(written.count, 1, "the server did write the first change");

    const second = await a.replay();
    assert.deepEqual(second, { sent: 3, replayed: 1, rejected: 0, pending: 0 });
    const posts = proxy.seen.filter((row) => row.url === "/transactions" && row.method === "POST");
    assert.equal(posts.length, 3);
    assert.equal(posts[0]!.key, keys[0]);
    assert.equal(posts[0]!.lost, true);
    assert.equal(posts[1]!.key, keys[0], "the replay sent the same key");
    assert.equal(posts[1]!.replayed, "true", "and got the first answer back");
    assert.equal(posts[2]!.key, keys[1]);

    console.log("[offline] the server, device A and a new device B are equal");
    const server = ok(
      "GET /transactions",
      await api.GET("/transactions", { params: { query: { page_size: 500 } } }),
    );
    const descriptions = server.results.map((row) => row.description).sort();
    assert.deepEqual(descriptions, ["기차 도시락", "역 커피"], "no duplicate after the replay");
    await a.pull();
    const b = await Device.open(browser, origin, token, 5);
    await b.pull();
    const rowsA = normal(await a.rows());
    const rowsB = normal(await b.rows());
    assert.deepEqual(rowsB, rowsA, "device B, synced from 0, holds what device A holds");
    assert.deepEqual(rowsA.transactions, byId(server.results), "and both hold the server's rows");
    const categories = ok("GET /categories", await api.GET("/categories"));
    assert.deepEqual(rowsA.categories, byId(categories));

    console.log("[offline] a deletion on B reaches A as a tombstone");
    const doomed = server.results.find((row) => row.description === "역 커피")!;
    await b.enqueue({ method: "DELETE", path: "/transactions/{id}", id: doomed.id });
    assert.equal((await b.replay()).sent, 1);
    await a.pull();
    await b.pull();
    const afterA = normal(await a.rows());
    assert.deepEqual(afterA.transactions.map((row) => row.id), [
      server.results.find((row) => row.description === "기차 도시락")!.id,
    ]);
    assert.deepEqual(normal(await b.rows()), afterA);

    console.log("[offline] a revision the server does not know (410) reloads everything");
    await a.forceRevision(10_000_000);
    await a.pull();
    assert.deepEqual(normal(await a.rows()), afterA);
    console.log("[offline] OK");
  } finally {
    await browser.close();
    await proxy.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

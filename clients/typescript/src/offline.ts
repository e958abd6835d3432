/**
 * The offline client: a queue of writes in IndexedDB, replayed with idempotency keys, and a
 * local copy of the ledger pulled from `GET /sync?since=`.
 *
 * - `enqueue` stores a write with a key of its own (`Idempotency-Key`), made once and kept
 *   across every retry, so a replay after a lost answer gets the first answer back instead of
 *   writing twice (docs/api.md#idempotency-keys).
 * - `replay` sends the queue in order and stops at the first write that got no answer (offline,
 *   a dropped connection, 409 still running, 429, 5xx): it stays queued, with its key, for the
 *   next replay. A 2xx or a 4xx is the server's final word: the write leaves the queue (a 4xx is
 *   kept in `rejected` for the UI).
 * - `pull` applies pages of changes (rows put, tombstones deleted) until `has_more` is false and
 *   keeps the answer's `revision`; a 410 (`since` too old, or beyond a restored database)
 *   clears the copy and reloads from 0.
 *
 * Writes and sync are typed through the generated `paths`: a renamed path or field is a
 * compile error here.
 */
import { type Api, type Schemas, apiClient } from "./api.js";

export type Kind = "transactions" | "recurring" | "categories" | "budgets";
export const KINDS: readonly Kind[] = ["transactions", "recurring", "categories", "budgets"];

type Row = { id: string };
export type LocalRows = Record<Kind, Row[]>;

/** A write as the SPA makes it; `id` names the row of a path with `{id}`. */
export type Write =
  | { method: "POST"; path: "/transactions"; body: Schemas["TransactionInputRequest"] }
  | {
      method: "PATCH";
      path: "/transactions/{id}";
      id: string;
      body: Schemas["PatchedTransactionInputRequest"];
    }
  | { method: "DELETE"; path: "/transactions/{id}"; id: string }
  | { method: "POST"; path: "/categories"; body: Schemas["CategoryInputRequest"] }
  | { method: "DELETE"; path: "/categories/{id}"; id: string };

export type Queued = Write & { seq?: number; key: string; attempts: number };
export type Rejected = Queued & { status: number; error: unknown };

export interface ReplayResult {
  sent: number;
  replayed: number; // answers the server gave back for a key it had seen (Idempotent-Replayed)
  rejected: number;
  pending: number;
}

const QUEUE = "queue";
const REJECTED = "rejected";
const META = "meta";

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function openDatabase(name: string): Promise<IDBDatabase> {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore(QUEUE, { keyPath: "seq", autoIncrement: true });
    db.createObjectStore(REJECTED, { keyPath: "seq" });
    db.createObjectStore(META);
    for (const kind of KINDS) db.createObjectStore(kind, { keyPath: "id" });
  };
  return request(open);
}

export interface OfflineOptions {
  baseUrl: string;
  token: string;
  /** The IndexedDB database of this device's copy and queue. */
  database?: string;
  /** Rows per /sync page. */
  limit?: number;
  fetch?: typeof globalThis.fetch;
}

export class OfflineClient {
  private readonly api: Api;
  private readonly limit: number;

  private constructor(
    private readonly db: IDBDatabase,
    options: OfflineOptions,
  ) {
    // Resolved at call time, so a page that swaps `fetch` (tests, a service worker shim) is seen.
    const fetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) =>
      globalThis.fetch(input, init));
    this.api = apiClient({ baseUrl: options.baseUrl, token: options.token, fetch });
    this.limit = options.limit ?? 1000;
  }

  static async open(options: OfflineOptions): Promise<OfflineClient> {
    return new OfflineClient(await openDatabase(options.database ?? "household-ledger"), options);
  }

  close(): void {
    this.db.close();
  }

  /** Queue a write (it is sent by `replay`); its idempotency key is made here, once. */
  async enqueue(write: Write): Promise<Queued> {
    const queued: Queued = { ...write, key: crypto.randomUUID(), attempts: 0 };
    const tx = this.db.transaction(QUEUE, "readwrite");
    queued.seq = (await request(tx.objectStore(QUEUE).add(queued))) as number;
    await finished(tx);
    return queued;
  }

  async queued(): Promise<Queued[]> {
    return request(this.db.transaction(QUEUE).objectStore(QUEUE).getAll());
  }

  async rejected(): Promise<Rejected[]> {
    return request(this.db.transaction(REJECTED).objectStore(REJECTED).getAll());
  }

  /** Send the queue in order; stops at the first write that got no final answer. */
  async replay(): Promise<ReplayResult> {
    const result: ReplayResult = { sent: 0, replayed: 0, rejected: 0, pending: 0 };
    const queue = await this.queued();
    for (const [index, write] of queue.entries()) {
      await this.save({ ...write, attempts: write.attempts + 1 });
      let response: Response;
      let error: unknown;
      try {
        ({ response, error } = await this.send(write));
      } catch {
        result.pending = queue.length - index; // offline or the answer was lost: keep the key
        return result;
      }
      const retryLater = response.status === 409 || response.status === 429;
      if (retryLater || response.status >= 500) {
        result.pending = queue.length - index;
        return result;
      }
      result.sent += 1;
      if (response.headers.get("Idempotent-Replayed") === "true") result.replayed += 1;
      const tx = this.db.transaction([QUEUE, REJECTED], "readwrite");
      tx.objectStore(QUEUE).delete(write.seq as number);
      if (!response.ok) {
        result.rejected += 1;
        tx.objectStore(REJECTED).put({ ...write, status: response.status, error });
      }
      await finished(tx);
    }
    return result;
  }

  private async save(write: Queued): Promise<void> {
    const tx = this.db.transaction(QUEUE, "readwrite");
    tx.objectStore(QUEUE).put(write);
    await finished(tx);
  }

  private send(write: Queued): Promise<{ response: Response; error?: unknown }> {
    const headers = { "Idempotency-Key": write.key };
    switch (write.path) {
      case "/transactions":
        return this.api.POST("/transactions", { body: write.body, headers });
      case "/categories":
        return this.api.POST("/categories", { body: write.body, headers });
      case "/transactions/{id}": {
        const params = { path: { id: write.id } };
        return write.method === "PATCH"
          ? this.api.PATCH("/transactions/{id}", { params, body: write.body, headers })
          : this.api.DELETE("/transactions/{id}", { params, headers });
      }
      case "/categories/{id}":
        return this.api.DELETE("/categories/{id}", { params: { path: { id: write.id } }, headers });
    }
  }

  async revision(): Promise<number> {
    const value = await request(this.db.transaction(META).objectStore(META).get("revision"));
    return typeof value === "number" ? value : 0;
  }

  /** Pull every change since the kept revision into the local copy; returns the new revision. */
  async pull(): Promise<number> {
    let since = await this.revision();
    for (;;) {
      const { data, response } = await this.api.GET("/sync", {
        params: { query: { since, limit: this.limit } },
      });
      if (response.status === 410 && since > 0) {
        await this.reset(); // the server cannot tell what changed: reload everything
        since = 0;
        continue;
      }
      if (!data) throw new Error(`GET /sync?since=${since}: HTTP ${response.status}`);
      await this.apply(data);
      since = data.revision;
      if (!data.has_more) return since;
    }
  }

  private async apply(page: Schemas["SyncPage"]): Promise<void> {
    const tx = this.db.transaction([...KINDS, META], "readwrite");
    const rows: Record<Kind, readonly Row[]> = {
      transactions: page.transactions,
      recurring: page.recurring,
      categories: page.categories,
      budgets: page.budgets,
    };
    for (const kind of KINDS) {
      const store = tx.objectStore(kind);
      for (const row of rows[kind]) store.put(row);
      for (const id of page.deleted[kind]) store.delete(id);
    }
    tx.objectStore(META).put(page.revision, "revision");
    await finished(tx);
  }

  /** Forget the local copy (not the queue) and its revision. */
  async reset(): Promise<void> {
    const tx = this.db.transaction([...KINDS, META], "readwrite");
    for (const kind of KINDS) tx.objectStore(kind).clear();
    tx.objectStore(META).delete("revision");
    await finished(tx);
  }

  /** The local copy, each kind's rows by id. */
  async rows(): Promise<LocalRows> {
    const tx = this.db.transaction([...KINDS]);
    const entries = await Promise.all(
      KINDS.map(async (kind) => [kind, await request(tx.objectStore(kind).getAll())] as const),
    );
    return Object.fromEntries(entries) as LocalRows;
  }

  /** Set the kept revision (tests: a revision the server no longer knows). */
  async forceRevision(revision: number): Promise<void> {
    const tx = this.db.transaction(META, "readwrite");
    tx.objectStore(META).put(revision, "revision");
    await finished(tx);
  }
}

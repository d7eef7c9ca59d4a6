"use client";
/**
 * The page's task writes (add, complete, delete, undo) as an outbox, sent to `POST /{user_id}/batch`: what the
 * person does while the API cannot be reached waits here (in localStorage, so a reload keeps it) and goes out
 * as one batch when the API is back, applied all at once or not at all.
 *
 * A batch on its way keeps its Idempotency-Key until it is answered, across reloads: sent again after a cut
 * connection, it is applied once. A new task is named by a `ref` until the API gives it an id, so that later
 * operations (ticking it) can name it; the refs of a batch answered are replaced by those ids in what waits.
 * Only the refusal of one operation (a 4xx naming it) drops that operation, whose promise rejects with the
 * problem; a 429, a 5xx or any other refusal keeps the whole batch, sent again (with its key) after a wait.
 *
 * A batch on its way is never changed: it may have reached the API before the connection failed. So the first
 * change made as the connection fails goes out alone (retried until answered), and what follows it meanwhile
 * goes out together after it.
 *
 * Every tab of the browser shares the outbox: each change to it is made under a Web Lock, and one tab at a time
 * sends (another lock), so two tabs never send what waits twice. A tab learns from storage events that its
 * operations were applied (or refused) by another.
 */
import type { BatchOperation, Task } from "@taskapi/client";
import { reconnectDelay } from "@taskapi/client";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";

import { ApiError, call, Unreachable } from "./api";
import { apply, type Entry } from "./outboxStorage";
import type { TaskApi } from "./useTaskApi";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// The longest wait before a kept batch is sent again after the API refused it as a whole (a 429, a 5xx).
const MOST_WAIT_MS = 30_000;

/** A ref for a task made by an operation still in the outbox. */
export const newRef = (): string => `new-${crypto.randomUUID()}`;

function replaceRefs(entries: Entry[], refs: Record<string, string>): Entry[] {
  const real = (value: string | null | undefined) => (value && refs[value]) || value;
  return entries.map(({ tag, op: operation }) => {
    const replaced = { ...operation } as BatchOperation & { id?: string; body?: Record<string, unknown> };
    if (replaced.id) replaced.id = real(replaced.id)!;
    if (replaced.body) {
      const body = { ...replaced.body };
      for (const field of ["parent_id", "after"]) {
        if (typeof body[field] === "string") body[field] = real(body[field] as string);
      }
      replaced.body = body;
    }
    return { tag, op: replaced as BatchOperation };
  });
}

class OutboxStore {
  private readonly settled = new Map<string, { resolve: () => void; reject: (error: ApiError) => void }>();
  private readonly listeners = new Set<() => void>();
  private flushing = false;
  // Asked to flush while flushing: what was queued meanwhile may have come after the last look, so look again.
  private flushAgain = false;
  private view: { pending: BatchOperation[]; unreachable: boolean } = { pending: [], unreachable: false };

  /** Told each time a batch was applied: the page shown reads again (the operations' promises settle after). */
  onApplied: () => Promise<void> | void = () => {};

  constructor(
    private readonly api: TaskApi,
    private readonly userId: string,
  ) {
    void this.change((stored) => stored);
    window.addEventListener("storage", this.changedElsewhere);
  }

  close(): void {
    window.removeEventListener("storage", this.changedElsewhere);
  }

  /** Another tab changed the outbox: what it sent or dropped of ours settles here too. */
  private changedElsewhere = (event: StorageEvent): void => {
    if (event.key !== apply.key(this.userId)) return;
    void this.change((stored) => stored).then((stored) => {
      const left = new Set([...stored.sending, ...stored.waiting].map((entry) => entry.tag));
      let applied = false;
      for (const tag of [...this.settled.keys()]) {
        if (left.has(tag)) continue;
        const problem = stored.refused[tag]?.problem;
        this.settle(tag, problem ? new ApiError(problem.status, problem) : undefined);
        applied ||= !problem;
      }
      if (applied) void this.onApplied();
    });
  };

  private async change(edit: Parameters<typeof apply>[1]) {
    const stored = await apply(this.userId, edit);
    this.publish(stored.sending.concat(stored.waiting).map((entry) => entry.op), this.view.unreachable);
    return stored;
  }

  private publish(pending: BatchOperation[], unreachable: boolean): void {
    this.view = { pending, unreachable };
    for (const listener of this.listeners) listener();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = () => this.view;

  send(operation: BatchOperation): Promise<void> {
    const tag = crypto.randomUUID();
    const applied = new Promise<void>((resolve, reject) => this.settled.set(tag, { resolve, reject }));
    void this.change((stored) => ({ ...stored, waiting: [...stored.waiting, { tag, op: operation }] })).then(() =>
      this.flush(),
    );
    return applied;
  }

  /** Send what waits, one batch at a time, in one tab at a time (the others wait their turn, and find it sent). */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
        if (locks) await locks.request(`taskapi.outbox.send.${this.userId}`, () => this.sendAll());
        else await this.sendAll();
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
    }
  }

  private async sendAll(): Promise<void> {
    for (let attempt = 0; ; ) {
      const stored = await this.change((now) =>
        now.key || !now.waiting.length ? now : { ...now, key: crypto.randomUUID(), sending: now.waiting, waiting: [] },
      );
      if (!stored.key) return;
      const { key, sending } = stored;
      try {
        const { data } = await call(() =>
          this.api.client.POST("/{user_id}/batch", {
            params: { path: { user_id: this.userId }, header: { "Idempotency-Key": key } },
            body: { operations: sending.map((entry) => entry.op) },
          }),
        );
        attempt = 0;
        await this.change((now) => ({ ...now, key: null, sending: [], waiting: replaceRefs(now.waiting, data.refs) }));
        this.publish(this.view.pending, false);
        await this.onApplied();
        for (const entry of sending) this.settle(entry.tag);
      } catch (error) {
        if (error instanceof Unreachable) {
          this.publish(this.view.pending, true);
          await sleep(Math.max(500, reconnectDelay(Math.min(attempt++, 3))));
          continue;
        }
        if (!(error instanceof ApiError)) throw error;
        const refused = error.problem.operation;
        if (refused === undefined || error.status === 429 || error.status >= 500) {
          // Refused as a whole, for now (a 429 is first waited out by `call`, as Retry-After says): the same
          // batch, and key, again after a wait; nothing is dropped.
          await sleep(Math.min(MOST_WAIT_MS, Math.max(1_000, reconnectDelay(Math.min(attempt++, 5)))));
          continue;
        }
        // Nothing of the batch was applied: drop the operation refused, and send the rest again as a new request.
        const dropped = sending[refused]!;
        await this.change((now) => ({
          ...now,
          key: null,
          sending: [],
          waiting: [...sending.filter((entry) => entry !== dropped), ...now.waiting],
          refused: { ...now.refused, [dropped.tag]: { problem: error.problem, at: Date.now() } },
        }));
        this.settle(dropped.tag, error);
      }
    }
  }

  private settle(tag: string, error?: ApiError): void {
    const waiter = this.settled.get(tag);
    this.settled.delete(tag);
    if (error) waiter?.reject(error);
    else waiter?.resolve();
  }
}

export interface Outbox {
  /** Operations not yet applied, in order (the batch on its way first). */
  pending: BatchOperation[];
  /** The last try to send found the API unreachable. */
  unreachable: boolean;
  /** Queue `operation` and send it; resolves once applied and read back, rejects with its ApiError if the API
   * refused it. */
  send: (operation: BatchOperation) => Promise<void>;
}

const NOTHING = { pending: [] as BatchOperation[], unreachable: false };

// One outbox per user in this tab, whichever page (or remount of it) uses it.
const stores = new Map<string, OutboxStore>();

/** Signing out: what waits is dropped from this browser. */
export function forgetOutbox(userId: string): void {
  stores.get(userId)?.close();
  stores.delete(userId);
  localStorage.removeItem(apply.key(userId));
}

export function useOutbox(api: TaskApi, userId: string, onApplied: () => Promise<void>): Outbox {
  // Made in the browser only (it reads localStorage), after hydration.
  const [store, setStore] = useState<OutboxStore | null>(null);
  const latest = useRef(onApplied);
  latest.current = onApplied;
  useEffect(() => {
    let made = stores.get(userId);
    if (!made) {
      made = new OutboxStore(api, userId);
      stores.set(userId, made);
    }
    made.onApplied = () => latest.current();
    setStore(made);
    void made.flush(); // what a reload found waiting
    return () => {
      made.onApplied = () => {};
    };
  }, [api.client, userId]); // eslint-disable-line react-hooks/exhaustive-deps
  const view = useSyncExternalStore(
    store?.subscribe ?? (() => () => {}),
    store?.snapshot ?? (() => NOTHING),
    () => NOTHING,
  );
  const send = useCallback(
    (operation: BatchOperation) => (store ? store.send(operation) : Promise.reject(new Error("not ready"))),
    [store],
  );
  return { ...view, send };
}

/** The new tasks still in the outbox that belong in the view shown ("all", "inbox" or a list's id). */
export function waitingCreates(pending: BatchOperation[], view: string): { ref: string; title: string }[] {
  return pending.flatMap((operation) => {
    if (operation.op !== "create" || operation.body.parent_id) return [];
    const listId = operation.body.list_id ?? null;
    const inView = view === "all" || (view === "inbox" ? listId === null : listId === view);
    return inView ? [{ ref: operation.ref ?? "", title: operation.body.title }] : [];
  });
}

/** The tasks read, as the outbox will leave them: deleted ones gone, completions shown. */
export function shownTasks(tasks: Task[], pending: BatchOperation[]): Task[] {
  const gone = new Set(pending.flatMap((operation) => (operation.op === "delete" ? [operation.id] : [])));
  const completed = new Map(
    pending.flatMap((operation) =>
      operation.op === "complete" && operation.body ? [[operation.id, operation.body.completed] as const] : [],
    ),
  );
  return tasks
    .filter((task) => !gone.has(task.id))
    .map((task) => (completed.has(task.id) ? { ...task, completed: completed.get(task.id)! } : task));
}

"use client";
/**
 * The page's task writes (add, complete, delete, undo) as an outbox, sent to `POST /{user_id}/batch`: what the
 * person does while the API cannot be reached waits here (in localStorage, so a reload keeps it) and goes out
 * as one batch when the API is back, applied all at once or not at all.
 *
 * A batch on its way keeps its Idempotency-Key until it is answered, across reloads: sent again after a cut
 * connection, it is applied once. A new task is named by a `ref` until the API gives it an id, so that later
 * operations (ticking it) can name it; the refs of a batch answered are replaced by those ids in what waits.
 * An operation the API refuses is dropped (its promise rejects with the problem) and the rest go on.
 *
 * A batch on its way is never changed: it may have reached the API before the connection failed. So the first
 * change made as the connection fails goes out alone (retried until answered), and what follows it meanwhile
 * goes out together after it.
 */
import type { BatchOperation, Task } from "@taskapi/client";
import { reconnectDelay } from "@taskapi/client";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";

import { ApiError, call, Unreachable } from "./api";
import type { TaskApi } from "./useTaskApi";

interface Stored {
  /** The Idempotency-Key of the batch on its way (`sending`); null when none is. */
  key: string | null;
  sending: BatchOperation[];
  waiting: BatchOperation[];
}

const EMPTY: Stored = { key: null, sending: [], waiting: [] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A ref for a task made by an operation still in the outbox. */
export const newRef = (): string => `new-${crypto.randomUUID()}`;

function replaceRefs(operations: BatchOperation[], refs: Record<string, string>): BatchOperation[] {
  const real = (value: string | null | undefined) => (value && refs[value]) || value;
  return operations.map((operation) => {
    const replaced = { ...operation } as BatchOperation & { id?: string; body?: Record<string, unknown> };
    if (replaced.id) replaced.id = real(replaced.id)!;
    if (replaced.body) {
      const body = { ...replaced.body };
      for (const field of ["parent_id", "after"]) {
        if (typeof body[field] === "string") body[field] = real(body[field] as string);
      }
      replaced.body = body;
    }
    return replaced as BatchOperation;
  });
}

class OutboxStore {
  private stored: Stored;
  private readonly settled = new Map<BatchOperation, { resolve: () => void; reject: (error: ApiError) => void }>();
  private readonly listeners = new Set<() => void>();
  private flushing = false;
  private view: { pending: BatchOperation[]; unreachable: boolean };

  /** Told each time a batch was applied: the page shown reads again (the operations' promises settle after). */
  onApplied: () => Promise<void> | void = () => {};

  constructor(
    private readonly api: TaskApi,
    private readonly userId: string,
  ) {
    this.stored = this.load();
    this.view = { pending: [], unreachable: false };
    this.publish(false);
  }

  private get storageKey(): string {
    return `taskapi.outbox.${this.userId}`;
  }

  private load(): Stored {
    try {
      return { ...EMPTY, ...JSON.parse(localStorage.getItem(this.storageKey) ?? "{}") };
    } catch {
      return EMPTY;
    }
  }

  private save(next: Stored): void {
    this.stored = next;
    if (next.sending.length || next.waiting.length) localStorage.setItem(this.storageKey, JSON.stringify(next));
    else localStorage.removeItem(this.storageKey);
    this.publish(this.view.unreachable);
  }

  private publish(unreachable: boolean): void {
    this.view = { pending: [...this.stored.sending, ...this.stored.waiting], unreachable };
    for (const listener of this.listeners) listener();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = () => this.view;

  send(operation: BatchOperation): Promise<void> {
    const applied = new Promise<void>((resolve, reject) => this.settled.set(operation, { resolve, reject }));
    this.save({ ...this.stored, waiting: [...this.stored.waiting, operation] });
    void this.flush();
    return applied;
  }

  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let attempt = 0; ; ) {
        if (!this.stored.key) {
          if (!this.stored.waiting.length) return;
          this.save({ key: crypto.randomUUID(), sending: this.stored.waiting, waiting: [] });
        }
        const { key, sending } = this.stored;
        try {
          const { data } = await call(() =>
            this.api.client.POST("/{user_id}/batch", {
              params: { path: { user_id: this.userId }, header: { "Idempotency-Key": key! } },
              body: { operations: sending },
            }),
          );
          attempt = 0;
          this.save({ key: null, sending: [], waiting: replaceRefs(this.stored.waiting, data.refs) });
          this.publish(false);
          await this.onApplied();
          for (const operation of sending) this.settle(operation);
        } catch (error) {
          if (error instanceof Unreachable) {
            this.publish(true);
            await sleep(Math.max(500, reconnectDelay(Math.min(attempt++, 3))));
            continue;
          }
          if (!(error instanceof ApiError)) throw error;
          // Nothing of the batch was applied: drop the operation refused (all of them if the API did not say
          // which) and send the rest again, as a new request.
          const refused = error.problem.operation;
          const kept = refused === undefined ? [] : sending.filter((_, index) => index !== refused);
          for (const operation of sending) if (!kept.includes(operation)) this.settle(operation, error);
          this.save({ key: null, sending: [], waiting: [...kept, ...this.stored.waiting] });
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private settle(operation: BatchOperation, error?: ApiError): void {
    const waiter = this.settled.get(operation);
    this.settled.delete(operation);
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

// One outbox per user in this tab, whichever page (or remount of it) uses it: two would both send what waits.
const stores = new Map<string, OutboxStore>();

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

/**
 * Live events (`GET /{user_id}/events`, Server-Sent Events) over `fetch`: browsers' `EventSource` cannot send
 * an `Authorization` header. The stream is parsed by eventsource-parser; this file adds what a long-lived
 * subscription needs: a fresh token on every connection, `Last-Event-ID` on reconnection, and backoff.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";

export interface TaskChange {
  id: string;
  op: "upsert" | "delete";
  /** What changed (API 1.4): a task, or a list (read lists' changes with `kinds=task,list`). */
  kind: "task" | "list";
}

/** A task's reminder that fell due (API 1.6): once per task and `remind_at`, on every stream of its user. */
export interface DueReminder {
  id: string;
  title: string;
  due_at: string | null;
  remind_at: string;
}

/**
 * What the stream says. On every one of them, catch up from the change feed (`GET /{user_id}/changes?since=`
 * with your own position); on the feed's 410, sync from scratch.
 * - `ready`: connected; changes made while you were away are in the feed.
 * - `changes`: these tasks (or lists) changed (the feed has them in their latest state).
 * - `reminder`: a task's reminder fell due: show it (a notification). The task's `reminded_at` changed too,
 *   and comes as a change.
 * - `resync`: events may have been missed (the service lost its database for a while, you were not reading,
 *   or you came back after too long). Every stream of a service instance hears it at once, so catch up after
 *   a random wait of up to a few seconds (for example `reconnectDelay(3)`), not all at the same instant.
 */
export type LiveEvent =
  | { type: "ready"; position: string }
  | { type: "changes"; position: string; changes: TaskChange[] }
  | { type: "reminder"; reminder: DueReminder }
  | { type: "resync"; reason: "gap" | "too-far-behind" | "position-expired" };

export interface SubscribeOptions {
  /** The API's base URL, `/api` included. */
  baseUrl: string;
  userId: string;
  /** Called for every connection: a stream ends when its token expires, and the next one needs a fresh one. */
  getToken: () => string | Promise<string>;
  onEvent: (event: LiveEvent) => void;
  /** A connection failed (it is retried with backoff), or was refused for good (403: the subscription ends). */
  onError?: (error: Error) => void;
  /** Abort to unsubscribe. */
  signal?: AbortSignal;
  /** The waits' source of randomness (tests pass their own). */
  random?: () => number;
  /** The last event's id from an earlier subscription: the stream then starts with what was missed since. */
  lastEventId?: string;
  fetch?: typeof globalThis.fetch;
}

const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 30_000;

/**
 * The wait before reconnection attempt `attempt` (0 first): "full jitter", a random time up to the exponential
 * backoff's ceiling. When a service restarts, every client loses its stream at once; without jitter they would
 * all come back at the same instants, again and again.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt));
}

function toLiveEvent(message: { event?: string | undefined; id?: string | undefined; data: string }): LiveEvent | undefined {
  const data = JSON.parse(message.data);
  switch (message.event) {
    case "ready":
      return { type: "ready", position: message.id ?? "" };
    case "changes":
      return { type: "changes", position: message.id ?? "", changes: data.changes };
    case "reminder":
      return { type: "reminder", reminder: data };
    case "resync":
      return { type: "resync", reason: data.reason };
    default:
      return undefined; // a kind this client does not know yet: ignored, as the contract allows
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * Keep the user's event stream open until `signal` aborts: reconnects when the stream ends (token expiry,
 * a deploy) or fails, with backoff, resuming from the last event's id. Resolves once unsubscribed (or refused
 * for good).
 */
export async function subscribeToChanges(options: SubscribeOptions): Promise<void> {
  const { baseUrl, userId, getToken, onEvent, onError, signal } = options;
  const fetch = options.fetch ?? globalThis.fetch;
  let lastEventId = options.lastEventId;
  let attempt = 0;
  while (!signal?.aborted) {
    try {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${await getToken()}`,
        Accept: "text/event-stream",
      };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      const response = await fetch(`${baseUrl}/${encodeURIComponent(userId)}/events`, {
        headers,
        ...(signal ? { signal } : {}),
      });
      if (!response.ok || !response.body) {
        const problem = await response.json().catch(() => ({}));
        const error = new Error(`${response.status}: ${problem.detail ?? response.statusText}`);
        if (response.status === 403) {
          onError?.(error);
          return;
        }
        if (response.status === 400) lastEventId = undefined; // an id this service cannot read: start afresh
        throw error;
      }
      attempt = 0;
      const reader = response.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream())
        .getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.id) lastEventId = value.id;
        const event = toLiveEvent(value);
        if (event) onEvent(event);
      }
    } catch (error) {
      if (signal?.aborted) return;
      onError?.(error instanceof Error ? error : new Error(String(error)));
    }
    await pause(reconnectDelay(attempt, options.random), signal);
    attempt += 1;
  }
}

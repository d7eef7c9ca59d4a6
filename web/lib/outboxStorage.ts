"use client";
/** The outbox as localStorage holds it, shared by every tab of the browser, and changed under a Web Lock so that
 * two tabs never overwrite each other's changes (lib/outbox.ts). */
import type { BatchOperation, Problem } from "@taskapi/client";

/** An operation and the tag of the tab's promise waiting for it. */
export interface Entry {
  tag: string;
  op: BatchOperation;
}

export interface Stored {
  /** The Idempotency-Key of the batch on its way (`sending`); null when none is. */
  key: string | null;
  sending: Entry[];
  waiting: Entry[];
  /** Operations the API refused, by tag, for the tab that sent them to learn it. */
  refused: Record<string, { problem: Problem; at: number }>;
}

const EMPTY: Stored = { key: null, sending: [], waiting: [], refused: {} };
// A refusal no tab picked up in this long (its tab was closed) is forgotten.
const REFUSALS_KEPT_MS = 10 * 60_000;

/** An entry as stored, or an operation stored by a version of the app before entries had tags. */
const entryOf = (stored: Entry | BatchOperation): Entry =>
  "tag" in stored && "op" in stored ? stored : { tag: crypto.randomUUID(), op: stored as BatchOperation };

function load(key: string): Stored {
  try {
    const stored = { ...EMPTY, ...JSON.parse(localStorage.getItem(key) ?? "{}") };
    return { ...stored, sending: stored.sending.map(entryOf), waiting: stored.waiting.map(entryOf) };
  } catch {
    return EMPTY;
  }
}

function save(key: string, stored: Stored): void {
  const now = Date.now();
  const refused = Object.fromEntries(Object.entries(stored.refused).filter(([, r]) => now - r.at < REFUSALS_KEPT_MS));
  if (stored.sending.length || stored.waiting.length || Object.keys(refused).length) {
    localStorage.setItem(key, JSON.stringify({ ...stored, refused }));
  } else {
    localStorage.removeItem(key);
  }
}

/** Read the outbox, change it with `edit`, write it back, under the browser-wide lock; the outbox as written. */
export async function apply(userId: string, edit: (stored: Stored) => Stored): Promise<Stored> {
  const key = apply.key(userId);
  const change = () => {
    const next = edit(load(key));
    save(key, next);
    return next;
  };
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? locks.request(`${key}.change`, change) : change();
}

apply.key = (userId: string): string => `taskapi.outbox.${userId}`;

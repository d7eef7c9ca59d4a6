"use client";
/** Quick add in the add box: what the API understands of the words typed (POST …/tasks/quick?dry_run=true), read
 * once the person pauses, shown as chips they can undo one by one; adding makes the task from what is kept,
 * through the outbox like any add. Words with nothing quick add could read (no digit, mark or date word) are not
 * sent to be read: a plain add costs one request, as it always did. When the API cannot be reached, the words
 * are the title. */
import type { QuickAddResult, QuickAddSpan, TaskCreate } from "@taskapi/client";
import { useCallback, useRef, useState } from "react";

import { call } from "@/lib/api";
import { browserTimeZone } from "@/lib/time";
import type { TaskApi } from "@/lib/useTaskApi";

// Asked once the person pauses this long, not at every key.
const TYPING_PAUSE_MS = 250;
// Something quick add may read: a #tag or !priority, a word of a date or a repeat, or a number shaped like a time
// or a date ("5pm", "17:00", "12/24", "2026-12-25", "the 3rd", "in 3 days"). The API decides what it is; words
// without any of these are a plain title, and are not sent to be read ("Item 05" is not).
const READABLE = new RegExp(
  [
    "[#!]",
    "\\b(today|tonight|tomorrow|tmrw|noon|midnight|next|every|daily|weekly|monthly|yearly|annually)\\b",
    "\\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\\b",
    "\\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\b",
    "\\d(am|pm)\\b|\\d:\\d\\d|\\d[-/.]\\d|\\d(st|nd|rd|th)\\b|\\bin \\d+ \\w",
  ].join("|"),
  "i",
);

export interface Understood {
  text: string;
  parsed: QuickAddResult["parsed"];
  spans: QuickAddSpan[];
}

export function useQuickAdd(api: TaskApi, userId: string) {
  const [understood, setUnderstood] = useState<Understood | null>(null);
  const [ignored, setIgnored] = useState<number[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const read = useCallback(
    async (text: string): Promise<Understood | null> => {
      if (!READABLE.test(text)) return null;
      try {
        const { data } = await call(() =>
          api.client.POST("/{user_id}/tasks/quick", {
            params: { path: { user_id: userId }, query: { dry_run: true } },
            body: { text, timezone: browserTimeZone() },
          }),
        );
        return { text, parsed: data.parsed, spans: data.spans };
      } catch {
        return null; // unreachable, or words it refuses: they are the title
      }
    },
    [api, userId],
  );

  const typed = useCallback(
    (text: string) => {
      clearTimeout(timer.current);
      setIgnored([]);
      timer.current = setTimeout(() => void read(text).then(setUnderstood), TYPING_PAUSE_MS);
    },
    [read],
  );

  /** The fields to make the task from: what was read of `text` (read now, if it was not yet), less the chips undone. */
  async function fieldsFor(text: string): Promise<TaskCreate> {
    clearTimeout(timer.current);
    const seen = understood?.text === text ? understood : await read(text);
    setUnderstood(null);
    setIgnored([]);
    return seen ? fields(text, seen, ignored) : { title: text };
  }

  return { understood, ignored, ignore: (index: number) => setIgnored((old) => [...old, index]), typed, fieldsFor };
}

/** The task's fields from the spans kept; the words of the spans undone stay in the title. */
export function fields(text: string, understood: Understood, ignored: number[]): TaskCreate {
  const kept = understood.spans.filter((_, index) => !ignored.includes(index));
  // Offsets count Unicode code points, as the API gives them.
  const taken = new Set(kept.flatMap((span) => Array.from({ length: span.end - span.start }, (_, i) => span.start + i)));
  const title = Array.from(text)
    .map((char, index) => (taken.has(index) ? " " : char))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  const body: TaskCreate = { title: title || text };
  for (const span of kept) {
    if (span.kind === "due" || span.kind === "recurrence") body.due_at = understood.parsed.due_at;
    if (span.kind === "recurrence") body.recurrence = understood.parsed.recurrence;
    if (span.kind === "tag") body.tags = [...(body.tags ?? []), String(span.value)];
    if (span.kind === "list") body.list_id = (span.value as { id: string }).id;
    if (span.kind === "priority") body.priority = span.value as TaskCreate["priority"];
  }
  return body;
}

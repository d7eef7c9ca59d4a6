"use client";
/** Live events from the API (Server-Sent Events over fetch): `ready`, `changes` and `resync` are handed to
 * `onChange`, a burst of them at once, with the position after the last and whether any said to read everything
 * again (`ready`, `resync`); a `reminder` is handed to `onReminder`. */
import { type DueReminder, subscribeToChanges } from "@taskapi/client";
import { useEffect, useRef } from "react";

import type { TaskApi } from "./useTaskApi";

export function useLiveUpdates(
  api: TaskApi,
  apiUrl: string,
  userId: string,
  onChange: (change: { reset: boolean; position: string }) => void,
  onReminder: (reminder: DueReminder) => void = () => {},
): void {
  // The latest callbacks, without opening a new stream each time they change (a new filter, say).
  const latest = useRef(onChange);
  latest.current = onChange;
  const latestReminder = useRef(onReminder);
  latestReminder.current = onReminder;
  const { tokens } = api;
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Several events in a burst (a batch of edits, a resync) are handed on once.
    let burst = { reset: false, position: "" };
    const soon = (reset: boolean, position: string) => {
      burst = { reset: burst.reset || reset, position: position || burst.position };
      clearTimeout(timer);
      timer = setTimeout(() => {
        const change = burst;
        burst = { reset: false, position: "" };
        latest.current(change);
      }, 50);
    };
    void subscribeToChanges({
      baseUrl: apiUrl,
      userId,
      getToken: () => tokens.get(),
      onEvent: (event) => {
        if (event.type === "reminder") latestReminder.current(event.reminder);
        else soon(event.type !== "changes", "position" in event ? event.position : "");
      },
      signal: controller.signal,
    });
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [tokens, apiUrl, userId]);
}

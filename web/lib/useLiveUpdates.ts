"use client";
/** Live events from the API (Server-Sent Events over fetch): every `ready`, `changes` or `resync` means "read
 * again"; a `reminder` is handed to `onReminder`. */
import { type DueReminder, subscribeToChanges } from "@taskapi/client";
import { useEffect, useRef } from "react";

import type { TaskApi } from "./useTaskApi";

export function useLiveUpdates(
  api: TaskApi,
  apiUrl: string,
  userId: string,
  onChange: () => void,
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
    // Several events in a burst (a batch of edits, a resync) cause one read.
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => latest.current(), 50);
    };
    void subscribeToChanges({
      baseUrl: apiUrl,
      userId,
      getToken: () => tokens.get(),
      onEvent: (event) => (event.type === "reminder" ? latestReminder.current(event.reminder) : soon()),
      signal: controller.signal,
    });
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [tokens, apiUrl, userId]);
}

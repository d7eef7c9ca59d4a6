"use client";
/** Reminders that fall due while the page is open: a browser notification (when permitted) and an in-page alert. */
import type { Task } from "@taskapi/client";
import { useEffect, useRef } from "react";

// Timers further ahead than this are set when the list is read again (browsers cap timeouts at ~24.8 days).
const HORIZON_MS = 24 * 3600 * 1000;

export function useReminders(tasks: Task[], remind: (task: Task) => void): void {
  const fired = useRef(new Set<string>());
  useEffect(() => {
    const timers = tasks
      .filter((task) => !task.completed && task.remind_at)
      .map((task) => ({ task, key: `${task.id}@${task.remind_at}`, wait: new Date(task.remind_at!).getTime() - Date.now() }))
      .filter(({ key, wait }) => wait > -5_000 && wait < HORIZON_MS && !fired.current.has(key))
      .map(({ task, key, wait }) =>
        setTimeout(() => {
          fired.current.add(key);
          remind(task);
        }, Math.max(0, wait)),
      );
    return () => timers.forEach(clearTimeout);
  }, [tasks, remind]);
}

export function notify(task: Task): void {
  if (typeof Notification !== "undefined" && Notification.permission === "granted") {
    new Notification("Reminder", { body: task.title, tag: task.id });
  }
}

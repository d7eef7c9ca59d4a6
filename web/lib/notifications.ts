"use client";
/** Reminders the API fires (its `reminder` live events, API 1.6): a browser notification, when permitted. The
 * API sends each once, to every open stream of the user: every device with the app open shows it. */
import type { DueReminder } from "@taskapi/client";

export function notify(reminder: DueReminder): void {
  if (typeof Notification !== "undefined" && Notification.permission === "granted") {
    // The tag keeps two tabs of one browser from showing it twice.
    new Notification("Reminder", { body: reminder.title, tag: `${reminder.id}@${reminder.remind_at}` });
  }
}

"use client";
/** The page's top bar: who is signed in, asking once to allow notifications (then pushed reminders, lib/push.ts),
 * and signing out (lib/signOut.ts: nothing of this person stays in the browser). */
import { useEffect, useState } from "react";

import { subscribeToPush } from "@/lib/push";
import { signOutHere } from "@/lib/signOut";
import type { TaskApi } from "@/lib/useTaskApi";

export function TopBar({ api, userId, name }: { api: TaskApi; userId: string; name: string }) {
  // Known in the browser only: read after hydration, so that the server's HTML and the first render agree.
  const [mayAskToNotify, setMayAskToNotify] = useState(false);
  useEffect(() => setMayAskToNotify(typeof Notification !== "undefined" && Notification.permission === "default"), []);
  // Reminders pushed while no tab is open, once notifications are allowed.
  useEffect(() => {
    if (typeof Notification !== "undefined" && Notification.permission === "granted") void subscribeToPush(api, userId);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per page and person
  }, [userId]);

  async function signOut() {
    await signOutHere(api, userId);
    window.location.assign("/sign-in");
  }

  return (
    <header className="topbar">
      <h1>Tasks</h1>
      <span className="who">{name}</span>
      {mayAskToNotify && (
        <button
          type="button"
          className="ghost"
          onClick={() =>
            void Notification.requestPermission().then(() => {
              setMayAskToNotify(false);
              return subscribeToPush(api, userId);
            })
          }
        >
          Enable notifications
        </button>
      )}
      <button type="button" className="ghost" onClick={signOut}>
        Sign out
      </button>
    </header>
  );
}

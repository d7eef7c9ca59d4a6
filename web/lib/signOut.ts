"use client";
/** Signing out of a browser others may use next: nothing of this person's stays in it. Their reminders stop being
 * pushed here, and the changes waiting to be sent are dropped from its storage (lib/outbox.ts), then the session
 * ends. */
import { authClient } from "./auth-client";
import { forgetOutbox } from "./outbox";
import { unsubscribeFromPush } from "./push";
import type { TaskApi } from "./useTaskApi";

export async function signOutHere(api: TaskApi, userId: string): Promise<void> {
  await unsubscribeFromPush(api, userId);
  forgetOutbox(userId);
  await authClient.signOut();
}

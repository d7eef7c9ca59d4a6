"use client";
/** Deleting with Undo: a task goes to the trash through the outbox (so offline too), a list with its tasks right
 * away; the last one deleted can be brought back, exactly as it was, until the next delete. */
import type { List, Task } from "@taskapi/client";
import { useState } from "react";

import { call } from "@/lib/api";
import type { Outbox } from "@/lib/outbox";
import type { TaskApi } from "@/lib/useTaskApi";

/** What Undo brings back: a task, or a list with the tasks deleted with it. */
export type Deleted = { task: Task } | { list: List };

export function useUndo(
  api: TaskApi,
  userId: string,
  outbox: Outbox,
  changed: (lists?: boolean) => Promise<void>,
  refused: (error: unknown) => void,
) {
  const [deleted, setDeleted] = useState<Deleted | null>(null);
  const path = { user_id: userId };

  async function removeTask(task: Task) {
    setDeleted({ task });
    await outbox.send({ op: "delete", id: task.id }).catch(refused);
  }

  /** `gone` runs once the list is deleted, before the lists are read again (to leave a view of it, say). */
  async function removeList(list: List, gone: () => void = () => {}) {
    await api.perform(() =>
      call(() => api.client.DELETE("/{user_id}/lists/{list_id}", { params: { path: { ...path, list_id: list.id } } })),
    );
    setDeleted({ list });
    gone();
    await changed(true);
  }

  async function undo() {
    if (!deleted) return;
    const gone = deleted;
    setDeleted(null);
    if ("task" in gone) {
      await outbox.send({ op: "restore", id: gone.task.id }).catch(refused);
    } else {
      await api.perform(() =>
        call(() => api.client.POST("/{user_id}/lists/{list_id}/restore", { params: { path: { ...path, list_id: gone.list.id } } })),
      );
      await changed(true);
    }
  }

  return { deleted, removeTask, removeList, undo };
}

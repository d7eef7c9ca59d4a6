"use client";
/** The trash: restore a task as it was, destroy one for good, or empty it. */
import type { TrashList } from "@taskapi/client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";

import { call } from "@/lib/api";
import { coalesced } from "@/lib/coalesced";
import { shortDateTime } from "@/lib/time";
import { useLiveUpdates } from "@/lib/useLiveUpdates";
import { useTaskApi } from "@/lib/useTaskApi";

import { ListEnd } from "./ListEnd";

export function TrashPage({ apiUrl, userId }: { apiUrl: string; userId: string }) {
  const api = useTaskApi(apiUrl);
  const { client, perform } = api;
  const [items, setItems] = useState<TrashList["items"]>([]);
  const [next, setNext] = useState<string | null>(null);
  const path = { user_id: userId };

  // One read at a time, at most every half second, however many changes come (lib/coalesced.ts).
  const read = useMemo(
    () =>
      coalesced(async () => {
        const { data } = await perform(() => call(() => client.GET("/{user_id}/trash", { params: { path: { user_id: userId } } })));
        setItems(data.items);
        setNext(data.next_cursor);
      }, 500),
    [client, perform, userId],
  );

  useEffect(() => {
    void read();
  }, [read]);
  // A task deleted a moment ago (its delete still on its way) or on another device shows up here too.
  useLiveUpdates(api, apiUrl, userId, () => void read());

  async function loadMore() {
    if (!next) return;
    const { data } = await api.perform(() =>
      call(() => api.client.GET("/{user_id}/trash", { params: { path, query: { cursor: next } } })),
    );
    setItems((old) => [...old, ...data.items]);
    setNext(data.next_cursor);
  }

  const act = async (send: () => Promise<{ response: Response }>) => {
    await api.perform(() => call(send));
    await read();
  };

  return (
    <div className="app">
      <header className="topbar">
        <h1>Trash</h1>
        <Link href="/">Back to tasks</Link>
      </header>
      {api.unreachable && (
        <p role="alert" className="banner">
          The task service cannot be reached; trying again.
        </p>
      )}
      <main className="trash">
        {items.length > 0 && (
          <button type="button" className="danger" onClick={() => act(() => api.client.DELETE("/{user_id}/trash", { params: { path } }))}>
            Empty trash
          </button>
        )}
        <ul aria-label="Deleted tasks" className="tasks">
          {items.map(({ task, deleted_at }) => (
            <li key={task.id} className="task">
              <div className="task-body">
                <span className="task-title">{task.title}</span>
                <div className="task-meta">
                  <span className="chip">Deleted {shortDateTime(deleted_at)}</span>
                </div>
              </div>
              <div className="task-actions">
                <button
                  type="button"
                  className="ghost"
                  aria-label={`Restore ${task.title}`}
                  onClick={() =>
                    act(() => api.client.POST("/{user_id}/trash/{id}/restore", { params: { path: { ...path, id: task.id } } }))
                  }
                >
                  Restore
                </button>
                <button
                  type="button"
                  className="ghost danger"
                  aria-label={`Delete ${task.title} forever`}
                  onClick={() => act(() => api.client.DELETE("/{user_id}/trash/{id}", { params: { path: { ...path, id: task.id } } }))}
                >
                  Delete forever
                </button>
              </div>
            </li>
          ))}
        </ul>
        <ListEnd empty={items.length === 0} hasMore={next !== null} onMore={loadMore} emptyText="The trash is empty." />
      </main>
    </div>
  );
}

"use client";
/** The signed-in person's tasks and lists: add (components/AddTask.tsx, quick add), find, complete, edit, order,
 * delete with Undo (lib/useUndo.ts); kept current by live events applied from the change feed (lib/useTaskView.ts).
 * Adding, completing, deleting and Undo go through the outbox (lib/outbox.ts): while the API cannot be reached they
 * wait, shown as done, and go out together as one batch when it is back. */
import type { DueReminder, Task } from "@taskapi/client";
import { useCallback, useEffect, useState } from "react";

import { ApiError, call } from "@/lib/api";
import { listOf, type Sort, type Filters } from "@/lib/filters";
import { shownTasks, useOutbox, waitingCreates } from "@/lib/outbox";
import { useLiveUpdates } from "@/lib/useLiveUpdates";
import { notify } from "@/lib/notifications";
import { useTaskApi } from "@/lib/useTaskApi";
import { useTaskView } from "@/lib/useTaskView";
import { useUndo } from "@/lib/useUndo";

import { AddTask } from "./AddTask";
import { ListEnd } from "./ListEnd";
import { ListsNav } from "./ListsNav";
import { Sidebar } from "./Sidebar";
import { TaskEditor } from "./TaskEditor";
import { TaskItem } from "./TaskItem";
import { TopBar } from "./TopBar";

// Typing in Search asks the API once the person pauses this long, not at every key.
const SEARCH_PAUSE_MS = 300;

export function TasksPage({ apiUrl, userId, name }: { apiUrl: string; userId: string; name: string }) {
  const api = useTaskApi(apiUrl);
  const view = useTaskView(api, userId);
  const { filters, setFilters: set, tasks, lists } = view;
  // Completions sent and not yet read back: task id → completed.
  const [completing, setCompleting] = useState<Record<string, boolean>>({});
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => set({ q: search }), SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [search, set]);
  const [listError, setListError] = useState("");
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [alerts, setAlerts] = useState<string[]>([]);
  const path = { user_id: userId };

  const remind = useCallback((reminder: DueReminder) => {
    notify(reminder);
    setAlerts((old) => [...old, `Reminder: ${reminder.title}`]);
  }, []);
  useLiveUpdates(api, apiUrl, userId, view.live, remind);
  const outbox = useOutbox(api, userId, view.changed);
  const { deleted, removeTask, removeList, undo } = useUndo(api, userId, outbox, view.changed, refused);

  async function toggle(task: Task) {
    // Shown at once, and kept over whatever a read already in flight answers, until the read that follows the
    // change (which also brings a recurring task's next occurrence) has the truth.
    setCompleting((old) => ({ ...old, [task.id]: !task.completed }));
    try {
      await outbox.send({ op: "complete", id: task.id, body: { completed: !task.completed } });
    } catch (error) {
      refused(error);
    } finally {
      setCompleting(({ [task.id]: _settled, ...rest }) => rest);
    }
  }

  /** An outbox operation the API refused (the task was deleted on another device, say): say why. */
  function refused(error: unknown) {
    if (!(error instanceof ApiError)) throw error;
    setAlerts((old) => [...old, error.problem.detail]);
    void view.changed();
  }

  /** Puts the task right after `after` (null: first) in the list shown, which keeps the task's own order. */
  async function move(task: Task, after: Task | null) {
    await api.perform(() =>
      call(() =>
        api.client.POST("/{user_id}/tasks/{id}/move", { params: { path: { ...path, id: task.id } }, body: { after: after?.id ?? null } }),
      ),
    );
    await view.changed();
  }

  /** Whether the list was made (else the field says why). */
  async function addList(name: string): Promise<boolean> {
    setListError("");
    const key = crypto.randomUUID();
    try {
      const { data } = await api.perform(() =>
        call(() => api.client.POST("/{user_id}/lists", { params: { path, header: { "Idempotency-Key": key } }, body: { name } })),
      );
      set({ view: data.id, sort: "position" });
      await view.changed(true);
      return true;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setListError(error.fieldMessage("name") ?? error.problem.detail);
      return false;
    }
  }

  // One list (or the Inbox) in its own order: its tasks can be moved up and down.
  const ordering = filters.view !== "all" && filters.sort === "position";
  const visible = shownTasks(tasks, outbox.pending);
  const waiting = outbox.unreachable ? waitingCreates(outbox.pending, filters.view) : [];

  return (
    <div className="app" data-hydrated={hydrated || undefined}>
      <TopBar api={api} userId={userId} name={name} />
      {(api.unreachable || outbox.unreachable) && (
        <p role="alert" className="banner">
          The task service cannot be reached. Your changes are kept and will be sent when it is back.
        </p>
      )}
      {outbox.pending.length > 0 && outbox.unreachable && (
        <p role="status" className="banner">
          {outbox.pending.length === 1 ? "1 change waits" : `${outbox.pending.length} changes wait`} to be sent.
        </p>
      )}
      {alerts.map((text, index) => (
        <p role="alert" className="banner reminder" key={`${text}-${index}`}>
          {text}{" "}
          <button type="button" className="ghost" onClick={() => setAlerts((old) => old.filter((_, n) => n !== index))}>
            Dismiss
          </button>
        </p>
      ))}
      <div className="layout">
        <Sidebar tags={view.tags} summary={view.summary} activeTag={filters.tag} onTag={(tag) => set({ tag })}>
          <ListsNav
            lists={lists}
            view={filters.view}
            onView={(view) => set({ view, sort: view === "all" ? "-created" : "position" })}
            onAdd={addList}
            onDelete={(list) => void removeList(list, () => filters.view === list.id && set({ view: "all", sort: "-created" }))}
            error={listError}
          />
        </Sidebar>
        <main>
          <AddTask api={api} userId={userId} outbox={outbox} listId={listOf(filters.view)} />
          <div className="toolbar">
            <input type="search" aria-label="Search" placeholder="Search" value={search} onChange={(e) => setSearch(e.target.value)} />
            <select aria-label="Show" value={filters.status} onChange={(e) => set({ status: e.target.value as Filters["status"] })}>
              <option value="all">All</option>
              <option value="pending">Open</option>
              <option value="completed">Done</option>
            </select>
            <select aria-label="Filter by priority" value={filters.priority} onChange={(e) => set({ priority: e.target.value as Filters["priority"] })}>
              <option value="">Any priority</option>
              <option value="high">High</option>
              <option value="medium">Medium</option>
              <option value="low">Low</option>
            </select>
            <select aria-label="Sort by" value={filters.sort} onChange={(e) => set({ sort: e.target.value as Sort })}>
              <option value="-created">Newest</option>
              <option value="created">Oldest</option>
              <option value="due">Due date</option>
              <option value="title">Title</option>
              <option value="-updated">Recently changed</option>
              <option value="position">My order</option>
            </select>
          </div>
          <ul className="tasks" aria-label="Tasks">
            {/* Shown while the API cannot be reached; otherwise they are on their way, and read back at once. */}
            {waiting.map(({ ref, title }) => (
              <li key={ref} className="task waiting">
                <span className="task-title">{title}</span> <span className="chip">Waiting to be sent</span>
              </li>
            ))}
            {visible.map((task, index) => (
              <TaskItem
                key={task.id}
                task={task.id in completing ? { ...task, completed: completing[task.id]! } : task}
                onToggle={toggle}
                onEdit={(t) => setEditing(t.id)}
                onDelete={removeTask}
                {...(ordering && index > 0 ? { onMoveUp: (t: Task) => void move(t, visible[index - 2] ?? null) } : {})}
                {...(ordering && index < visible.length - 1 ? { onMoveDown: (t: Task) => void move(t, visible[index + 1]!) } : {})}
              />
            ))}
          </ul>
          <ListEnd empty={visible.length === 0 && waiting.length === 0} hasMore={view.hasMore} onMore={view.loadMore} emptyText="Nothing here yet." />
        </main>
      </div>
      {deleted && (
        <div role="status" className="toast">
          {"task" in deleted ? `Deleted “${deleted.task.title}”.` : `Deleted list “${deleted.list.name}” and its tasks.`}{" "}
          <button type="button" onClick={undo}>
            Undo
          </button>
        </div>
      )}
      {editing && (
        <TaskEditor
          api={api}
          userId={userId}
          taskId={editing}
          lists={lists}
          onClose={() => {
            setEditing(null);
            void view.changed();
          }}
        />
      )}
    </div>
  );
}

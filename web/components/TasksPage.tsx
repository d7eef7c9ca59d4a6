"use client";
/** The signed-in person's tasks: add, find, complete, edit, delete with Undo; kept current by live events. */
import type { operations, Summary, TagList, Task } from "@taskapi/client";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";

import { ApiError, call } from "@/lib/api";
import { authClient } from "@/lib/auth-client";
import { browserTimeZone } from "@/lib/time";
import { useLiveUpdates } from "@/lib/useLiveUpdates";
import { notify, useReminders } from "@/lib/useReminders";
import { useTaskApi } from "@/lib/useTaskApi";

import { ListEnd } from "./ListEnd";
import { Sidebar } from "./Sidebar";
import { TaskEditor } from "./TaskEditor";
import { TaskItem } from "./TaskItem";

const PAGE = 20;

type Sort = NonNullable<NonNullable<operations["listTasks"]["parameters"]["query"]>["sort"]>;

interface Filters {
  status: "all" | "pending" | "completed";
  priority: "" | Task["priority"];
  tag: string;
  q: string;
  sort: Sort;
}

export function TasksPage({ apiUrl, userId, name }: { apiUrl: string; userId: string; name: string }) {
  const api = useTaskApi(apiUrl);
  const { client, perform } = api;
  const [filters, setFilters] = useState<Filters>({ status: "all", priority: "", tag: "", q: "", sort: "-created" });
  const [tasks, setTasks] = useState<Task[]>([]);
  // Completions sent and not yet read back: task id → completed.
  const [completing, setCompleting] = useState<Record<string, boolean>>({});
  const [next, setNext] = useState<string | null>(null);
  const [shown, setShown] = useState(PAGE);
  const [tags, setTags] = useState<TagList["items"]>([]);
  const [summary, setSummary] = useState<Summary | null>(null);
  // Uncontrolled: what a person types is never reset by a render (or by hydration, if they type that early).
  const newTitle = useRef<HTMLInputElement>(null);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [titleError, setTitleError] = useState("");
  const [deleted, setDeleted] = useState<Task | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [alerts, setAlerts] = useState<string[]>([]);
  // Known in the browser only: read after hydration, so that the server's HTML and the first render agree.
  const [mayAskToNotify, setMayAskToNotify] = useState(false);
  useEffect(() => setMayAskToNotify(typeof Notification !== "undefined" && Notification.permission === "default"), []);
  const path = { user_id: userId };

  const readNow = useCallback(async () => {
    const query = { ...queryOf(filters), limit: Math.min(100, shown) };
    const [list, tagList, counts] = await perform(() =>
      Promise.all([
        call(() => client.GET("/{user_id}/tasks", { params: { path, query } })),
        call(() => client.GET("/{user_id}/tags", { params: { path } })),
        call(() => client.GET("/{user_id}/summary", { params: { path, query: { timezone: browserTimeZone() } } })),
      ]),
    );
    setTasks(list.data.items);
    setNext(list.data.next_cursor);
    setTags(tagList.data.items);
    setSummary(counts.data);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `path` is derived from userId
  }, [client, perform, filters, shown, userId]);

  // Every action and every live event asks for a read, often several at once. One read runs at a time, and the
  // asks that come meanwhile make one more: answers never arrive out of order, and a burst of edits costs two
  // reads, not one each (which also ran into the API's rate limit).
  const latestReadNow = useRef(readNow);
  latestReadNow.current = readNow;
  const running = useRef<Promise<void> | null>(null);
  const askedAgain = useRef(false);
  const read = useCallback((): Promise<void> => {
    if (running.current) {
      askedAgain.current = true;
      return running.current;
    }
    running.current = (async () => {
      do {
        askedAgain.current = false;
        await latestReadNow.current();
      } while (askedAgain.current);
    })().finally(() => {
      running.current = null;
    });
    return running.current;
  }, []);

  useEffect(() => {
    void read();
  }, [read, readNow]);
  useLiveUpdates(api, apiUrl, userId, read);

  const remind = useCallback((task: Task) => {
    notify(task);
    setAlerts((old) => [...old, `Reminder: ${task.title}`]);
  }, []);
  useReminders(tasks, remind);

  async function loadMore() {
    if (!next) return;
    const { data } = await api.perform(() =>
      call(() => api.client.GET("/{user_id}/tasks", { params: { path, query: { ...queryOf(filters), cursor: next, limit: PAGE } } })),
    );
    setTasks((old) => [...old, ...data.items]);
    setNext(data.next_cursor);
    setShown((old) => old + data.items.length);
  }

  async function add(event: FormEvent) {
    event.preventDefault();
    const text = newTitle.current?.value.trim() ?? "";
    if (!text) return;
    setTitleError("");
    // One key per action: a retry after a lost connection never makes a second task.
    const key = crypto.randomUUID();
    try {
      await api.perform(() =>
        call(() =>
          api.client.POST("/{user_id}/tasks", { params: { path, header: { "Idempotency-Key": key } }, body: { title: text } }),
        ),
      );
      if (newTitle.current) newTitle.current.value = "";
      await read();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setTitleError(error.fieldMessage("title") ?? error.problem.detail);
    }
  }

  async function toggle(task: Task) {
    // Shown at once, and kept over whatever a read already in flight answers, until the read that follows the
    // change (which also brings a recurring task's next occurrence) has the truth.
    setCompleting((old) => ({ ...old, [task.id]: !task.completed }));
    try {
      await api.perform(() =>
        call(() =>
          api.client.PATCH("/{user_id}/tasks/{id}/complete", {
            params: { path: { ...path, id: task.id } },
            body: { completed: !task.completed },
          }),
        ),
      );
      await read();
    } finally {
      setCompleting(({ [task.id]: _settled, ...rest }) => rest);
    }
  }

  async function remove(task: Task) {
    await api.perform(() => call(() => api.client.DELETE("/{user_id}/tasks/{id}", { params: { path: { ...path, id: task.id } } })));
    setDeleted(task);
    await read();
  }

  async function undo() {
    if (!deleted) return;
    const task = deleted;
    setDeleted(null);
    await api.perform(() =>
      call(() => api.client.POST("/{user_id}/trash/{id}/restore", { params: { path: { ...path, id: task.id } } })),
    );
    await read();
  }

  async function signOut() {
    await authClient.signOut();
    window.location.assign("/sign-in");
  }

  const set = (change: Partial<Filters>) => {
    setShown(PAGE);
    setFilters((old) => ({ ...old, ...change }));
  };

  return (
    <div className="app" data-hydrated={hydrated || undefined}>
      <header className="topbar">
        <h1>Tasks</h1>
        <span className="who">{name}</span>
        {mayAskToNotify && (
          <button
            type="button"
            className="ghost"
            onClick={() => void Notification.requestPermission().then(() => setMayAskToNotify(false))}
          >
            Enable notifications
          </button>
        )}
        <button type="button" className="ghost" onClick={signOut}>
          Sign out
        </button>
      </header>
      {api.unreachable && (
        <p role="alert" className="banner">
          The task service cannot be reached. Your changes are kept and will be sent when it is back.
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
        <Sidebar tags={tags} summary={summary} activeTag={filters.tag} onTag={(tag) => set({ tag })} />
        <main>
          <form className="new-task" onSubmit={add}>
            <input
              aria-label="New task"
              placeholder="Add a task…"
              ref={newTitle}
              maxLength={200}
              {...(titleError ? { "aria-invalid": true, "aria-describedby": "new-task-error" } : {})}
            />
            <button type="submit">Add task</button>
          </form>
          {titleError && (
            <p className="field-error" id="new-task-error">
              {titleError}
            </p>
          )}
          <div className="toolbar">
            <input type="search" aria-label="Search" placeholder="Search" value={filters.q} onChange={(e) => set({ q: e.target.value })} />
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
            </select>
          </div>
          <ul className="tasks" aria-label="Tasks">
            {tasks.map((task) => (
              <TaskItem
                key={task.id}
                task={task.id in completing ? { ...task, completed: completing[task.id]! } : task}
                onToggle={toggle}
                onEdit={(t) => setEditing(t.id)}
                onDelete={remove}
              />
            ))}
          </ul>
          <ListEnd empty={tasks.length === 0} hasMore={next !== null} onMore={loadMore} emptyText="Nothing here yet." />
        </main>
      </div>
      {deleted && (
        <div role="status" className="toast">
          Deleted “{deleted.title}”.{" "}
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
          onClose={() => {
            setEditing(null);
            void read();
          }}
        />
      )}
    </div>
  );
}

function queryOf(filters: Filters) {
  return {
    status: filters.status,
    sort: filters.sort,
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.priority ? { priority: filters.priority } : {}),
    ...(filters.tag ? { tag: [filters.tag] } : {}),
  };
}

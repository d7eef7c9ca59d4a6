"use client";
/** The signed-in person's tasks and lists: add, find, complete, edit, order, delete with Undo; kept current by
 * live events. Adding, completing, deleting and Undo go through the outbox (lib/outbox.ts): while the API cannot
 * be reached they wait, shown as done, and go out together as one batch when it is back. */
import type { DueReminder, List, operations, Summary, TagList, Task } from "@taskapi/client";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";

import { ApiError, call } from "@/lib/api";
import { authClient } from "@/lib/auth-client";
import { browserTimeZone } from "@/lib/time";
import { newRef, shownTasks, useOutbox, waitingCreates } from "@/lib/outbox";
import { subscribeToPush } from "@/lib/push";
import { useLiveUpdates } from "@/lib/useLiveUpdates";
import { notify } from "@/lib/notifications";
import { useTaskApi } from "@/lib/useTaskApi";

import { ListEnd } from "./ListEnd";
import { ListsNav, type View } from "./ListsNav";
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
  view: View;
}

/** What Undo brings back: a task, or a list with the tasks deleted with it. */
type Deleted = { task: Task } | { list: List };

export function TasksPage({ apiUrl, userId, name }: { apiUrl: string; userId: string; name: string }) {
  const api = useTaskApi(apiUrl);
  const { client, perform } = api;
  const [filters, setFilters] = useState<Filters>({ status: "all", priority: "", tag: "", q: "", sort: "-created", view: "all" });
  const [tasks, setTasks] = useState<Task[]>([]);
  // Completions sent and not yet read back: task id → completed.
  const [completing, setCompleting] = useState<Record<string, boolean>>({});
  const [next, setNext] = useState<string | null>(null);
  const [shown, setShown] = useState(PAGE);
  const [tags, setTags] = useState<TagList["items"]>([]);
  const [lists, setLists] = useState<List[]>([]);
  const [listError, setListError] = useState("");
  const [summary, setSummary] = useState<Summary | null>(null);
  // Uncontrolled: what a person types is never reset by a render (or by hydration, if they type that early).
  const newTitle = useRef<HTMLInputElement>(null);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [titleError, setTitleError] = useState("");
  const [deleted, setDeleted] = useState<Deleted | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [alerts, setAlerts] = useState<string[]>([]);
  // Known in the browser only: read after hydration, so that the server's HTML and the first render agree.
  const [mayAskToNotify, setMayAskToNotify] = useState(false);
  useEffect(() => setMayAskToNotify(typeof Notification !== "undefined" && Notification.permission === "default"), []);
  // Reminders pushed while no tab is open, once notifications are allowed (lib/push.ts).
  useEffect(() => {
    if (typeof Notification !== "undefined" && Notification.permission === "granted") void subscribeToPush(api, userId);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per page and person
  }, [userId]);
  const path = { user_id: userId };

  const readNow = useCallback(async () => {
    const query = { ...queryOf(filters), limit: Math.min(100, shown) };
    const [list, tagList, counts, listList] = await perform(() =>
      Promise.all([
        call(() => client.GET("/{user_id}/tasks", { params: { path, query } })),
        call(() => client.GET("/{user_id}/tags", { params: { path } })),
        call(() => client.GET("/{user_id}/summary", { params: { path, query: { timezone: browserTimeZone() } } })),
        call(() => client.GET("/{user_id}/lists", { params: { path } })),
      ]),
    );
    setTasks(list.data.items);
    setNext(list.data.next_cursor);
    setTags(tagList.data.items);
    setSummary(counts.data);
    setLists(listList.data.items);
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
  const remind = useCallback((reminder: DueReminder) => {
    notify(reminder);
    setAlerts((old) => [...old, `Reminder: ${reminder.title}`]);
  }, []);
  useLiveUpdates(api, apiUrl, userId, read, remind);
  const outbox = useOutbox(api, userId, read);

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
    const input = newTitle.current;
    const text = input?.value.trim() ?? "";
    if (!input || !text) return;
    setTitleError("");
    const listId = listOf(filters.view);
    input.value = "";
    try {
      await outbox.send({
        op: "create",
        ref: newRef(),
        body: { title: text, ...(listId !== undefined ? { list_id: listId } : {}) },
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Refused: the text back in the field (unless something else was typed meanwhile), and why.
      if (!input.value) input.value = text;
      setTitleError(error.fieldMessage("title") ?? error.problem.detail);
    }
  }

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

  async function remove(task: Task) {
    setDeleted({ task });
    await outbox.send({ op: "delete", id: task.id }).catch(refused);
  }

  /** An outbox operation the API refused (the task was deleted on another device, say): say why. */
  function refused(error: unknown) {
    if (!(error instanceof ApiError)) throw error;
    setAlerts((old) => [...old, error.problem.detail]);
    void read();
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
      await read();
    }
  }

  /** Puts the task right after `after` (null: first) in the list shown, which keeps the task's own order. */
  async function move(task: Task, after: Task | null) {
    await api.perform(() =>
      call(() =>
        api.client.POST("/{user_id}/tasks/{id}/move", { params: { path: { ...path, id: task.id } }, body: { after: after?.id ?? null } }),
      ),
    );
    await read();
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
      return true;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setListError(error.fieldMessage("name") ?? error.problem.detail);
      return false;
    }
  }

  async function removeList(list: List) {
    await api.perform(() =>
      call(() => api.client.DELETE("/{user_id}/lists/{list_id}", { params: { path: { ...path, list_id: list.id } } })),
    );
    setDeleted({ list });
    if (filters.view === list.id) set({ view: "all", sort: "-created" });
    else await read();
  }

  async function signOut() {
    await authClient.signOut();
    window.location.assign("/sign-in");
  }

  const set = (change: Partial<Filters>) => {
    setShown(PAGE);
    setFilters((old) => ({ ...old, ...change }));
  };
  // One list (or the Inbox) in its own order: its tasks can be moved up and down.
  const ordering = filters.view !== "all" && filters.sort === "position";
  const visible = shownTasks(tasks, outbox.pending);
  const waiting = outbox.unreachable ? waitingCreates(outbox.pending, filters.view) : [];

  return (
    <div className="app" data-hydrated={hydrated || undefined}>
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
        <Sidebar tags={tags} summary={summary} activeTag={filters.tag} onTag={(tag) => set({ tag })}>
          <ListsNav
            lists={lists}
            view={filters.view}
            onView={(view) => set({ view, sort: view === "all" ? "-created" : "position" })}
            onAdd={addList}
            onDelete={(list) => void removeList(list)}
            error={listError}
          />
        </Sidebar>
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
                onDelete={remove}
                {...(ordering && index > 0 ? { onMoveUp: (t: Task) => void move(t, visible[index - 2] ?? null) } : {})}
                {...(ordering && index < visible.length - 1 ? { onMoveDown: (t: Task) => void move(t, visible[index + 1]!) } : {})}
              />
            ))}
          </ul>
          <ListEnd empty={visible.length === 0 && waiting.length === 0} hasMore={next !== null} onMore={loadMore} emptyText="Nothing here yet." />
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
            void read();
          }}
        />
      )}
    </div>
  );
}

/** The list a new task goes in: the one shown, null for the Inbox, or (every task shown) the API's default. */
function listOf(view: View): string | null | undefined {
  return view === "all" ? undefined : view === "inbox" ? null : view;
}

function queryOf(filters: Filters) {
  return {
    status: filters.status,
    sort: filters.sort,
    // Top-level tasks; a task's steps are in its editor.
    parent_id: "none",
    // A list's id or "inbox"; every task: no filter.
    ...(filters.view !== "all" ? { list_id: filters.view } : {}),
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.priority ? { priority: filters.priority } : {}),
    ...(filters.tag ? { tag: [filters.tag] } : {}),
  };
}

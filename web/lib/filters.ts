/** What the task list shows (status, priority, tag, search, order, list), as the API's query, and whether a task
 * read from the change feed belongs in it. */
import type { operations, Task } from "@taskapi/client";

export type Sort = NonNullable<NonNullable<operations["listTasks"]["parameters"]["query"]>["sort"]>;

/** Every task, the Inbox, or a list's id. */
export type View = "all" | "inbox" | string;

export interface Filters {
  status: "all" | "pending" | "completed";
  priority: "" | Task["priority"];
  tag: string;
  q: string;
  sort: Sort;
  view: View;
}

export const ALL_TASKS: Filters = { status: "all", priority: "", tag: "", q: "", sort: "-created", view: "all" };

/** The list a new task goes in: the one shown, null for the Inbox, or (every task shown) the API's default. */
export function listOf(view: View): string | null | undefined {
  return view === "all" ? undefined : view === "inbox" ? null : view;
}

export function queryOf(filters: Filters) {
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

/** Whether `task` is one the list shows; undefined when only the API can tell (a search). */
export function fits(task: Task, filters: Filters): boolean | undefined {
  if (filters.q) return undefined;
  if (task.parent_id !== null) return false;
  if (filters.status === "pending" && task.completed) return false;
  if (filters.status === "completed" && !task.completed) return false;
  if (filters.priority && task.priority !== filters.priority) return false;
  if (filters.tag && !task.tags.includes(filters.tag)) return false;
  if (filters.view === "inbox") return task.list_id === null;
  return filters.view === "all" || task.list_id === filters.view;
}

/** What the list is ordered by, for one task: a change that keeps it keeps the task's place. */
function sortKey(task: Task, sort: Sort): unknown {
  const field = sort.replace(/^-/, "");
  return field === "created" ? task.created_at : field === "updated" ? task.updated_at : field === "due" ? task.due_at
    : field === "remind" ? task.remind_at : field === "title" ? task.title : task.position;
}

/**
 * The list shown, with changed tasks from the change feed applied where that is certain: a task gone or no longer
 * shown is taken out, a shown task changed in place keeps its place, a new one at the top of a newest-first list
 * goes first. `complete`: false when only a new read of the page can place what changed.
 */
export function applied(tasks: Task[], changed: { id: string; task: Task | null }[], filters: Filters): { tasks: Task[]; complete: boolean } {
  let shown = tasks;
  let complete = true;
  for (const { id, task } of changed) {
    const index = shown.findIndex((old) => old.id === id);
    const belongs = task ? fits(task, filters) : false;
    if (belongs === undefined) {
      complete = false;
    } else if (!belongs) {
      if (index >= 0) shown = shown.filter((old) => old.id !== id);
    } else if (index >= 0 && sortKey(shown[index]!, filters.sort) === sortKey(task!, filters.sort)) {
      shown = shown.map((old) => (old.id === id ? task! : old));
    } else if (index < 0 && filters.sort === "-created") {
      shown = [task!, ...shown];
    } else {
      complete = false;
    }
  }
  return { tasks: shown, complete };
}

"use client";
/** Edit one task: read with its ETag, saved with If-Match; a change made elsewhere meanwhile (412) is shown. */
import type { List, Task, TaskUpdate } from "@taskapi/client";
import { type FormEvent, useEffect, useRef, useState } from "react";

import { ApiError, call } from "@/lib/api";
import { PRESET_LABELS, type Preset, presetOf, ruleFor } from "@/lib/recurrence";
import { browserTimeZone, fromLocalInput, toLocalInput } from "@/lib/time";
import type { TaskApi } from "@/lib/useTaskApi";

import { Steps } from "./Steps";

interface Props {
  api: TaskApi;
  userId: string;
  taskId: string;
  lists: List[];
  onClose: (saved?: Task) => void;
}

interface Form {
  title: string;
  description: string;
  priority: Task["priority"];
  due: string;
  tags: string;
  reminder: string;
  preset: Preset;
  rule: string;
  /** The list's id; "" for the Inbox. */
  list: string;
}

function formOf(task: Task): Form {
  return {
    title: task.title,
    description: task.description ?? "",
    priority: task.priority,
    due: toLocalInput(task.due_at),
    tags: task.tags.join(", "),
    reminder: toLocalInput(task.remind_at),
    preset: presetOf(task.recurrence?.rule),
    rule: task.recurrence?.rule ?? "",
    list: task.list_id ?? "",
  };
}

/** Only what the person changed: a field sent back unchanged could still change the task (a reminder cut to whole
 * seconds would fire again; the API keeps a series whose rule comes back, but a zone or rule typed anew would not). */
function changesOf(form: Form, task: Task): TaskUpdate {
  const before = formOf(task);
  const due = fromLocalInput(form.due);
  const rule = ruleFor(form.preset, due ? new Date(due) : null, form.rule);
  const keepsZone = task.recurrence && task.recurrence.rule === rule;
  const changes: TaskUpdate = {};
  if (form.title !== before.title) changes.title = form.title;
  if (form.description !== before.description) changes.description = form.description || null;
  if (form.priority !== before.priority) changes.priority = form.priority;
  if (form.due !== before.due) changes.due_at = due;
  if (form.tags !== before.tags) {
    changes.tags = form.tags
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean);
  }
  if (form.reminder !== before.reminder) changes.remind_at = fromLocalInput(form.reminder);
  if ((rule ?? "") !== (task.recurrence?.rule ?? "")) {
    changes.recurrence = rule ? { rule, timezone: keepsZone ? task.recurrence!.timezone : browserTimeZone() } : null;
  }
  if (form.list !== before.list) changes.list_id = form.list || null;
  return changes;
}

const FIELDS: Record<string, keyof Form> = {
  title: "title",
  description: "description",
  priority: "priority",
  due_at: "due",
  tags: "tags",
  remind_at: "reminder",
  "recurrence.rule": "rule",
  "recurrence.timezone": "rule",
  list_id: "list",
};

export function TaskEditor({ api, userId, taskId, lists, onClose }: Props) {
  const [task, setTask] = useState<Task | null>(null);
  const [etag, setEtag] = useState("");
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Partial<Record<keyof Form, string>>>({});
  const [message, setMessage] = useState("");
  const [saving, setSaving] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  async function read(): Promise<Task> {
    const { data, response } = await api.perform(() =>
      call(() => api.client.GET("/{user_id}/tasks/{id}", { params: { path: { user_id: userId, id: taskId } } })),
    );
    setTask(data);
    setEtag(response.headers.get("ETag") ?? "");
    setForm(formOf(data));
    return data;
  }

  /** A step added or ticked changed the task's counts, and so its ETag: take the new one, unless the task's own
   * fields changed too (someone else edited it meanwhile), so that saving still says so. */
  async function stepsChanged() {
    const { data, response } = await api.perform(() =>
      call(() => api.client.GET("/{user_id}/tasks/{id}", { params: { path: { user_id: userId, id: taskId } } })),
    );
    if (task && JSON.stringify(formOf(data)) === JSON.stringify(formOf(task))) {
      setTask(data);
      setEtag(response.headers.get("ETag") ?? "");
    }
  }

  useEffect(() => {
    dialog.current?.showModal();
    void read();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- read once, when the editor opens
  }, [taskId]);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!form || !task) return;
    const changes = changesOf(form, task);
    if (Object.keys(changes).length === 0) return onClose();
    setSaving(true);
    setErrors({});
    setMessage("");
    try {
      const { data } = await api.perform(() =>
        call(() =>
          api.client.PUT("/{user_id}/tasks/{id}", {
            params: { path: { user_id: userId, id: taskId }, header: { "If-Match": etag } },
            body: changes,
          }),
        ),
      );
      onClose(data);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 412) {
        const current = await read();
        setMessage(`“${current.title}” was changed elsewhere. This is its current version: make your changes again.`);
      } else if (error.problem.errors?.length) {
        const named: Partial<Record<keyof Form, string>> = {};
        for (const entry of error.problem.errors) named[FIELDS[entry.field] ?? "title"] = entry.message;
        setErrors(named);
      } else {
        setMessage(error.problem.detail);
      }
    } finally {
      setSaving(false);
    }
  }

  const set = <K extends keyof Form>(name: K, value: Form[K]) => setForm((old) => (old ? { ...old, [name]: value } : old));
  const error = (name: keyof Form) =>
    errors[name] ? (
      <p className="field-error" id={`error-${name}`}>
        {errors[name]}
      </p>
    ) : null;
  const described = (name: keyof Form) => (errors[name] ? { "aria-describedby": `error-${name}`, "aria-invalid": true } : {});

  return (
    <dialog ref={dialog} className="editor" aria-label="Edit task" onCancel={() => onClose()}>
      {!form ? (
        <p>Loading…</p>
      ) : (
        <form onSubmit={save}>
          <h2>Edit task</h2>
          {message && (
            <p role="alert" className="conflict">
              {message}
            </p>
          )}
          <label>
            Title
            <input value={form.title} onChange={(e) => set("title", e.target.value)} required {...described("title")} />
          </label>
          {error("title")}
          <label>
            Description
            <textarea value={form.description} onChange={(e) => set("description", e.target.value)} rows={3} {...described("description")} />
          </label>
          {error("description")}
          {task && task.parent_id === null && <Steps api={api} userId={userId} parentId={task.id} onChange={() => void stepsChanged()} />}
          <label>
            List
            <select aria-label="List" value={form.list} onChange={(e) => set("list", e.target.value)} {...described("list")}>
              <option value="">Inbox</option>
              {lists.map((list) => (
                <option key={list.id} value={list.id}>
                  {list.name}
                </option>
              ))}
            </select>
          </label>
          {error("list")}
          <div className="row">
            <label>
              Priority
              <select aria-label="Priority" value={form.priority} onChange={(e) => set("priority", e.target.value as Form["priority"])}>
                <option value="low">Low</option>
                <option value="medium">Medium</option>
                <option value="high">High</option>
              </select>
            </label>
            <label>
              Due
              <input type="datetime-local" step="1" value={form.due} onChange={(e) => set("due", e.target.value)} {...described("due")} />
            </label>
          </div>
          {error("due")}
          <label>
            Tags
            <input value={form.tags} placeholder="work, home" onChange={(e) => set("tags", e.target.value)} {...described("tags")} />
          </label>
          {error("tags")}
          <label>
            Reminder
            <input type="datetime-local" step="1" value={form.reminder} onChange={(e) => set("reminder", e.target.value)} {...described("reminder")} />
          </label>
          {error("reminder")}
          <label>
            Repeat
            <select aria-label="Repeat" value={form.preset} onChange={(e) => set("preset", e.target.value as Preset)}>
              {(Object.keys(PRESET_LABELS) as Preset[]).map((preset) => (
                <option key={preset} value={preset}>
                  {PRESET_LABELS[preset]}
                </option>
              ))}
            </select>
          </label>
          {form.preset === "custom" && (
            <label>
              Rule
              <input value={form.rule} placeholder="FREQ=WEEKLY;BYDAY=MO,WE" onChange={(e) => set("rule", e.target.value)} {...described("rule")} />
            </label>
          )}
          {error("rule")}
          <div className="buttons">
            <button type="button" className="ghost" onClick={() => onClose()}>
              Cancel
            </button>
            <button type="submit" disabled={saving}>
              Save
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

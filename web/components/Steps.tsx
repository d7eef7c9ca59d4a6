"use client";
/** A task's steps (its subtasks), in the task's editor: ticked, added (last), in their own order. */
import type { Task } from "@taskapi/client";
import { type KeyboardEvent, useCallback, useEffect, useRef, useState } from "react";

import { ApiError, call } from "@/lib/api";
import type { TaskApi } from "@/lib/useTaskApi";

interface Props {
  api: TaskApi;
  userId: string;
  parentId: string;
  /** A step was added or ticked: the parent's counts, and so its ETag, changed. */
  onChange: () => void;
}

export function Steps({ api, userId, parentId, onChange }: Props) {
  const [steps, setSteps] = useState<Task[]>([]);
  const [title, setTitle] = useState("");
  const [error, setError] = useState("");
  const path = { user_id: userId };
  // Ticks begun so far. A read that a later tick overtook is dropped: it would undo what that tick shows (tick two
  // steps quickly and the first tick's read, sent before the second, unticks the second); the later tick's own
  // read brings the truth. An add shows nothing before its read, so an older read has nothing of it to undo.
  const ticks = useRef(0);

  const read = useCallback(async () => {
    const asOf = ticks.current;
    const { data } = await api.perform(() =>
      call(() =>
        api.client.GET("/{user_id}/tasks", {
          params: { path: { user_id: userId }, query: { parent_id: parentId, sort: "position", limit: 100 } },
        }),
      ),
    );
    if (ticks.current === asOf) setSteps(data.items);
  }, [api, userId, parentId]);

  useEffect(() => {
    void read();
  }, [read]);

  async function add() {
    const text = title.trim();
    if (!text) return;
    setError("");
    const key = crypto.randomUUID();
    try {
      await api.perform(() =>
        call(() =>
          api.client.POST("/{user_id}/tasks", {
            params: { path, header: { "Idempotency-Key": key } },
            body: { title: text, parent_id: parentId },
          }),
        ),
      );
      setTitle("");
      await read();
      onChange();
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      setError(failure.fieldMessage("title") ?? failure.problem.detail);
    }
  }

  async function toggle(step: Task) {
    ticks.current += 1;
    // Shown ticked at once; the read that follows has the truth.
    setSteps((old) => old.map((each) => (each.id === step.id ? { ...each, completed: !step.completed } : each)));
    try {
      await api.perform(() =>
        call(() =>
          api.client.PATCH("/{user_id}/tasks/{id}/complete", {
            params: { path: { ...path, id: step.id } },
            body: { completed: !step.completed },
          }),
        ),
      );
    } finally {
      await read(); // refused or not, the list shows what the API holds
    }
    onChange();
  }

  // The editor is a form: Enter in this field adds a step, and does not save the task.
  const onKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    void add();
  };

  return (
    <fieldset className="steps">
      <legend>Steps</legend>
      <ul aria-label="Steps">
        {steps.map((step) => (
          <li key={step.id} className={step.completed ? "done" : undefined}>
            <label>
              <input type="checkbox" checked={step.completed} onChange={() => void toggle(step)} /> {step.title}
            </label>
          </li>
        ))}
      </ul>
      <div className="add-step">
        <input
          aria-label="New step"
          placeholder="Add a step…"
          value={title}
          maxLength={200}
          onChange={(event) => setTitle(event.target.value)}
          onKeyDown={onKey}
          {...(error ? { "aria-invalid": true, "aria-describedby": "new-step-error" } : {})}
        />
        <button type="button" className="ghost" onClick={() => void add()}>
          Add step
        </button>
      </div>
      {error && (
        <p className="field-error" id="new-step-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

"use client";
/** The add box: what the words typed say (quick add: lib/useQuickAdd.ts) shown as chips to undo, and the task
 * added through the outbox, in the list shown unless the words name another. */
import { type FormEvent, useRef, useState } from "react";

import { ApiError } from "@/lib/api";
import { newRef, type Outbox } from "@/lib/outbox";
import { useQuickAdd } from "@/lib/useQuickAdd";
import type { TaskApi } from "@/lib/useTaskApi";

import { Understood } from "./Understood";

interface Props {
  api: TaskApi;
  userId: string;
  outbox: Outbox;
  listId: string | null | undefined;
}

export function AddTask({ api, userId, outbox, listId }: Props) {
  // Uncontrolled: what a person types is never reset by a render (or by hydration, if they type that early).
  const newTitle = useRef<HTMLInputElement>(null);
  const [titleError, setTitleError] = useState("");
  const quick = useQuickAdd(api, userId);

  async function add(event: FormEvent) {
    event.preventDefault();
    const input = newTitle.current;
    const text = input?.value.trim() ?? "";
    if (!input || !text) return;
    setTitleError("");
    const body = await quick.fieldsFor(text);
    input.value = "";
    try {
      await outbox.send({ op: "create", ref: newRef(), body: { ...(listId !== undefined ? { list_id: listId } : {}), ...body } });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Refused: the text back in the field (unless something else was typed meanwhile), and why.
      if (!input.value) input.value = text;
      setTitleError(error.fieldMessage("title") ?? error.fieldMessage("text") ?? error.problem.detail);
    }
  }

  return (
    <>
      <form className="new-task" onSubmit={add}>
        <input
          aria-label="New task"
          placeholder="Add a task… (try: call mum tomorrow 5pm #family !high)"
          ref={newTitle}
          maxLength={1000}
          onChange={(event) => quick.typed(event.target.value)}
          {...(titleError ? { "aria-invalid": true, "aria-describedby": "new-task-error" } : {})}
        />
        <button type="submit">Add task</button>
      </form>
      <Understood reading={quick.understood} ignored={quick.ignored} onIgnore={quick.ignore} />
      {titleError && (
        <p className="field-error" id="new-task-error">
          {titleError}
        </p>
      )}
    </>
  );
}

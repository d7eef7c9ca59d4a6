"use client";
/** The person's lists in their own order, with open counts: pick one, add one, delete one (Undo is the page's). */
import type { List } from "@taskapi/client";
import { type FormEvent, useRef } from "react";

/** "all" (every task), "inbox" (tasks in no list), or a list's id. */
export type View = string;

interface Props {
  lists: List[];
  view: View;
  onView: (view: View) => void;
  /** Whether the list was made (else `error` says why). */
  onAdd: (name: string) => Promise<boolean>;
  onDelete: (list: List) => void;
  error: string;
}

export function ListsNav({ lists, view, onView, onAdd, onDelete, error }: Props) {
  const name = useRef<HTMLInputElement>(null);
  async function add(event: FormEvent) {
    event.preventDefault();
    const text = name.current?.value.trim() ?? "";
    if (!text) return;
    if ((await onAdd(text)) && name.current) name.current.value = "";
  }
  const entry = (key: View, label: string, count?: number, list?: List) => (
    <li key={key} className={key === view ? "active" : undefined}>
      <a
        href="/"
        aria-current={key === view ? "page" : undefined}
        onClick={(event) => {
          event.preventDefault();
          onView(key);
        }}
      >
        {list?.color && <span className="swatch" style={{ background: list.color }} aria-hidden />}
        {label}
      </a>
      {count !== undefined && (
        <span className="count" title={`${count} open`}>
          {count}
        </span>
      )}
      {list && (
        <button type="button" className="ghost danger small" aria-label={`Delete list ${list.name}`} onClick={() => onDelete(list)}>
          ×
        </button>
      )}
    </li>
  );
  return (
    <nav aria-label="Lists">
      <ul className="tags lists">
        {entry("all", "All tasks")}
        {entry("inbox", "Inbox")}
        {lists.map((list) => entry(list.id, list.name, list.open, list))}
      </ul>
      <form className="new-list" onSubmit={add}>
        <input aria-label="New list" placeholder="New list…" ref={name} maxLength={100} {...(error ? { "aria-invalid": true, "aria-describedby": "new-list-error" } : {})} />
        <button type="submit" className="ghost">
          Add list
        </button>
      </form>
      {error && (
        <p className="field-error" id="new-list-error">
          {error}
        </p>
      )}
    </nav>
  );
}

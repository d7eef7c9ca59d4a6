"use client";
import type { Summary, TagList } from "@taskapi/client";
import Link from "next/link";
import type { ReactNode } from "react";

interface Props {
  /** The lists, above the tags. */
  children: ReactNode;
  tags: TagList["items"];
  summary: Summary | null;
  activeTag: string;
  onTag: (tag: string) => void;
}

export function Sidebar({ children, tags, summary, activeTag, onTag }: Props) {
  return (
    <aside className="sidebar">
      {summary && (
        <dl className="summary" aria-label="Summary">
          <div>
            <dt>Open</dt>
            <dd>{summary.open}</dd>
          </div>
          <div>
            <dt>Overdue</dt>
            <dd>{summary.overdue}</dd>
          </div>
          <div>
            <dt>Due today</dt>
            <dd>{summary.due_today}</dd>
          </div>
        </dl>
      )}
      {children}
      <nav aria-label="Tags">
        <ul className="tags">
          {activeTag && (
            <li>
              <a
                href="/"
                onClick={(event) => {
                  event.preventDefault();
                  onTag("");
                }}
              >
                All tasks
              </a>
            </li>
          )}
          {tags.map((tag) => (
            <li key={tag.name} className={tag.name === activeTag ? "active" : undefined}>
              <a
                href={`/?tag=${encodeURIComponent(tag.name)}`}
                aria-current={tag.name === activeTag ? "page" : undefined}
                onClick={(event) => {
                  event.preventDefault();
                  onTag(tag.name);
                }}
              >
                {tag.name}
              </a>
              <span className="count" title={`${tag.open} open of ${tag.total}`}>
                {tag.open}
              </span>
            </li>
          ))}
        </ul>
      </nav>
      <Link href="/trash" className="trash-link">
        Trash
      </Link>
    </aside>
  );
}

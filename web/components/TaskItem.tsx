"use client";
import type { Task } from "@taskapi/client";

import { shortDateTime } from "@/lib/time";

interface Props {
  task: Task;
  onToggle: (task: Task) => void;
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
  /** In a list shown in its own order: move the task one place up or down (absent where it cannot go). */
  onMoveUp?: (task: Task) => void;
  onMoveDown?: (task: Task) => void;
}

export function TaskItem({ task, onToggle, onEdit, onDelete, onMoveUp, onMoveDown }: Props) {
  const overdue = !task.completed && task.due_at !== null && task.due_at !== undefined && new Date(task.due_at) < new Date();
  return (
    <li className={`task${task.completed ? " done" : ""}`}>
      <input
        type="checkbox"
        checked={task.completed}
        aria-label={`Complete ${task.title}`}
        onChange={() => onToggle(task)}
      />
      <div className="task-body">
        <span className="task-title">{task.title}</span>
        <div className="task-meta">
          {task.priority !== "medium" && <span className={`chip priority-${task.priority}`}>{task.priority}</span>}
          {task.due_at && <span className={overdue ? "chip overdue" : "chip"}>Due {shortDateTime(task.due_at)}</span>}
          {task.subtasks.total > 0 && (
            <span className="chip" aria-label={`${task.subtasks.total - task.subtasks.open} of ${task.subtasks.total} steps done`}>
              {task.subtasks.total - task.subtasks.open}/{task.subtasks.total} steps
            </span>
          )}
          {task.recurrence && <span className="chip">Repeats</span>}
          {task.remind_at && !task.completed && <span className="chip">Reminder {shortDateTime(task.remind_at)}</span>}
          {task.tags.map((tag) => (
            <span key={tag} className="chip tag">
              #{tag}
            </span>
          ))}
        </div>
        {task.description && <p className="task-description">{task.description}</p>}
      </div>
      <div className="task-actions">
        {onMoveUp && (
          <button type="button" className="ghost" aria-label={`Move ${task.title} up`} onClick={() => onMoveUp(task)}>
            ↑
          </button>
        )}
        {onMoveDown && (
          <button type="button" className="ghost" aria-label={`Move ${task.title} down`} onClick={() => onMoveDown(task)}>
            ↓
          </button>
        )}
        <button type="button" className="ghost" aria-label={`Edit ${task.title}`} onClick={() => onEdit(task)}>
          Edit
        </button>
        <button type="button" className="ghost danger" aria-label={`Delete ${task.title}`} onClick={() => onDelete(task)}>
          Delete
        </button>
      </div>
    </li>
  );
}

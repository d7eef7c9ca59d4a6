/** What quick add understood of the words in the add box, each a chip the person can undo before adding. */
import type { QuickAddSpan } from "@taskapi/client";

import { shortDateTime } from "@/lib/time";
import type { Understood as Reading } from "@/lib/useQuickAdd";

function label(span: QuickAddSpan): string {
  switch (span.kind) {
    case "due":
      return `Due ${shortDateTime(String(span.value))}`;
    case "recurrence":
      return `Repeats (${String(span.value)})`;
    case "tag":
      return `#${String(span.value)}`;
    case "list":
      return `In ${(span.value as { name: string }).name}`;
    default:
      return `${String(span.value)} priority`;
  }
}

export function Understood({ reading, ignored, onIgnore }: { reading: Reading | null; ignored: number[]; onIgnore: (index: number) => void }) {
  const shown = reading?.spans.map((span, index) => ({ span, index })).filter(({ index }) => !ignored.includes(index)) ?? [];
  if (shown.length === 0) return null;
  return (
    <ul className="understood" aria-label="Understood">
      {shown.map(({ span, index }) => (
        <li key={index} className="chip">
          {label(span)}{" "}
          <button type="button" className="ghost" aria-label={`Undo ${label(span)}`} onClick={() => onIgnore(index)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

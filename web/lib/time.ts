/** Instants as the API holds them (RFC 3339, UTC) and as a person reads and types them (the browser's zone). */

/** `2026-12-01T09:00:00` for an <input type="datetime-local" step="1">, in the browser's time zone. */
export function toLocalInput(instant: string | null | undefined): string {
  if (!instant) return "";
  const date = new Date(instant);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

/** The instant an <input type="datetime-local"> names, in the browser's time zone; null when empty. */
export function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function shortDateTime(instant: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(instant));
}

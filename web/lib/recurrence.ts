/** The editor's repeat presets and the RRULE each stands for (RFC 5545, as the API takes them). */
const WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

export type Preset = "none" | "daily" | "weekdays" | "weekly" | "monthly" | "custom";

export const PRESET_LABELS: Record<Preset, string> = {
  none: "Does not repeat",
  daily: "Every day",
  weekdays: "Every weekday",
  weekly: "Every week on the due date's weekday",
  monthly: "Every month",
  custom: "Custom rule",
};

export function ruleFor(preset: Preset, due: Date | null, custom: string): string | null {
  switch (preset) {
    case "none":
      return null;
    case "daily":
      return "FREQ=DAILY";
    case "weekdays":
      return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR";
    case "weekly":
      return `FREQ=WEEKLY;BYDAY=${WEEKDAYS[(due ?? new Date()).getDay()]}`;
    case "monthly":
      return "FREQ=MONTHLY";
    case "custom":
      return custom.trim() || null;
  }
}

export function presetOf(rule: string | null | undefined): Preset {
  if (!rule) return "none";
  if (rule === "FREQ=DAILY") return "daily";
  if (rule === "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR") return "weekdays";
  if (/^FREQ=WEEKLY;BYDAY=(SU|MO|TU|WE|TH|FR|SA)$/.test(rule)) return "weekly";
  if (rule === "FREQ=MONTHLY") return "monthly";
  return "custom";
}

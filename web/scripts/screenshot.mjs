/** The README's screenshot: a new person signs up on the running app (`make web`) and fills in a few tasks.
 * `node scripts/screenshot.mjs` writes web/screenshot.png; APP_URL if not http://127.0.0.1:3000. */
import { chromium } from "@playwright/test";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"] });
const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
const base = process.env.APP_URL ?? "http://127.0.0.1:3000";
await page.goto(base + "/sign-up");
await page.getByRole("textbox", { name: "Name" }).fill("Grace Hopper");
await page.getByRole("textbox", { name: "Email" }).fill(`grace-${Date.now()}@example.com`);
await page.getByLabel("Password").fill("a long password 123");
await page.getByRole("button", { name: "Sign up" }).click();
await page.locator("[data-hydrated]").waitFor();
const local = (s) => { const d = new Date(Date.now() + s * 1000); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19); };
const lists = page.getByRole("navigation", { name: "Lists" });
for (const name of ["Work", "Home"]) {
  await lists.getByRole("textbox", { name: "New list" }).fill(name);
  await lists.getByRole("button", { name: "Add list" }).click();
  await lists.getByRole("link", { name }).and(page.locator("[aria-current=page]")).waitFor();
}
await lists.getByRole("link", { name: "All tasks" }).click();
const tasks = [
  ["Renew passport", { due: 86400 * 3, tags: "admin", priority: "High" }],
  ["Water the plants", { due: 3600 * 5, tags: "garden", repeat: "Every day", list: "Home" }],
  ["Review the pull request", { due: -3600, tags: "code", list: "Work" }],
  ["Book the dentist", { tags: "health", list: "Home" }],
  ["Draft the quarterly report", { due: 86400 * 7, tags: "reports", priority: "High", list: "Work" }],
];
for (const [title, o] of tasks) {
  await page.getByRole("textbox", { name: "New task" }).fill(title);
  await page.getByRole("button", { name: "Add task" }).click();
  await page.getByRole("button", { name: `Edit ${title}` }).click();
  if (o.due) await page.getByLabel("Due", { exact: true }).fill(local(o.due));
  if (o.tags) await page.getByRole("textbox", { name: "Tags" }).fill(o.tags);
  if (o.priority) await page.getByLabel("Priority", { exact: true }).selectOption({ label: o.priority });
  if (o.repeat) await page.getByLabel("Repeat", { exact: true }).selectOption({ label: o.repeat });
  if (o.list) await page.getByLabel("List", { exact: true }).selectOption({ label: o.list });
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("dialog").waitFor({ state: "detached" });
}
await page.getByRole("checkbox", { name: "Complete Book the dentist" }).check();
await page.waitForTimeout(2500);
await page.screenshot({ path: new URL("../screenshot.png", import.meta.url).pathname });
await browser.close();

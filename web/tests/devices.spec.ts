/** Several devices of one person: live updates, a conflict said plainly, reminders everywhere, 429s waited out, the last state shown. */
import { expect, test } from "@playwright/test";

import { addTask, anotherDevice, localInput, newPerson, signUp, task } from "./helpers";

test("another device sees adds, completions, edits and deletions within 2 s, without reloading", async ({ page, browser }) => {
  const ada = newPerson("Ada");
  await signUp(page, ada);
  const { context, page: phone } = await anotherDevice(browser, ada);
  const live = { timeout: 2_000 };

  await addTask(page, "Call the plumber");
  await expect(task(phone, "Call the plumber")).toBeVisible(live);

  await page.getByRole("checkbox", { name: "Complete Call the plumber" }).check();
  await expect(phone.getByRole("checkbox", { name: "Complete Call the plumber" })).toBeChecked(live);
  await phone.getByRole("checkbox", { name: "Complete Call the plumber" }).uncheck();
  await expect(page.getByRole("checkbox", { name: "Complete Call the plumber" })).not.toBeChecked(live);

  await page.getByRole("button", { name: "Edit Call the plumber" }).click();
  await page.getByRole("textbox", { name: "Title" }).fill("Call the electrician");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(task(phone, "Call the electrician")).toBeVisible(live);

  await page.getByRole("button", { name: "Delete Call the electrician" }).click();
  await expect(task(phone, "Call the electrician")).toHaveCount(0, live);
  await context.close();
});

test("saving over a task changed elsewhere says so and shows the current version", async ({ page, browser }) => {
  const ada = newPerson("Ada");
  await signUp(page, ada);
  await addTask(page, "Draft the report");
  await page.getByRole("button", { name: "Edit Draft the report" }).click();
  await expect(page.getByRole("textbox", { name: "Title" })).toHaveValue("Draft the report");

  const { context, page: laptop } = await anotherDevice(browser, ada);
  await laptop.getByRole("button", { name: "Edit Draft the report" }).click();
  await laptop.getByRole("textbox", { name: "Title" }).fill("Draft the annual report");
  await laptop.getByRole("button", { name: "Save" }).click();
  await expect(task(laptop, "Draft the annual report")).toBeVisible();
  await context.close();

  await page.getByRole("textbox", { name: "Description" }).fill("my notes");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "changed elsewhere" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Title" })).toHaveValue("Draft the annual report");
});

test("a reminder the API fires raises a notification and an in-page alert, on every device", async ({ page, context, browser }) => {
  await context.grantPermissions(["notifications"]);
  await page.addInitScript(() => {
    const shown: string[] = [];
    (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
    const Real = window.Notification;
    class Recording extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        shown.push(`${title}: ${options?.body ?? ""}`);
      }
    }
    Object.defineProperty(window, "Notification", { value: Recording });
  });
  const ada = newPerson("Ada");
  await signUp(page, ada);
  const { context: phoneContext, page: phone } = await anotherDevice(browser, ada);
  await addTask(page, "Take the cake out");
  await page.getByRole("button", { name: "Edit Take the cake out" }).click();
  await page.getByLabel("Reminder", { exact: true }).fill(localInput(6));
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Reminder: Take the cake out" })).toBeVisible({ timeout: 15_000 });
  await expect(phone.getByRole("alert").filter({ hasText: "Reminder: Take the cake out" })).toBeVisible();
  const shown = await page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications);
  expect(shown).toEqual(["Reminder: Take the cake out"]);
  await page.waitForTimeout(2_000); // fired once: no second alert follows
  await expect(page.getByRole("alert").filter({ hasText: "Reminder: Take the cake out" })).toHaveCount(1);
  await phoneContext.close();
});

test("a 429 is waited out as Retry-After says, and the action then goes through", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  let refused = 0;
  await page.route("http://127.0.0.1:8100/api/*/batch", async (route) => {
    if (refused > 0) return route.continue();
    refused += 1;
    await route.fulfill({
      status: 429,
      headers: {
        "Retry-After": "2",
        "Content-Type": "application/problem+json",
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Retry-After",
      },
      body: JSON.stringify({ type: "urn:taskapi:problem:rate-limited", title: "Too Many Requests", status: 429, detail: "slow down" }),
    });
  });
  const started = Date.now();
  await addTask(page, "After a pause");
  expect(refused).toBe(1);
  expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  await expect(task(page, "After a pause")).toHaveCount(1);
});

test("after a quick series of changes the page shows the last state, not an older read arriving late", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  const titles = ["First errand", "Second errand", "Third errand"];
  for (const title of titles) await addTask(page, title);
  for (const title of titles) {
    await page.getByRole("button", { name: `Edit ${title}` }).click();
    await page.getByRole("textbox", { name: "Tags" }).fill("errands");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("dialog")).toHaveCount(0);
  }
  await page.getByRole("checkbox", { name: "Complete Second errand" }).check();
  await page.waitForTimeout(1_000); // every read in flight has answered
  for (const title of titles) await expect(task(page, title)).toContainText("#errands");
  await expect(page.getByRole("checkbox", { name: "Complete Second errand" })).toBeChecked();
  await expect(page.getByRole("navigation", { name: "Tags" }).getByRole("listitem")).toContainText("2");
});

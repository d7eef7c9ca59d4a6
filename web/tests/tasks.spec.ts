/** What a person does with the reference app, in a real browser, against the real API. */
import { expect, test } from "@playwright/test";

import { addTask, anotherDevice, localInput, newPerson, signIn, signUp, task, watchConsole } from "./helpers";

test("a signed-out visit goes to sign-in, which links to sign-up and back", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByRole("link", { name: "Sign up" }).click();
  await expect(page.getByRole("button", { name: "Sign up" })).toBeVisible();
  await page.getByRole("link", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});

test("sign up, add a task, reload: it is still there; sign out and in again: still there", async ({ page }) => {
  const errors = watchConsole(page);
  const ada = newPerson("Ada");
  await signUp(page, ada);
  await addTask(page, "Buy milk");
  await expect(page.getByRole("textbox", { name: "New task" })).toHaveValue("");
  await page.reload();
  await expect(task(page, "Buy milk")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await signIn(page, ada);
  await expect(task(page, "Buy milk")).toBeVisible();
  expect(errors).toEqual([]);
});

test("two people never see each other's tasks", async ({ page, browser }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Ada's secret plan");
  const context = await browser.newContext();
  const other = await context.newPage();
  await signUp(other, newPerson("Bob"));
  await addTask(other, "Bob's list");
  await expect(task(other, "Ada's secret plan")).toHaveCount(0);
  await page.reload();
  await expect(task(page, "Bob's list")).toHaveCount(0);
  await context.close();
});

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

test("delete, then Undo brings the task back; the trash restores, destroys and empties", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Water the plants");
  await page.getByRole("button", { name: "Delete Water the plants" }).click();
  await expect(task(page, "Water the plants")).toHaveCount(0);
  const status = page.getByRole("status");
  await expect(status).toContainText("Undo");
  await status.getByRole("button", { name: "Undo" }).click();
  await expect(task(page, "Water the plants")).toBeVisible();

  for (const title of ["Old note", "Older note"]) {
    await addTask(page, title);
    await page.getByRole("button", { name: `Delete ${title}` }).click();
    await expect(task(page, title)).toHaveCount(0);
  }
  await page.getByRole("link", { name: "Trash" }).click();
  await page.getByRole("button", { name: "Restore Old note" }).click();
  await expect(page.getByRole("button", { name: "Restore Old note" })).toHaveCount(0);
  await page.getByRole("button", { name: "Delete Older note forever" }).click();
  await expect(page.getByText("The trash is empty.")).toBeVisible();
  await page.getByRole("link", { name: "Back to tasks" }).click();
  await expect(task(page, "Old note")).toBeVisible();
  await page.getByRole("button", { name: "Delete Old note" }).click();
  // The trash page reads the trash once: open it only after the delete went through.
  await expect(task(page, "Old note")).toHaveCount(0);
  await page.getByRole("link", { name: "Trash" }).click();
  await page.getByRole("button", { name: "Empty trash" }).click();
  await expect(page.getByText("The trash is empty.")).toBeVisible();
});

test("completing a daily task shows tomorrow's at once", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Stretch");
  await page.getByRole("button", { name: "Edit Stretch" }).click();
  await page.getByLabel("Due", { exact: true }).fill(localInput(3600));
  await page.getByLabel("Repeat", { exact: true }).selectOption({ label: "Every day" });
  await page.getByRole("button", { name: "Save" }).click();
  await expect(task(page, "Stretch")).toContainText("Repeats");
  await page.getByRole("checkbox", { name: "Complete Stretch" }).check();
  await expect(task(page, "Stretch")).toHaveCount(2);
  await expect(page.getByRole("checkbox", { name: "Complete Stretch" }).nth(0)).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Complete Stretch" }).nth(1)).toBeChecked();
});

test("a field the API refuses is named next to it; tags appear in the sidebar and filter", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Plan the trip");
  await addTask(page, "Pay rent");
  await page.getByRole("button", { name: "Edit Plan the trip" }).click();
  await page.getByLabel("Due", { exact: true }).fill(localInput(86_400));
  await page.getByLabel("Repeat", { exact: true }).selectOption({ label: "Custom rule" });
  await page.getByRole("textbox", { name: "Rule" }).fill("FREQ=HOURLY");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("FREQ=HOURLY is not supported")).toBeVisible();
  await page.getByRole("textbox", { name: "Rule" }).fill("FREQ=WEEKLY;BYDAY=MO");
  await page.getByRole("textbox", { name: "Tags" }).fill("travel, family");
  await page.getByRole("textbox", { name: "Description" }).fill("Flights first, then the hotel");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(task(page, "Plan the trip")).toContainText("Flights first, then the hotel");
  const tags = page.getByRole("navigation", { name: "Tags" });
  await expect(tags.getByRole("link", { name: "travel", exact: true })).toBeVisible();
  await tags.getByRole("link", { name: "travel", exact: true }).click();
  await expect(task(page, "Pay rent")).toHaveCount(0);
  await expect(task(page, "Plan the trip")).toBeVisible();
  await page.getByRole("searchbox", { name: "Search" }).fill("rent");
  await expect(task(page, "Plan the trip")).toHaveCount(0);
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

test("the page keeps working after its token expires (15 s here)", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Before expiry");
  await page.waitForTimeout(28_000); // past the token's 15 s and the API's 10 s of leeway
  await addTask(page, "After expiry");
  await page.reload();
  await expect(task(page, "Before expiry")).toBeVisible();
});

test("offline: adds, ticks and deletes wait, shown as done, kept over a reload, and go out in batches when the API is back", async ({ page, browser }) => {
  const person = newPerson("Ada");
  await signUp(page, person);
  await addTask(page, "Water the plants");
  await addTask(page, "Old note");
  const batches: number[] = [];
  page.on("response", (response) => {
    if (response.url().endsWith("/batch")) batches.push(response.status());
  });
  await page.route("http://127.0.0.1:8100/**", (route) => route.abort("connectionrefused"));
  await page.getByRole("checkbox", { name: "Complete Water the plants" }).check();
  await expect(page.getByRole("alert").filter({ hasText: "cannot be reached" })).toBeVisible();
  await page.getByRole("textbox", { name: "New task" }).fill("Written offline");
  await page.getByRole("button", { name: "Add task" }).click();
  await page.getByRole("button", { name: "Delete Old note" }).click();
  await expect(page.getByRole("status").filter({ hasText: "3 changes wait to be sent" })).toBeVisible();
  await expect(task(page, "Written offline")).toContainText("Waiting to be sent");
  await expect(task(page, "Old note")).toHaveCount(0);
  await expect(page.getByRole("checkbox", { name: "Complete Water the plants" })).toBeChecked();
  await page.reload(); // what waits is kept in the browser
  await expect(page.getByRole("status").filter({ hasText: "3 changes wait to be sent" })).toBeVisible({ timeout: 10_000 });

  await page.unroute("http://127.0.0.1:8100/**");
  await expect(page.getByRole("checkbox", { name: "Complete Written offline" })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole("status").filter({ hasText: "wait to be sent" })).toHaveCount(0);
  await expect(page.getByRole("alert").filter({ hasText: "cannot be reached" })).toHaveCount(0);
  // The tick went out first, on its own, and was retried with its Idempotency-Key; what followed, as one more.
  expect(batches).toEqual([200, 200]);
  const { context, page: phone } = await anotherDevice(browser, person);
  await expect(task(phone, "Written offline")).toBeVisible();
  await expect(phone.getByRole("checkbox", { name: "Complete Water the plants" })).toBeChecked();
  await expect(task(phone, "Old note")).toHaveCount(0);
  await context.close();
});

test("steps: tick two of three, tick the task and the third is ticked with it", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Pack for the trip");
  await page.getByRole("button", { name: "Edit Pack for the trip" }).click();
  const steps = page.getByRole("list", { name: "Steps" });
  for (const step of ["socks", "charger", "passport"]) {
    await page.getByRole("textbox", { name: "New step" }).fill(step);
    await page.getByRole("textbox", { name: "New step" }).press("Enter");
    await expect(steps.getByText(step)).toBeVisible();
  }
  await expect(steps.getByRole("listitem")).toHaveText(["socks", "charger", "passport"]);
  await steps.getByRole("checkbox", { name: "socks" }).check();
  await steps.getByRole("checkbox", { name: "charger" }).check();
  // Ticking steps changed the task's counts, and so its ETag: saving an edit still goes through.
  await page.getByRole("textbox", { name: "Description" }).fill("Check the weather first");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(task(page, "Pack for the trip")).toContainText("2/3 steps");
  await expect(task(page, "Pack for the trip")).toContainText("Check the weather first");
  await expect(task(page, "socks")).toHaveCount(0); // steps are in their task, not in the list

  await page.getByRole("checkbox", { name: "Complete Pack for the trip" }).check();
  await expect(task(page, "Pack for the trip")).toContainText("3/3 steps");
  await page.getByRole("button", { name: "Edit Pack for the trip" }).click();
  await expect(steps.getByRole("checkbox", { name: "passport" })).toBeChecked();
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

test("it works at phone width and with the keyboard alone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signUp(page, newPerson("Ada"));
  await page.getByRole("textbox", { name: "New task" }).focus();
  await page.keyboard.type("Typed without a mouse");
  await page.keyboard.press("Enter");
  await expect(task(page, "Typed without a mouse")).toBeVisible();
  const checkbox = page.getByRole("checkbox", { name: "Complete Typed without a mouse" });
  await checkbox.focus();
  await page.keyboard.press("Space");
  await expect(checkbox).toBeChecked();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
});

test("Load more pages through the list; status, priority and sort narrow and order it", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  for (let n = 1; n <= 22; n += 1) await addTask(page, `Item ${String(n).padStart(2, "0")}`);
  const items = page.getByRole("list", { name: "Tasks" }).getByRole("listitem");
  await expect(items).toHaveCount(20);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(items).toHaveCount(22);
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);

  await page.getByRole("checkbox", { name: "Complete Item 05" }).check();
  await page.getByRole("button", { name: "Edit Item 07" }).click();
  await page.getByRole("dialog").getByLabel("Priority", { exact: true }).selectOption({ label: "High" });
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByLabel("Show", { exact: true }).selectOption({ label: "Done" });
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText("Item 05");
  await page.getByLabel("Show", { exact: true }).selectOption({ label: "All" });
  await page.getByLabel("Filter by priority", { exact: true }).selectOption({ label: "High" });
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText("Item 07");
  await page.getByLabel("Filter by priority", { exact: true }).selectOption({ label: "Any priority" });
  await page.getByLabel("Sort by", { exact: true }).selectOption({ label: "Title" });
  await expect(items.first()).toContainText("Item 01");
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

test("lists: make Work and Home, order with the arrows, move a task to Home, delete Home and Undo; the phone follows", async ({ page, browser }) => {
  const ada = newPerson("Ada");
  await signUp(page, ada);
  const { context, page: phone } = await anotherDevice(browser, ada);
  const lists = (p: typeof page) => p.getByRole("navigation", { name: "Lists" });
  const titles = page.getByRole("list", { name: "Tasks" }).locator(".task-title");

  await lists(page).getByRole("textbox", { name: "New list" }).fill("Work");
  await lists(page).getByRole("button", { name: "Add list" }).click();
  await expect(lists(page).getByRole("link", { name: "Work" })).toHaveAttribute("aria-current", "page");
  await expect(lists(phone).getByRole("link", { name: "Work" })).toBeVisible({ timeout: 2_000 });
  for (const title of ["report", "slides", "budget"]) await addTask(page, title);
  await expect(titles).toHaveText(["budget", "slides", "report"]);

  await page.getByRole("button", { name: "Move report up" }).click();
  await expect(titles).toHaveText(["budget", "report", "slides"]);
  await page.getByRole("button", { name: "Move budget down" }).click();
  await expect(titles).toHaveText(["report", "budget", "slides"]);
  await page.reload();
  await lists(page).getByRole("link", { name: "Work" }).click();
  await expect(titles).toHaveText(["report", "budget", "slides"]);

  await lists(page).getByRole("textbox", { name: "New list" }).fill("work ");
  await lists(page).getByRole("button", { name: "Add list" }).click();
  await expect(lists(page).getByText("already have a list named")).toBeVisible();
  await lists(page).getByRole("textbox", { name: "New list" }).fill("Home");
  await lists(page).getByRole("button", { name: "Add list" }).click();
  await expect(lists(page).getByRole("link", { name: "Home" })).toHaveAttribute("aria-current", "page");
  await lists(page).getByRole("link", { name: "Work" }).click();
  await page.getByRole("button", { name: "Edit budget" }).click();
  await page.getByRole("combobox", { name: "List" }).selectOption({ label: "Home" });
  await page.getByRole("button", { name: "Save" }).click();
  await expect(titles).toHaveText(["report", "slides"]);
  await lists(page).getByRole("link", { name: "Home" }).click();
  await expect(titles).toHaveText(["budget"]);

  await lists(page).getByRole("button", { name: "Delete list Home" }).click();
  await expect(lists(page).getByRole("link", { name: "Home" })).toHaveCount(0);
  await expect(lists(phone).getByRole("link", { name: "Home" })).toHaveCount(0, { timeout: 2_000 });
  await page.getByRole("status").getByRole("button", { name: "Undo" }).click();
  await lists(page).getByRole("link", { name: "Home" }).click();
  await expect(titles).toHaveText(["budget"]);
  await expect(lists(phone).getByRole("link", { name: "Home" })).toBeVisible({ timeout: 2_000 });
  await context.close();
});

/** Organising: steps within a task, lists in the sidebar with manual order and Undo. */
import { expect, test } from "@playwright/test";

import { addTask, anotherDevice, newPerson, signUp, task } from "./helpers";

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

test("ticking a second step while the first tick's read is on its way keeps it ticked", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Pack for the trip");
  await page.getByRole("button", { name: "Edit Pack for the trip" }).click();
  const steps = page.getByRole("list", { name: "Steps" });
  for (const step of ["socks", "charger"]) {
    await page.getByRole("textbox", { name: "New step" }).fill(step);
    await page.getByRole("textbox", { name: "New step" }).press("Enter");
    await expect(steps.getByText(step)).toBeVisible();
  }
  // Each tick reads the steps again. The first tick's read is answered by the API before the second tick is
  // made, and reaches the page 300 ms later; every later read, 2 s later.
  let answered = () => {};
  const firstAnswered = new Promise<void>((resolve) => (answered = resolve));
  let reads = 0;
  await page.route(
    (url) => url.searchParams.has("parent_id"),
    async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const response = await route.fetch();
      const first = ++reads === 1;
      if (first) answered();
      await new Promise((held) => setTimeout(held, first ? 300 : 2000));
      await route.fulfill({ response });
    },
  );
  await steps.getByRole("checkbox", { name: "socks" }).check();
  await firstAnswered;
  await steps.getByRole("checkbox", { name: "charger" }).check();
  await page.waitForTimeout(800); // the first read has arrived, the second has not
  // Read once, not retried: a retrying expect would wait for the second read, which puts the tick back.
  expect(await steps.getByRole("checkbox", { name: "charger" }).isChecked()).toBe(true);
  expect(await steps.getByRole("checkbox", { name: "socks" }).isChecked()).toBe(true);
  await expect.poll(() => reads).toBe(2);
  await expect(steps.getByRole("checkbox", { name: "charger" })).toBeChecked();
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

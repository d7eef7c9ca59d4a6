/** Tasks: delete and Undo with the trash, repeats, refused fields and tags, paging and filters. */
import { expect, test } from "@playwright/test";

import { addTask, localInput, newPerson, signUp, task } from "./helpers";

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

/** The editor sends only what the person changed: a field sent back unchanged could still change the task (a
 * reminder cut to whole seconds would fire again, a rule typed anew would restart its series). */
import { expect, test } from "@playwright/test";

import { addTask, newPerson, signUp } from "./helpers";

test("saving a new title sends the title alone; saving nothing changed sends nothing", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Water the plants");
  const sent: unknown[] = [];
  await page.route("http://127.0.0.1:8100/api/*/tasks/*", async (route) => {
    if (route.request().method() === "PUT") sent.push(JSON.parse(route.request().postData() ?? "null"));
    await route.continue();
  });
  await page.getByRole("button", { name: "Edit Water the plants" }).click();
  await page.getByRole("combobox", { name: "Repeat" }).selectOption({ label: "Every day" });
  await page.getByLabel("Due").fill("2030-01-07T09:00:00");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  expect(Object.keys(sent[0] as object).sort()).toEqual(["due_at", "recurrence"]);

  await page.getByRole("button", { name: "Edit Water the plants" }).click();
  await page.getByRole("textbox", { name: "Title" }).fill("Water the ferns");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  expect(sent[1]).toEqual({ title: "Water the ferns" });

  await page.getByRole("button", { name: "Edit Water the ferns" }).click();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  expect(sent).toHaveLength(2);
});

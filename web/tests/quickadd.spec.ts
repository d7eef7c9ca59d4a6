/** The add box reads dates, repeats, #tags and !priority from the words typed (quick add), shows what it understood
 * before the task is added, and lets the person undo any of it. */
import { expect, test } from "@playwright/test";

import { newPerson, signUp, task } from "./helpers";

test("the add box shows what it understood, and what is undone stays in the title", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  const box = page.getByRole("textbox", { name: "New task" });
  await box.fill("Call mum tomorrow 5pm #family every week !high");
  const understood = page.getByRole("list", { name: "Understood" });
  await expect(understood.getByRole("listitem")).toHaveText([/^Due /, /#family/, /Repeats/, /high priority/]);
  await understood.getByRole("button", { name: "Undo #family" }).click();
  await page.getByRole("button", { name: "Add task" }).click();
  const made = task(page, "Call mum #family");
  await expect(made).toBeVisible();
  await expect(made).toContainText("Due ");
  await expect(made).toContainText("Repeats");
  await expect(made).toContainText("high");
  await expect(understood).toHaveCount(0);
  await expect(box).toHaveValue("");
});

test("plain words are a plain title", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await page.getByRole("textbox", { name: "New task" }).fill("Buy 2 apples");
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(task(page, "Buy 2 apples")).toBeVisible();
  await expect(task(page, "Buy 2 apples")).not.toContainText("Due");
});

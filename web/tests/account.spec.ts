/** Accounts: signing up, in and out, people kept apart, tokens renewed, phone width and the keyboard. */
import { expect, test } from "@playwright/test";

import { addTask, newPerson, signIn, signOut, signUp, task, watchConsole } from "./helpers";

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
  await signOut(page);
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

test("the page keeps working after its token expires (15 s here)", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  await addTask(page, "Before expiry");
  await page.waitForTimeout(28_000); // past the token's 15 s and the API's 10 s of leeway
  await addTask(page, "After expiry");
  await page.reload();
  await expect(task(page, "Before expiry")).toBeVisible();
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

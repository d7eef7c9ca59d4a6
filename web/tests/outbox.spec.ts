/** Offline, changes wait in the outbox and go out in batches. The outbox keeps every change until the API applied
 * it or refused that change itself, sends from one tab at a time however many are open, and leaves nothing of a
 * person in the browser after they sign out. */
import { expect, test } from "@playwright/test";

import { addTask, anotherDevice, newPerson, signIn, signOut, signUp, task } from "./helpers";

const API = "http://127.0.0.1:8100/**";
const BATCH = "http://127.0.0.1:8100/api/*/batch";

test("a batch refused as a whole (a 503 naming no operation) is kept and sent again, nothing dropped", async ({ page }) => {
  await signUp(page, newPerson("Ada"));
  let refused = 0;
  await page.route(BATCH, async (route) => {
    if (refused >= 2) return route.continue();
    refused += 1;
    await route.fulfill({
      status: 503,
      headers: { "Content-Type": "application/problem+json", "Access-Control-Allow-Origin": "*" },
      body: JSON.stringify({ type: "urn:taskapi:problem:service-unavailable", title: "Service Unavailable", status: 503, detail: "down for a moment" }),
    });
  });
  await page.getByRole("textbox", { name: "New task" }).fill("Kept through a 503");
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(task(page, "Kept through a 503")).toBeVisible({ timeout: 15_000 });
  expect(refused).toBe(2);
  await expect(page.getByText("down for a moment")).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: "New task" })).toHaveValue("");
});

test("two tabs with changes waiting send each once", async ({ page, browser }) => {
  const ada = newPerson("Ada");
  await signUp(page, ada);
  const second = await page.context().newPage();
  await second.goto("/");
  await expect(second.locator("[data-hydrated]")).toBeVisible();
  for (const tab of [page, second]) await tab.route(API, (route) => route.abort("connectionrefused"));
  for (const [tab, title] of [[page, "From the first tab"], [second, "From the second tab"]] as const) {
    await tab.getByRole("textbox", { name: "New task" }).fill(title);
    await tab.getByRole("button", { name: "Add task" }).click();
    await expect(tab.getByRole("alert").filter({ hasText: "cannot be reached" })).toBeVisible();
  }
  for (const tab of [page, second]) await tab.unroute(API);
  const { context, page: phone } = await anotherDevice(browser, ada);
  for (const title of ["From the first tab", "From the second tab"]) {
    await expect(task(phone, title)).toHaveCount(1, { timeout: 15_000 });
  }
  await phone.waitForTimeout(1_000);
  for (const title of ["From the first tab", "From the second tab"]) await expect(task(phone, title)).toHaveCount(1);
  await context.close();
});

test("signing out leaves no change waiting in the browser for the next person", async ({ page }) => {
  const ada = newPerson("Ada");
  await signUp(page, ada);
  await addTask(page, "Online first");
  await page.route(API, (route) => route.abort("connectionrefused"));
  await page.getByRole("textbox", { name: "New task" }).fill("Private offline note");
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("status").filter({ hasText: "1 change waits" })).toBeVisible();
  await page.unroute(API);
  await page.route(BATCH, (route) => route.abort("connectionrefused"));
  await signOut(page);
  const kept = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("taskapi.outbox.")));
  expect(kept).toEqual([]);
  await page.unroute(BATCH);

  const bob = newPerson("Bob");
  await signUp(page, bob);
  await expect(page.getByRole("status").filter({ hasText: "wait" })).toHaveCount(0);
  await signOut(page);
  await signIn(page, ada);
  await expect(task(page, "Online first")).toBeVisible();
  await expect(task(page, "Private offline note")).toHaveCount(0);
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

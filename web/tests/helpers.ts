import { type Browser, type BrowserContext, expect, type Page } from "@playwright/test";

import { BASE_URL } from "../playwright.config";

export interface Person {
  name: string;
  email: string;
  password: string;
}

export function newPerson(name = "Ada"): Person {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  return { name, email: `${name.toLowerCase()}-${id}@example.com`, password: "a long password 123" };
}

/** Fails the test on any console error the page logs in normal use. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return errors;
}

/** A new person, signed up and signed in in this page's browser, through Better Auth's own endpoint (the form
 * does the same; it is driven once, in the setup project: sign-up.setup.ts). Each test has people of its own. */
export async function signUp(page: Page, person: Person): Promise<void> {
  const origin = new URL(BASE_URL).origin;
  const answer = await page.request.post("/api/auth/sign-up/email", {
    data: { name: person.name, email: person.email, password: person.password },
    headers: { Origin: origin },
  });
  expect(answer.ok(), await answer.text()).toBe(true);
  await page.goto("/");
  await expect(page.locator("[data-hydrated]")).toBeVisible();
}

/** Signing up as a person does it: the form, filled in and sent. */
export async function signUpWithTheForm(page: Page, person: Person): Promise<void> {
  await page.goto("/sign-up");
  await page.getByRole("textbox", { name: "Name" }).fill(person.name);
  await page.getByRole("textbox", { name: "Email" }).fill(person.email);
  await page.getByLabel("Password").fill(person.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator("[data-hydrated]")).toBeVisible();
}

export async function signIn(page: Page, person: Person): Promise<void> {
  await page.goto("/sign-in");
  await page.getByRole("textbox", { name: "Email" }).fill(person.email);
  await page.getByLabel("Password").fill(person.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("[data-hydrated]")).toBeVisible();
}

/** Signs out and waits for the sign-in page, so a navigation that follows does not race the one signing out starts. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

/** A second browser (its own cookies) signed in as the same person: another device. */
export async function anotherDevice(browser: Browser, person: Person): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, person);
  return { context, page };
}

export async function addTask(page: Page, title: string): Promise<void> {
  await page.getByRole("textbox", { name: "New task" }).fill(title);
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(task(page, title)).toBeVisible();
}

export function task(page: Page, title: string) {
  return page.getByRole("list", { name: "Tasks" }).getByRole("listitem").filter({ hasText: title });
}

/** `YYYY-MM-DDTHH:MM:SS` in the browser's zone, `seconds` from now, for a datetime-local input. */
export function localInput(secondsFromNow: number): string {
  const date = new Date(Date.now() + secondsFromNow * 1000);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

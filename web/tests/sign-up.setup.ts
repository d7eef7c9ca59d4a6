/** The sign-up form, driven once before every other test (which sign their people up through Better Auth's
 * endpoint, as the form does): a new person lands on their empty task list, signed in. */
import { expect, test as setup } from "@playwright/test";

import { newPerson, signUpWithTheForm } from "./helpers";

setup("a new person signs up with the form and lands on their empty task list", async ({ page }) => {
  const ada = newPerson("Ada");
  await signUpWithTheForm(page, ada);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(page.getByText("Nothing here yet.")).toBeVisible();
});

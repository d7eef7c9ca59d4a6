/** A person using the app quickly on three devices stays well inside the API's rate limit (600 a minute, bursts of
 * 60): typing in Search asks once, live events are applied from the change feed, and counts are read at a pace. */
import { expect, test } from "@playwright/test";

import { addTask, anotherDevice, newPerson, signUp, task, watchConsole } from "./helpers";

test("three devices and a quick series of changes: no request refused, every device shows the last state", async ({ page, browser }) => {
  const ada = newPerson("Ada");
  await signUp(page, ada);
  const devices = [page];
  const contexts = [];
  for (let n = 0; n < 2; n += 1) {
    const other = await anotherDevice(browser, ada);
    contexts.push(other.context);
    devices.push(other.page);
  }
  const requests: string[] = [];
  const problems = devices.flatMap((device) => {
    device.on("request", (request) => {
      if (request.url().includes(":8100/api/")) requests.push(`${request.method()} ${request.url()}`);
    });
    return [watchConsole(device)];
  });

  const titles = ["Buy bread", "Call the plumber", "Book the dentist", "Pay the rent", "Water the plants", "Renew passport"];
  for (const title of titles) await addTask(page, title);
  await devices[1]!.getByRole("searchbox", { name: "Search" }).pressSequentially("plumber", { delay: 40 });
  await expect(task(devices[1]!, "Call the plumber")).toBeVisible();
  await expect(task(devices[1]!, "Buy bread")).toHaveCount(0);
  await devices[1]!.getByRole("searchbox", { name: "Search" }).fill("");
  for (const title of titles.slice(0, 3)) await devices[2]!.getByRole("checkbox", { name: `Complete ${title}` }).check();
  await devices[1]!.getByRole("button", { name: "Delete Pay the rent" }).click();
  await page.getByRole("button", { name: "Delete Water the plants" }).click();

  for (const device of devices) {
    await expect(task(device, "Pay the rent")).toHaveCount(0);
    await expect(task(device, "Water the plants")).toHaveCount(0);
    for (const title of titles.slice(0, 3)) await expect(device.getByRole("checkbox", { name: `Complete ${title}` })).toBeChecked();
    await expect(task(device, "Renew passport")).toBeVisible();
  }
  await page.waitForTimeout(2_500); // the counts' last read
  for (const errors of problems) expect(errors.filter((error) => error.startsWith("429"))).toEqual([]);
  // Typing seven letters asked for the tasks about once, not seven times with every count each time.
  expect(requests.filter((request) => request.includes("q=")).length).toBeLessThanOrEqual(3);
  expect(requests.length).toBeLessThan(120);

  await page.goto("/trash");
  await expect(page.getByRole("list", { name: "Deleted tasks" }).getByRole("listitem")).toHaveCount(2);
  for (const context of contexts) await context.close();
});

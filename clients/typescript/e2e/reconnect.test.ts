/**
 * Reconnection waits are "full jitter" (issue 18, item 12): clients that lose their streams at the same moment
 * do not come back at the same instants.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { reconnectDelay, subscribeToChanges } from "../src/index.ts";

test("each wait is a random time up to the exponential ceiling, capped at 30 s", () => {
  assert.deepEqual([0, 1, 2, 3].map((attempt) => reconnectDelay(attempt, () => 0.999999)), [499, 999, 1999, 3999]);
  assert.equal(reconnectDelay(20, () => 0.999999), 29_999);
  assert.equal(reconnectDelay(5, () => 0), 0);
  const spread = new Set(Array.from({ length: 50 }, () => reconnectDelay(4)));
  assert.ok(spread.size > 40, "fifty clients pick fifty different waits");
});

test("subscribeToChanges waits a jittered time between failed connections", async () => {
  const controller = new AbortController();
  const attempts: number[] = [];
  const draws = [0.5, 0.25, 0.75];
  const failing: typeof fetch = async () => {
    attempts.push(Date.now());
    if (attempts.length === 4) controller.abort();
    throw new TypeError("connection refused");
  };
  await subscribeToChanges({
    baseUrl: "http://127.0.0.1:9/api",
    userId: "u1",
    getToken: () => "t",
    onEvent: () => {},
    signal: controller.signal,
    fetch: failing,
    random: () => draws.shift() ?? 0,
  });
  const waits = attempts.slice(1).map((at, n) => at - attempts[n]!);
  // 0.5 × 500 ms, 0.25 × 1000 ms, 0.75 × 2000 ms, give or take the timer's resolution.
  for (const [wait, expected] of waits.map((wait, n) => [wait, [250, 250, 1500][n]!] as const)) {
    assert.ok(wait >= expected - 5 && wait < expected + 150, `waited ${wait} ms, expected about ${expected}`);
  }
});

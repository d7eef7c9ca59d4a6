/**
 * End to end, with the real parts: a Better Auth server issues the JWTs, the Python service verifies
 * them against its JWKS, and every call goes through the generated, typed client.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createTaskClient,
  subscribeToChanges,
  type BatchOperation,
  type DueReminder,
  type LiveEvent,
  type Problem,
  type TaskClient,
} from "../src/index.ts";
import { impostor, signUp, startBetterAuth, type Auth } from "./better-auth.ts";
import { startTaskApi } from "./task-api.ts";

let auth: Auth;
let authUrl: string;
let closeAuth: () => void;
let stopApi: () => Promise<void>;
let apiUrl: string;
const alice = { id: "", token: "", client: undefined as unknown as TaskClient };
const bob = { id: "", token: "", client: undefined as unknown as TaskClient };

function assertProblem(error: Problem | undefined, status: number, type: string): void {
  assert.ok(error, `expected a ${status} problem`);
  assert.equal(error.status, status);
  assert.equal(error.type, `urn:taskapi:problem:${type}`);
  assert.ok(error.detail.length > 0);
}

before(async () => {
  ({ auth, baseURL: authUrl, close: closeAuth } = await startBetterAuth());
  ({ baseUrl: apiUrl, stop: stopApi } = await startTaskApi(authUrl));
  for (const [user, name] of [[alice, "alice"], [bob, "bob"]] as const) {
    Object.assign(user, await signUp(authUrl, name));
    user.client = createTaskClient({ baseUrl: apiUrl, getToken: () => user.token });
  }
});

after(async () => {
  await stopApi?.();
  closeAuth?.();
});

describe("a signed-in user, through the generated client", () => {
  test("creates, lists, reads, updates, completes and deletes a task", async () => {
    const path = { user_id: alice.id };
    const created = await alice.client.POST("/{user_id}/tasks", {
      params: { path },
      body: { title: "  Buy milk  ", description: "2 litres", priority: "high" },
    });
    assert.equal(created.response.status, 201);
    assert.ok(created.data);
    const task = created.data;
    assert.equal(task.title, "Buy milk");
    assert.equal(task.user_id, alice.id);
    assert.equal(created.response.headers.get("location"), `/api/${alice.id}/tasks/${task.id}`);
    const taskPath = { user_id: alice.id, id: task.id };

    const listed = await alice.client.GET("/{user_id}/tasks", { params: { path, query: { status: "pending" } } });
    assert.deepEqual(listed.data?.items.map((t) => t.id), [task.id]);
    assert.equal(listed.data?.next_cursor, null);

    const read = await alice.client.GET("/{user_id}/tasks/{id}", { params: { path: taskPath } });
    assert.deepEqual(read.data, task);
    const etag = read.response.headers.get("etag");
    assert.ok(etag);

    const updated = await alice.client.PUT("/{user_id}/tasks/{id}", {
      params: { path: taskPath, header: { "If-Match": etag } },
      body: { description: null },
    });
    assert.equal(updated.data?.title, "Buy milk");
    assert.equal(updated.data?.description, null);

    const stale = await alice.client.PUT("/{user_id}/tasks/{id}", {
      params: { path: taskPath, header: { "If-Match": etag } },
      body: { title: "lost update" },
    });
    assertProblem(stale.error, 412, "precondition-failed");

    const completed = await alice.client.PATCH("/{user_id}/tasks/{id}/complete", { params: { path: taskPath } });
    assert.equal(completed.data?.completed, true);
    assert.ok(completed.data?.completed_at);

    const deleted = await alice.client.DELETE("/{user_id}/tasks/{id}", { params: { path: taskPath } });
    assert.equal(deleted.response.status, 204);
    const gone = await alice.client.GET("/{user_id}/tasks/{id}", { params: { path: taskPath } });
    assertProblem(gone.error, 404, "not-found");
  });

  test("sees a typed problem naming each bad field", async () => {
    const bad = await alice.client.POST("/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
      // @ts-expect-error: the generated types already refuse an empty body; the API does too.
      body: {},
    });
    assertProblem(bad.error, 400, "validation-error");
    assert.deepEqual(bad.error?.errors?.map((e) => e.field), ["title"]);
  });
});

describe("the todo model: tags, reminders, recurring tasks, counts", () => {
  test("tags tasks, filters by every tag given, and counts tags", async () => {
    const path = { user_id: bob.id };
    const both = await bob.client.POST("/{user_id}/tasks", {
      params: { path },
      body: { title: "Quarterly report", tags: ["Work", "urgent ", "work"] },
    });
    assert.deepEqual(both.data?.tags, ["urgent", "work"]);
    await bob.client.POST("/{user_id}/tasks", { params: { path }, body: { title: "Plan", tags: ["work"] } });
    const filtered = await bob.client.GET("/{user_id}/tasks", {
      params: { path, query: { tag: ["work", "URGENT"] } },
    });
    assert.deepEqual(filtered.data?.items.map((t) => t.id), [both.data?.id]);
    const tags = await bob.client.GET("/{user_id}/tags", { params: { path } });
    assert.deepEqual(tags.data?.items, [
      { name: "urgent", open: 1, total: 1 },
      { name: "work", open: 2, total: 2 },
    ]);
  });

  test("completing 'every Monday 09:00 Europe/Berlin' creates next Monday's task once", async () => {
    const path = { user_id: bob.id };
    const created = await bob.client.POST("/{user_id}/tasks", {
      params: { path },
      body: {
        title: "Team meeting",
        due_at: "2099-11-30T08:00:00Z", // a Monday, 09:00 in Berlin
        remind_at: "2099-11-30T07:45:00Z",
        recurrence: { rule: "FREQ=WEEKLY;BYDAY=MO", timezone: "Europe/Berlin" },
      },
    });
    assert.ok(created.data);
    const taskPath = { user_id: bob.id, id: created.data.id };
    const done = await bob.client.PATCH("/{user_id}/tasks/{id}/complete", {
      params: { path: taskPath },
      body: { completed: true },
    });
    const nextId = done.data?.next_occurrence_id;
    assert.ok(nextId);
    const next = await bob.client.GET("/{user_id}/tasks/{id}", { params: { path: { user_id: bob.id, id: nextId } } });
    assert.equal(next.data?.due_at, "2099-12-07T08:00:00Z");
    assert.equal(next.data?.remind_at, "2099-12-07T07:45:00Z");
    const again = await bob.client.PATCH("/{user_id}/tasks/{id}/complete", {
      params: { path: taskPath },
      body: { completed: true },
    });
    assert.equal(again.data?.next_occurrence_id, nextId);
    const reminders = await bob.client.GET("/{user_id}/tasks", {
      params: { path, query: { remind_after: "2099-12-01T00:00:00Z", sort: "remind" } },
    });
    assert.deepEqual(reminders.data?.items.map((t) => t.id), [nextId]);
  });

  test("the summary adds up", async () => {
    const summary = await bob.client.GET("/{user_id}/summary", {
      params: { path: { user_id: bob.id }, query: { timezone: "Europe/Berlin" } },
    });
    assert.ok(summary.data);
    const { total, open, completed, by_priority } = summary.data;
    assert.equal(total, open + completed);
    assert.deepEqual([total, completed], [4, 1]);
    assert.equal(by_priority.low + by_priority.medium + by_priority.high, open);
  });

  test("a bad recurrence rule is a problem naming the part", async () => {
    const bad = await bob.client.POST("/{user_id}/tasks", {
      params: { path: { user_id: bob.id } },
      body: { title: "x", due_at: "2099-01-01T00:00:00Z", recurrence: { rule: "FREQ=HOURLY" } },
    });
    assertProblem(bad.error, 400, "validation-error");
    assert.deepEqual(bad.error?.errors?.map((e) => e.field), ["recurrence.rule"]);
    assert.match(bad.error?.detail ?? "", /FREQ=HOURLY is not supported/);
  });
});

describe("two clients of one user, kept in sync", () => {
  test("undo: a deleted task comes back from the trash as it was", async () => {
    const path = { user_id: alice.id };
    const made = await alice.client.POST("/{user_id}/tasks", { params: { path }, body: { title: "undo me" } });
    assert.ok(made.data);
    const taskPath = { user_id: alice.id, id: made.data.id };
    assert.equal((await alice.client.DELETE("/{user_id}/tasks/{id}", { params: { path: taskPath } })).response.status, 204);
    const trash = await alice.client.GET("/{user_id}/trash", { params: { path } });
    assert.equal(trash.data?.items[0]?.task.id, made.data.id, "the most recently deleted comes first");
    const restored = await alice.client.POST("/{user_id}/trash/{id}/restore", { params: { path: taskPath } });
    assert.deepEqual(restored.data, made.data);
  });

  test("subtasks and an offline queue: one batch makes a task with steps, ticks one, and is applied once", async () => {
    const path = { user_id: alice.id };
    const queue: BatchOperation[] = [
      { op: "create", ref: "trip", body: { title: "Pack for the trip" } },
      { op: "create", ref: "socks", body: { title: "socks", parent_id: "trip" } },
      { op: "create", body: { title: "charger", parent_id: "trip" } },
      { op: "complete", id: "socks", body: { completed: true } },
      { op: "move", id: "socks", body: { after: null } },
    ];
    const headers = { "Idempotency-Key": crypto.randomUUID() };
    const sent = await alice.client.POST("/{user_id}/batch", { params: { path, header: headers }, body: { operations: queue } });
    assert.equal(sent.response.status, 200);
    const trip = sent.data!.results[0]?.task;
    assert.ok(trip && "subtasks" in trip);
    assert.deepEqual(trip.subtasks, { open: 1, total: 2 });
    assert.equal(sent.data!.refs.trip, trip.id);
    const again = await alice.client.POST("/{user_id}/batch", { params: { path, header: headers }, body: { operations: queue } });
    assert.deepEqual(again.data, sent.data, "resent after a lost connection: applied once");

    const steps = await alice.client.GET("/{user_id}/tasks", {
      params: { path, query: { parent_id: trip.id, sort: "position" } },
    });
    assert.deepEqual(steps.data?.items.map((task) => [task.title, task.completed]), [["socks", true], ["charger", false]]);
    const done = await alice.client.PATCH("/{user_id}/tasks/{id}/complete", {
      params: { path: { user_id: alice.id, id: trip.id } },
      body: { completed: true },
    });
    assert.deepEqual(done.data?.subtasks, { open: 0, total: 2 }, "completing the parent ticks the last step");

    const refused = await alice.client.POST("/{user_id}/batch", {
      params: { path },
      body: { operations: [{ op: "create", body: { title: "fine" } }, { op: "create", body: { title: "" } }] },
    });
    assertProblem(refused.error as Problem, 400, "validation-error");
    assert.equal((refused.error as Problem).operation, 1);
  });

  test("lists and manual order: make Work and Home, move tasks, delete Home and undo it", async () => {
    const path = { user_id: alice.id };
    const work = (await alice.client.POST("/{user_id}/lists", { params: { path }, body: { name: "Work" } })).data;
    const home = (await alice.client.POST("/{user_id}/lists", { params: { path }, body: { name: "Home", color: "#22c55e" } }))
      .data;
    assert.ok(work && home);
    const titles = async (listId: string) =>
      (
        await alice.client.GET("/{user_id}/tasks", { params: { path, query: { list_id: listId, sort: "position" } } })
      ).data?.items.map((task) => task.title);
    const made = async (title: string, listId: string) =>
      (await alice.client.POST("/{user_id}/tasks", { params: { path }, body: { title, list_id: listId } })).data!;
    const report = await made("report", work.id);
    const slides = await made("slides", work.id);
    const dishes = await made("dishes", home.id);
    assert.deepEqual(await titles(work.id), ["slides", "report"], "a new task goes first");
    const moved = await alice.client.POST("/{user_id}/tasks/{id}/move", {
      params: { path: { user_id: alice.id, id: slides.id } },
      body: { after: report.id },
    });
    assert.equal(moved.data?.list_id, work.id);
    assert.deepEqual(await titles(work.id), ["report", "slides"]);
    await alice.client.POST("/{user_id}/tasks/{id}/move", {
      params: { path: { user_id: alice.id, id: dishes.id } },
      body: { after: report.id, list_id: work.id },
    });
    assert.deepEqual(await titles(work.id), ["report", "dishes", "slides"], "moved between two others, from Home");
    const listPath = { user_id: alice.id, list_id: home.id };
    await made("laundry", home.id);
    assert.equal((await alice.client.DELETE("/{user_id}/lists/{list_id}", { params: { path: listPath } })).response.status, 204);
    assert.deepEqual((await alice.client.GET("/{user_id}/lists", { params: { path } })).data?.items.map((l) => l.name), ["Work"]);
    const undone = await alice.client.POST("/{user_id}/lists/{list_id}/restore", { params: { path: listPath } });
    assert.equal(undone.data?.total, 1);
    assert.deepEqual(await titles(home.id), ["laundry"]);
    const feed = await alice.client.GET("/{user_id}/changes", { params: { path, query: { kinds: ["task", "list"] } } });
    assert.deepEqual(
      feed.data?.items.filter((item) => item.kind === "list").map((item) => item.list?.name),
      ["Work", "Home"],
    );
    assert.ok(feed.data?.items.some((item) => item.kind === "task" && item.task?.title === "laundry"), "tasks too");
  });

  test("a change made by one client reaches the other as an event, then exactly that change from the feed", async () => {
    const path = { user_id: alice.id };
    const phone = createTaskClient({ baseUrl: apiUrl, getToken: () => alice.token });
    // The laptop: a full sync, then live events.
    let position = "";
    for (let more = true; more; ) {
      const page = await alice.client.GET("/{user_id}/changes", {
        params: { path, query: position ? { since: position } : {} },
      });
      assert.ok(page.data);
      position = page.data.next_since;
      more = page.data.has_more;
    }
    const events: LiveEvent[] = [];
    const unsubscribe = new AbortController();
    let phoneDone: Promise<void> | undefined;
    const heard = new Promise<void>((resolve) => {
      void subscribeToChanges({
        baseUrl: apiUrl,
        userId: alice.id,
        getToken: () => alice.token,
        signal: unsubscribe.signal,
        onEvent: (event) => {
          events.push(event);
          if (event.type === "ready") phoneDone = phoneMakesAChange();
          if (event.type === "changes") resolve();
        },
      });
    });
    let madeOnPhone = "";
    async function phoneMakesAChange() {
      const made = await phone.POST("/{user_id}/tasks", { params: { path }, body: { title: "added on the phone" } });
      madeOnPhone = made.data?.id ?? "";
    }
    await heard;
    await phoneDone;
    unsubscribe.abort();
    const change = events.find((event) => event.type === "changes");
    assert.ok(change?.type === "changes");
    assert.deepEqual(change.changes, [{ id: madeOnPhone, op: "upsert", kind: "task" }]);
    const pulled = await alice.client.GET("/{user_id}/changes", { params: { path, query: { since: position } } });
    assert.deepEqual(pulled.data?.items.map((item) => [item.id, item.op, item.task?.title]), [
      [madeOnPhone, "upsert", "added on the phone"],
    ]);
  });

  test("a reminder a second away arrives as a `reminder` event, and the task records it", async () => {
    const path = { user_id: alice.id };
    const unsubscribe = new AbortController();
    let taskId = "";
    const reminded = new Promise<DueReminder>((resolve) => {
      void subscribeToChanges({
        baseUrl: apiUrl,
        userId: alice.id,
        getToken: () => alice.token,
        signal: unsubscribe.signal,
        onEvent: (event) => {
          if (event.type === "ready" && !taskId) {
            const remindAt = new Date(Date.now() + 1000).toISOString();
            void alice.client
              .POST("/{user_id}/tasks", { params: { path }, body: { title: "Stretch", remind_at: remindAt } })
              .then((made) => (taskId = made.data?.id ?? ""));
          }
          if (event.type === "reminder") resolve(event.reminder);
        },
      });
    });
    const reminder = await reminded;
    unsubscribe.abort();
    assert.equal(reminder.title, "Stretch");
    assert.equal(reminder.id, taskId);
    const task = await alice.client.GET("/{user_id}/tasks/{id}", { params: { path: { ...path, id: taskId } } });
    assert.ok(task.data?.reminded_at, "reminded_at is set once the reminder fired");
  });
});

describe("isolation between users", () => {
  test("bob gets 403 on alice's path and on alice's task under his own path", async () => {
    const mine = await alice.client.POST("/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
      body: { title: "alice's secret" },
    });
    assert.ok(mine.data);
    const onAlicesPath = await bob.client.GET("/{user_id}/tasks", { params: { path: { user_id: alice.id } } });
    assertProblem(onAlicesPath.error, 403, "forbidden");
    const underBobsPath = await bob.client.GET("/{user_id}/tasks/{id}", {
      params: { path: { user_id: bob.id, id: mine.data.id } },
    });
    assertProblem(underBobsPath.error, 403, "forbidden");
    const deleteAttempt = await bob.client.DELETE("/{user_id}/tasks/{id}", {
      params: { path: { user_id: bob.id, id: mine.data.id } },
    });
    assertProblem(deleteAttempt.error, 403, "forbidden");
    const stillThere = await alice.client.GET("/{user_id}/tasks/{id}", {
      params: { path: { user_id: alice.id, id: mine.data.id } },
    });
    assert.equal(stillThere.data?.title, "alice's secret");
  });
});

describe("tokens the API must refuse", () => {
  async function listWith(token: string) {
    const client = createTaskClient({ baseUrl: apiUrl, getToken: () => token });
    return client.GET("/{user_id}/tasks", { params: { path: { user_id: alice.id } } });
  }

  test("an expired Better Auth token is a 401", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const { token } = await auth.api.signJWT({ body: { payload: { sub: alice.id, iat: past, exp: past + 900 } } });
    const result = await listWith(token);
    assertProblem(result.error, 401, "invalid-token");
    assert.match(result.response.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_token"/);
  });

  test("a token from another Better Auth (same URL, other keys) is a 401", async () => {
    const { token } = await impostor(authUrl).api.signJWT({ body: { payload: { sub: alice.id } } });
    assertProblem((await listWith(token)).error, 401, "invalid-token");
  });

  test("a genuine token is accepted, so the refusals above are about the tokens", async () => {
    assert.equal((await listWith(alice.token)).response.status, 200);
  });
});

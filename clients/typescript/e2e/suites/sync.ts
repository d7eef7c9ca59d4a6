/** Two clients of one user kept in sync: undo, batches, lists and order, live events and reminders. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  createTaskClient,
  subscribeToChanges,
  type BatchOperation,
  type DueReminder,
  type LiveEvent,
  type Problem,
} from "../../src/index.ts";
import { alice, apiUrl, assertProblem } from "../world.ts";

export function syncSuites(): void {
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
}

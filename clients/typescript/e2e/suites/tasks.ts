/** One user through the generated client: the CRUD, typed problems, and the todo model (tags, recurrence, counts). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { alice, assertProblem, bob } from "../world.ts";

export function taskSuites(): void {
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
}

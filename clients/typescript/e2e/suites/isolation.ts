/** Isolation between users, and the tokens the API must refuse. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createTaskClient } from "../../src/index.ts";
import { impostor } from "../better-auth.ts";
import { alice, apiUrl, assertProblem, auth, authUrl, bob } from "../world.ts";

export function isolationSuites(): void {
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
}

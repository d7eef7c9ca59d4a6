/** The MCP server with the real parts: a Better Auth JWT handed to the official MCP TypeScript SDK's client (as a
 * chat assistant built on Next.js would use it) against /mcp. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { alice, apiUrl, bob } from "../world.ts";

async function connect(token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${new URL(apiUrl).origin}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "e2e-assistant", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

export function mcpSuites(): void {
  describe("an AI assistant through MCP, with the user's Better Auth token", () => {
    test("adds and lists the user's tasks, and only theirs", async () => {
      const client = await connect(bob.token);
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        assert.ok(names.includes("add_task") && names.includes("list_tasks"));
        const added = await client.callTool({ name: "add_task", arguments: { title: "Call mum", priority: "high" } });
        assert.notEqual(added.isError, true);
        const created = (added.structuredContent as { created: { id: string; user_id: string } }).created;
        assert.equal(created.user_id, bob.id);
        const listed = await client.callTool({ name: "list_tasks", arguments: { q: "mum" } });
        const tasks = (listed.structuredContent as { tasks: { id: string; user_id: string }[] }).tasks;
        assert.deepEqual(tasks.map((task) => task.id), [created.id]);
        const read = await bob.client.GET("/{user_id}/tasks/{id}", { params: { path: { user_id: bob.id, id: created.id } } });
        assert.equal(read.data?.title, "Call mum");
        const theirs = await alice.client.GET("/{user_id}/tasks", { params: { path: { user_id: alice.id }, query: { q: "mum" } } });
        assert.deepEqual(theirs.data?.items, []);
      } finally {
        await client.close();
      }
    });

    test("a token Better Auth did not sign is refused before any tool runs", async () => {
      await assert.rejects(connect(`${bob.token.slice(0, -4)}AAAA`));
    });
  });
}

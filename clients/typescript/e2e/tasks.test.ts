/**
 * End to end, with the real parts: a Better Auth server issues the JWTs, the Python service verifies
 * them against its JWKS, and every call goes through the generated, typed client (e2e/world.ts). One
 * service for every suite (e2e/suites/), and for the MCP server's (e2e/suites/mcp.ts).
 */
import { after, before } from "node:test";
import { isolationSuites } from "./suites/isolation.ts";
import { mcpSuites } from "./suites/mcp.ts";
import { syncSuites } from "./suites/sync.ts";
import { taskSuites } from "./suites/tasks.ts";
import { startWorld, stopWorld } from "./world.ts";

before(startWorld);
after(stopWorld);

taskSuites();
syncSuites();
isolationSuites();
mcpSuites();

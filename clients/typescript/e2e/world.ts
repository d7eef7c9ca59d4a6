/** What every end-to-end suite shares: a real Better Auth issuing JWTs, the Python service verifying them against
 * its JWKS, and two signed-up users with a generated, typed client each. */
import assert from "node:assert/strict";
import { createTaskClient, type Problem, type TaskClient } from "../src/index.ts";
import { signUp, startBetterAuth, type Auth } from "./better-auth.ts";
import { startTaskApi } from "./task-api.ts";

export let auth: Auth;
export let authUrl: string;
export let apiUrl: string;
let closeAuth: () => void;
let stopApi: () => Promise<void>;
export const alice = { id: "", token: "", client: undefined as unknown as TaskClient };
export const bob = { id: "", token: "", client: undefined as unknown as TaskClient };

export function assertProblem(error: Problem | undefined, status: number, type: string): void {
  assert.ok(error, `expected a ${status} problem`);
  assert.equal(error.status, status);
  assert.equal(error.type, `urn:taskapi:problem:${type}`);
  assert.ok(error.detail.length > 0);
}

export async function startWorld(): Promise<void> {
  ({ auth, baseURL: authUrl, close: closeAuth } = await startBetterAuth());
  ({ baseUrl: apiUrl, stop: stopApi } = await startTaskApi(authUrl));
  for (const [user, name] of [[alice, "alice"], [bob, "bob"]] as const) {
    Object.assign(user, await signUp(authUrl, name));
    user.client = createTaskClient({ baseUrl: apiUrl, getToken: () => user.token });
  }
}

export async function stopWorld(): Promise<void> {
  await stopApi?.();
  closeAuth?.();
}

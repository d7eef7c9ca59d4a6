/**
 * The one place that talks to the Task API: the generated client, the token, and what to do when a call fails.
 *
 * The JWT comes from Better Auth (`authClient.token()`), lives in memory only, and is renewed before it expires
 * (a minute ahead, or at half its life for short tokens) and once more after a 401. A 429 waits as
 * `Retry-After` says and tries again; a call that cannot reach the API throws `Unreachable`, so that the caller
 * keeps what the person typed and retries when the API is back.
 */
import { createTaskClient, type Problem, type TaskClient } from "@taskapi/client";

import { authClient } from "./auth-client";

export class SignedOut extends Error {}

/** The API answered with a problem (RFC 9457). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail);
  }

  /** The message for one field of the request (`title`, `due_at`, `recurrence.rule`, …), if the API named it;
   * in a batch, of the refused operation's body (`operations.3.body.title`). */
  fieldMessage(field: string): string | undefined {
    return this.problem.errors?.find((error) => error.field === field || error.field.endsWith(`.body.${field}`))?.message;
  }
}

export class Unreachable extends Error {
  constructor() {
    super("The Task API cannot be reached right now.");
  }
}

function expiryOf(token: string): number {
  const payload = token.split(".")[1] ?? "";
  const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
  return claims.exp * 1000;
}

export class TokenSource {
  private token: string | undefined;
  private renewAt = 0;
  private pending: Promise<string> | undefined;

  async get(): Promise<string> {
    if (this.token && Date.now() < this.renewAt) return this.token;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const { data, error } = await authClient.token();
    if (error || !data) throw new SignedOut();
    const expiresAt = expiryOf(data.token);
    const lifetime = expiresAt - Date.now();
    this.token = data.token;
    this.renewAt = expiresAt - Math.min(60_000, lifetime / 2);
    return data.token;
  }
}

/** A client whose requests carry a fresh token, retried once with a new one after a 401. */
export function makeClient(baseUrl: string, tokens: TokenSource): TaskClient {
  return createTaskClient({
    baseUrl,
    getToken: () => tokens.get(),
    fetch: async (request) => {
      const retry = request.clone();
      const response = await globalThis.fetch(request);
      if (response.status !== 401) return response;
      tokens.invalidate();
      retry.headers.set("Authorization", `Bearer ${await tokens.get()}`);
      return globalThis.fetch(retry);
    },
  });
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The data of a call, or ApiError / Unreachable / SignedOut; a 429 waits as the API says and tries again. */
export async function call<T>(send: () => Promise<Answer<T>>): Promise<{ data: T; response: Response }> {
  for (let attempt = 0; ; attempt += 1) {
    let answer: Answer<T>;
    try {
      answer = await send();
    } catch (error) {
      if (error instanceof SignedOut) throw error;
      throw new Unreachable();
    }
    const { response } = answer;
    if (response.status === 429 && attempt < 5) {
      await sleep(Number(response.headers.get("Retry-After") ?? "1") * 1000);
      continue;
    }
    if (!response.ok) {
      if (response.status === 401) throw new SignedOut();
      throw new ApiError(response.status, answer.error as Problem);
    }
    return { data: answer.data as T, response };
  }
}

"use client";
/** The API for a page: one token source and client, and `perform`, which keeps retrying an action while the
 * API cannot be reached (the page says so meanwhile) and resolves once it went through. */
import type { TaskClient } from "@taskapi/client";
import { reconnectDelay } from "@taskapi/client";
import { useCallback, useMemo, useState } from "react";

import { makeClient, SignedOut, TokenSource, Unreachable } from "./api";

export interface TaskApi {
  client: TaskClient;
  tokens: TokenSource;
  unreachable: boolean;
  perform: <T>(action: () => Promise<T>) => Promise<T>;
}

export function useTaskApi(apiUrl: string): TaskApi {
  const tokens = useMemo(() => new TokenSource(), []);
  const client = useMemo(() => makeClient(apiUrl, tokens), [apiUrl, tokens]);
  const [unreachable, setUnreachable] = useState(false);

  const perform = useCallback(async <T,>(action: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await action();
        setUnreachable(false);
        return result;
      } catch (error) {
        if (error instanceof SignedOut) {
          window.location.assign("/sign-in");
          throw error;
        }
        if (!(error instanceof Unreachable)) throw error;
        setUnreachable(true);
        await new Promise((resolve) => setTimeout(resolve, Math.max(250, reconnectDelay(Math.min(attempt, 3)))));
      }
    }
  }, []);

  return useMemo(() => ({ client, tokens, unreachable, perform }), [client, tokens, unreachable, perform]);
}

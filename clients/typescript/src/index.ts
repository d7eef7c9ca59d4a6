/**
 * A typed client for the Task API. Types come from `src/schema.d.ts`, generated from
 * openapi/openapi.yaml by `make client`; requests go through openapi-fetch.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export {
  reconnectDelay,
  subscribeToChanges,
  type DueReminder,
  type LiveEvent,
  type SubscribeOptions,
  type TaskChange,
} from "./events.ts";
export type Task = components["schemas"]["Task"];
export type TaskCreate = components["schemas"]["TaskCreate"];
export type TaskUpdate = components["schemas"]["TaskUpdate"];
export type TaskList = components["schemas"]["TaskList"];
export type Recurrence = NonNullable<components["schemas"]["Recurrence"]>;
export type TagList = components["schemas"]["TagList"];
export type Summary = components["schemas"]["Summary"];
export type Change = components["schemas"]["Change"];
export type ChangeList = components["schemas"]["ChangeList"];
export type TrashList = components["schemas"]["TrashList"];
export type List = components["schemas"]["List"];
export type ListCreate = components["schemas"]["ListCreate"];
export type ListUpdate = components["schemas"]["ListUpdate"];
export type TaskMove = components["schemas"]["TaskMove"];
export type TaskCompletion = components["schemas"]["TaskCompletion"];
export type BatchResult = components["schemas"]["BatchResult"];
export type PushSubscriptionCreate = components["schemas"]["PushSubscriptionCreate"];
export type PushSubscriptionList = components["schemas"]["PushSubscriptionList"];
export type QuickAdd = components["schemas"]["QuickAdd"];
export type QuickAddResult = components["schemas"]["QuickAddResult"];
export type QuickAddSpan = QuickAddResult["spans"][number];
export type CalendarFeed = components["schemas"]["CalendarFeed"];
export type CalendarFeedState = components["schemas"]["CalendarFeedState"];
/** A task id, or the `ref` an earlier create of the same batch gave its new task. */
type TaskRef = string;
/**
 * One operation of `POST /{user_id}/batch`, typed by `op`: each takes the body its single operation takes, where
 * `parent_id` and `after` (like `id`) may be a ref. The contract can only say "an object" for a body that may
 * hold refs; this says which.
 */
export type BatchOperation =
  | { op: "create"; ref?: string; body: Omit<TaskCreate, "parent_id"> & { parent_id?: TaskRef | null } }
  | { op: "update"; id: TaskRef; if_match?: string; body: TaskUpdate }
  | { op: "complete"; id: TaskRef; if_match?: string; body?: TaskCompletion }
  | { op: "delete" | "restore"; id: TaskRef; if_match?: string }
  | { op: "move"; id: TaskRef; if_match?: string; body: Omit<TaskMove, "after"> & { after: TaskRef | null } };
/** Every non-2xx answer: RFC 9457 problem+json. Branch on `type`, show `detail`. */
export type Problem = components["schemas"]["Problem"];
export type TaskClient = Client<paths>;

export interface TaskClientOptions {
  /** The API's base URL, `/api` included: e.g. `https://tasks.example.com/api`. */
  baseUrl: string;
  /** The signed-in user's JWT from Better Auth (`authClient.token()` or `GET /api/auth/token`). */
  getToken: () => string | Promise<string>;
  /** A fetch implementation; the global one by default. */
  fetch?: (input: Request) => Promise<Response>;
}

/** The query parameters the contract sends as one comma-separated value (`style: form, explode: false`); every
 * other array repeats its name (`tag=a&tag=b`). e2e/query-style.test.ts checks this list against the contract. */
export const COMMA_SEPARATED = new Set(["kinds"]);

/** A request's query string, each parameter as the contract says it is sent. */
export function serializeQuery(query: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    const values = (Array.isArray(value) ? value : [value]).map((item) => encodeURIComponent(String(item)));
    if (COMMA_SEPARATED.has(name)) parts.push(`${encodeURIComponent(name)}=${values.join(",")}`);
    else for (const item of values) parts.push(`${encodeURIComponent(name)}=${item}`);
  }
  return parts.join("&");
}

/** A client whose every request carries `Authorization: Bearer <getToken()>`. */
export function createTaskClient({ baseUrl, getToken, fetch }: TaskClientOptions): TaskClient {
  const client = createClient<paths>({ baseUrl, querySerializer: serializeQuery, ...(fetch ? { fetch } : {}) });
  const bearer: Middleware = {
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await getToken()}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

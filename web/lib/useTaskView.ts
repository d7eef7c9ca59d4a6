"use client";
/**
 * What the tasks page shows, read from the API and kept current within its rate limit: the page of tasks (per the
 * filters), the sidebar's tag and day counts, and the lists.
 *
 * Each is read by a reader of its own (lib/coalesced.ts): a filter change reads the tasks only; counts are read at
 * most every two seconds however many changes come. Live events apply what the change feed says changed (one
 * request for a burst of them): a task changed in place, taken out or added first, and lists as they are now;
 * only what the feed cannot place (a search, a new order) reads the page again. `ready` and `resync` read it all.
 */
import type { List, Summary, TagList, Task } from "@taskapi/client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { call } from "./api";
import { coalesced } from "./coalesced";
import { ALL_TASKS, applied, type Filters, queryOf } from "./filters";
import { browserTimeZone } from "./time";
import type { TaskApi } from "./useTaskApi";

export const PAGE = 20;
const COUNTS_EVERY_MS = 2_000;
const LISTS_EVERY_MS = 1_000;

export interface TaskView {
  filters: Filters;
  /** Change the filters: the list shown goes back to its first page. */
  setFilters: (change: Partial<Filters>) => void;
  tasks: Task[];
  hasMore: boolean;
  loadMore: () => Promise<void>;
  tags: TagList["items"];
  summary: Summary | null;
  lists: List[];
  /** After this page's own change went through: the tasks again (awaited), the counts at their pace. */
  changed: (lists?: boolean) => Promise<void>;
  /** A live event (lib/useLiveUpdates.ts). */
  live: (change: { reset: boolean; position: string }) => void;
}

export function useTaskView(api: TaskApi, userId: string): TaskView {
  const { client, perform } = api;
  const [filters, setFilterState] = useState<Filters>(ALL_TASKS);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [shown, setShown] = useState(PAGE);
  const [tags, setTags] = useState<TagList["items"]>([]);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [lists, setLists] = useState<List[]>([]);
  const path = useMemo(() => ({ user_id: userId }), [userId]);
  // What the readers read with: the latest, without making new readers (each keeps its own pace).
  const latest = useRef({ filters, shown, tasks });
  latest.current = { filters, shown, tasks };
  const position = useRef("");

  const readers = useMemo(() => {
    // The tasks shown change in one lane, one answer at a time and in order: a page read, or the change feed applied.
    const wanted = { page: false, feed: false };
    const readPage = async () => {
      const { filters: now, shown: count } = latest.current;
      const query = { ...queryOf(now), limit: Math.min(100, count) };
      const { data } = await perform(() => call(() => client.GET("/{user_id}/tasks", { params: { path, query } })));
      latest.current.tasks = data.items;
      setTasks(data.items);
      setNext(data.next_cursor);
    };
    // The changes since the last position applied, for a burst of live events: one request.
    const readFeed = async () => {
      const { data } = await perform(() =>
        call(() =>
          client.GET("/{user_id}/changes", {
            params: { path, query: { since: position.current, kinds: ["task", "list"], limit: 100 } },
          }),
        ),
      );
      position.current = data.next_since;
      const changedLists = data.items.filter((item) => item.kind === "list");
      if (changedLists.length) setLists((old) => listsApplied(old, changedLists));
      const changedTasks = data.items.filter((item) => item.kind !== "list");
      const { tasks: kept, complete } = applied(latest.current.tasks, changedTasks, latest.current.filters);
      latest.current.tasks = kept;
      setTasks(kept);
      wanted.page ||= !complete || data.has_more;
    };
    const tasksLane = coalesced(async () => {
      while (wanted.page || wanted.feed) {
        if (wanted.feed) {
          wanted.feed = false;
          if (position.current) await readFeed();
          else wanted.page = true;
        }
        if (wanted.page) {
          wanted.page = false;
          await readPage();
        }
      }
    });
    const readTasks = () => {
      wanted.page = true;
      return tasksLane();
    };
    const applyFeed = () => {
      wanted.feed = true;
      void readCounts();
      return tasksLane();
    };
    const readCounts = coalesced(async () => {
      const [tagList, counts] = await perform(() =>
        Promise.all([
          call(() => client.GET("/{user_id}/tags", { params: { path } })),
          call(() => client.GET("/{user_id}/summary", { params: { path, query: { timezone: browserTimeZone() } } })),
        ]),
      );
      setTags(tagList.data.items);
      setSummary(counts.data);
    }, COUNTS_EVERY_MS);
    const readLists = coalesced(async () => {
      const { data } = await perform(() => call(() => client.GET("/{user_id}/lists", { params: { path } })));
      setLists(data.items);
    }, LISTS_EVERY_MS);
    const readAll = () => Promise.all([readTasks(), readCounts(), readLists()]).then(() => {});
    return { readTasks, readCounts, readLists, readAll, applyFeed };
  }, [client, perform, path]);

  useEffect(() => {
    void readers.readTasks();
  }, [readers, filters]);
  useEffect(() => {
    void readers.readCounts();
    void readers.readLists();
  }, [readers]);

  const setFilters = useCallback((change: Partial<Filters>) => {
    setShown(PAGE);
    setFilterState((old) => ({ ...old, ...change }));
  }, []);

  const loadMore = useCallback(async () => {
    if (!next) return;
    const query = { ...queryOf(latest.current.filters), cursor: next, limit: PAGE };
    const { data } = await perform(() => call(() => client.GET("/{user_id}/tasks", { params: { path, query } })));
    setTasks((old) => [...old, ...data.items]);
    setNext(data.next_cursor);
    setShown((old) => old + data.items.length);
  }, [client, perform, path, next]);

  const changed = useCallback(
    async (lists = false) => {
      void readers.readCounts();
      await Promise.all([readers.readTasks(), lists ? readers.readLists() : Promise.resolve()]);
    },
    [readers],
  );

  const live = useCallback(
    (change: { reset: boolean; position: string }) => {
      if (change.reset) {
        position.current = change.position;
        void readers.readAll();
      } else {
        void readers.applyFeed();
      }
    },
    [readers],
  );

  return { filters, setFilters, tasks, hasMore: next !== null, loadMore, tags, summary, lists, changed, live };
}

/** The lists, with the feed's list changes applied (a deleted one gone, others as they are now), in their order. */
function listsApplied(lists: List[], changes: { id: string; op: string; list?: List | null }[]): List[] {
  let result = lists;
  for (const change of changes) {
    result = result.filter((list) => list.id !== change.id);
    if (change.op === "upsert" && change.list) result = [...result, change.list];
  }
  return [...result].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

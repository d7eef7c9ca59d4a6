"use client";

/** The end of a paged list: a message when it is empty, and "Load more" while the API has another page. */
export function ListEnd({ empty, hasMore, onMore, emptyText }: { empty: boolean; hasMore: boolean; onMore: () => void; emptyText: string }) {
  return (
    <>
      {empty && <p className="empty">{emptyText}</p>}
      {hasMore && (
        <button type="button" className="ghost more" onClick={onMore}>
          Load more
        </button>
      )}
    </>
  );
}

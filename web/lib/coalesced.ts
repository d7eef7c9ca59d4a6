/** A read that runs one at a time: asks that come while it runs make one more run, no sooner than `gapMs` after
 * the last one began. A burst of asks costs two runs at most, answers never arrive out of order, and a reader that
 * is asked on every change stays within the API's rate limit. */
export function coalesced(run: () => Promise<void>, gapMs = 0): () => Promise<void> {
  let running: Promise<void> | null = null;
  let askedAgain = false;
  let lastStart = 0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return () => {
    if (running) {
      askedAgain = true;
      return running;
    }
    running = (async () => {
      do {
        askedAgain = false;
        const wait = lastStart + gapMs - Date.now();
        if (wait > 0) await sleep(wait);
        lastStart = Date.now();
        await run();
      } while (askedAgain);
    })().finally(() => {
      running = null;
    });
    return running;
  };
}

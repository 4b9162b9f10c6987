// A Poller started with the component and stopped with it; `run` may read the latest props
// and state (it is called through a ref, so the poller is not rebuilt on every render).

import { useLayoutEffect, useMemo, useRef } from "preact/hooks";
import { Poller } from "./poller";

export function usePoller(run: (signal: AbortSignal) => Promise<unknown>, intervalMs: number): Poller {
  const latest = useRef(run);
  latest.current = run;
  const poller = useMemo(() => new Poller({ intervalMs, run: (signal) => latest.current(signal) }), [intervalMs]);
  // A layout effect: the first request leaves right after the first render.
  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  return poller;
}

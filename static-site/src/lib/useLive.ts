// Pages hear the live notices of their topics: `useLiveTopics(["kpis"], () => poller.refresh())`
// refetches through the page's own loader (and so the API client's ETag cache) when one of
// its topics changed. Without a live feed (no websocketUrl) it does nothing: the page polls.

import { useContext, useEffect, useRef, useState } from "preact/hooks";
import { Ctx } from "../context";
import type { LiveFeed, LiveNotice, LiveState } from "./live";

export function useLiveTopics(topics: string[], onNotice: (notice: LiveNotice) => void): void {
  const live = useContext(Ctx)?.live ?? null;
  const latest = useRef(onNotice);
  latest.current = onNotice;
  const key = topics.join(" ");
  useEffect(() => {
    if (!live || !key) return;
    return live.subscribe(key.split(" "), (n) => latest.current(n));
  }, [live, key]);
}

export function useLiveState(live: LiveFeed | null): LiveState {
  const [state, setState] = useState<LiveState>(live?.state ?? "polling");
  useEffect(() => {
    if (!live) return;
    setState(live.state);
    const off = live.onState(setState);
    live.start();
    return () => {
      off();
      live.stop();
    };
  }, [live]);
  return state;
}

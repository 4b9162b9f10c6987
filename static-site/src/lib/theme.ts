// Dark and light themes: follow the system unless the user picked one (remembered in
// localStorage). index.html applies the same rule in an inline script before first paint,
// so there is no flash of the wrong theme.

import { useEffect, useLayoutEffect, useState } from "preact/hooks";

export type ThemePref = "system" | "light" | "dark";
export type Theme = "light" | "dark";

export const THEME_KEY = "mc.theme";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked storage (privacy settings): themes still work, just not remembered
  }
}

export function readPref(): ThemePref {
  const v = storage()?.getItem(THEME_KEY);
  return v === "light" || v === "dark" ? v : "system";
}

export function resolveTheme(pref: ThemePref, systemDark: boolean): Theme {
  if (pref === "system") return systemDark ? "dark" : "light";
  return pref;
}

const darkQuery = () => window.matchMedia("(prefers-color-scheme: dark)");

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = theme;
  root.style.colorScheme = theme;
}

export function useTheme(): { pref: ThemePref; theme: Theme; setPref: (p: ThemePref) => void } {
  const [pref, setPrefState] = useState<ThemePref>(readPref);
  const [systemDark, setSystemDark] = useState(() => darkQuery().matches);

  useEffect(() => {
    const mq = darkQuery();
    const onChange = () => setSystemDark(mq.matches);
    mq.addEventListener("change", onChange);
    // Another tab changed the preference.
    const onStorage = (e: StorageEvent) => {
      if (e.key === THEME_KEY) setPrefState(readPref());
    };
    window.addEventListener("storage", onStorage);
    return () => {
      mq.removeEventListener("change", onChange);
      window.removeEventListener("storage", onStorage);
    };
  }, []);

  const theme = resolveTheme(pref, systemDark);
  useLayoutEffect(() => applyTheme(theme), [theme]);

  const setPref = (p: ThemePref) => {
    const s = storage();
    if (p === "system") s?.removeItem(THEME_KEY);
    else s?.setItem(THEME_KEY, p);
    setPrefState(p);
  };
  return { pref, theme, setPref };
}

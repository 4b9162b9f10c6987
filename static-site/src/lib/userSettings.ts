// The signed-in user's settings (GET|PUT /api/settings), one copy for the whole app: the
// shell's theme toggle and the Settings page's theme are the same setting, so a change in
// either is saved once and seen by both.

import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { ci, type UserSettings } from "../api/ci";
import type { ApiClient } from "../api/client";
import { DEFAULT_SETTINGS } from "./ci";

type Listener = (settings: UserSettings) => void;

export class UserSettingsStore {
  settings: UserSettings | null = null;
  private listeners = new Set<Listener>();
  /** Saves made so far: a load that a save overtook must not bring the old settings back. */
  private saves = 0;

  constructor(private readonly api: ApiClient) {}

  async load(): Promise<UserSettings> {
    const before = this.saves;
    const got = await ci.settings(this.api);
    if (this.saves !== before) return this.settings ?? got.data;
    this.publish(got.data);
    return got.data;
  }

  /** Save `changes` over the current settings; every listener hears the saved result. */
  async update(changes: Partial<UserSettings>): Promise<UserSettings> {
    const base = this.settings ?? DEFAULT_SETTINGS;
    this.saves += 1;
    const { version: _version, ...next } = { ...base, ...changes };
    const saved = await ci.saveSettings(this.api, next);
    const result = saved ?? { ...base, ...changes };
    this.publish(result);
    return result;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(settings: UserSettings): void {
    this.settings = settings;
    for (const listener of this.listeners) listener(settings);
  }
}

export const SettingsCtx = createContext<UserSettingsStore | null>(null);

/** The store and its current settings (null until loaded), re-rendering on every change. */
export function useUserSettings(): { store: UserSettingsStore; settings: UserSettings | null } {
  const store = useContext(SettingsCtx);
  if (!store) throw new Error("useUserSettings outside <SettingsCtx.Provider>");
  const [settings, setSettings] = useState(store.settings);
  useEffect(() => {
    setSettings(store.settings);
    return store.subscribe(setSettings);
  }, [store]);
  return { store, settings };
}

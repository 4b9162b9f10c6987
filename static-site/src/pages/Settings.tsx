// Settings: the signed-in user's own (GET|PUT /api/settings): which repositories the CI page
// shows and pins, the theme (the same setting as the shell's theme toggle), auto-refresh and
// notification preferences. One user never sees another's.

import { useEffect, useRef, useState } from "preact/hooks";
import { AUTO_REFRESH_CHOICES, ci, type Repo, type UserSettings } from "../api/ci";
import { ApiError } from "../api/client";
import { useApp } from "../context";
import { DEFAULT_SETTINGS, toggled } from "../lib/ci";
import { useUserSettings } from "../lib/userSettings";
import "./CI.css";

export function Settings() {
  const { api } = useApp();
  const { store, settings } = useUserSettings();
  const [draft, setDraft] = useState<UserSettings>(settings ?? DEFAULT_SETTINGS);
  const [repos, setRepos] = useState<Repo[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  // Whether the user changed something not saved yet: settings arriving meanwhile (the first
  // load, the shell's theme toggle) must not undo it. A ref, not state: an effect scheduled
  // before the user's change (the one after the first render) reads it when it runs.
  const edited = useRef(false);

  useEffect(() => {
    if (settings && !edited.current) setDraft(settings);
  }, [settings]);
  useEffect(() => {
    ci.repos(api).then((r) => setRepos(r.data.repos), () => setRepos([]));
  }, [api]);

  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await store.update(draft);
      edited.current = false;
      setStatus("Saved.");
    } catch (err) {
      setStatus(err instanceof ApiError ? `${err.message}` : String(err));
    }
  };
  const set = (changes: Partial<UserSettings>) => {
    edited.current = true;
    setDraft((current) => ({ ...current, ...changes }));
  };

  return (
    <section class="page settings" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>Settings</h1>
          <p class="page__meta">Your own settings: nobody else sees or changes them.</p>
        </div>
      </header>
      <form class="settings__form" onSubmit={save} data-testid="settings-form">
        <fieldset>
          <legend>Repositories on the CI page</legend>
          {repos.length === 0 && <p class="page__meta">No repositories have reported runs yet.</p>}
          {repos.map((r) => (
            <div key={r.repo}>
              <label>
                <input type="checkbox" checked={draft.selectedRepos.includes(r.repo)}
                  onChange={() => set({ selectedRepos: toggled(draft.selectedRepos, r.repo) })} /> show {r.repo}
              </label>
              <label>
                <input type="checkbox" checked={draft.pinnedRepos.includes(r.repo)} data-testid={`pin-${r.repo}`}
                  onChange={() => set({ pinnedRepos: toggled(draft.pinnedRepos, r.repo) })} /> pin first
              </label>
            </div>
          ))}
          <p class="page__meta">None shown ticked: every repository is shown.</p>
        </fieldset>
        <fieldset>
          <legend>Look and refresh</legend>
          <label>
            Theme{" "}
            <select value={draft.theme} data-testid="settings-theme"
              onChange={(e) => set({ theme: e.currentTarget.value as UserSettings["theme"] })}>
              <option value="system">Auto (follow the system)</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          <label>
            Auto-refresh the CI page{" "}
            <select value={String(draft.autoRefreshS)}
              onChange={(e) => set({ autoRefreshS: Number(e.currentTarget.value) as UserSettings["autoRefreshS"] })}>
              {AUTO_REFRESH_CHOICES.map((s) => <option key={s} value={String(s)}>{s === 0 ? "off" : `every ${s} s`}</option>)}
            </select>
          </label>
        </fieldset>
        <fieldset>
          <legend>Notifications</legend>
          {(["onFailure", "onRecovery", "defaultBranchOnly"] as const).map((k) => (
            <label key={k}>
              <input type="checkbox" checked={draft.notifications[k]}
                onChange={() => set({ notifications: { ...draft.notifications, [k]: !draft.notifications[k] } })} />{" "}
              {{ onFailure: "when a run of a pinned repository fails", onRecovery: "when it passes again", defaultBranchOnly: "only runs on the default branch" }[k]}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="button button--primary" data-testid="settings-save">Save</button>{" "}
        {status && <span role="status" data-testid="settings-status">{status}</span>}
      </form>
    </section>
  );
}

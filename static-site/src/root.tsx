// Between the page load and the app: nothing of the app (and no API data) renders until a user
// is signed in and the API has said who they are (GET /api/me).

import { useEffect, useState } from "preact/hooks";
import { ApiError, type ApiClient } from "./api/client";
import type { Me } from "./api/types";
import type { LiveFeed } from "./lib/live";
import { App } from "./app";
import type { Session, SessionState } from "./auth/session";
import { SignInScreen } from "./components/SignInScreen";

function useSessionState(session: Session): SessionState {
  const [state, setState] = useState(session.state);
  useEffect(() => {
    setState(session.state);
    return session.subscribe(setState);
  }, [session]);
  return state;
}

type Who = { user: Me } | { error: ApiError } | null;

export function Root({ session, api, live = null, locale }: { session: Session; api: ApiClient; live?: LiveFeed | null; locale?: string }) {
  const state = useSessionState(session);
  const [who, setWho] = useState<Who>(null);
  const [attempt, setAttempt] = useState(0);
  const since = state.status === "signed-in" ? state.since : null;

  useEffect(() => {
    setWho(null);
    if (since === null) return;
    const ctrl = new AbortController();
    api.me({ signal: ctrl.signal }).then(
      (r) => setWho({ user: r.data }),
      (e: unknown) => {
        // 401: the client's onUnauthorized is already taking the user to sign in.
        if (e instanceof ApiError && e.kind !== "unauthorized") setWho({ error: e });
      },
    );
    return () => ctrl.abort();
  }, [api, since, attempt]);

  const signOut = () => {
    api.clearCache(); // nothing the last user saw stays in memory
    setWho(null);
    session.signOut();
  };

  if (state.status === "starting" || state.status === "redirecting") {
    return <SignInScreen busy busyText={state.status === "redirecting" ? "Taking you to sign in…" : "Signing in…"} />;
  }
  if (state.status === "signed-out") {
    return <SignInScreen busy={false} message={state.message} onSignIn={() => void session.signIn()} />;
  }
  if (who === null) return <SignInScreen busy />;
  if ("error" in who) {
    if (who.error.status === 403) {
      return (
        <SignInScreen
          busy={false}
          title="No access yet"
          message="Your account has no role in Mission Control. Ask an admin to add you to the viewer, operator or admin group, then sign in again."
          action={
            <button type="button" class="button" onClick={signOut}>
              Sign out
            </button>
          }
        />
      );
    }
    return (
      <SignInScreen
        busy={false}
        message={`Signed in, but the API did not say who you are: ${who.error.message}`}
        action={
          <button type="button" class="button button--primary" onClick={() => setAttempt(attempt + 1)}>
            Try again
          </button>
        }
      />
    );
  }
  return <App api={api} live={live} locale={locale} user={who.user} onSignOut={signOut} />;
}

import { useLayoutEffect } from "preact/hooks";
import { BrandMark } from "./BrandMark";

/**
 * What a browser without a session sees: never data. While the app is on its way to the
 * provider it says so; after a sign-out or a failed sign-in it explains and offers a button.
 */
export function SignInScreen(props: {
  busy: boolean;
  /** Why the user is here, when something went wrong; null after a sign-out. */
  message?: string | null;
  /** What the busy screen says. */
  busyText?: string;
  onSignIn?: () => void;
  /** Replaces the sign-in button (e.g. "Sign out" for an account without a role). */
  action?: preact.ComponentChildren;
  title?: string;
}) {
  useLayoutEffect(() => {
    document.title = "Sign in · Mission Control";
  }, []);
  return (
    <main id="main" class="signin" data-testid="sign-in" aria-busy={props.busy}>
      <div class="signin__card">
        <p class="signin__brand">
          <BrandMark />
          <span>Mission Control</span>
        </p>
        <h1>{props.title ?? "Sign in to Mission Control"}</h1>
        {props.busy ? (
          <p role="status" class="muted">
            {props.busyText ?? "Signing in…"}
          </p>
        ) : (
          <>
            {props.message ? (
              <p role="alert" class="signin__error" data-testid="sign-in-error">
                {props.message}
              </p>
            ) : (
              <p data-testid="signed-out">You are signed out. Sign in to see your team's dashboard.</p>
            )}
            {props.action ?? (
              <button type="button" class="button button--primary" onClick={props.onSignIn}>
                Sign in
              </button>
            )}
          </>
        )}
      </div>
    </main>
  );
}

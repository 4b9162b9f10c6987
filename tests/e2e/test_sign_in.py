"""Signing in, in a real browser against the real product: a signed-out browser gets the sign-in
page and no data; a demo user signs in through the runner's sign-in page (authorization code
flow with PKCE) and lands where they were going, with their name and role on screen; what their
role may not do is not offered; tokens stay in memory and are renewed before they expire; signing
out returns to the sign-in page."""
from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def seed(product) -> None:
    now = int(time.time() * 1000)
    product.ingest_purchases([
        {"orderId": f"o-{i}", "productId": "p", "productName": "Pro plan", "amount": 1999, "currency": "USD",
         "userId": f"u-{i}", "sessionId": f"s-{i}", "timestamp": now - i * 60_000} for i in range(3)])


def api_requests(page) -> list[dict]:
    """Every request the page makes to the API, with its Authorization header."""
    seen: list[dict] = []
    page.on("request", lambda r: "/api/" in r.url and seen.append(
        {"url": r.url, "authorization": r.headers.get("authorization")}))
    return seen


def storage_of(page) -> dict:
    return page.evaluate("() => ({local: {...localStorage}, session: {...sessionStorage}})")


def test_a_signed_out_browser_gets_the_sign_in_page_and_no_data(product, page):
    seed(product)  # there is data to leak
    calls = api_requests(page)
    page.goto(product.base_url + "/#/hosts")

    # The SPA sends it straight to the sign-in page: PKCE S256, exact redirect URI, a state.
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256", query
    assert query["redirect_uri"] == product.base_url + "/", query
    assert query["client_id"] == "mission-control-spa", query
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"]) and len(query["state"]) >= 32, query
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Mission Control")
    for name in ("Vera Viewer", "Omar Operator", "Ada Admin"):
        expect(page.get_by_role("button", name=re.compile(name))).to_be_visible()

    # Nothing of the dashboard, and not one API call was made without a sign-in.
    expect(page.get_by_test_id("kpis")).to_have_count(0)
    assert "$" not in page.locator("body").inner_text()
    assert calls == [], calls
    # Only the round trip's state is kept (this tab's sessionStorage), never a token.
    kept = storage_of(page)
    assert list(kept["session"]) == ["mc.auth.pending"] and kept["local"] == {}, kept
    pending = json.loads(kept["session"]["mc.auth.pending"])
    assert pending["state"] == query["state"] and pending["returnTo"] == "#/hosts", pending
    assert pending["verifier"] not in page.url  # only its S256 challenge travels


def test_a_viewer_signs_in_through_the_sign_in_page_and_sees_the_overview(product, page):
    seed(product)
    calls = api_requests(page)
    page.goto(product.base_url + "/#/?period=7d")
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    page.get_by_role("button", name=re.compile("Vera Viewer")).click()

    # Back on the Overview it was going to, with the code and state gone from the address bar.
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    assert page.url == product.base_url + "/#/?period=7d", page.url
    expect(page.get_by_role("radio", name="last 7 days")).to_be_checked()
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3")

    # Who is signed in, and their role.
    expect(page.get_by_test_id("user-name")).to_have_text("Vera Viewer")
    expect(page.get_by_test_id("user-role")).to_have_text("viewer")
    expect(page.get_by_test_id("signed-in-user")).to_contain_text("Signed in as Vera Viewer, role viewer")

    # Every API call carried the access token; it is kept in memory only.
    assert calls and all(c["authorization"] and c["authorization"].startswith("Bearer ey") for c in calls), calls
    token = calls[0]["authorization"].removeprefix("Bearer ")
    kept = storage_of(page)
    assert kept["session"] == {}, kept  # the PKCE round trip's state is gone too
    assert token not in str(kept) and "eyJ" not in str(kept), kept
    # The browser history holds no code: the callback entry was replaced.
    assert "code=" not in page.evaluate("location.href")


def test_a_viewer_is_not_offered_what_only_admins_may_do(product, signed_in_page):
    viewer = signed_in_page("viewer")
    nav = viewer.get_by_role("navigation", name="Consoles")
    expect(nav.get_by_role("link", name=re.compile(r"^Hosts\b"))).to_be_visible()
    # Settings are each user's own: a viewer has theirs too.
    viewer.goto(product.base_url + "/#/settings")
    expect(viewer.get_by_test_id("settings-form")).to_be_visible()
    expect(viewer.get_by_test_id("forbidden")).to_have_count(0)
    # The empty store's key advice fits the role.
    viewer.goto(product.base_url + "/#/")
    expect(viewer.get_by_test_id("ask-admin-for-key")).to_be_visible()

    admin = signed_in_page("admin")
    expect(admin.get_by_test_id("user-name")).to_have_text("Ada Admin")
    expect(admin.get_by_test_id("user-role")).to_have_text("admin")
    admin.get_by_role("navigation", name="Consoles").get_by_role("link", name=re.compile(r"^Settings\b")).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Settings")
    expect(admin.get_by_test_id("forbidden")).to_have_count(0)
    admin.goto(product.base_url + "/#/")
    expect(admin.get_by_test_id("make-a-key")).to_contain_text("missionctl apikey create --scope ingest:business")


def test_a_reload_and_a_second_tab_stay_signed_in_without_the_sign_in_page(product, signed_in_page):
    seed(product)
    page = signed_in_page("operator", "/#/?period=7d")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3")
    pages_seen: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and pages_seen.append(frame.url))

    page.reload()
    # Straight back, through the issuer's session (prompt=none): no demo-user picker on the way.
    expect(page.get_by_test_id("user-role")).to_have_text("operator")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3")
    assert page.url == product.base_url + "/#/?period=7d", page.url
    assert not [u for u in pages_seen if "/auth/" in u], pages_seen
    assert "code=" not in page.evaluate("location.href")
    # The session lives in an HttpOnly cookie on /auth only: no script reads it, no token is stored.
    cookie, = [c for c in page.context.cookies() if c["name"] == "mc_dev_session"]
    assert (cookie["path"], cookie["httpOnly"], cookie["sameSite"]) == ("/auth", True, "Lax")
    assert "mc_dev_session" not in page.evaluate("document.cookie")
    assert storage_of(page) == {"local": {}, "session": {}}

    second = page.context.new_page()
    second.goto(product.base_url + "/#/hosts")
    expect(second.get_by_test_id("user-role")).to_have_text("operator")
    expect(second.get_by_role("heading", level=1)).to_have_text("Hosts")


def test_sign_out_ends_the_session_so_a_reload_does_not_sign_in_again(product, signed_in_page):
    page = signed_in_page("viewer")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("signed-out")).to_be_visible()
    assert [c for c in page.context.cookies() if c["name"] == "mc_dev_session"] == []
    # Even a new tab, which has no signed-out flag, finds no session and shows the picker.
    fresh = page.context.new_page()
    fresh.goto(product.base_url + "/")
    fresh.wait_for_url(re.compile(r"/auth/authorize\?"))
    expect(fresh.get_by_role("button", name=re.compile("Vera Viewer"))).to_be_visible()


def test_sign_out_returns_to_the_sign_in_page_and_shows_no_data(product, signed_in_page):
    seed(product)
    page = signed_in_page("operator")
    expect(page.get_by_test_id("user-role")).to_have_text("operator")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3")

    page.get_by_role("button", name="Sign out").click()
    screen = page.get_by_test_id("sign-in")
    expect(screen).to_contain_text("You are signed out")
    expect(page.get_by_test_id("kpis")).to_have_count(0)
    expect(page.get_by_test_id("signed-in-user")).to_have_count(0)
    assert page.title() == "Sign in · Mission Control"

    # Nothing polls any more, and a reload stays signed out (no silent way back in).
    calls = api_requests(page)
    page.wait_for_timeout(6000)
    assert calls == [], calls
    page.reload()
    expect(page.get_by_test_id("signed-out")).to_be_visible()
    assert urlsplit(page.url).path == "/" and "/auth/" not in page.url

    # Signing in again goes through the sign-in page, as anyone.
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    page.get_by_role("button", name=re.compile("Vera Viewer")).click()
    expect(page.get_by_test_id("user-role")).to_have_text("viewer")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3")


def test_tokens_are_renewed_silently_before_they_expire(product, new_context, page_errors, complete_sign_in):
    page = page_errors(new_context().new_page())
    page.clock.install()  # the page's timers and clock, so 14 minutes pass in a moment
    token_calls: list[dict] = []
    page.on("requestfinished", lambda r: r.url.endswith("/auth/token") and token_calls.append(
        {"grant": parse_qs(r.post_data or "").get("grant_type", [""])[0], "status": r.response().status}))
    calls = api_requests(page)
    page.goto(product.base_url + "/")
    complete_sign_in(page, "viewer")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("0")
    assert [c["grant"] for c in token_calls] == ["authorization_code"], token_calls
    first = calls[-1]["authorization"]

    # 14.5 minutes on: the 15-minute token is renewed with the refresh token, on the page as it is.
    page.clock.fast_forward("14:30")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(token_calls) < 2:
        page.wait_for_timeout(100)
    assert [(c["grant"], c["status"]) for c in token_calls] == [("authorization_code", 200), ("refresh_token", 200)]
    # The next refresh of the Overview: within 5 s while it polls, within a minute while live
    # (pushed notices replace the polls; a safety poll stays).
    page.clock.fast_forward("01:01")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and calls[-1]["authorization"] == first:
        page.wait_for_timeout(100)
    assert calls[-1]["authorization"] != first, "requests after the renewal must carry the new token"
    expect(page.get_by_test_id("user-role")).to_have_text("viewer")  # never sent back to sign in
    assert "/auth/" not in page.url


def test_the_sign_in_page_and_the_spa_share_the_spas_icon(product, page):
    page.goto(product.base_url + "/")
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon == product.base_url + "/favicon.svg"
    for path in ("/favicon.svg", "/favicon.ico"):  # what the page names, what a browser asks for anyway
        reply = page.request.get(product.base_url + path)
        assert reply.status == 200 and reply.headers["content-type"] == "image/svg+xml", path

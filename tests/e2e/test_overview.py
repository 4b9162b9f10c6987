"""The Overview in a real browser against the real product: the numbers the API computes are
the numbers on the page, the page stays calm and useful through an API outage, and an empty
store tells the user how to send the first purchase."""
from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

MINUTE = 60_000
HOUR = 60 * MINUTE


def purchase(order_id: str, product_id: str, name: str, amount: int, ts: int) -> dict:
    return {"orderId": order_id, "productId": product_id, "productName": name, "amount": amount,
            "currency": "USD", "userId": f"u-{order_id}", "sessionId": f"s-{order_id}", "timestamp": ts}


def known_purchases(now: int) -> list[dict]:
    return [
        # the last 24 hours: 3 orders, $193.43
        purchase("o-1", "p-pro", "Pro plan", 1999, now - 10 * MINUTE),
        purchase("o-2", "p-team", "Team plan", 4999, now - 20 * MINUTE),
        purchase("o-3", "p-ent", "Enterprise add-on", 12345, now - 2 * HOUR),
        # the 24 hours before: 1 order, $10.00
        purchase("o-0", "p-pro", "Pro plan", 1000, now - 30 * HOUR),
    ]


def kpi(page, name):
    return page.get_by_test_id(f"kpi-{name}")


def usd(minor: int) -> str:
    return f"${minor / 100:,.2f}"


def test_overview_shows_what_the_api_computed_and_survives_an_outage(product, signed_in_page, metrics):
    now = int(time.time() * 1000)
    product.ingest_purchases(known_purchases(now))
    api = product.get("/api/kpis?period=24h")
    assert api["revenue"]["value"] == 19343 and api["orders"]["value"] == 3  # the fixture's sums

    page = signed_in_page("viewer")
    api_calls: list[tuple[str, int, str | None]] = []
    page.on("response", lambda r: "/api/" in r.url and api_calls.append(
        (r.url, r.status, r.request.headers.get("if-none-match"))))

    expect(kpi(page, "revenue")).to_have_text("$193.43")
    expect(kpi(page, "orders")).to_have_text("3")
    # +1,834.3 %: an arrow and a sign, not only a colour
    expect(page.get_by_test_id("kpi-revenue-change")).to_contain_text("▲")
    expect(page.get_by_test_id("kpi-revenue-change")).to_contain_text("+1,834.3%")
    expect(page.get_by_test_id("kpi-aov")).to_have_text(usd(api["aov"]["value"]))
    expect(page.get_by_test_id("products-table")).to_contain_text("Enterprise add-on")
    expect(page.get_by_test_id("empty-state")).to_have_count(0)
    # Today is still running: drawn as so far, against last week by the same time of day.
    expect(page.get_by_test_id("revenue-today")).to_contain_text("Today so far")
    expect(page.get_by_test_id("revenue-today")).to_contain_text("last week by the same time")

    first_kpi = page.evaluate("performance.getEntriesByName('mc:first-kpi')[0]?.startTime ?? null")
    assert first_kpi is not None, "the Overview did not mark its first KPI paint"
    # From the navigation back from the sign-in page: config, code exchange, /api/me, then KPIs.
    metrics["first KPI paint after the sign-in redirect (ms, loopback)"] = first_kpi

    # Live and cheap: the next refresh (here: a page view was stored, so a pushed notice asks
    # for one) asks with If-None-Match and gets 304s for what did not change, which confirm the
    # numbers are current: the "as of" time moves with them.
    as_of = page.get_by_test_id("as-of").locator("time")
    before = as_of.get_attribute("datetime")
    page.wait_for_timeout(1000)  # the as-of time has a one-second resolution
    status, _body = product.request("POST", "/api/ingest/pageview", [{
        "eventId": "pv-1", "sessionId": "s-pv", "page": "/pricing", "timestamp": int(time.time() * 1000)}])
    assert status == 200
    expect(as_of).not_to_have_attribute("datetime", before or "", timeout=15_000)
    conditional = [c for c in api_calls if c[2]]
    assert conditional, f"no conditional request in {api_calls}"
    assert any(status == 304 for _, status, _ in conditional), conditional
    assert as_of.get_attribute("datetime") != before, "the as-of time froze on 304s"
    expect(page.get_by_test_id("as-of")).to_contain_text("Live · as of")

    # The API goes away: a banner says so, the last numbers stay.
    product.stop()
    banner = page.get_by_test_id("api-down-banner")
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("not reachable")
    expect(kpi(page, "revenue")).to_have_text("$193.43")
    expect(kpi(page, "orders")).to_have_text("3")

    # It comes back (same store): the banner goes on its own, and the page is live again.
    product.start()
    expect(banner).to_be_hidden(timeout=20_000)
    expect(kpi(page, "revenue")).to_have_text("$193.43")
    product.ingest_purchases([purchase("o-4", "p-pro", "Pro plan", 1999, int(time.time() * 1000))])
    expect(kpi(page, "orders")).to_have_text("4", timeout=20_000)
    expect(kpi(page, "revenue")).to_have_text("$213.42")


def test_period_switch_changes_the_numbers_and_the_url(product, signed_in_page):
    now = int(time.time() * 1000)
    product.ingest_purchases(known_purchases(now))
    page = signed_in_page("viewer")
    expect(kpi(page, "orders")).to_have_text("3")

    page.get_by_role("radio", name="last 7 days").check()
    expect(kpi(page, "orders")).to_have_text(str(product.get("/api/kpis?period=7d")["orders"]["value"]))
    assert "period=7d" in page.url
    expect(page.get_by_role("heading", name=re.compile("Top products"))).to_contain_text("last 7 days")

    # The period survives a reload (it lives in the URL), and so does the sign-in.
    page.reload()
    expect(page.get_by_test_id("user-role")).to_have_text("viewer")
    assert page.url.endswith("/#/?period=7d"), page.url
    expect(page.get_by_role("radio", name="last 7 days")).to_be_checked()


def test_an_empty_store_shows_how_to_send_the_first_purchase(product, signed_in_page):
    page = signed_in_page("viewer")
    empty = page.get_by_test_id("empty-state")
    expect(empty).to_contain_text("No purchases yet")
    command = empty.locator("pre").inner_text()
    assert "POST" in command and f"{product.base_url}/api/ingest/purchase" in command, command
    assert '-H "x-api-key: $MISSION_CONTROL_API_KEY"' in command, command
    # A viewer cannot make keys: the page says whom to ask rather than a command they cannot run.
    expect(empty.get_by_test_id("ask-admin-for-key")).to_be_visible()
    expect(empty.get_by_test_id("make-a-key")).to_have_count(0)

    # The example works as printed, with a key: send its body, and the page leaves the empty state.
    body = json.loads(re.search(r"-d '(.*)'", command, re.S).group(1))
    req = urllib.request.Request(f"{product.base_url}/api/ingest/purchase", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "x-api-key": product.api_key()},
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as res:
        assert json.loads(res.read())["accepted"] == 1
    expect(empty).to_have_count(0, timeout=20_000)
    expect(kpi(page, "orders")).to_have_text("1")
    expect(kpi(page, "revenue")).to_have_text("$19.99")

"""The shell around every page: phone width, themes, keyboard, hash routes. Assertions read the
DOM and computed styles, never screenshots."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

#: every console of the navigation (src/pages.ts), each with its own URL
CONSOLES = {"Overview": "", "Hosts": "hosts", "Insights": "insights", "Alerts": "alerts", "Incidents": "incidents",
            "CI": "ci", "Settings": "settings"}


def luminance(css_color: str) -> float:
    """Relative luminance (0 black .. 1 white) of an ``rgb(...)``/``rgba(...)`` computed colour."""
    parts = css_color[css_color.index("(") + 1:css_color.index(")")].replace(",", " ").replace("/", " ").split()
    r, g, b = (float(p) / 255 for p in parts[:3])

    def lin(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def seed(product):
    now = int(time.time() * 1000)
    product.ingest_purchases([
        {"orderId": f"o-{i}", "productId": f"p-{i % 3}",
         "productName": ["Pro plan", "Team plan", "An enterprise add-on with a very long product name"][i % 3],
         "amount": 123456789 if i == 0 else 1999, "currency": "USD", "userId": f"u-{i}",
         "sessionId": f"s-{i}", "timestamp": now - i * 60_000}
        for i in range(6)
    ])


def test_phone_width_has_no_horizontal_scroll_and_a_working_menu(product, signed_in_page):
    seed(product)  # long names and a large amount: the worst case for a narrow screen
    page = signed_in_page("viewer", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    expect(page.get_by_test_id("kpi-revenue")).not_to_have_text("")
    # Who is signed in stays on screen at phone width, with the way out.
    expect(page.get_by_test_id("user-name")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_test_id("products-table")).to_be_visible()
    page.wait_for_timeout(300)  # let the chart settle at its width
    assert no_horizontal_scroll(page), page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")

    # The navigation folds into a menu.
    nav = page.get_by_role("navigation", name="Consoles")
    expect(nav).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    nav.get_by_role("link", name=re.compile(r"^Alerts\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(nav).to_be_hidden()
    assert no_horizontal_scroll(page)


def test_dark_theme_follows_the_system_and_a_choice_is_remembered(product, signed_in_page):
    page = signed_in_page("viewer", color_scheme="dark")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("0")

    def colours():
        return page.evaluate("""() => {
            const s = (el) => getComputedStyle(el);
            const card = document.querySelector('.kpi');
            return {theme: document.documentElement.dataset.theme,
                    scheme: s(document.documentElement).colorScheme,
                    bg: s(document.body).backgroundColor, text: s(document.body).color,
                    card: s(card).backgroundColor, cardText: s(card.querySelector('.kpi__value')).color};
        }""")

    dark = colours()
    assert dark["theme"] == "dark" and dark["scheme"] == "dark"
    assert luminance(dark["bg"]) < 0.05 and luminance(dark["text"]) > 0.6, dark
    assert contrast(dark["card"], dark["cardText"]) >= 7, dark

    # Switch to light: applied at once, remembered across a reload.
    page.get_by_label("Theme").select_option("light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    light = colours()
    assert light["theme"] == "light" and luminance(light["bg"]) > 0.8, light
    assert contrast(light["card"], light["cardText"]) >= 7, light
    page.reload()  # the sign-in survives it (the issuer's session), the theme too
    expect(page.get_by_test_id("kpi-orders")).to_have_text("0")
    assert colours()["theme"] == "light"
    assert page.evaluate("localStorage.getItem('mc.theme')") == "light"

    # Back to Auto: follows the (dark) system again, and forgets the choice.
    page.get_by_label("Theme").select_option("system")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate("localStorage.getItem('mc.theme')") is None


def test_changes_carry_arrows_and_words_not_only_colour(product, signed_in_page):
    now = int(time.time() * 1000)
    product.ingest_purchases([
        {"orderId": "a", "productId": "p", "productName": "P", "amount": 1000, "currency": "USD",
         "userId": "u", "sessionId": "s", "timestamp": now - 60_000},
        {"orderId": "b", "productId": "p", "productName": "P", "amount": 5000, "currency": "USD",
         "userId": "u", "sessionId": "s2", "timestamp": now - 30 * 3_600_000},
    ])
    page = signed_in_page("viewer")
    change = page.get_by_test_id("kpi-revenue-change")
    expect(change).to_contain_text("▼")
    expect(change).to_contain_text("−80.0%")
    # Screen readers get words.
    expect(change.locator(".sr-only")).to_have_text("down 80.0% from the previous 24 hours ($50.00)")


def test_keyboard_reaches_everything_with_a_visible_focus(product, signed_in_page):
    page = signed_in_page("viewer")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("0")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # it shows itself when focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.url.endswith("/"), "the skip link must not change the route"

    # Every tab stop shows a focus indicator.
    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => {
            const el = document.activeElement;
            if (el === document.body) return null;  // past the last stop, before the first
            const s = getComputedStyle(el);
            const label = (el.getAttribute('aria-label') || el.textContent || el.value || el.tagName).trim();
            // The period switch draws its ring on the visible label next to the radio.
            const ring = el.type === 'radio' ? getComputedStyle(el.nextElementSibling) : s;
            return {label: label.slice(0, 40), outline: ring.outlineStyle, width: parseFloat(ring.outlineWidth)};
        }""")
        if info is None:
            continue
        seen.add(info["label"])
        assert info["outline"] != "none" and info["width"] >= 2, info
    for name in ("Overview", "Alerts", "Sign out"):
        assert any(name in label for label in seen), seen
    assert any("Settings" in label for label in seen), "every user is offered their own Settings"

    # Arrow keys move between periods once the switch has focus.
    radio = page.get_by_role("radio", name="last 24 hours")
    radio.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="last 7 days")).to_be_checked()


def test_every_console_has_its_own_url_and_none_is_a_placeholder(product, signed_in_page):
    page = signed_in_page("admin")
    nav = page.get_by_role("navigation", name="Consoles").get_by_role("link")
    expect(nav).to_have_count(len(CONSOLES))
    for name, path in CONSOLES.items():
        page.goto(f"{product.base_url}/#/{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.get_by_role("link", name=re.compile(rf"^{name}\b"))).to_have_attribute("aria-current", "page")
        assert page.title() == f"{name} · Mission Control"
        expect(page.locator("main")).not_to_contain_text("Coming soon")

    page.goto(f"{product.base_url}/#/nowhere")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")

    # In-app navigation moves focus to the new page's heading.
    page.get_by_role("link", name=re.compile(r"^Overview")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.get_by_role("heading", level=1)).to_be_focused()

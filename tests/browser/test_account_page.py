"""The account page's charts draw, and the page fits a phone's screen."""

from collections.abc import Callable

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from kam.accounts.models import Account, Contact
from kam.core.models import User
from tests.factories import ContactFactory, ContactTieFactory, StaffTieFactory

from .support import BROWSER, PHONE, log_in

pytestmark = BROWSER

#: True once the canvas inside ``selector`` has at least one painted pixel.
CANVAS_PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + " canvas");
  if (!canvas || !canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
}"""

#: Elements sticking out on the right, to name the culprit when the page overflows.
OVERFLOWING = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter((el) => !el.closest(".table-responsive, .kam-chart"))
  .slice(0, 8)
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")}`)"""


@pytest.fixture
def people(account_a: Account, contact_a: Contact, owner: User) -> dict[str, Contact]:
    """林志强 with a direct report (tied to him as a colleague), and our owner who knows him."""
    report = ContactFactory(account=account_a, name="王芳", title="物流经理", reports_to=contact_a)
    ContactTieFactory(from_contact=report, to_contact=contact_a)
    StaffTieFactory(contact=contact_a, user=owner)
    return {"boss": contact_a, "report": report}


def test_org_chart_and_people_graph_draw_on_canvas(
    new_page: Callable[..., Page],
    director: User,
    owner: User,
    account_a: Account,
    people: dict[str, Contact],
) -> None:
    page = new_page()
    log_in(page, director)
    page.goto(f"/accounts/{account_a.pk}/")

    page.click("#tab-org")
    expect(page.locator("#org-chart canvas")).to_be_visible()
    page.wait_for_function(CANVAS_PAINTED, arg="#org-chart")
    tree = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById("org-chart"))
                   .getOption().series[0].data[0]"""
    )
    # The page speaks Chinese; str() follows this process's language, which other tests'
    # requests may have left at English.
    with translation.override("zh-hans"):
        assert tree["name"] == str(account_a)
    assert [c["name"] for c in tree["children"]] == [people["boss"].name]
    assert [c["name"] for c in tree["children"][0]["children"]] == [people["report"].name]

    page.click("#tab-graph")
    expect(page.locator("#people-graph canvas")).to_be_visible()
    page.wait_for_function(CANVAS_PAINTED, arg="#people-graph")
    series = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById("people-graph"))
                   .getOption().series[0]"""
    )
    assert {n["name"] for n in series["data"]} == {
        people["boss"].name,
        people["report"].name,
        str(owner),
    }
    assert len(series["links"]) == 2  # the contacts' tie and our owner's


def test_account_page_fits_a_phone_screen(
    new_page: Callable[..., Page],
    director: User,
    account_a: Account,
    people: dict[str, Contact],
) -> None:
    page = new_page(viewport=PHONE)
    log_in(page, director)
    for path in (f"/accounts/{account_a.pk}/", "/accounts/"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.evaluate("window.innerWidth")
        assert viewport == PHONE["width"]
        assert width <= viewport + 1, (path, width, page.evaluate(OVERFLOWING))


#: The narrowest visible cell of each row of a table, in CSS pixels.
NARROWEST_CELLS = """(selector) => [...document.querySelectorAll(selector + " tbody tr")]
  .map((tr) => Math.min(...[...tr.cells].map((td) => td.getBoundingClientRect().width)))"""


def test_on_a_phone_the_account_pages_tables_are_cards(
    new_page: Callable[..., Page],
    director: User,
    account_a: Account,
    people: dict[str, Contact],
) -> None:
    """At 390 px the contacts' eight columns were a character wide each; each row is now a
    card whose lines span it, with the column's name before the value."""
    page = new_page(viewport=PHONE)
    log_in(page, director)
    for path, table in ((f"/accounts/{account_a.pk}/", "#contacts"), ("/accounts/", "#accounts")):
        page.goto(path)
        expect(page.locator(table)).to_be_visible()
        narrowest = page.evaluate(NARROWEST_CELLS, table)
        assert narrowest and min(narrowest) > PHONE["width"] * 0.7, (path, narrowest)
        label = page.evaluate(
            """(s) => getComputedStyle(document.querySelector(s + " tbody td[data-label]"),
                                       "::before").content""",
            table,
        )
        assert label.strip('"') in {"职务", "等级"}, label  # the column's name, in Chinese

    desktop = new_page()
    log_in(desktop, director)
    desktop.goto(f"/accounts/{account_a.pk}/")
    header = desktop.locator("#contacts thead")
    expect(header).to_be_visible()  # a plain table on a wide screen

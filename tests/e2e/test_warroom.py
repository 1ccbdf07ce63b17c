"""The war room in two real browsers: what one person does there, the other
sees without reloading (chat, severity), each in their own language."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import TimelineEvent
from tests.e2e.test_incidents import sign_in
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def second_page(browser):
    # The sign-in page follows the browser (English); the profile's language
    # (zh-hans) applies from then on.
    context = browser.new_context(viewport={"width": 1360, "height": 820}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def open_room(page, base, incident):
    page.goto(f"{base}/incidents/{incident.id}/")
    page.locator("[data-room-link]").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.id}/room/$"))
    expect(page.locator("#room")).to_have_attribute("data-state", "open")


def test_two_people_in_one_room(asgi_server, page, second_page, make_user, shot):
    amy = make_user(
        username="amy",
        display_name="Amy Lin",
        role=Role.OPS_MANAGER,
        language="en",
        time_zone="Europe/London",
    )
    li = make_user(
        username="li",
        display_name="Li Wei",
        role=Role.RESPONDER,
        language="zh-hans",
        time_zone="Asia/Shanghai",
    )
    incident = declare(
        amy, title="Scam links flooding comments", title_zh="评论区诈骗链接泛滥", commander=li
    )
    sign_in(page, asgi_server, "amy")
    sign_in(second_page, asgi_server, "li")
    open_room(page, asgi_server, incident)
    open_room(second_page, asgi_server, incident)
    expect(page.locator("#room-presence")).to_contain_text("Li Wei")

    # Amy posts; Li sees it arrive without a reload, once.
    text = page.locator("#room-composer textarea")
    text.fill("Takedown script running on the EU shard")
    text.press("Enter")
    message = second_page.locator("#room-timeline .room-event-message").last
    expect(message).to_contain_text("Takedown script running on the EU shard")
    expect(message).to_contain_text("Amy Lin")
    expect(text).to_have_value("")
    seq = int(message.get_attribute("data-seq"))
    expect(page.locator(f"#ev-{seq}")).to_have_count(1)
    expect(second_page.locator(f"#ev-{seq}")).to_have_count(1)

    # Li replies (Shift+Enter is a new line, Enter sends); markup stays text.
    second_page.locator(f"#ev-{seq} [data-reply]").click()
    expect(second_page.locator(".room-replying")).to_be_visible()
    reply = second_page.locator("#room-composer textarea")
    reply.type("收到 <img src=x onerror=window.__xss=1>")
    reply.press("Shift+Enter")
    reply.type("第二行")
    reply.press("Enter")
    answer = page.locator("#room-timeline .room-event-message").last
    expect(answer).to_contain_text("<img src=x onerror=window.__xss=1>")
    expect(answer.locator(".room-reply")).to_contain_text(f"#{seq}")
    assert page.evaluate("window.__xss") is None
    stored = TimelineEvent.objects.filter(incident=incident, kind="message").last()
    assert stored.text.endswith("\n第二行") and stored.data.get("reply_to") == seq

    # 3,000 Chinese characters are 9 KB of UTF-8: over the 8 KiB frame limit,
    # refused in the browser with a message, the text kept.
    reply.fill("长" * 3000)
    reply.press("Enter")
    expect(second_page.locator("#room-error")).to_be_visible()
    expect(reply).to_have_value("长" * 3000)
    reply.fill("")

    # Li pins Amy's message as a key fact; Amy's brief follows.
    second_page.locator(f"#ev-{seq} [hx-vals*=pin]").click()
    expect(page.locator("#room-brief")).to_contain_text("Takedown script running on the EU shard")

    # Amy's connection drops while Li posts: on reconnect she gets what she
    # missed from the database, once each.
    page.evaluate("window.tsccRoom.drop()")
    for line in ("第一条", "第二条"):
        reply.fill(line)
        reply.press("Enter")
        expect(reply).to_have_value("")
    expect(page.locator("#room")).to_have_attribute("data-state", "open")
    for line in ("第一条", "第二条"):
        expect(page.locator(".room-message", has_text=line)).to_have_count(1)

    # Li raises the severity from the room; Amy's header follows.
    expect(page.locator("#room-header .sev")).to_have_text("SEV2 · High")
    second_page.locator("#severity-form summary").click()
    second_page.locator("#severity-form select[name=severity]").select_option("sev0")
    second_page.locator("#severity-form textarea[name=reason]").fill("Regulator called")
    second_page.locator("#severity-form button[type=submit]").click()
    expect(page.locator("#room-header .sev")).to_have_text("SEV0 · Critical")
    expect(page.locator("#room-timeline")).to_contain_text("SEV0")
    expect(second_page.locator("#room-header .sev")).to_contain_text("SEV0")
    # Times are shown in each viewer's zone, not as UTC.
    expect(page.locator("#room-timeline time[data-local]").first).not_to_contain_text("UTC")

    # The incident's own forms work in place: a refused update keeps its text
    # and says why; a task is added and done; the brief follows.
    page.locator("#update-form textarea[name=text_en]").fill("Links removed.")
    page.locator("#update-form button[type=submit]").click()
    expect(page.locator("#update-form .form-error")).to_contain_text("both English and Chinese")
    expect(page.locator("#update-form textarea[name=text_en]")).to_have_value("Links removed.")
    page.locator("#task-board summary").click()
    page.locator("#task-board input[name=title]").fill("Block the link domains")
    page.locator("#task-board button[type=submit]").click()
    task = page.locator("#task-board .task", has_text="Block the link domains")
    expect(task).to_have_class(re.compile(r"\btask-open\b"))
    expect(page.locator("#room-brief")).to_contain_text("Block the link domains")
    task.locator(".check").click()
    expect(task).to_have_class(re.compile(r"\btask-done\b"))
    expect(page.locator("#room-brief")).not_to_contain_text("Block the link domains")

    for p in (page, second_page):
        events = p.locator("#room-timeline article.room-event")
        seqs = [int(s) for s in events.evaluate_all("els => els.map(e => e.dataset.seq)")]
        assert seqs == sorted(set(seqs)), "events in order, no duplicates"
    shot(page, "warroom-en")
    shot(second_page, "warroom-zh")


def test_executive_reads_the_room_but_cannot_post(asgi_server, page, make_user, shot):
    amy = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER)
    make_user(username="exec", display_name="Sam Boss", role=Role.EXECUTIVE, language="en")
    incident = declare(amy, title="Vendor site in Manila down", category_code="vendor_outage")
    sign_in(page, asgi_server, "exec")
    open_room(page, asgi_server, incident)
    expect(page.locator("#room-composer")).to_have_count(0)
    expect(page.locator(".room-composer.is-readonly textarea")).to_be_disabled()
    expect(page.locator("#room-actions")).to_have_count(0)
    expect(page.locator(".room-event-actions").first).to_be_hidden()
    shot(page, "warroom-executive-en")
    page.set_viewport_size({"width": 820, "height": 1000})  # one column on a tablet
    shot(page, "warroom-narrow-en")


def test_a_claimed_task_shows_on_the_other_board(asgi_server, page, second_page, make_user, shot):
    amy = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")
    li = make_user(username="li", display_name="Li Wei", role=Role.RESPONDER, language="zh-hans")
    incident = declare(amy, title="Scam links flooding comments", commander=li)
    sign_in(page, asgi_server, "amy")
    sign_in(second_page, asgi_server, "li")
    open_room(page, asgi_server, incident)
    open_room(second_page, asgi_server, incident)

    # Amy adds a task; it appears on Li's board, unowned, with a Claim button.
    page.locator("#task-board summary").click()
    page.locator("#task-board input[name=title]").fill("Block the link domains")
    page.locator("#task-board details button[type=submit]").click()
    theirs = second_page.locator("#task-board .task", has_text="Block the link domains")
    expect(theirs.locator(".task-claim button")).to_be_visible()
    expect(theirs.locator("input[name=take_over]")).to_have_count(0)

    # Li claims it: her board answers at once; Amy's follows without a reload
    # and offers to take it over.
    theirs.locator(".task-claim button").click()
    expect(theirs).to_contain_text("Li Wei")
    expect(theirs.locator(".task-claim")).to_have_count(0)
    mine = page.locator("#task-board .task", has_text="Block the link domains")
    expect(mine).to_contain_text("Li Wei")
    expect(mine.locator(".task-claim button")).to_have_text("Take over")
    expect(page.locator("#room-timeline")).to_contain_text("Task claimed: Block the link domains")
    expect(page.locator("#room-brief")).to_contain_text("Li Wei")

    # While Amy types a new task, Li's changes wait: Amy's text is kept.
    page.locator("#task-board summary").click()
    title = page.locator("#task-board input[name=title]")
    title.fill("Notify the CAC liaison")
    # A mark on Amy's board element: a refresh would replace it.
    page.evaluate("document.getElementById('task-board').dataset.marker = 'kept'")
    second_page.locator("#task-board summary").click()
    second_page.locator("#task-board input[name=title]").fill("Draft the user notice")
    second_page.locator("#task-board details button[type=submit]").click()
    expect(page.locator("#room-timeline")).to_contain_text("Draft the user notice")
    page.wait_for_timeout(800)  # past the board's refresh delay
    expect(title).to_have_value("Notify the CAC liaison")
    expect(page.locator("#task-board")).to_have_attribute("data-marker", "kept")
    # Once she submits, her board is current again, Li's task included.
    page.locator("#task-board details button[type=submit]").click()
    expect(page.locator("#task-board")).to_contain_text("Notify the CAC liaison")
    expect(page.locator("#task-board")).to_contain_text("Draft the user notice")
    expect(second_page.locator("#task-board")).to_contain_text("Notify the CAC liaison")
    shot(page, "warroom-tasks-en")


def test_a_board_refresh_that_answers_late_keeps_what_is_being_typed(
    asgi_server, page, second_page, make_user
):
    """A refresh that left before the viewer started typing (a slow server)
    must not replace the board under them when it answers."""
    amy = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")
    li = make_user(username="li", display_name="Li Wei", role=Role.RESPONDER, language="en")
    incident = declare(amy, title="Scam links flooding comments", commander=li)
    sign_in(page, asgi_server, "amy")
    sign_in(second_page, asgi_server, "li")
    open_room(page, asgi_server, incident)
    open_room(second_page, asgi_server, incident)

    held = []

    def hold_board_refresh(route):
        request = route.request
        if (
            not held
            and request.method == "GET"
            and request.headers.get("hx-target") == "task-board"
        ):
            held.append(route)  # the first refresh: answered after Amy starts typing
        else:
            route.continue_()

    page.route(re.compile(r".*/incidents/\d+/room/.*"), hold_board_refresh)
    second_page.locator("#task-board summary").click()
    second_page.locator("#task-board input[name=title]").fill("Draft the user notice")
    second_page.locator("#task-board details button[type=submit]").click()
    for _ in range(50):  # Amy's board asks for itself (300 ms after the event)
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the board did not refresh"

    page.locator("#task-board summary").click()
    title = page.locator("#task-board input[name=title]")
    title.fill("Notify the CAC liaison")
    held[0].continue_()
    page.wait_for_timeout(1500)  # the late answer, and a retry while she types
    expect(title).to_have_value("Notify the CAC liaison")
    page.locator("#task-board details button[type=submit]").click()
    expect(page.locator("#task-board")).to_contain_text("Notify the CAC liaison")
    expect(page.locator("#task-board")).to_contain_text("Draft the user notice")

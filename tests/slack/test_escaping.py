"""User text never reaches Slack as markup: every surface, checked in the payloads the fake Slack
records and in the HTTP answers of slash commands and response_url posts.

A member can type (or Slack can turn a typed @channel into) `<!channel>`, `<!here>`,
`<!everyone>`, `<@U…>` and links; echoed raw, the bot would broadcast or ping on their behalf.
The bot's own mentions (`<@owner>`, "Shared by <@…>") must still work.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ADMIN, COORDINATOR, MEMBER, OTHER
from tests.slack_fake.client import find_action
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack, validate_blocks

HOSTILE = "<!channel> <!here> <!everyone> <@U0VICTIM> <https://x|y> &lt;"
FORBIDDEN = ("<!channel", "<!here", "<!everyone", "<@U0VICTIM", "<https://x", "<!subteam")
# Payload keys Slack never shows as text (button values, ids, metadata).
NOT_SHOWN = frozenset({"value", "private_metadata", "action_id", "block_id", "callback_id",
                       "response_url", "trigger_id", "channel", "user_id", "ts", "metadata",
                       "initial_user", "initial_date", "initial_time", "type", "style", "id"})


def shown(payload: Any, key: str = "") -> list[str]:
    """Every string of a payload that Slack may display (or parse for mentions)."""
    if key in NOT_SHOWN:
        return []
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, dict):
        return [s for k, v in payload.items() for s in shown(v, k)]
    if isinstance(payload, list):
        return [s for v in payload for s in shown(v, key)]
    return []


def as_displayed(text: str) -> str:
    """What Slack shows for a text object: its three entities decoded."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_safe(payload: Any) -> None:
    """No hostile control sequence anywhere Slack reads text."""
    for s in shown(payload):
        for bad in FORBIDDEN:
            assert bad not in s, f"{bad!r} reached Slack raw in {s!r}"


def assert_echoed(payload: Any, typed: str = HOSTILE) -> None:
    """The user's text is shown exactly as typed (escaped, not mangled or double-escaped)."""
    texts = [as_displayed(s) for s in shown(payload)]
    assert any(typed in t for t in texts), json.dumps(payload, ensure_ascii=False)[:3000]


def reply_of(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert validate_blocks(body.get("blocks", []), max_blocks=50) == []
    return body


def commit(bot: InProcessBot, text: str, user: str = MEMBER) -> dict[str, Any]:
    body = reply_of(bot.client.command(f"commit {text}", user_id=user))
    assert "Recorded" in body["text"], body["text"]
    return body


@pytest.mark.parametrize("typed", [
    f"recs search migration {HOSTILE}",
    f"recs {HOSTILE}",
    HOSTILE,
    f"{HOSTILE} please",
    f"list {HOSTILE}",
    f"show {HOSTILE}",
    f"done {HOSTILE}",
    f"cancel {HOSTILE}",
    f"admin {HOSTILE}",
    f"export {HOSTILE}",
    f"move 1 to {HOSTILE}",
    f"commit Something by {HOSTILE}",
    f"commit Something by tomorrow for {HOSTILE}",
    f"help {HOSTILE}",
])
def test_replies_to_typed_commands_never_echo_markup(inproc: InProcessBot, typed: str) -> None:
    commit(inproc, "An ordinary item by 2026-12-20")
    body = reply_of(inproc.client.command(typed))
    assert_safe(body)


def test_recorded_text_is_shown_as_typed_in_reply_list_and_show(inproc: InProcessBot) -> None:
    body = commit(inproc, f"{HOSTILE} by 2026-12-20")
    assert_safe(body)
    assert_echoed(body)
    for typed in ("list", "list all", "show 1"):
        body = reply_of(inproc.client.command(typed))
        assert_safe(body)
        assert_echoed(body)
    # the `show` fallback text carries it too, escaped
    assert as_displayed(body["text"]).endswith(HOSTILE)


def test_share_in_channel_posts_escaped_text(inproc: InProcessBot, fake: FakeSlack) -> None:
    body = reply_of(inproc.client.command(f"recs search migration {HOSTILE}"))
    found = find_action(body["blocks"], "wg_share")
    assert found, "a search result can be shared"
    inproc.client.block_action("wg_share", value=found[1]["value"], blocks=body["blocks"])
    shared = fake.wait_for("response_url")[-1].params
    assert shared["response_type"] == "in_channel"
    assert_safe(shared)
    assert "Recommendations about migration &lt;!channel&gt;" in shared["text"]
    assert f"Shared by <@{MEMBER}>" in json.dumps(shared["blocks"])  # the bot's own mention


def test_assignment_dm_is_escaped_and_mentions_the_assigner(inproc: InProcessBot,
                                                           fake: FakeSlack) -> None:
    commit(inproc, f"{HOSTILE} by 2026-12-20 owner <@{OTHER}>")
    inproc.sweep()  # assignment DMs go out as batched owner notices
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == OTHER)[-1]
    assert_safe(dm.params)
    assert_echoed(dm.params)
    assert f"<@{MEMBER}> recorded a commitment" in json.dumps(dm.params["blocks"])


def test_app_home_is_escaped(inproc: InProcessBot, fake: FakeSlack) -> None:
    commit(inproc, f"{HOSTILE} by 2026-12-20")
    inproc.client.app_home_opened(MEMBER)
    published = fake.wait_for("views.publish")[-1].params
    assert_safe(published)
    assert_echoed(published)


def test_digest_is_escaped(inproc: InProcessBot, fake: FakeSlack) -> None:
    commit(inproc, f"{HOSTILE} by 2026-12-05")
    body = reply_of(inproc.client.command("admin digest now", user_id=ADMIN))
    assert "Digest sent" in body["text"], body
    digest = fake.wait_for("chat.postMessage",
                           predicate=lambda c: c.params["channel"] == COORDINATOR)[-1]
    assert_safe(digest.params)
    assert_echoed(digest.params)
    assert f"<@{MEMBER}>" in json.dumps(digest.params["blocks"])  # owners stay mentioned


def test_move_modal_is_escaped(inproc: InProcessBot, fake: FakeSlack) -> None:
    commit(inproc, f"{HOSTILE} by 2026-12-20")
    body = reply_of(inproc.client.command("list"))
    inproc.client.block_action("wg_move", value="1|list:mine::1", blocks=body["blocks"])
    view = fake.wait_for("views.open")[-1].params
    assert_safe(view)
    assert_echoed(view)


def test_record_shortcut_modal_does_not_carry_markup(inproc: InProcessBot, fake: FakeSlack) -> None:
    inproc.client.message_shortcut("wg_record_commitment", f"Please {HOSTILE}")
    view = fake.wait_for("views.open")[-1].params
    assert_safe(view)

"""A full page of a listing (ten commitments, each with Done, Move, Edit and Cancel) fits one
message: nothing is cut for "more than fits"."""
from __future__ import annotations

import json

from tests.conftest import MEMBER
from tests.slack.test_escaping import reply_of
from tests.slack_fake.inprocess import InProcessBot


def test_ten_commitments_with_their_edit_buttons_fit_one_page(inproc: InProcessBot) -> None:
    for i in range(20):
        reply_of(inproc.client.command(f"commit Item {i:02d} by 2030-05-{i + 1:02d}",
                                       user_id=MEMBER))
    body = reply_of(inproc.client.command("list", user_id=MEMBER))
    shown = json.dumps(body["blocks"], ensure_ascii=False)
    assert "more than fits" not in shown and "1–10 of 20" in shown
    rows = [[e["action_id"] for e in b["elements"]] for b in body["blocks"]
            if b["type"] == "actions" and b["elements"][0]["action_id"] == "wg_done"]
    assert len(rows) == 10 and all("wg_edit" in r and "wg_move" in r for r in rows)

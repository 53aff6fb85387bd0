"""The payload codec: what the bot writes it reads back; anything else is None, never an error."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import grammar, values

user_ids = st.from_regex(r"\A[UW][A-Z0-9]{2,10}\Z")
rec_ids = st.from_regex(r"\A[SL][1-9]\Z")
pages = st.one_of(
    st.builds(values.ListPage, st.sampled_from(["mine", "all", "overdue", "done"]), st.just(""),
              st.integers(1, values.MAX_PAGE)),
    st.builds(values.ListPage, st.just("user"), user_ids, st.integers(1, values.MAX_PAGE)),
    st.builds(values.ListPage, st.just("rec"), rec_ids, st.integers(1, values.MAX_PAGE)))
origins = st.one_of(st.sampled_from(["none", "msg", "show"]), pages)


@given(pages)
def test_pages_round_trip(page: values.ListPage) -> None:
    assert values.parse_page(values.page_value(page)) == page


@given(st.integers(1, values.MAX_ID), origins)
def test_targets_round_trip(cid: int, origin: values.Origin) -> None:
    assert values.parse_target(values.target_value(cid, origin)) == values.Target(cid, origin)


@given(st.integers(1, values.MAX_ID), origins, st.sampled_from([None, "https://hooks.slack.com/x"]))
def test_move_metadata_round_trips(cid: int, origin: values.Origin, url: str | None) -> None:
    meta = values.MoveMetadata(cid, origin, url)
    parsed = values.parse_move_metadata(values.move_metadata(meta),
                                        hooks_hosts=frozenset({"hooks.slack.com"}))
    assert parsed == meta


@given(st.text(max_size=60))
def test_any_text_is_a_value_or_none(raw: str) -> None:
    for parse in (values.parse_page, values.parse_target, values.parse_origin, values.parse_rec,
                  values.user_id, values.parse_share):
        parse(raw)  # never raises
    values.parse_move_metadata(raw, hooks_hosts=frozenset())
    values.parse_move_metadata(json.dumps({"id": 1, "origin": raw}), hooks_hosts=frozenset())
    share = values.parse_share(raw)
    assert share is None or isinstance(share, grammar.Recs | grammar.SessionInfo | grammar.Help)


def test_share_only_accepts_read_only_commands() -> None:
    assert values.parse_share("recs search youth") == grammar.Recs("search", "youth")
    assert values.parse_share("session") == grammar.SessionInfo()
    for forged in ("commit X by tomorrow", "cancel 1", "done 1", "admin reload", "export csv",
                   "list all", "show 1", "move 1 to Friday", "x" * 2001):
        assert values.parse_share(forged) is None
        assert values.share_value(forged) is None


def test_origins_and_values_the_bot_never_writes() -> None:
    for bad in ("1|list:mine::x", "1|list:user:u1:1", "1|list:rec:S1:1:1", "01|none", "1|",
                "1|none|x", "1\n|none", "+1|none"):
        assert values.parse_target(bad) is None, bad
    assert values.parse_target("7") == values.Target(7, "none")
    assert values.user_id("U0ANNA\n") is None and values.user_id("W0AB") == "W0AB"
    assert values.picked_due("2027-01-05", "09:30") == "2027-01-05 09:30"
    assert values.picked_due("next friday", None) is None
    assert values.picked_due("2027-01-05", "soon") is None

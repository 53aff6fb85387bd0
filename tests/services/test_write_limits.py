"""Writes per member per minute: counted in the database, refused with the moment to try again."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Core
from bot.config.load import load_config
from bot.config.problems import ConfigError
from bot.conversation import Caller
from bot.store.db import unit_of_work
from bot.store.models import Commitment
from tests.conftest import ADMIN, MEMBER, OTHER, edit_settings
from tests.services.conftest import NOW


def _count(core: Core, **where: str) -> int:
    with unit_of_work(core.sessions, read_only=True) as s:
        stmt = select(func.count()).select_from(Commitment)
        for k, v in where.items():
            stmt = stmt.where(getattr(Commitment, k) == v)
        return int(s.scalar(stmt) or 0)


_DRAFTS = iter(range(1, 10**6))


def _commit(core: Core, user: str = MEMBER, text: str = "") -> str:
    """Record a commitment (each with its own text: the same text again would ask first)."""
    text = text or f"Draft {next(_DRAFTS)} by 2030-06-28"
    return core.conversation.answer(Caller(user), f"commit {text}").reply.text


@pytest.fixture
def limited(config_dir: Path, make_core: Callable[[], Core]) -> Callable[[], Core]:
    edit_settings(config_dir, {"limits": {"writes_per_minute": 5}})
    return make_core


def test_the_next_write_is_refused_until_the_oldest_leaves_the_minute(
        limited: Callable[[], Core]) -> None:
    core = limited()
    for _ in range(5):
        assert "Recorded" in _commit(core)
    core.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    refused = _commit(core)
    assert "Nothing was recorded" in refused and "5 changes a minute" in refused
    assert "11:01:00" in refused and "in 30 seconds" in refused  # Vienna time of NOW + 1 min
    assert "Recorded" in _commit(core, user=OTHER)  # the limit is per member
    assert _count(core, creator_id=MEMBER) == 5
    core.clock.advance(timedelta(seconds=29))  # type: ignore[attr-defined]
    assert "Nothing was recorded" in _commit(core)
    core.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    assert "Recorded" in _commit(core)
    assert _count(core, creator_id=MEMBER) == 6


def test_every_change_counts_and_admins_are_limited_too(limited: Callable[[], Core]) -> None:
    core = limited()
    assert "Recorded" in _commit(core, user=ADMIN)
    for verb in ("done", "reopen", "cancel", "reopen"):
        out = core.conversation.answer(Caller(ADMIN), f"{verb} 1").reply.text
        assert "Nothing was" not in out, out
    out = core.conversation.act(Caller(ADMIN), "wg_done", "1|none").reply.text
    assert "5 changes a minute" in out and "Nothing was recorded or changed" in out
    with unit_of_work(core.sessions, read_only=True) as s:
        assert s.get(Commitment, 1).status == "open"  # type: ignore[union-attr]


def test_the_limit_holds_across_processes(limited: Callable[[], Core]) -> None:
    """Two workers (own engines), ten concurrent commits: exactly the limit is recorded."""
    cores = [limited(), limited()]
    cores[0].conversation.answer(Caller(MEMBER), "list")
    start = threading.Barrier(10)
    texts: list[str] = []

    def send(c: Core) -> None:
        start.wait()
        texts.append(_commit(c))

    threads = [threading.Thread(target=send, args=(c,)) for c in cores * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert _count(cores[0]) == 5
    assert sum("Recorded" in t for t in texts) == 5
    assert sum("Nothing was recorded" in t for t in texts) == 5


@pytest.mark.parametrize("yaml_value,message", [
    ({"writes_per_minute": 0}, "limits.writes_per_minute: must be 1 or more, got 0"),
    ({"writes_per_minute": "many"}, "limits.writes_per_minute: expected a whole number"),
    ({"notice_batch": "2h"}, "limits.notice_batch: '2h' is too long"),
    ({"notice_batch": "soon"}, "limits.notice_batch: 'soon' is not a duration"),
])
def test_limits_config_mistakes_are_explained(config_dir: Path, yaml_value: dict[str, object],
                                              message: str) -> None:
    edit_settings(config_dir, {"limits": yaml_value})
    with pytest.raises(ConfigError) as e:
        load_config(config_dir, now=NOW)
    assert message in str(e.value) or any(message in str(p) for p in e.value.problems)


def test_limits_config_defaults(config_dir: Path) -> None:
    limits = load_config(config_dir, now=NOW).config.limits
    assert (limits.writes_per_minute, limits.notice_batch) == (20, timedelta(minutes=1))

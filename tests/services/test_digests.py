"""Digests that add up: every number in a digest and in `/wg session` agrees with what `/wg list`
shows at the same moment (property test on random data); overdue items one by one, dated
changes, slippage; the CSV holds only the rows that need attention; coordinators' commands."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.config.live import LiveConfig
from bot.console.adapters import ConsoleDirectory, ConsoleNotifier
from bot.console.render import render
from bot.conversation import Caller
from bot.domain.dates import DueDate
from bot.services import commitments, delegations, digests, members
from bot.settings import Settings
from bot.store.db import unit_of_work
from bot.store.models import AuditEntry, Commitment, Delivery, Member
from tests import factories
from tests.conftest import ADMIN, COORDINATOR, MEMBER, OTHER
from tests.scheduling.test_sweep import make_world
from tests.slack_fake.server import FakeSlack, SlackError
from tests.support import tallies

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
OWNERS = (MEMBER, OTHER, "U0MEMBER3")


def make_core(config_dir: Path, tmp_path: Path, database_url: str,
              engine: Engine | None = None) -> Core:
    """The core at NOW (a fixed clock) over this database (on `engine` when given, the caller's
    to keep), the console's notifier and directory."""
    settings_ = Settings.from_env({"DATABASE_URL": database_url,
                                   "WGBOT_CONFIG_DIR": str(config_dir)})
    clock = FixedClock(NOW)
    return build_core(settings_, clock=clock, notifier=ConsoleNotifier(io.StringIO(),
                                                                       files_dir=tmp_path / "files"),
                      directory=ConsoleDirectory(), config=LiveConfig(config_dir, clock),
                      engine=engine, upgrade=True)


@pytest.fixture
def core(config_dir: Path, tmp_path: Path, database_url: str, engine: Engine) -> Core:
    """The core on SQLite, and on PostgreSQL when WGBOT_TEST_DATABASE_URL is set."""
    return make_core(config_dir, tmp_path, database_url, engine)


def say(core: Core, text: str, user: str = COORDINATOR) -> str:
    return render(core.conversation.answer(Caller(user), text).reply)


@dataclass(frozen=True)
class Spec:
    """A commitment to plant: owner, recommendation, status, deadline in days, deadline moves."""

    owner: int
    rec: str | None
    status: str
    due_days: float
    moves: tuple[int, ...]
    also: tuple[str, ...] = ()  # further recommendations it serves (`for S1 and L6`)


def _due(at: datetime) -> DueDate:
    return DueDate(at=at, local=at, words=at.isoformat(), date_only=False)


def plant(core: Core, specs: list[Spec], *, at: datetime = NOW) -> None:
    """Write the commitments through the real services, as the bot would have over time."""
    with unit_of_work(core.sessions) as s:
        for uid in OWNERS:
            if s.get(Member, uid) is None:
                members.remember(s, user_id=uid, profile=None, now=at)
        for spec in specs:
            start = at - timedelta(days=40)
            due = at + timedelta(days=spec.due_days - sum(spec.moves))
            c = commitments.create(s, text=f"Item {spec.rec or 'none'} {spec.due_days:.1f}",
                                   owner_id=OWNERS[spec.owner], creator_id=OWNERS[spec.owner],
                                   rec_id=spec.rec, due=_due(due), first_nudge_at=None, now=start,
                                   also_rec_ids=spec.also)
            for i, days in enumerate(spec.moves):
                due = due + timedelta(days=days)
                commitments.move(s, commitment=c, due=_due(due), actor_id=OWNERS[spec.owner],
                                 first_nudge_at=None, now=start + timedelta(days=i + 1))
            if spec.status != "open":
                commitments.set_status(s, commitment=c, status=spec.status,
                                       actor_id=OWNERS[spec.owner], now=start + timedelta(days=9))


def reset(core: Core) -> None:
    with unit_of_work(core.sessions) as s:
        s.execute(delete(AuditEntry))
        s.execute(delete(Delivery))
        s.execute(delete(Commitment))


def listed(core: Core, what: str) -> int:
    """The total `/wg list <what>` shows."""
    out = say(core, f"list {what}")
    m = re.search(r"of ([\d,]+)\s+·\s+times\s+in|([\d,]+)\s+in\s+all\s+·\s+times\s+in", out)
    if m is None:
        assert re.search(r"No open commitments here|Nothing is overdue|Nothing has been completed",
                         out), out
        return 0
    return int((m.group(1) or m.group(2)).replace(",", ""))


def field(out: str, name: str) -> int:
    m = re.search(rf"^  {name}: (\d+)$", out, flags=re.M)
    assert m, out
    return int(m.group(1))


def rec_line(out: str, label: str) -> tuple[int, int, int]:
    """(done, open, overdue) on a digest line starting with the label."""
    # The console wraps long lines, between any two words of the numbers too.
    m = re.search(rf"^{re.escape(label)}.*?:\s+(?:(\d+)\s+done,\s+(\d+)\s+open"
                  rf"(?:,\s+⚠️\s+(\d+)\s+overdue)?|⚪\s+nobody)", out, flags=re.M)
    assert m, (label, out)
    if m.group(1) is None:
        return 0, 0, 0
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


SPECS = st.builds(Spec, owner=st.integers(0, 2),
                  rec=st.sampled_from([None, "S1", "S3", "L6", "L10", "S9"]),
                  status=st.sampled_from(["open", "open", "done", "cancelled"]),
                  due_days=st.floats(-20, 30).map(lambda d: round(d, 2)),
                  moves=st.lists(st.integers(-3, 9).filter(bool), max_size=3).map(tuple),
                  also=st.lists(st.sampled_from(["S1", "L6", "L7"]), max_size=2, unique=True)
                  .map(tuple))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SPECS, max_size=25))
# A line the console wraps inside its numbers ("⚠️ 10" at the end of one line, "overdue" on the next)
@example([Spec(owner=0, rec=None, status="open", due_days=-3.0, moves=(), also=("L7",))] * 10)
def test_every_digest_number_agrees_with_the_listings(core: Core, specs: list[Spec]) -> None:
    reset(core)
    plant(core, specs)
    answered = core.conversation.answer(Caller(COORDINATOR), "digest")
    digest = render(answered.reply)  # what `say` shows
    session = say(core, "session", user=MEMBER)
    open_, overdue, done = listed(core, "all"), listed(core, "overdue"), listed(core, "done")
    assert (field(digest, "Open"), field(digest, "Overdue"), field(digest, "Done")) == \
        (open_, overdue, done)
    assert f"All commitments: {done} done, {open_} open" in session or \
        (open_ == done == 0 and "All commitments: ⚪ nobody committed" in session)
    kb = core.conversation.config.knowledge
    per_rec_open = 0
    for rec in kb.recommendations:
        d, o, late = rec_line(digest, f"{rec.id} {rec.title}")
        assert o == listed(core, rec.id), rec.id
        assert (d, o, late) == rec_line(session, f"{rec.id} {rec.title}")
        per_rec_open += o
    # commitments for no recommendation (or one not in the report) have their own line; one
    # serving several recommendations is in each of their lines, and once in the totals
    _, unlinked_open, _ = rec_line(digest, "Not linked to a recommendation")
    further = sum(max(0, len(dict.fromkeys([*([sp.rec] if sp.rec else []), *sp.also])) - 1)
                  for sp in specs if sp.status == "open")
    assert per_rec_open + unlinked_open == open_ + further
    # key areas: each is the sum of the recommendations serving it
    for area in kb.key_areas:
        d, o, late = rec_line(digest, f"{area.number}. {area.title}")
        serving = [rec_line(digest, f"{r.id} {r.title}") for r in kb.serving(area.id)]
        assert (d, o, late) == tuple(map(sum, zip(*serving, strict=True))) if serving else (0, 0, 0)
    # overdue listed one by one with owner and days late; the rest counted
    if overdue:
        section, = [p.text for p in answered.reply.parts
                    if getattr(p, "text", "").startswith("*Overdue*")]
        assert section.startswith(f"*Overdue* ({overdue})\n")
        shown = re.findall(r"^• #\d+ .* — <@U0\w+>(?: \([^)]*\))?, (?:\d+ days? late|due today) "
                           r"\(due \w{3} \d+ \w{3}\)$", section, flags=re.M)
        more = re.search(r"…and (\d+) more$", section)
        assert len(shown) + (int(more.group(1)) if more else 0) == overdue
    # slippage: live commitments moved more than once
    slipped = sum(1 for sp in specs if len(sp.moves) > 1 and sp.status != "cancelled")
    if slipped:
        assert f"Slipping: deadlines moved more than once ({slipped})" in digest
        for sp in specs:
            if len(sp.moves) > 1 and sp.status != "cancelled" and slipped <= 15:
                days = sum(sp.moves)
                assert f"moved {len(sp.moves)} times" in digest
                if days:
                    assert f"{abs(days)} day" in digest
    else:
        assert "Slipping" not in digest
    # the counts are read from tallies the database keeps: they equal a fresh count, and so do
    # the delegations' lines
    with unit_of_work(core.sessions, read_only=True) as s:
        assert tallies.kept(s) == tallies.recounted(s)
        config = core.conversation.config
        f = digests.figures(s, config=config, now=NOW)
        assert dict(f.per_delegation) == tallies.per_delegation(
            s, now=NOW, delegation_of=delegations.all_members(s, config=config))


def test_the_issues_contradictions_are_gone(core: Core) -> None:
    plant(core, [Spec(0, "S5", "open", 5, ()), Spec(0, "S5", "open", 6, ()),
                 Spec(1, None, "open", 3, ())])
    answered = core.conversation.answer(Caller(COORDINATOR), "digest")
    digest = render(answered.reply)  # what `say` shows
    # "Open: 2" beside 3 listed: the unlinked commitment counts and has its line
    assert field(digest, "Open") == 3 == listed(core, "all")
    assert "Not linked to a recommendation: 0 done, 1 open" in digest
    # the border area's numbers say where they come from, beside S3's "nobody committed"
    areas, = [p.text for p in answered.reply.parts
              if getattr(p, "text", "").startswith("*Progress per key area*")]
    assert "\n4. Responsible border management: 0 done, 2 open — from S5 (2); nobody on S1, S3, " \
           "L2, L3, L5, L6, L10\n" in areas
    assert "S3 Build capacity for rights-sensitive border management: ⚪ nobody committed" in digest
    assert "counts under every key area its recommendation serves" in digest.replace("\n", " ")


def test_changes_carry_date_actor_and_detail(core: Core) -> None:
    say(core, "commit Draft the note by 10 Dec for L6", user=MEMBER)
    core.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    say(core, "move 1 to 18 Dec", user=MEMBER)
    core.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    say(core, "done 1", user=OTHER)  # refused: not theirs
    say(core, "done 1", user=COORDINATOR)
    digest = say(core, "digest")
    assert "What changed in the last 7 days (3)" in digest
    flat = digest.replace("\n", " ")
    assert "Thu 26 Nov 11:00 — @U0MEMBER1 recorded #1" in flat
    assert "Thu 26 Nov 14:00 — @U0MEMBER1 moved #1 “Draft the note” from Thu 10 Dec to Fri 18 Dec 2026" \
        in re.sub(r"\s+", " ", flat)
    assert "Fri 27 Nov 14:00 — @U0COORD01 completed #1" in flat


def test_overdue_items_name_owner_delegation_and_days_late(core: Core) -> None:
    say(core, "delegation Malta", user=MEMBER)
    plant(core, [Spec(0, "L6", "open", -3.5, ()), Spec(1, None, "open", -0.2, ())])
    digest = say(core, "digest")
    assert "Overdue (2)" in digest
    assert "— @U0MEMBER1 (Malta), 3 days late (due" in digest
    assert "— @U0MEMBER2, due today (due" in digest
    assert "Malta: 0 done, 1 open, ⚠️ 1 overdue" in digest


def test_digest_csv_holds_only_rows_that_need_attention(core: Core) -> None:
    specs = ([Spec(0, "S1", "open", -d, ()) for d in range(1, 18)]          # 17 overdue: too many to list
             + [Spec(1, "L6", "open", d, ()) for d in range(1, 9)]           # 8 due soon
             + [Spec(2, "L10", "open", 40 + d, ()) for d in range(1, 30)]    # 29 later, untouched
             + [Spec(2, None, "done", 5, ())])                               # changed? no: 40 days ago
    plant(core, specs)
    outcome = core.conversation.answer(Caller(COORDINATOR), "digest")
    (uid, attachment), = outcome.uploads
    assert uid == COORDINATOR
    rows = list(csv.DictReader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    assert sorted(r["why"] for r in rows) == ["due soon"] * 8 + ["overdue"] * 17
    assert all(r["recommendation"] in ("S1", "L6") for r in rows)
    assert {r["days_late"] for r in rows if r["why"] == "overdue"} == {str(d) for d in range(1, 18)}
    # a change since the last digest adds its row, even when it is not urgent
    say(core, "move 46 to 30 Mar 2027", user="U0MEMBER3")
    outcome = core.conversation.answer(Caller(COORDINATOR), "digest")
    rows = list(csv.DictReader(io.StringIO(outcome.uploads[0][1].content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows if r["why"] == "changed"] == ["46"]


def test_digest_is_for_coordinators_and_admins(core: Core) -> None:
    out = say(core, "digest", user=MEMBER)
    assert "Only coordinators and admins can use `/wg digest`" in out and "@U0COORD01" in out
    assert "YOUR DIGEST" in say(core, "digest", user=ADMIN)
    assert "`/wg digest` gives you your own digest" in say(core, "admin digest now")
    with unit_of_work(core.sessions, read_only=True) as s:  # on demand: nothing recorded as sent
        assert s.scalars(select(Delivery)).all() == []


def test_weekly_summary_goes_to_the_coordinators_channel(engine: Engine, fake: FakeSlack
                                                         ) -> None:
    world = make_world(engine, fake, factories.config(quiet_hours=None),
                       datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    world.sweep()
    world.commit(datetime(2027, 1, 8, 16, 0, tzinfo=UTC), rec="S3")
    world.commit(datetime(2027, 1, 9, 16, 0, tzinfo=UTC), rec=None)
    world.at(datetime(2027, 1, 4, 8, 0, 30, tzinfo=UTC))  # Monday 09:00:30 Vienna
    summary, = world.posts("C0CO")
    blob = json.dumps(summary["blocks"], ensure_ascii=False)
    assert '"*Open*\\n2"' in blob and "Not linked to a recommendation_: 0 done, 1 open" in blob
    assert "Draft guidelines" not in blob  # the summary names no one's items
    assert len(world.posts("U0COORD")) == 1  # the coordinator still gets the full digest
    world.at(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    assert len(world.posts("C0CO")) == 1  # once a week, not once a sweep


def test_no_summary_without_a_coordinators_channel(engine: Engine, fake: FakeSlack) -> None:
    cfg = factories.config(quiet_hours=None)
    cfg = replace(cfg, channels=replace(cfg.channels, coordinators=None))
    world = make_world(engine, fake, cfg, datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    world.sweep()
    world.at(datetime(2027, 1, 4, 8, 0, 30, tzinfo=UTC))
    assert len(world.posts("U0COORD")) == 1
    assert [c for c in fake.messages() if c.params.get("channel", "").startswith("C")] == []


def test_a_refused_coordinators_channel_fails_alone_and_the_admins_hear(engine: Engine,
                                                                         fake: FakeSlack) -> None:
    world = make_world(engine, fake, factories.config(quiet_hours=None),
                       datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    world.sweep()

    def post(params: dict[str, object]) -> dict[str, object]:
        if params.get("channel") == "C0CO":  # the bot was never invited there
            raise SlackError("channel_not_found")
        return {"channel": params.get("channel"), "ts": "1767600000.000100"}

    fake.on("chat.postMessage", post)
    world.at(datetime(2027, 1, 4, 8, 0, 30, tzinfo=UTC))
    by_recipient = {d.recipient: d for d in world.deliveries("digest")}
    assert by_recipient["U0COORD"].status == "sent"  # the coordinator's own digest still went
    assert (by_recipient["C0CO"].status, by_recipient["C0CO"].reason) == ("failed",
                                                                          "channel_not_found")
    alert = json.dumps(world.posts("U0ADMIN"), ensure_ascii=False)
    assert "digest to <#C0CO>: `channel_not_found`" in alert

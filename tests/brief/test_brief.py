"""The session brief: the Word document parsed back and checked against the database, the chart's
size (drawn without a display), `/wg brief` in the conversation and over Slack, `wgbot brief` (a
real process, on a commitment typed into the console in this process)."""
from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from bot.app import Core
from bot.brief.files import brief_files
from bot.config.types import Config
from bot.console.render import render
from bot.conversation import Caller
from bot.domain import grammar as g
from bot.domain.brief import Brief
from bot.services import briefs
from bot.store.db import unit_of_work
from bot.store.models import Commitment
from tests.conftest import ADMIN, COORDINATOR, MEMBER, PG_URL, REPO
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.process import wgbot_executable
from tests.slack_fake.server import FakeSlack
from tests.support.console import in_process, typed
from tests.services.test_digests import NOW, Spec, core, make_core, plant, say

__all__ = ["core"]  # the fixture, shared with the digest tests

SPECS = ([Spec(0, "S1", "open", -4, (3, 5)), Spec(1, "S1", "done", -10, ()),
          Spec(2, "S1", "open", 12, ()), Spec(0, "S5", "open", 20, (2,)),
          Spec(1, "L6", "done", -2, ()), Spec(2, "L6", "cancelled", 5, ()),
          Spec(0, None, "open", -1, ())]
         + [Spec(i % 3, "L10", "open", 30 + i, ()) for i in range(30)])  # more than a table shows


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def expected(core: Core) -> dict[str | None, Counter[str]]:
    """Per recommendation, done / open / overdue, straight from the table."""
    out: dict[str | None, Counter[str]] = {}
    with unit_of_work(core.sessions, read_only=True) as s:
        for rec, status, due in s.execute(select(Commitment.rec_id, Commitment.status,
                                                 Commitment.due_at)):
            if status == "cancelled":
                continue
            c = out.setdefault(rec, Counter())
            c[status] += 1
            if status == "open" and due <= NOW:
                c["overdue"] += 1
    return out


@dataclass(frozen=True)
class Generated:
    """The brief of SPECS and its files, with what the table said when it was generated."""

    config: Config
    brief: Brief
    png: bytes
    document: docx.document.Document
    expected: dict[str | None, Counter[str]]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def generated(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """SPECS planted on SQLite, and on PostgreSQL when WGBOT_TEST_DATABASE_URL is set, and the
    brief's files generated once from each: the tests of the document and the chart only read
    them. The database is let go once they are made, with the rows counted (the values are all
    the tests need; the PostgreSQL one is the worker's test database, emptied for the next test)."""
    tmp = tmp_path_factory.mktemp("brief")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'wgbot.db'}"
    elif not PG_URL:
        pytest.skip("PostgreSQL tests need WGBOT_TEST_DATABASE_URL (.ci/run sets it)")
    else:
        url = request.getfixturevalue("_pg_pool").empty("db", schema=True)
    shutil.copytree(REPO / "config", tmp / "config")
    core = make_core(tmp / "config", tmp, url)
    try:
        plant(core, SPECS)
        config = core.conversation.config
        with unit_of_work(core.sessions, read_only=True) as s:
            brief = briefs.gather(s, config=config, now=NOW, tz=config.timezone)
        png, doc, txt = brief_files(brief)
        assert png.filename.endswith(".png") and doc.filename.endswith(".docx")
        assert txt.filename.endswith(".txt")
        return Generated(config=config, brief=brief, png=png.content,
                         document=docx.Document(io.BytesIO(doc.content)), expected=expected(core))
    finally:
        core.close()


def test_document_headings_follow_the_report(generated: Generated) -> None:
    kb, document = generated.config.knowledge, generated.document
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Brief for the Chair: Special session of the Permanent Council "
                           "dedicated to migration")
    assert headings[1:6] == ["Context", "Overview", "Key areas",
                             "Recommendations nobody has taken on", "Charts"]
    recs = [h for h in headings if h[:1] in "SL" and " — " in h]
    assert recs == [f"{r.id} — {r.title}" for r in kb.recommendations]
    assert headings.index("Short-term recommendations") < headings.index("S1 — " + kb.get("S1").title)
    assert headings.index("Long-term recommendations") < headings.index("L1 — " + kb.get("L1").title)
    # each recommendation's heading is followed by the report's own wording
    report = " ".join(Path("config/report.txt").read_text(encoding="utf-8").split())
    paras = document.paragraphs
    for i, p in enumerate(paras):
        rec = kb.get(p.text.split(" — ")[0]) if p.style.name == "Heading 2" else None
        if rec:
            assert paras[i + 1].text == rec.text
            assert " ".join(rec.text.split()) in report
    text = "\n".join(p.text for p in paras)
    assert kb.context.report_title in text and kb.context.working_group in text
    assert "Generated Thu 26 Nov 2026, 11:00 Europe/Vienna by wgbot." in text
    assert ("Special session of the Permanent Council dedicated to migration: Thu 4 Mar 2027, "
            "10:00 Europe/Vienna, Hofburg, Vienna") in text
    assert len(document.inline_shapes) == 1  # the chart, embedded


def test_document_tables_and_numbers_match_the_database(generated: Generated) -> None:
    kb, document, want = generated.config.knowledge, generated.document, generated.expected
    tables = document.tables
    areas = tables[0]
    assert [c.text for c in areas.rows[0].cells] == ["Key area", "Done", "Open", "Overdue",
                                                     "Readiness"]
    for a, row in zip(kb.key_areas, areas.rows[1:], strict=True):
        served = [want.get(r.id, Counter()) for r in kb.serving(a.id)]
        cells = [c.text for c in row.cells]
        assert cells[0] == f"{a.number}. {a.title}"
        assert cells[1:4] == [str(sum(c[k] for c in served)) for k in ("done", "open", "overdue")]
    # one table per recommendation with commitments, in the report's order
    with_rows = [r for r in kb.recommendations if r.id in want]
    assert len(tables) == 1 + len(with_rows)
    paras = [p.text for p in document.paragraphs]
    for rec, table in zip(with_rows, tables[1:], strict=True):
        head = [c.text for c in table.rows[0].cells]
        assert head == ["Delegation", "Owner", "What", "Deadline", "Status", "Slippage"]
        c = want[rec.id]
        total = c["done"] + c["open"]
        assert len(table.rows) - 1 == min(total, 25)
        statuses = Counter(r.cells[4].text for r in table.rows[1:])
        if total <= 25:
            assert statuses == Counter({k: v for k, v in (("done", c["done"]),
                                                           ("open", c["open"] - c["overdue"]),
                                                           ("overdue", c["overdue"])) if v})
        share = round(100 * c["done"] / total)
        assert any(p == f"Status: {total} commitment{'s' if total != 1 else ''}: {c['done']} done "
                   f"({share}%), {c['open']} open" + (f"; {c['overdue']} overdue." if c["overdue"]
                                                      else ".") for p in paras), rec.id
    s1 = tables[1 + [r.id for r in with_rows].index("S1")]
    slips = {r.cells[2].text: r.cells[5].text for r in s1.rows[1:]}
    assert slips["Item S1 -4.0"] == "moved 2×, 8 days later"
    assert "…and 5 more commitments (`/wg list L10`, `/wg export csv`)." in paras
    nobody = [p for p in document.paragraphs if p.style.name == "List Bullet"]
    assert [p.text.split(" — ")[0] for p in nobody] == [r.id for r in kb.recommendations
                                                          if r.id not in want]


def test_chart_has_the_expected_size(generated: Generated) -> None:
    config = generated.config
    from bot.brief.charts import SIZE  # matplotlib loads here, not when tests are collected

    assert png_size(generated.png) == SIZE == (900, 1350)
    b = generated.brief.burn_up
    assert b.days[-1] == config.session.starts_at.date()
    assert b.due[-1] == sum(1 for sp in SPECS if sp.status != "cancelled"
                            and NOW + timedelta(days=sp.due_days) <= config.session.starts_at)
    assert b.done[-1] == sum(1 for sp in SPECS if sp.status == "done")


def test_the_chart_of_a_brief_with_no_commitments_counts_whole_commitments_from_zero(
        core: Core) -> None:
    """Before anyone has committed to anything, both panels still count from 0 in whole
    commitments (matplotlib's own limits for empty data ran from -0.045 to 0.045)."""
    from bot.brief.charts import chart_figure

    config = core.conversation.config
    with unit_of_work(core.sessions, read_only=True) as s:
        brief = briefs.gather(s, config=config, now=NOW, tz=config.timezone)
    bars, burn = chart_figure(brief).axes
    for ticks, (low, high) in ((bars.get_xticks(), bars.get_xlim()),
                               (burn.get_yticks(), burn.get_ylim())):
        shown = [t for t in ticks if low <= t <= high]
        assert low == 0 and high >= 1, (low, high)
        assert shown and all(t == int(t) and t >= 0 for t in shown), shown


def test_brief_in_the_conversation(core: Core) -> None:
    plant(core, SPECS)
    refused = say(core, "brief", user=MEMBER)
    assert "Only coordinators and admins can use `/wg brief`" in refused
    outcome = core.conversation.answer(Caller(COORDINATOR), "brief")
    out = render(outcome.reply)  # what `say` shows
    assert "Readiness per key area" in out and "Gaps" in out
    assert "Nobody has taken on S2" in out and "2 commitments are overdue" in out
    assert [uid for uid, _ in outcome.uploads] == [COORDINATOR] * 3
    assert {f.filename.rsplit(".", 1)[1] for _, f in outcome.uploads} == {"png", "docx", "txt"}
    text = outcome.uploads[2][1].content.decode()
    assert "SHORT-TERM RECOMMENDATIONS" in text and "moved 2×, 8 days later" in text
    assert "brief" in say(core, "help", user=COORDINATOR)


def test_brief_over_slack_uploads_to_the_callers_dm(inproc: InProcessBot, fake: FakeSlack) -> None:
    bot = inproc
    _reply(bot.client.command("commit Draft border guidelines by 2030-01-20 for S3",
                              user_id=MEMBER))
    # Slack refuses the upload: the summary still answers, nothing half-sent, no error shown
    fake.fail("files.getUploadURLExternal", error="internal_error", times=1)
    body = _reply(bot.client.command("brief", user_id=COORDINATOR))
    assert "Session brief" in _text(body) and "Sorry" not in _text(body)
    fake.wait_for("files.getUploadURLExternal")
    fake.settle()
    # the chart was refused; the Word document and the text still went
    assert sorted(f.filename.rsplit(".", 1)[1] for f in fake.uploaded_files()) == ["docx", "txt"]
    first = len(fake.uploaded_files())
    body = _reply(bot.client.command("brief", user_id=COORDINATOR))
    assert "Session brief" in _text(body)
    deadline = __import__("time").monotonic() + 30
    files = fake.uploaded_files()
    while len(files) < first + 3 and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.1)
        files = fake.uploaded_files()
    files = files[first:]
    assert sorted(f.filename.rsplit(".", 1)[1] for f in files) == ["docx", "png", "txt"]
    dm = {f.channel_id for f in files}
    assert len(dm) == 1 and next(iter(dm)) is not None
    doc = docx.Document(io.BytesIO(next(f for f in files if f.filename.endswith(".docx")).content))
    assert "Draft border guidelines" in [c.text for t in doc.tables for r in t.rows for c in r.cells]


def test_wgbot_brief_writes_the_files_without_a_display(config_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISPLAY"))}
    env.update({"WGBOT_CONFIG_DIR": str(config_dir), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
                # The backend pyplot would load cannot even be imported: the chart must draw
                # with Agg on a Figure of its own, asking for no display and no configured backend.
                "MPLBACKEND": "module://wgbot_no_display_backend"})
    out_dir = tmp_path / "papers"
    assert "Recorded #1" in typed(env, "/wg commit Map first-asylum support by 2030-01-20 for S2\n",
                                  as_user=MEMBER)
    done = subprocess.run([str(wgbot_executable()), "brief", "--out", str(out_dir)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    names = sorted(p.suffix for p in out_dir.iterdir())
    assert names == [".docx", ".png", ".txt"]
    png = next(out_dir.glob("*.png")).read_bytes()
    assert png_size(png) == (900, 1350)
    assert "S2 — Intensified interaction with the Mediterranean Partners" in done.stdout
    assert "Map first-asylum support" in done.stdout and f"wrote {out_dir}" in done.stdout
    under_a_file = next(out_dir.glob("*.png")) / "papers"
    bad = in_process(["brief", "--out", str(under_a_file)], env=env, cwd=tmp_path,
                     monkeypatch=monkeypatch, capsys=capsys)
    assert bad.returncode == 1 and "cannot write the brief" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_generation_date_is_the_clock(core: Core) -> None:
    core.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    out = core.conversation.answer(Caller(ADMIN), "brief")  # admins may ask too
    assert out.uploads
    names = [f.filename for _, f in out.uploads]
    assert names[1] == f"wg-brief-{(NOW + timedelta(days=30)):%Y-%m-%d}.docx"
    doc = docx.Document(io.BytesIO(out.uploads[1][1].content))
    assert "Generated Sat 26 Dec 2026, 11:00 Europe/Vienna by wgbot." in [p.text for p in
                                                                          doc.paragraphs]


SESSION = datetime(2027, 3, 4, 9, tzinfo=UTC)  # config/settings.yaml: 10:00 in Vienna


@pytest.mark.parametrize("ahead", [SESSION - NOW, timedelta(hours=20), timedelta(days=1, hours=20)],
                         ids=["97-days-23-hours", "20-hours", "44-hours"])
def test_the_brief_and_wg_session_say_the_same_of_when_the_session_is(core: Core,
                                                                      ahead: timedelta) -> None:
    """The brief's message and `/wg session` name the session's moment and how far off it is in
    the same words, rounded the same way (the brief used to count whole days down: "in 97 days"
    where `/wg session` said "in 98 days", and "today" for a session the next morning)."""
    core.clock.advance(SESSION - ahead - NOW)  # type: ignore[attr-defined]

    def when(text: str) -> str:  # the console wraps long lines
        m = re.search(r"dedicated to migration — (.*?\))", " ".join(text.split()))
        assert m, text
        return m.group(1)

    session = when(say(core, "session"))
    assert "Europe/Vienna" in session and "in " in session
    assert when(say(core, "brief")) == session


@pytest.mark.parametrize(("text", "expected"), [
    ("brief", g.Brief()), ("briefing", g.Brief()), ("BRIEF now", g.Brief()),
    ("digest", g.DigestNow()), ("digest now", g.DigestNow()),
    ("delegation", g.SetDelegation(show=True)), ("delegation none", g.SetDelegation(None)),
    ("delegate Holy See", g.SetDelegation("Holy See")),
])
def test_new_commands_parse(text: str, expected: g.Command) -> None:
    assert g.parse(text) == expected


@pytest.mark.parametrize("text", ["brief me about everything", "digest for everyone"])
def test_new_commands_refuse_extra_words(text: str) -> None:
    cmd = g.parse(text)
    assert isinstance(cmd, g.Invalid) and "takes no words after it" in cmd.message

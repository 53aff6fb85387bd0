"""Scheduled messages: session countdowns, deadline reminders, overdue nudges, digests, admin alerts."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.domain.digest import Digest, Figures
from bot.domain.planning import time_left
from bot.domain.reply import (
    Attachment,
    Divider,
    Fields,
    Header,
    Mrkdwn,
    Note,
    Part,
    Reply,
    Section,
    channel_link,
    md,
    mention,
    spreadsheet_cell,
)
from bot.domain.views import CommitmentView, HistoryEntry
from bot.replies.commitments import buttons, until
from bot.replies.session import COUNTING_NOTE, area_lines, delegation_lines, rec_lines
from bot.replies.session import countdown as countdown_line

DIGEST_ITEMS = 15
LIST_BUDGET = 1300  # characters per listed section: the whole digest stays one Slack message


def countdown(*, config: Config, now: datetime, due_before: Sequence[CommitmentView],
              nobody: Sequence[str], planned: timedelta | None = None) -> Reply:
    """The countdown posted to the working-group channel, worded for the moment it is sent.

    planned is the countdown's offset before the session: on time it is named exactly.
    """
    kb = config.knowledge
    s = config.session
    left = time_left(s.starts_at - now, planned, poll=timedelta(seconds=config.poll_seconds))
    headline = f"{left} to the special session"
    parts: list[Part] = [Header(f"⏳ {headline}"),
                         Section(f"*{s.title}* — {format_moment(s.starts_at, config.timezone)}, "
                                 f"{s.place} (in {left})")]
    if due_before:
        by_rec: dict[str, list[CommitmentView]] = {}
        for c in due_before:
            by_rec.setdefault(c.rec_id or "—", []).append(c)
        lines = []
        for rec_id in [r.id for r in kb.recommendations] + ["—"]:
            items = by_rec.get(rec_id)
            if not items:
                continue
            rec = kb.get(rec_id)
            title = f"*{rec_id} · {rec.title}*" if rec else "*No recommendation*"
            shown = Mrkdwn("\n").join(
                md("• #{} {} — {}, {}", c.id, c.text[:150], mention(c.owner_id),
                   format_moment(c.due_at, config.timezone)) for c in items[:5])
            more = f"\n• …and {len(items) - 5} more" if len(items) > 5 else ""
            lines.append(md("{}\n{}{}", title, shown, more))
        text = Mrkdwn("\n").join(lines)
        parts.append(Section(f"*Open commitments due before the session* ({len(due_before)})"))
        for chunk in _chunks(text, 2900):
            parts.append(Section(chunk))
    else:
        parts.append(Section("No open commitments are due before the session."))
    if nobody:
        parts.append(Section("*Nobody has committed to* " + ", ".join(nobody) +
                             ". `/wg recs <ID>` to read one, `/wg commit … for <ID>` to take it on."))
    return Reply(parts=tuple(parts[:45]), text=headline)


def _chunks(text: Mrkdwn, size: int) -> list[Mrkdwn]:
    """Whole lines of the bot's markup, packed into pieces of at most `size` characters."""
    out, current = [], ""
    for line in text.split("\n"):
        if len(current) + len(line) + 1 > size and current:
            out.append(Mrkdwn(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(Mrkdwn(current))
    return out[:20]


def latest_note(note: HistoryEntry, tz: ZoneInfo) -> Note:
    """The newest progress note on a commitment: when, by whom, what."""
    return Note(md("📝 Latest note, {} by {}: “{}”", _when(note.at, tz), mention(note.actor_id),
                   note.note[:300]))


def deadline(c: CommitmentView, *, config: Config, tz: ZoneInfo, now: datetime,
             offset: timedelta, note: HistoryEntry | None = None) -> Reply:
    """The DM to an owner before a deadline, with its latest note and Done and Move buttons."""
    rec = config.knowledge.get(c.rec_id) if c.rec_id else None
    # on time: exactly the planned offset
    left = f"in {time_left(c.due_at - now, offset, poll=timedelta(seconds=config.poll_seconds))}"
    text = f"⏰ Reminder: *#{c.id}* “{c.text}” is due {format_moment(c.due_at, tz)} ({left})."
    parts: list[Part] = [Section(text)]
    if rec:
        parts.append(Note(f"For {rec.id} · {rec.title}"))
    if note is not None:
        parts.append(latest_note(note, tz))
    parts.append(buttons(c, origin="msg"))
    return Reply(parts=tuple(parts), text=f"Reminder: #{c.id} is due {left}")


def overdue(c: CommitmentView, *, config: Config, tz: ZoneInfo, now: datetime, nudge: int,
            note: HistoryEntry | None = None) -> Reply:
    """The working-day nudge to an owner after a deadline passed, with its latest note."""
    text = (f"⚠️ *#{c.id}* “{c.text}” was due {format_moment(c.due_at, tz)} "
            f"({until(c.due_at, now)}). Done, or does it need a new date?")
    parts: list[Part] = [Section(text), *((latest_note(note, tz),) if note is not None else ()),
                         buttons(c, origin="msg"),
                         Note(f"Nudge {nudge} of {config.reminders.overdue_max}; "
                              f"coordinators see overdue items in their digest.")]
    return Reply(parts=tuple(parts), text=f"#{c.id} is overdue")


def digest(d: Digest, *, config: Config, tz: ZoneInfo, title: str = "Weekly digest") -> Reply:
    """The coordinator digest; the rows that need attention ride along as CSV when lists are long."""
    kb = config.knowledge
    f = d.figures
    t = f.totals
    parts: list[Part] = [*_digest_summary(f, config=config, tz=tz, title=title), Divider()]
    since = (f" since your last digest ({format_moment(d.since, tz)})" if d.since
             else " in the last 7 days")
    if d.changes:
        lines = [md("• {} — {} {} #{} “{}”", _when(ch.at, tz), mention(ch.actor_id),
                    _verb(ch.action), ch.commitment_id, ch.text[:80])
                 + (md(" {}", ch.detail) if ch.detail else Mrkdwn(""))
                 for ch in reversed(d.changes[-DIGEST_ITEMS:])]  # the latest first
        parts.append(_listing(md("*What changed{}* ({})", since, d.changes_count), lines,
                              d.changes_count, word="earlier"))
    else:
        parts.append(Section(f"*What changed{since}*\nNothing."))
    if f.due_soon_count:
        lines = [md("• #{} {} — {}, {}", i.id, i.text[:80], _who(i.owner_id, i.delegation),
                    format_moment(i.due_at, tz)) for i in f.due_soon[:DIGEST_ITEMS]]
        parts.append(_listing(md("*Due in the next 14 days* ({})", f.due_soon_count), lines,
                              f.due_soon_count))
    else:
        parts.append(Section("*Due in the next 14 days*\nNothing."))
    if t.overdue:
        lines = [md("• #{} {} — {}, {} (due {})", i.id, i.text[:80], _who(i.owner_id, i.delegation),
                    _late(i.days_late(f.now)), _day(i.due_at, tz))
                 for i in f.overdue[:DIGEST_ITEMS]]
        parts.append(_listing(md("*Overdue* ({})", t.overdue), lines, t.overdue))
    if f.slipped_count:
        lines = [md("• #{} {} — {}: moved {} times, {} in all", sl.commitment_id, sl.text[:80],
                    _who(sl.owner_id, sl.delegation), sl.moves, _days_moved(sl.days))
                 for sl in f.slipped[:DIGEST_ITEMS]]
        parts.append(_listing(md("*Slipping: deadlines moved more than once* ({})",
                                 f.slipped_count), lines, f.slipped_count))
    if f.nobody:
        titles = {r.id: r.title for r in kb.recommendations}
        parts.append(Section("*Nobody has committed to*\n" + ", ".join(
            f"{rid} ({titles.get(rid, rid)})" for rid in f.nobody)))
    files: tuple[Attachment, ...] = ()
    if d.rows:
        files = (digest_csv(d, tz=tz),)
        cut = (f" (the first {len(d.rows):,} of {d.rows_total:,}; `/wg export csv` has every open "
               "commitment)" if d.rows_total > len(d.rows) else "")
        parts.append(Note("Attached as CSV: what is overdue, due in the next 14 days or changed"
                          f"{since}{cut}."))
    return Reply(parts=tuple(parts[:50]), text=f"{title}: {t.done} done, {t.open} open, "
                 f"{t.overdue} overdue", files=files)


def digest_summary(f: Figures, *, config: Config, tz: ZoneInfo, title: str = "Weekly digest"
                   ) -> Reply:
    """The digest's summary for the coordinators' channel: totals, key areas, recommendations."""
    t = f.totals
    parts = [*_digest_summary(f, config=config, tz=tz, title=title),
             Note("Coordinators get the full digest by DM; `/wg digest` shows it at any time, "
                  "`/wg brief` prepares the Chair's papers.")]
    return Reply(parts=tuple(parts), text=f"{title}: {t.done} done, {t.open} open, "
                 f"{t.overdue} overdue")


def _digest_summary(f: Figures, *, config: Config, tz: ZoneInfo, title: str) -> list[Part]:
    kb = config.knowledge
    t = f.totals
    return [
        Header(f"📋 {title} — working group on migration"[:150]),
        Section(countdown_line(config, now=f.now, tz=tz)),
        Fields((f"*Done*\n{t.done}", f"*Open*\n{t.open}", f"*Overdue*\n{t.overdue}",
                f"*Recommendations nobody took on*\n{len(f.nobody)} of {len(kb.recommendations)}")),
        Section("*Progress per key area*\n" + "\n".join(area_lines(kb, f))),
        Section("*Progress per recommendation*\n" + "\n".join(rec_lines(kb, f))),
        Section("*Per delegation*\n" + ("\n".join(delegation_lines(f)) or "No commitments yet.")),
        Note(COUNTING_NOTE),
    ]


def _listing(heading: Mrkdwn, lines: list[Mrkdwn], total: int, *, word: str = "more",
             budget: int = LIST_BUDGET) -> Section:
    """A heading and as many lines as fit the budget, then how many more there are."""
    shown: list[Mrkdwn] = []
    used = len(heading)
    for line in lines:
        if shown and used + len(line) + 1 > budget:
            break
        shown.append(line)
        used += len(line) + 1
    more = md("\n…and {} {}", f"{total - len(shown):,}", word) if total > len(shown) else ""
    return Section(heading + Mrkdwn("\n") + Mrkdwn("\n").join(shown) + more)


def _day(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def _who(owner_id: str, delegation: str | None) -> Mrkdwn:
    return md("{} ({})", mention(owner_id), delegation) if delegation else mention(owner_id)


def _late(days: int) -> str:
    return "due today" if days == 0 else f"{days} day{'s' if days != 1 else ''} late"


def _days_moved(days: int) -> str:
    if days == 0:
        return "back where it started"
    word = "later" if days > 0 else "earlier"
    return f"{abs(days)} day{'s' if abs(days) != 1 else ''} {word}"


def _when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _verb(action: str) -> str:
    return {"created": "recorded", "done": "completed", "reopened": "reopened",
            "cancelled": "cancelled", "moved": "moved", "note": "noted on", "edited": "edited",
            "reassigned": "reassigned", "linked": "linked"}.get(action, action)


def digest_csv(d: Digest, *, tz: ZoneInfo) -> Attachment:
    """The commitments that need attention (overdue, due in 14 days, changed) as CSV."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "why", "text", "owner_id", "owner", "delegation", "recommendation",
                "due_local", "status", "days_late"])
    for r in d.rows:
        w.writerow([r.id, r.why, spreadsheet_cell(r.text), r.owner_id, spreadsheet_cell(r.owner_name),
                    spreadsheet_cell(r.delegation or ""), r.rec_id or "",
                    r.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), r.status,
                    max(0, (d.now - r.due_at).days) if r.why == "overdue" else ""])
    return Attachment(filename=f"wg-digest-{d.now.astimezone(tz):%Y-%m-%d}.csv",
                      title="Commitments that need attention", content=buf.getvalue().encode("utf-8-sig"))


def admin_failures(failures: Sequence[tuple[str, str, str]]) -> Reply:
    """One DM to an admin summarising deliveries that failed for good: (kind, recipient, reason)."""
    lines = Mrkdwn("\n").join(
        md("• {} to {} / {}: `{}`", kind, mention(rcpt), rcpt, reason) if rcpt[:1] in ("U", "W")
        else md("• {} to {}: `{}`", kind, channel_link(rcpt), reason)
        for kind, rcpt, reason in failures[:20])
    more = f"\n…and {len(failures) - 20} more" if len(failures) > 20 else ""
    text = f"🚨 {len(failures)} notification{'s' if len(failures) != 1 else ''} could not be delivered"
    return Reply(parts=(Section(md("*{}*\n{}{}", text, lines, more)),
                        Note("`/wg admin status` shows the outbox. Fix the channel or user in "
                             "config/settings.yaml, or invite the bot to the channel.")),
                 text=text)


def config_problems(problems: Sequence[str]) -> Reply:
    """DM to admins: an edit was refused; the bot keeps the last good config."""
    lines = "\n".join(f"`{p}`" for p in problems[:25])
    text = "⚠️ The config edit was not applied; I am still running on the last good settings."
    return Reply(parts=(Section(f"*{text}*"), Section(lines or "(no details)"),
                        Note("Fix the lines above and save; I check again on my own, or run "
                             "`/wg admin reload`. `wgbot config check` shows the same.")),
                 text=text)


def config_changes(changes: Sequence[str]) -> Reply:
    """DM to admins: a valid edit took effect."""
    text = "✅ Config updated: " + "; ".join(changes[:20])
    return Reply(parts=(Section(text[:2900]),), text=text[:300])

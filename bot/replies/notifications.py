"""Scheduled messages: session countdowns, deadline reminders, overdue nudges, digests, admin alerts."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.domain.digest import Digest
from bot.domain.planning import time_left
from bot.domain.readiness import Readiness
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
from bot.replies.commitments import buttons, until
from bot.replies.session import countdown as countdown_line
from bot.store.models import Commitment

DIGEST_ITEMS = 15


def _r(r: Readiness) -> str:
    if r.total == 0:
        return "⚪ nobody committed"
    late = f", ⚠️ {r.overdue} overdue" if r.overdue else ""
    return f"{r.done} done, {r.open} open{late}"


def countdown(*, config: Config, now: datetime, due_before: Sequence[Commitment],
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
        by_rec: dict[str, list[Commitment]] = {}
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
    return Reply(parts=tuple(parts[:45]), text=headline, ephemeral=False)


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


def deadline(c: Commitment, *, config: Config, tz: ZoneInfo, now: datetime,
             offset: timedelta) -> Reply:
    """The DM to an owner before a deadline, with Done and Move buttons."""
    rec = config.knowledge.get(c.rec_id) if c.rec_id else None
    # on time: exactly the planned offset
    left = f"in {time_left(c.due_at - now, offset, poll=timedelta(seconds=config.poll_seconds))}"
    text = f"⏰ Reminder: *#{c.id}* “{c.text}” is due {format_moment(c.due_at, tz)} ({left})."
    parts: list[Part] = [Section(text)]
    if rec:
        parts.append(Note(f"For {rec.id} · {rec.title}"))
    parts.append(buttons(c, origin="msg"))
    return Reply(parts=tuple(parts), text=f"Reminder: #{c.id} is due {left}", ephemeral=False)


def overdue(c: Commitment, *, config: Config, tz: ZoneInfo, now: datetime, nudge: int) -> Reply:
    """The working-day nudge to an owner after a deadline passed."""
    text = (f"⚠️ *#{c.id}* “{c.text}” was due {format_moment(c.due_at, tz)} "
            f"({until(c.due_at, now)}). Done, or does it need a new date?")
    parts: list[Part] = [Section(text), buttons(c, origin="msg"),
                         Note(f"Nudge {nudge} of {config.reminders.overdue_max}; "
                              f"coordinators see overdue items in their digest.")]
    return Reply(parts=tuple(parts), text=f"#{c.id} is overdue", ephemeral=False)


def digest(d: Digest, *, config: Config, tz: ZoneInfo, title: str = "Weekly digest") -> Reply:
    """The coordinator digest; the full list rides along as CSV when it does not fit."""
    kb = config.knowledge
    t = d.totals
    since = f" since {format_moment(d.since, tz)}" if d.since else " in the last 7 days"
    parts: list[Part] = [
        Header(f"📋 {title} — working group on migration"),
        Section(countdown_line(config, now=d.now, tz=tz)),
        Fields((f"*Done*\n{t.done}", f"*Open*\n{t.open}", f"*Overdue*\n{t.overdue}",
                f"*Recommendations nobody took on*\n{len(d.nobody)} of {len(kb.recommendations)}")),
        Section("*Progress per key area*\n" + "\n".join(
            f"{a.number}. {a.title}: {_r(d.per_area[a.id])}" for a in kb.key_areas)),
        Section("*Progress per recommendation*\n" + "\n".join(
            f"*{r.id}* {r.title}: {_r(d.per_rec[r.id])}" for r in kb.recommendations)),
        Divider(),
    ]
    if d.changes:
        lines = [md("• #{} {} — {} {}", ch.commitment_id, ch.text[:80], mention(ch.actor_id),
                    _verb(ch.action)) for ch in d.changes[-DIGEST_ITEMS:]]
        more = f"\n…and {len(d.changes) - DIGEST_ITEMS} earlier" if len(d.changes) > DIGEST_ITEMS else ""
        parts.append(Section(md("*What changed{}* ({})\n{}{}", since, len(d.changes),
                                Mrkdwn("\n").join(lines), more)))
    else:
        parts.append(Section(f"*What changed{since}*\nNothing."))
    if d.due_soon:
        lines = [md("• #{} {} — {}, {}", i.id, i.text[:80], mention(i.owner_id),
                    format_moment(i.due_at, tz)) for i in d.due_soon[:DIGEST_ITEMS]]
        more = f"\n…and {len(d.due_soon) - DIGEST_ITEMS} more" if len(d.due_soon) > DIGEST_ITEMS else ""
        parts.append(Section(md("*Due in the next 14 days* ({})\n{}{}", len(d.due_soon),
                                Mrkdwn("\n").join(lines), more)))
    else:
        parts.append(Section("*Due in the next 14 days*\nNothing."))
    if d.overdue_by_owner:
        lines = [md("• {}: {} overdue", mention(owner), n)
                 for owner, n in d.overdue_by_owner[:DIGEST_ITEMS]]
        parts.append(Section(Mrkdwn("*Owners with overdue items*\n") + Mrkdwn("\n").join(lines)))
    if d.nobody:
        titles = {r.id: r.title for r in kb.recommendations}
        parts.append(Section("*Nobody has committed to*\n" + ", ".join(
            f"{rid} ({titles.get(rid, rid)})" for rid in d.nobody)))
    files: tuple[Attachment, ...] = ()
    long = (len(d.changes) > DIGEST_ITEMS or len(d.due_soon) > DIGEST_ITEMS
            or len(d.overdue_by_owner) > DIGEST_ITEMS)
    if long:
        files = (digest_csv(d, tz=tz),)
        parts.append(Note("The full list of open commitments is attached as CSV."))
    return Reply(parts=tuple(parts), text=f"{title}: {t.done} done, {t.open} open, "
                 f"{t.overdue} overdue", ephemeral=False, files=files)


def _verb(action: str) -> str:
    return {"created": "recorded it", "done": "completed it", "reopened": "reopened it",
            "cancelled": "cancelled it", "moved": "moved it"}.get(action, action)


def digest_csv(d: Digest, *, tz: ZoneInfo) -> Attachment:
    """Every open commitment of a digest as CSV."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "text", "owner_id", "recommendation", "due_local", "overdue"])
    for i in d.open_items:
        w.writerow([i.id, spreadsheet_cell(i.text), i.owner_id, i.rec_id or "", i.due_at.astimezone(tz)
                    .strftime("%Y-%m-%d %H:%M"), "yes" if i.due_at <= d.now else "no"])
    return Attachment(filename=f"wg-digest-{d.now.astimezone(tz):%Y-%m-%d}.csv",
                      title="Open commitments", content=buf.getvalue().encode("utf-8-sig"))


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
                 text=text, ephemeral=False)


def config_problems(problems: Sequence[str]) -> Reply:
    """DM to admins: an edit was refused; the bot keeps the last good config."""
    lines = "\n".join(f"`{p}`" for p in problems[:25])
    text = "⚠️ The config edit was not applied; I am still running on the last good settings."
    return Reply(parts=(Section(f"*{text}*"), Section(lines or "(no details)"),
                        Note("Fix the lines above and save; I check again on my own, or run "
                             "`/wg admin reload`. `wgbot config check` shows the same.")),
                 text=text, ephemeral=False)


def config_changes(changes: Sequence[str]) -> Reply:
    """DM to admins: a valid edit took effect."""
    text = "✅ Config updated: " + "; ".join(changes[:20])
    return Reply(parts=(Section(text[:2900]),), text=text[:300], ephemeral=False)

"""Replies about commitments: created, shown, listed (with buttons), changed, refused."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.dates import format_moment
from bot.domain.knowledge import KnowledgeBase
from bot.domain.reply import (
    Actions,
    Button,
    Confirm,
    Fields,
    Header,
    Note,
    Part,
    Reply,
    Section,
    escape,
)
from bot.store.models import AuditEntry, Commitment

# Ten commitments with their buttons stay well inside Slack's message size and 50-block limits.
PER_PAGE = 10
STATUS_LABEL = {"open": "open", "done": "done ✓", "cancelled": "cancelled"}


def until(due: datetime, now: datetime) -> str:
    """'in 3 days', 'in 5 hours', '2 days overdue' — how far a deadline is from now."""
    delta = due - now
    late = delta < timedelta(0)
    delta = abs(delta)
    if delta >= timedelta(days=2):
        amount = f"{delta.days} days"
    elif delta >= timedelta(hours=2):
        amount = f"{int(delta.total_seconds() // 3600)} hours"
    elif delta >= timedelta(minutes=2):
        amount = f"{int(delta.total_seconds() // 60)} minutes"
    else:
        return "due now" if not late else "just overdue"
    return f"{amount} overdue" if late else f"in {amount}"


def _rec_label(kb: KnowledgeBase, rec_id: str | None) -> str:
    if not rec_id:
        return ""
    rec = kb.get(rec_id)
    return f"{rec_id} · {rec.title}" if rec else rec_id


def line(c: Commitment, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
         show_owner: bool = True, delegation: str | None = None) -> str:
    """One commitment as a line of mrkdwn."""
    flag = ""
    if c.status == "open" and c.due_at <= now:
        flag = "⚠️ *overdue* · "
    elif c.status != "open":
        flag = f"_{STATUS_LABEL[c.status]}_ · "
    bits = [f"{flag}due {format_moment(c.due_at, tz)} ({until(c.due_at, now)})"]
    if c.rec_id:
        bits.append(_rec_label(kb, c.rec_id))
    if show_owner:
        bits.append(f"<@{c.owner_id}>" + (f" ({escape(delegation)})" if delegation else ""))
    return f"*#{c.id}* {escape(c.text)}\n" + " · ".join(bits)


def buttons(c: Commitment, *, origin: str) -> Actions:
    """Done / Move / Cancel for an open commitment; Reopen otherwise. origin says what to redraw."""
    v = f"{c.id}|{origin}"
    if c.status != "open":
        return Actions((Button("Reopen", "wg_reopen", v, command=f"/wg reopen {c.id}"),))
    return Actions((
        Button("Done", "wg_done", v, command=f"/wg done {c.id}", style="primary"),
        Button("Move", "wg_move", v, command=f"/wg move {c.id} to <date>"),
        Button("Cancel", "wg_cancel", v, command=f"/wg cancel {c.id}", style="danger",
               confirm=Confirm(title=f"Cancel #{c.id}?",
                               text=f"“{escape(c.text)[:200]}” will no longer be tracked or reminded.",
                               confirm="Cancel it", deny="Keep it")),
    ))


def created(c: Commitment, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
            caller_id: str, delegation: str | None = None) -> Reply:
    """The answer to `/wg commit`."""
    who = "You committed" if c.owner_id == caller_id else f"<@{c.owner_id}> is committed"
    rec = kb.get(c.rec_id) if c.rec_id else None
    text = f"✅ Recorded *#{c.id}*: {who} to “{escape(c.text)}”"
    fields = [f"*Due*\n{format_moment(c.due_at, tz)} ({until(c.due_at, now)})"]
    if rec:
        fields.append(f"*For*\n{rec.id} · {rec.title}")
    if delegation:
        fields.append(f"*Delegation*\n{escape(delegation)}")
    parts: list[Part] = [Section(text), Fields(tuple(fields)), buttons(c, origin="none")]
    hint = (f"I'll remind <@{c.owner_id}> before the deadline. " if c.owner_id != caller_id
            else "I'll remind you before the deadline. ")
    parts.append(Note(hint + f"`/wg show {c.id}` · `/wg list`"))
    return Reply(parts=tuple(parts),
                 text=f"Recorded #{c.id}, due {format_moment(c.due_at, tz)}")


def assigned_dm(c: Commitment, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
                assigner_id: str) -> Reply:
    """The DM an owner gets when someone else records a commitment for them."""
    text = (f"<@{assigner_id}> recorded a commitment for you: *#{c.id}* “{escape(c.text)}”, due "
            f"{format_moment(c.due_at, tz)} ({until(c.due_at, now)}).")
    parts: list[Part] = [Section(text)]
    if c.rec_id:
        parts.append(Note(f"For {_rec_label(kb, c.rec_id)}"))
    parts.append(buttons(c, origin="msg"))
    return Reply(parts=tuple(parts), text=f"New commitment #{c.id} assigned to you", ephemeral=False)


def detail(c: Commitment, trail: list[AuditEntry], *, kb: KnowledgeBase, tz: ZoneInfo,
           now: datetime, delegation: str | None = None) -> Reply:
    """`/wg show <id>`: the commitment and its audit trail."""
    rec = kb.get(c.rec_id) if c.rec_id else None
    fields = [
        f"*Owner*\n<@{c.owner_id}>" + (f"\n{escape(delegation)}" if delegation else ""),
        f"*Status*\n{STATUS_LABEL[c.status]}"
        + (" · ⚠️ overdue" if c.status == "open" and c.due_at <= now else ""),
        f"*Due*\n{format_moment(c.due_at, tz)}\n({until(c.due_at, now)}; typed “{escape(c.due_words)}”)",
        f"*For*\n{rec.id} · {rec.title}" if rec else "*For*\nno recommendation",
        f"*Recorded by*\n<@{c.creator_id}> on {format_moment(c.created_at, tz)}",
    ]
    history = "\n".join(_audit_line(e, tz) for e in trail[-20:]) or "no changes yet"
    parts: list[Part] = [Header(f"#{c.id}"), Section(escape(c.text)), Fields(tuple(fields)),
                         Section(f"*History*\n{history}"), buttons(c, origin="show")]
    return Reply(parts=tuple(parts), text=f"#{c.id}: {c.text[:100]}")


def _audit_line(e: AuditEntry, tz: ZoneInfo) -> str:
    when = format_moment(e.at, tz)
    if e.action == "created":
        what = "recorded it"
    elif e.action == "moved":
        before, after = e.changes.get("due", [None, None])
        what = "moved it"
        if before and after:
            what += (f" from {format_moment(datetime.fromisoformat(before), tz)} to "
                     f"{format_moment(datetime.fromisoformat(after), tz)}")
    elif e.action == "done":
        what = "marked it done"
    elif e.action == "reopened":
        what = "reopened it"
    elif e.action == "cancelled":
        what = "cancelled it"
    else:
        what = e.action
    return f"• {when} — <@{e.actor_id}> {what}"


@dataclass(frozen=True)
class ListView:
    """What a listing shows: its scope, title and page."""

    scope: str
    arg: str
    page: int
    title: str

    @property
    def origin(self) -> str:
        """Compact form carried in button values so the list can be redrawn after an action."""
        return f"list:{self.scope}:{self.arg}:{self.page}"


def listing(items: tuple[Commitment, ...], *, view: ListView, total: int, pages: int,
            kb: KnowledgeBase, tz: ZoneInfo, now: datetime, banner: str = "",
            capped: bool = False, delegations: Mapping[str, str | None] | None = None) -> Reply:
    """A list grouped by deadline (overdue, next 7 days, later), with buttons and paging."""
    parts: list[Part] = []
    if banner:
        parts.append(Section(banner))
    parts.append(Header(view.title))
    if not items:
        empty = {"mine": "You have no open commitments. `/wg commit <what> by <date>` records one.",
                 "overdue": "Nothing is overdue. 🎉",
                 "done": "Nothing has been completed yet."}.get(view.scope, "No open commitments here.")
        parts.append(Section(empty))
        return Reply(parts=tuple(parts), text=view.title)
    groups: list[tuple[str, list[Commitment]]] = [("Overdue", []), ("Due in the next 7 days", []),
                                                  ("Later", []), ("Completed", [])]
    for c in items:
        if c.status != "open":
            groups[3][1].append(c)
        elif c.due_at <= now:
            groups[0][1].append(c)
        elif c.due_at <= now + timedelta(days=7):
            groups[1][1].append(c)
        else:
            groups[2][1].append(c)
    show_owner = view.scope != "mine"
    for name, members in groups:
        if not members:
            continue
        parts.append(Section(f"*{name}*"))
        for c in members:
            parts.append(Section(line(c, kb=kb, tz=tz, now=now, show_owner=show_owner,
                                      delegation=(delegations or {}).get(c.owner_id))))
            parts.append(buttons(c, origin=view.origin))
    first = (view.page - 1) * PER_PAGE + 1
    shown_total = f"{total - 1:,}+" if capped else f"{total:,}"
    summary = (f"{first}–{first + len(items) - 1} of {shown_total}" if pages > 1
               else f"{shown_total} in all")
    parts.append(Note(f"{summary} · times in {tz.key}"))
    if view.page < pages or view.page > 1:
        nav: list[Button] = []
        if view.page > 1:
            nav.append(Button("Previous", "wg_page", f"{view.scope}:{view.arg}:{view.page - 1}",
                              command=_list_cmd(view, view.page - 1)))
        if view.page < pages:
            nav.append(Button("Show more", "wg_page", f"{view.scope}:{view.arg}:{view.page + 1}",
                              command=_list_cmd(view, view.page + 1)))
        parts.append(Actions(tuple(nav)))
    return Reply(parts=tuple(parts), text=f"{view.title}: {total}")


def _list_cmd(view: ListView, page: int) -> str:
    arg = {"mine": "mine", "all": "all", "overdue": "overdue", "done": "done",
           "user": f"<@{view.arg}>", "rec": view.arg}[view.scope]
    return f"/wg list {arg} page {page}"


def changed(c: Commitment, *, action: str, kb: KnowledgeBase, tz: ZoneInfo, now: datetime) -> Reply:
    """The answer to done / reopen / cancel / move."""
    what = {"done": "✅ Marked *#{id}* done", "reopen": "↩️ Reopened *#{id}*",
            "cancel": "🗑️ Cancelled *#{id}*", "move": "📅 Moved *#{id}*"}[action].format(id=c.id)
    text = f"{what}: “{escape(c.text)}”"
    if action in ("move", "reopen"):
        text += f" — now due {format_moment(c.due_at, tz)} ({until(c.due_at, now)})"
    parts: list[Part] = [Section(text)]
    if action == "cancel":
        parts.append(Note(f"Changed your mind? `/wg reopen {c.id}`"))
    elif action == "done":
        parts.append(Note(f"No more reminders for it. `/wg reopen {c.id}` if that was a mistake."))
    return Reply(parts=tuple(parts), text=text)


def not_found(commitment_id: int) -> Reply:
    """An id that does not exist."""
    text = f"There is no commitment #{commitment_id}. `/wg list all` shows the open ones."
    return Reply(parts=(Section(text),), text=text)

"""Replies about commitments: created, shown, listed (with buttons), changed, refused."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.dates import format_moment
from bot.domain import values
from bot.config.knowledge import KnowledgeBase, Recommendation
from bot.domain.reply import (
    Actions,
    Button,
    Confirm,
    Fields,
    Header,
    Mrkdwn,
    Note,
    Part,
    Reply,
    Section,
    md,
    mention,
)
from bot.domain.views import CommitmentView, HistoryEntry

# Ten commitments with their buttons stay well inside Slack's message size and 50-block limits.
PER_PAGE = 10
STATUS_LABEL = {"open": "open", "done": "done ✓", "cancelled": "cancelled"}


def until(due: datetime, now: datetime) -> str:
    """'in 3 days', 'in 5 hours', '2 days overdue' — how far a deadline is from now."""
    delta = due - now
    late = delta < timedelta(0)
    delta = abs(delta)
    # Rounded to the nearest unit: 35 h 59 min away reads "in 36 hours", not "in 35 hours".
    if delta >= timedelta(hours=47, minutes=30):
        amount = f"{round(delta / timedelta(days=1))} days"
    elif delta >= timedelta(minutes=119, seconds=30):
        amount = f"{round(delta / timedelta(hours=1))} hours"
    elif delta >= timedelta(minutes=2):
        amount = f"{round(delta / timedelta(minutes=1))} minutes"
    else:
        return "due now" if not late else "just overdue"
    return f"{amount} overdue" if late else f"in {amount}"


def _rec_label(kb: KnowledgeBase, rec_id: str | None) -> str:
    if not rec_id:
        return ""
    rec = kb.get(rec_id)
    return f"{rec_id} · {rec.title}" if rec else rec_id


def line(c: CommitmentView, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
         show_owner: bool = True, delegation: str | None = None) -> Mrkdwn:
    """One commitment as a line of mrkdwn."""
    flag = ""
    if c.status == "open" and c.due_at <= now:
        flag = "⚠️ *overdue* · "
    elif c.status != "open":
        flag = f"_{STATUS_LABEL[c.status]}_ · "
    when = f" ({until(c.due_at, now)})" if c.status == "open" else ""
    bits: list[str] = [f"{flag}due {format_moment(c.due_at, tz)}{when}"]
    bits.extend(_rec_label(kb, rec_id) for rec_id in c.rec_ids)
    if show_owner:
        bits.append(owners_text(c.owner_ids) + (md(" ({})", delegation) if delegation else ""))
    return md("*#{}* {}\n", c.id, c.text) + Mrkdwn(" · ").join(bits)


def owners_text(owner_ids: tuple[str, ...]) -> Mrkdwn:
    """`<@U1>`, `<@U1> and <@U2>`, `<@U1>, <@U2> and <@U3>`."""
    names = [mention(o) for o in owner_ids]
    if len(names) == 1:
        return names[0]
    return Mrkdwn(", ").join(names[:-1]) + Mrkdwn(" and ") + names[-1]


# Snooze buttons on reminder DMs: (label, key in the action id, the words it moves the deadline to)
SNOOZES = (("Tomorrow", "tomorrow", "tomorrow"), ("Next week", "week", "in 1 week"))


def buttons(c: CommitmentView, *, origin: values.Origin) -> Actions:
    """Done / Move / Cancel for an open commitment; Reopen otherwise. origin says what to redraw."""
    v = values.target_value(c.id, origin)
    if c.status != "open":
        return Actions((Button("Reopen", "wg_reopen", v, command=f"/wg reopen {c.id}"),))
    snooze: tuple[Button, ...] = ()
    edit: tuple[Button, ...] = ()
    if origin == "show" or isinstance(origin, values.ListPage):  # every field, in a modal
        edit = (Button("Edit", "wg_edit", v, command=f"/wg edit {c.id} <text>"),)
    if origin == "msg":  # a reminder or assignment DM: snooze it without typing a date
        snooze = tuple(Button(label, f"wg_snooze_{key}", v, command=f"/wg move {c.id} to {words}")
                       for label, key, words in SNOOZES)
    return Actions((
        Button("Done", "wg_done", v, command=f"/wg done {c.id}", style="primary"),
        *snooze,
        Button("Pick a date" if snooze else "Move", "wg_move", v,
               command=f"/wg move {c.id} to <date>"),
        *edit,
        Button("Cancel", "wg_cancel", v, command=f"/wg cancel {c.id}", style="danger",
               confirm=Confirm(title=f"Cancel #{c.id}?",
                               text=f"“{c.text[:200]}” will no longer be tracked or reminded.",
                               confirm="Cancel it", deny="Keep it")),
    ))


def created(c: CommitmentView, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
            caller_id: str, related: Recommendation | None = None,
            after_session: datetime | None = None, delegation: str | None = None) -> Reply:
    """The answer to `/wg commit`, with a one-click fix for a deadline after the session and a
    suggested recommendation when the text is clearly about one."""
    owners = c.owner_ids
    if owners == (caller_id,):
        who = Mrkdwn("You committed")
    else:
        who = md("{} {} committed", owners_text(owners), "is" if len(owners) == 1 else "are")
    text = md("✅ Recorded *#{}*: {} to “{}”", c.id, who, c.text)
    fields = [f"*Due*\n{format_moment(c.due_at, tz)} ({until(c.due_at, now)})"]
    if c.rec_ids:
        fields.append("*For*\n" + "\n".join(_rec_label(kb, r) for r in c.rec_ids))
    if delegation:
        fields.append(f"*Delegation*\n{delegation}")
    parts: list[Part] = [Section(text), Fields(tuple(fields))]
    if after_session is not None:
        parts.append(Section(
            f"⚠️ That is after the special session ({format_moment(after_session, tz)}).",
            button=Button("Use the session date", "wg_session_date", str(c.id),
                          command=f"/wg move {c.id} to the session")))
    if related is not None:
        parts.append(Section(f"Looks related to *{related.id}* ({related.title}).",
                             button=Button(f"Link to {related.id}", "wg_link",
                                           f"{c.id}|{related.id}",
                                           command=f"/wg link {c.id} {related.id}")))
    parts.append(buttons(c, origin="none"))
    hint = (Mrkdwn("I'll remind you before the deadline. ") if owners == (caller_id,)
            else md("I'll remind {} before the deadline. ", owners_text(owners)))
    parts.append(Note(hint + f"`/wg show {c.id}` · `/wg list`"))
    return Reply(parts=tuple(parts),
                 text=f"Recorded #{c.id}, due {format_moment(c.due_at, tz)}")


def possible_duplicate(existing: CommitmentView, *, command: str, tz: ZoneInfo,
                       now: datetime) -> Reply:
    """Asked before recording the same text for the same owner a second time."""
    text = md("*#{}* “{}” is already open for {}, due {} ({}). Record another one anyway?",
              existing.id, existing.text, owners_text(existing.owner_ids),
              format_moment(existing.due_at, tz), until(existing.due_at, now))
    return Reply(parts=(Section(text), Actions((
        Button("Record anyway", "wg_record_anyway", command[:1900], command=f"/wg {command}"),
        Button(f"Show #{existing.id}", "wg_show", str(existing.id),
               command=f"/wg show {existing.id}"))), Note("Nothing was recorded yet.")),
        text=f"#{existing.id} looks the same; nothing was recorded yet")


def assigned_dm(c: CommitmentView, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
                assigner_id: str) -> Reply:
    """The DM an owner gets when someone else records a commitment for them."""
    text = md("{} recorded a commitment for you: *#{}* “{}”, due {} ({}).", mention(assigner_id),
              c.id, c.text, format_moment(c.due_at, tz), until(c.due_at, now))
    parts: list[Part] = [Section(text)]
    if c.rec_ids:
        parts.append(Note("For " + "; ".join(_rec_label(kb, r) for r in c.rec_ids)))
    if len(c.owner_ids) > 1:
        parts.append(Note(md("Held by {}; any of you can update it.", owners_text(c.owner_ids))))
    parts.append(buttons(c, origin="msg"))
    return Reply(parts=tuple(parts), text=f"New commitment #{c.id} assigned to you")


def reassigned_dm(c: CommitmentView, *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime,
                  actor_id: str, added: bool) -> Reply:
    """The DM a new or a previous owner gets when a commitment changes hands."""
    if added:
        text = md("{} gave you commitment *#{}* “{}”, due {} ({}). It is now held by {}.",
                  mention(actor_id), c.id, c.text, format_moment(c.due_at, tz),
                  until(c.due_at, now), owners_text(c.owner_ids))
        return Reply(parts=(Section(text), buttons(c, origin="msg")),
                     text=f"#{c.id} is now yours")
    text = md("{} handed your commitment *#{}* “{}” to {}. You will get no more reminders for it.",
              mention(actor_id), c.id, c.text, owners_text(c.owner_ids))
    return Reply(parts=(Section(text),), text=f"#{c.id} has a new owner")


def detail(c: CommitmentView, trail: Sequence[HistoryEntry], *, kb: KnowledgeBase,
           tz: ZoneInfo, now: datetime, delegation: str | None = None) -> Reply:
    """`/wg show <id>`: the commitment and its audit trail."""
    fields: list[str] = [
        (md("*Owner*\n{}", mention(c.owner_id)) if len(c.owner_ids) == 1
         else md("*Owners*\n{}", owners_text(c.owner_ids)))
        + (md("\n{}", delegation) if delegation else ""),
        f"*Status*\n{STATUS_LABEL[c.status]}"
        + (" · ⚠️ overdue" if c.status == "open" and c.due_at <= now else ""),
        f"*Due*\n{format_moment(c.due_at, tz)}\n({until(c.due_at, now)}; typed “{c.due_words}”)",
        ("*For*\n" + "\n".join(_rec_label(kb, r) for r in c.rec_ids) if c.rec_ids
         else "*For*\nno recommendation"),
        md("*Recorded by*\n{} on {}", mention(c.creator_id), format_moment(c.created_at, tz)),
    ]
    history = Mrkdwn("\n").join(_audit_line(e, tz) for e in trail[-20:]) or "no changes yet"
    parts: list[Part] = [Header(f"#{c.id}"), Section(c.text), Fields(tuple(fields)),
                         Section(md("*History*\n{}", history)), buttons(c, origin="show")]
    return Reply(parts=tuple(parts), text=f"#{c.id}: {c.text[:100]}")


def _audit_line(e: HistoryEntry, tz: ZoneInfo) -> Mrkdwn:
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
    elif e.action == "edited":
        what = f"changed the text from “{str(e.changes.get('text', ['', ''])[0])[:200]}”"
    elif e.action == "reassigned":
        before, after = (e.changes.get("owners") or [[], []])[:2]
        return md("• {} — {} handed it from {} to {}", when, mention(e.actor_id),
                  owners_text(tuple(before) or ("?",)), owners_text(tuple(after) or ("?",)))
    elif e.action == "linked":
        before, after = (e.changes.get("recommendations") or [[], []])[:2]
        what = f"linked it to {', '.join(after) or 'no recommendation'}" + \
            (f" (was {', '.join(before)})" if before else "")
    elif e.action == "note":
        what = f"noted: “{e.note}”"
    else:
        what = e.action
    return md("• {} — {} {}", when, mention(e.actor_id), what)


@dataclass(frozen=True)
class ListView:
    """What a listing shows: its scope, title and page."""

    scope: str
    arg: str
    page: int
    title: str

    @property
    def origin(self) -> values.ListPage:
        """The page carried in button values so the list can be redrawn after an action."""
        return self.at(self.page)

    def at(self, page: int) -> values.ListPage:
        """Another page of the same listing."""
        return values.ListPage(self.scope, self.arg, page)  # type: ignore[arg-type]


def listing(items: tuple[CommitmentView, ...], *, view: ListView, total: int, pages: int,
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
                 "done": "Nothing has been completed yet.",
                 "find": "No commitment or note has those words. `/wg list all` shows every "
                         "open one."}.get(view.scope, "No open commitments here.")
        parts.append(Section(empty))
        return Reply(parts=tuple(parts), text=view.title)
    groups: list[tuple[str, list[CommitmentView]]] = [
        ("Overdue", []), ("Due in the next 7 days", []), ("Later", []), ("Completed", [])]
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
            nav.append(Button("Previous", "wg_page", values.page_value(view.at(view.page - 1)),
                              command=_list_cmd(view, view.page - 1)))
        if view.page < pages:
            nav.append(Button("Show more", "wg_page", values.page_value(view.at(view.page + 1)),
                              command=_list_cmd(view, view.page + 1)))
        parts.append(Actions(tuple(nav)))
    return Reply(parts=tuple(parts), text=f"{view.title}: {total}")


def _list_cmd(view: ListView, page: int) -> str:
    if view.scope == "find":
        return f"/wg find {view.arg} page {page}"
    arg = {"mine": "mine", "all": "all", "overdue": "overdue", "done": "done",
           "user": f"<@{view.arg}>",  # the command as typed (a button's console hint), not markup
           "rec": view.arg}[view.scope]
    return f"/wg list {arg} page {page}"


def changed(c: CommitmentView, *, action: str, kb: KnowledgeBase, tz: ZoneInfo,
            now: datetime) -> Reply:
    """The answer to done / reopen / cancel / move."""
    what = {"done": "✅ Marked *#{id}* done", "reopen": "↩️ Reopened *#{id}*",
            "cancel": "🗑️ Cancelled *#{id}*", "move": "📅 Moved *#{id}*",
            "edit": "✏️ *#{id}* now reads", "assign": "👥 Handed *#{id}* over",
            "link": "🔗 Linked *#{id}*", "note": "📝 Noted on *#{id}*"}[action].format(id=c.id)
    text: str = f"{what}: “{c.text}”"
    if action in ("move", "reopen"):
        text += f" — now due {format_moment(c.due_at, tz)} ({until(c.due_at, now)})"
    elif action == "assign":
        text = md("{}: “{}” — held by {}", Mrkdwn(what), c.text, owners_text(c.owner_ids))
    elif action == "link":
        text += " — for " + (", ".join(_rec_label(kb, r) for r in c.rec_ids) or "no recommendation")
    parts: list[Part] = [Section(text)]
    if action == "cancel":
        parts.append(Note(f"Changed your mind? `/wg reopen {c.id}`"))
    elif action == "done":
        parts.append(Note(f"No more reminders for it. `/wg reopen {c.id}` if that was a mistake."))
    return Reply(parts=tuple(parts), text=text)


def unchanged(c: CommitmentView, action: str, *, kb: KnowledgeBase, tz: ZoneInfo,
              now: datetime, rec_ids: Sequence[str] = ()) -> Reply:
    """A move, edit, assign, link or unlink that would leave the commitment as it is: nothing
    is written, and the answer says so rather than "Moved" or "Linked"."""
    asked = ", ".join(rec_ids)
    serves = ", ".join(_rec_label(kb, r) for r in c.rec_ids) or "no recommendation"
    if action == "assign":
        text: str = md("*#{}* is already held by {}.", c.id, owners_text(c.owner_ids))
    elif action == "move":
        text = f"*#{c.id}* is already due {format_moment(c.due_at, tz)} ({until(c.due_at, now)})."
    else:
        text = {"edit": f"*#{c.id}* already reads “{c.text}”.",
                "link": f"*#{c.id}* is already linked to {asked}.",
                "unlink": f"*#{c.id}* isn't linked to {asked}."}[action]
    note = f"Nothing changed. It is for {serves}." if action in ("link", "unlink") \
        else "Nothing changed."
    return Reply(parts=(Section(text), Note(note)), text=f"{text} Nothing changed.")


def edited(c: CommitmentView, *, fields: tuple[str, ...], kb: KnowledgeBase, tz: ZoneInfo,
           now: datetime) -> Reply:
    """The answer to the Edit modal: what changed, and the commitment as it is now."""
    text = md("✏️ Updated *#{}* ({}): “{}” — due {} ({}) · {}", c.id, ", ".join(fields), c.text,
              format_moment(c.due_at, tz), until(c.due_at, now), owners_text(c.owner_ids))
    if c.rec_ids:
        text += md(" · for {}", ", ".join(_rec_label(kb, r) for r in c.rec_ids))
    return Reply(parts=(Section(text),), text=f"Updated #{c.id} ({', '.join(fields)})")


def not_found(commitment_id: int) -> Reply:
    """An id that does not exist."""
    text = f"There is no commitment #{commitment_id}. `/wg list all` shows the open ones."
    return Reply(parts=(Section(text),), text=text)

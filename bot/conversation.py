"""One `/wg` conversation turn: text (or a button) in, a Reply and any follow-up messages out.

Slack listeners and the console both call this; neither has a second implementation of any command.
Everything runs inside one unit of work per turn; nothing half-written reaches the database.
"""
from __future__ import annotations

import logging
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.brief.files import brief_files
from bot.clock import Clock
from bot.config.types import Config
from bot.domain import grammar, planning, rules, values
from bot.domain.clauses import PersonRef
from bot.domain.dates import DateProblem, DueDate, format_moment, parse_due
from bot.domain.views import CommitmentView
from bot.domain.reply import (
    Attachment,
    EditForm,
    FormProblems,
    MoveForm,
    Mrkdwn,
    Note,
    Reply,
    Section,
    md,
    mention,
    simple,
)
from bot.ports import ConfigSource, Directory, Operations
from bot.replies import brief as brief_replies
from bot.replies import commitments as commitment_replies
from bot.replies import help as help_replies
from bot.replies import notifications as notification_replies
from bot.replies import recs as rec_replies
from bot.replies import session as session_replies
from bot.services import (
    briefs,
    commitments,
    delegations,
    digests,
    events,
    exports,
    limits,
    members,
    owner_notices,
)
from bot.services.commitments import CommitmentError
from bot.services.delegations import DelegationError
from bot.store.db import DatabaseBusy, unit_of_work

log = logging.getLogger("wgbot.conversation")


@dataclass(frozen=True)
class Caller:
    """Who is speaking."""

    user_id: str
    request_id: str | None = None  # Slack's trigger_id: a replay of a request carries the same one


@dataclass(frozen=True)
class DirectMessage:
    """A message to send to a user after the reply."""

    user_id: str
    reply: Reply


@dataclass(frozen=True)
class Outcome:
    """The reply to the caller plus what else must be sent once the reply is on its way."""

    reply: Reply
    messages: tuple[DirectMessage, ...] = ()
    uploads: tuple[tuple[str, Attachment], ...] = ()
    changed: tuple[int, ...] = field(default=())


class Conversation:
    """Answers `/wg` text and button presses from any surface."""

    def __init__(self, *, config: ConfigSource, sessions: sessionmaker[Session], clock: Clock,
                 directory: Directory, operations: Operations | None = None) -> None:
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._directory = directory
        self.operations = operations
        self._fixed_recs: tuple[object, dict[str, Reply]] = (None, {})

    @property
    def config(self) -> Config:
        """The config in force right now."""
        return self._config.current()

    # ---------------------------------------------------------------- entry points
    def answer(self, caller: Caller, text: str) -> Outcome:
        """Answer `/wg <text>`; never raises: a failure becomes an apology with a reference."""
        try:
            return self._answer(caller, grammar.parse(text), text)
        except Exception:
            return Outcome(apology(log, f"/wg {text[:200]!r} from {caller.user_id}"))

    def act(self, caller: Caller, action_id: str, value: str) -> Outcome:
        """Answer a button press (Done, Cancel, Reopen, paging, neighbours)."""
        try:
            return self._act(caller, action_id, value)
        except Exception:
            return Outcome(apology(log, f"action {action_id} {value!r} from {caller.user_id}"))

    def shared(self, caller: Caller, command: values.ReadOnly) -> Outcome:
        """Answer a read-only command for Share in channel (recs, session, help); nothing else."""
        if not isinstance(command, grammar.Recs | grammar.SessionInfo | grammar.Help):
            return Outcome(help_replies.not_shareable())
        try:
            return self._answer(caller, command)
        except Exception:
            return Outcome(apology(log, f"share {command!r} from {caller.user_id}"))

    def move_to(self, caller: Caller, commitment_id: int, due_words: str, *,
                origin: values.Origin = "none", due: DueDate | None = None) -> Outcome:
        """Move a commitment (from the Move modal or text)."""
        try:
            return self._change(caller, grammar.Change("move", commitment_id, due_words), due=due,
                                origin=origin)
        except Exception:
            return Outcome(apology(log, f"move {commitment_id} from {caller.user_id}"))

    def record(self, caller: Caller, *, what: str, due: DueDate, owner_id: str | None,
               rec_id: str | None) -> Outcome:
        """Record a commitment from structured input (the shortcut modal)."""
        try:
            return self._commit(caller, what=what, due=due, owner_id=owner_id, rec_id=rec_id)
        except Exception:
            return Outcome(apology(log, f"record from {caller.user_id}"))

    def check_due(self, user_id: str, words: str) -> DueDate | DateProblem:
        """Understand a deadline typed or picked by a user, in their timezone."""
        self._refresh_member(user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            return self._parse_due(s, user_id, words)

    def _changeable(self, s: Session, caller: Caller, commitment_id: int,
                    action: str) -> CommitmentView | Reply:
        """The commitment the caller may `action`, or the reply that says why not (who can)."""
        c = commitments.get(s, commitment_id=commitment_id)
        if c is None:
            return commitment_replies.not_found(commitment_id)
        if not rules.may_change(self.config, user_id=caller.user_id, owner_ids=c.owner_ids,
                                creator_id=c.creator_id):
            return simple(rules.refusal(action, c.id), note=md(
                "#{} belongs to {}.", c.id, commitment_replies.owners_text(c.owner_ids)))
        problem = rules.transition_problem(action, status=c.status, commitment_id=c.id)
        return simple(problem) if problem else c

    def move_form(self, caller: Caller, commitment_id: int) -> MoveForm | Reply:
        """The Move modal's contents, or the reply explaining why it cannot be moved."""
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            c = self._changeable(s, caller, commitment_id, "move")
            if isinstance(c, Reply):
                return c
            return MoveForm(commitment_id=c.id, text=c.text,
                            due_local=c.due_at.astimezone(self._tz(s, caller.user_id)))

    def edit_form(self, caller: Caller, commitment_id: int) -> EditForm | Reply:
        """The Edit modal's contents, or the reply explaining why it cannot be edited."""
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            c = self._changeable(s, caller, commitment_id, "edit")
            if isinstance(c, Reply):
                return c
            return EditForm(commitment_id=c.id, text=c.text, owner_ids=c.owner_ids,
                            due_local=c.due_at.astimezone(self._tz(s, caller.user_id)),
                            rec_ids=c.rec_ids)

    def edit(self, caller: Caller, commitment_id: int, *, text: str,
             owner_ids: tuple[str, ...] | None, due: DueDate | DateProblem,
             rec_ids: tuple[str, ...] | None,
             origin: values.Origin = "none") -> Outcome | FormProblems:
        """Apply the Edit modal: every changed field in one unit of work, each with its audit
        entry; any field that fails (None: not readable) leaves everything as it was."""
        try:
            return self._edit(caller, commitment_id, text=text, owner_ids=owner_ids, due=due,
                              rec_ids=rec_ids, origin=origin)
        except Exception:
            return Outcome(apology(log, f"edit {commitment_id} from {caller.user_id}"))

    def home(self, user_id: str) -> Reply:
        """The App Home tab: the viewer's open commitments and the countdown."""
        self._refresh_member(user_id)
        config, now = self.config, self._clock.now()
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = members.timezone_of(s, user_id=user_id, default=config.timezone)
            page = commitments.listing(s, scope="mine", user_id=user_id, arg="", now=now,
                                       per_page=20)
            return session_replies.home(config=config, items=page.items, total=page.total,
                                        tz=tz, now=now)

    # ---------------------------------------------------------------- dispatch
    def _answer(self, caller: Caller, cmd: grammar.Command, text: str = "") -> Outcome:
        config = self.config
        if isinstance(cmd, grammar.Invalid):
            return Outcome(simple(cmd.message, note=cmd.usage or None))
        if isinstance(cmd, grammar.Help):
            topic = cmd.topic.split(" ")[0] if cmd.topic else ""
            page = help_replies.page(grammar.ALIASES.get(topic, topic)) if topic else None
            return Outcome(page or help_replies.usage(role=config.role_of(caller.user_id)))
        if isinstance(cmd, grammar.Recs):
            return Outcome(self._recs(cmd))
        if isinstance(cmd, grammar.Commit):
            return self._commit_text(caller, cmd, command=text)
        if isinstance(cmd, grammar.ListCommitments):
            arg = cmd.arg
            if cmd.person is not None and not cmd.person.user_id:
                found = self._people(caller, (cmd.person,))
                if isinstance(found, Reply):
                    return Outcome(found)
                arg = found[0]
            return Outcome(self._list(caller, cmd.scope, arg, cmd.page))
        if isinstance(cmd, grammar.Change):
            return self._change(caller, cmd)
        if isinstance(cmd, grammar.Edit | grammar.Assign | grammar.Link | grammar.AddNote):
            return self._update(caller, cmd)
        if isinstance(cmd, grammar.Find):
            return Outcome(self._find(caller, cmd.words, cmd.page))
        if isinstance(cmd, grammar.Export):
            return self._export(caller, cmd.format)
        if isinstance(cmd, grammar.SessionInfo):
            return Outcome(self._session(caller))
        if isinstance(cmd, grammar.Admin):
            return Outcome(self._admin(caller, cmd.action))
        if isinstance(cmd, grammar.DigestNow):
            return self._digest(caller)
        if isinstance(cmd, grammar.Brief):
            return self._brief(caller)
        if isinstance(cmd, grammar.SetDelegation):
            return Outcome(self._delegation(caller, cmd))
        raise AssertionError(f"unhandled command {cmd!r}")

    def _recs(self, cmd: grammar.Recs) -> Reply:
        kb = self.config.knowledge
        # The answers that depend on the report alone are built once per knowledge base in force
        # (a reload brings a new one), so the Slack renderer meets the same Reply again.
        kept = self._fixed_recs
        if kept[0] is not kb:
            kept = self._fixed_recs = (kb, {})
        if (reply := kept[1].get(cmd.kind)) is not None:  # only those kinds are kept
            return reply
        if cmd.kind == "overview":
            return kept[1].setdefault(cmd.kind, rec_replies.overview(kb))
        if cmd.kind in ("short", "long"):
            return kept[1].setdefault(cmd.kind, rec_replies.by_term(kb, cmd.kind))
        if cmd.kind == "areas":
            return kept[1].setdefault(cmd.kind, rec_replies.areas(kb))
        if cmd.kind == "aspects":
            return kept[1].setdefault(cmd.kind, rec_replies.aspects(kb))
        if cmd.kind == "drivers":
            return kept[1].setdefault(cmd.kind, rec_replies.drivers(kb))
        if cmd.kind == "id":
            rec = kb.get(cmd.arg)
            if rec is None:
                return rec_replies.unknown_id(kb, cmd.arg)
            with unit_of_work(self._sessions, read_only=True) as s:
                counts = commitments.counts_by_rec(s, now=self._clock.now()).get(rec.id, {})
            return rec_replies.one(kb, rec, open_count=counts.get("open", 0),
                                   done_count=counts.get("done", 0))
        return rec_replies.search(kb, cmd.arg)

    def _refresh_member(self, user_id: str) -> None:
        now = self._clock.now()
        with unit_of_work(self._sessions, read_only=True) as s:
            stale = members.needs_refresh(s, user_id=user_id, now=now)
        if not stale:
            return
        try:
            profile = self._directory.profile(user_id)
        except Exception:  # a directory outage must not stop the command
            log.warning("could not look up %s; using the default timezone", user_id, exc_info=True)
            profile = None
        with unit_of_work(self._sessions) as s:
            members.remember(s, user_id=user_id, profile=profile, now=now)

    def _tz(self, s: Session, user_id: str) -> ZoneInfo:
        return members.timezone_of(s, user_id=user_id, default=self.config.timezone)

    def _parse_due(self, s: Session, user_id: str, words: str) -> DueDate | DateProblem:
        config = self.config
        return parse_due(words, now=self._clock.now(), tz=self._tz(s, user_id),
                         session_at=config.session.starts_at, workday_end=config.workday_end)

    def _commit_text(self, caller: Caller, cmd: grammar.Commit, *, command: str = "",
                     force: bool = False) -> Outcome:
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            due = self._parse_due(s, caller.user_id, cmd.due)
        if isinstance(due, DateProblem):
            return Outcome(simple(due.message, note="Nothing was recorded. " + grammar.USAGE["commit"]))
        owners = self._people(caller, cmd.owners)
        if isinstance(owners, Reply):
            return Outcome(owners)
        if not force:
            with unit_of_work(self._sessions, read_only=True) as s:
                if caller.request_id and events.request_seen(s, trigger_id=caller.request_id):
                    return Outcome(already_handled())
                same = commitments.open_with_text(s, text=cmd.what,
                                                  owner_id=(owners or (caller.user_id,))[0])
                if same is not None:
                    return Outcome(commitment_replies.possible_duplicate(
                        same, command=command, tz=self._tz(s, caller.user_id),
                        now=self._clock.now()))
        return self._commit(caller, what=cmd.what, due=due, owner_ids=owners, rec_ids=cmd.rec_ids,
                            suggest=True)

    def _people(self, caller: Caller, refs: tuple[PersonRef, ...]) -> tuple[str, ...] | Reply:
        """User ids for people as typed; a reply asking again when a name is unknown or ambiguous."""
        ids: list[str] = []
        for ref in refs:
            if ref.me:
                ids.append(caller.user_id)
            elif ref.user_id:
                ids.append(ref.user_id)
            else:
                with unit_of_work(self._sessions, read_only=True) as s:
                    found = members.named(s, name=ref.name or "")
                shown = ref.name or ""
                if not found:
                    return simple(f"I don't know anyone called *@{shown}* yet. Mention them with "
                                  "Slack's @ so the name turns blue, or use their member id "
                                  "(`@U…`). Nothing was changed.")
                if len(found) > 1:
                    return simple(md("Several people are called *@{}*: {}. Mention the one you "
                                     "mean with Slack's @. Nothing was changed.", shown,
                                     Mrkdwn(", ").join(mention(m.id) for m in found)))
                ids.append(found[0].id)
        return tuple(dict.fromkeys(ids))

    def _commit(self, caller: Caller, *, what: str, due: DueDate, owner_id: str | None = None,
                rec_id: str | None = None, owner_ids: tuple[str, ...] = (),
                rec_ids: tuple[str, ...] = (), suggest: bool = False) -> Outcome:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        what = grammar.clean(what)  # the modal's text gets exactly what typed text gets
        if owner_id is not None and values.user_id(owner_id) is None:
            return Outcome(simple("The owner must be a person in this workspace. "
                                  "Nothing was recorded."))
        for wanted in (*((rec_id,) if rec_id else ()), *rec_ids):
            if kb.get(wanted) is None:
                return Outcome(simple(
                    f"There is no recommendation *{wanted}*; use S1–S6 or L1–L10 "
                    f"(`/wg recs` lists them). Nothing was recorded."))
        try:
            commitments.validate_text(what)
        except CommitmentError as e:
            return Outcome(simple(str(e), note="Nothing was recorded."))
        if due.at <= now:
            return Outcome(simple(f"{format_moment(due.at, config.timezone)} is in the past. "
                                  f"Nothing was recorded."))
        owners = tuple(dict.fromkeys(owner_ids or (owner_id or caller.user_id,)))
        recs = tuple(dict.fromkeys(r.upper() for r in (rec_ids or ((rec_id,) if rec_id else ()))))
        self._refresh_member(caller.user_id)
        for owner in owners:
            if owner != caller.user_id:
                self._refresh_member(owner)
        with unit_of_work(self._sessions) as s:
            refusal = self._before_write(s, caller, now)
            if refusal is not None:
                return Outcome(refusal)
            c = commitments.create(s, text=what, owner_id=owners[0], creator_id=caller.user_id,
                                   rec_id=recs[0] if recs else None, due=due,
                                   first_nudge_at=planning.first_nudge(due.at, config=config),
                                   now=now, co_owner_ids=owners[1:], also_rec_ids=recs[1:])
            tz = self._tz(s, caller.user_id)
            related = rec_replies.clearly_related(kb, what) if suggest and not recs else None
            late = config.session.starts_at if due.at > config.session.starts_at else None
            reply = commitment_replies.created(
                c, kb=kb, tz=tz, now=now, caller_id=caller.user_id, related=related,
                after_session=late, delegation=delegations.of(s, config=config, user_id=owners[0]))
            for owner in owners:  # one notice per owner and window, after quiet hours
                if owner != caller.user_id:
                    owner_notices.announce(s, owner_id=owner, now=now, config=config,
                                           tz=self._tz(s, owner))
            cid = c.id
        self._replan(cid)
        return Outcome(reply, changed=(cid,))

    def _list(self, caller: Caller, scope: str, arg: str, page: int, banner: str = "") -> Reply:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        if scope == "rec" and kb.get(arg) is None:
            return rec_replies.unknown_id(kb, arg)
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = self._tz(s, caller.user_id)
            result = commitments.listing(s, scope=scope, user_id=caller.user_id, arg=arg, now=now,
                                         page=page)
            if result.page > result.pages and result.total:
                result = commitments.listing(s, scope=scope, user_id=caller.user_id, arg=arg,
                                             now=now, page=result.pages)
            title = {
                "mine": "Your open commitments", "all": "All open commitments",
                "overdue": "Overdue commitments", "done": "Completed commitments",
                "user": f"Open commitments of {members.name_of(s, user_id=arg)}",
                "rec": f"Open commitments for {arg}",
            }[scope]
            view = commitment_replies.ListView(scope=scope, arg=arg, page=result.page, title=title)
            dele = delegations.of_many(s, config=config, user_ids=[c.owner_id for c in result.items])
            return commitment_replies.listing(result.items, view=view, total=result.total,
                                              pages=result.pages, kb=kb, tz=tz, now=now,
                                              banner=banner, capped=result.capped, delegations=dele)

    def _change(self, caller: Caller, cmd: grammar.Change, *, due: DueDate | None = None,
                origin: values.Origin = "none") -> Outcome:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        self._refresh_member(caller.user_id)
        if cmd.action == "show":
            with unit_of_work(self._sessions, read_only=True) as s:
                c = commitments.get(s, commitment_id=cmd.commitment_id)
                if c is None:
                    return Outcome(commitment_replies.not_found(cmd.commitment_id))
                trail = commitments.history(s, commitment_id=c.id)
                return Outcome(commitment_replies.detail(
                    c, trail, kb=kb, tz=self._tz(s, caller.user_id), now=now,
                    delegation=delegations.of(s, config=config, user_id=c.owner_id)))
        with unit_of_work(self._sessions) as s:
            c = commitments.get(s, commitment_id=cmd.commitment_id)
            if c is None:
                return Outcome(commitment_replies.not_found(cmd.commitment_id))
            if not rules.may_change(config, user_id=caller.user_id, owner_ids=c.owner_ids,
                                    creator_id=c.creator_id):
                return Outcome(simple(rules.refusal(cmd.action, c.id),
                                      note=md("#{} belongs to {}.", c.id, mention(c.owner_id))))
            problem = rules.transition_problem(cmd.action, status=c.status, commitment_id=c.id)
            if problem:
                return Outcome(simple(problem))
            tz = self._tz(s, caller.user_id)
            if cmd.action == "move":
                if due is None:
                    parsed = self._parse_due(s, caller.user_id, cmd.due)
                    if isinstance(parsed, DateProblem):
                        return Outcome(simple(parsed.message, note=f"#{c.id} was not moved."))
                    due = parsed
                if due.at <= now:
                    return Outcome(simple(f"{format_moment(due.at, tz)} is in the past; "
                                          f"#{c.id} was not moved."))
                refusal = self._before_write(s, caller, now)
                if refusal is not None:
                    return Outcome(refusal)
                c = commitments.move(s, commitment=c, due=due, actor_id=caller.user_id, now=now,
                                     first_nudge_at=planning.first_nudge(due.at, config=config))
            else:
                status = {"done": "done", "reopen": "open", "cancel": "cancelled"}[cmd.action]
                refusal = self._before_write(s, caller, now)
                if refusal is not None:
                    return Outcome(refusal)
                c = commitments.set_status(s, commitment=c, status=status, actor_id=caller.user_id,
                                           now=now, first_nudge_at=planning.first_nudge(
                                               c.due_at, config=config))
            reply = commitment_replies.changed(c, action=cmd.action, kb=kb, tz=tz, now=now)
            if cmd.action in ("move", "cancel", "reopen"):
                for owner in c.owner_ids:
                    if owner != caller.user_id:
                        owner_notices.announce(s, owner_id=owner, now=now, config=config,
                                               tz=self._tz(s, owner))
            cid = c.id
        self._replan(cid)
        try:
            reply = self._redraw(caller, origin, reply, cid)
        except Exception:  # the change is written: confirm it, even without the redrawn view
            log.warning("could not redraw %s after #%s changed; confirming the change alone",
                        values.origin_value(origin), cid, exc_info=True)
        return Outcome(reply, changed=(cid,))

    def _update(self, caller: Caller,
                cmd: grammar.Edit | grammar.Assign | grammar.Link | grammar.AddNote) -> Outcome:
        """edit, assign, link / unlink and note: one unit of work, one audit entry, DMs after."""
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        action = {grammar.Edit: "edit", grammar.Assign: "assign", grammar.Link: "link",
                  grammar.AddNote: "note"}[type(cmd)]
        if isinstance(cmd, grammar.Link):
            action = "unlink" if cmd.remove else "link"
            unknown = [r for r in cmd.rec_ids if kb.get(r) is None]
            if unknown:
                return Outcome(simple(f"There is no recommendation *{unknown[0]}*; use "
                                      "S1–S6 or L1–L10. Nothing was changed."))
        owners: tuple[str, ...] = ()
        if isinstance(cmd, grammar.Assign):
            found = self._people(caller, cmd.owners)
            if isinstance(found, Reply):
                return Outcome(found)
            owners = found
            for owner in owners:
                self._refresh_member(owner)
        self._refresh_member(caller.user_id)
        messages: list[DirectMessage] = []
        with unit_of_work(self._sessions) as s:
            c = self._changeable(s, caller, cmd.commitment_id, action)
            if isinstance(c, Reply):
                return Outcome(c)
            refusal = self._before_write(s, caller, now)
            if refusal is not None:
                return Outcome(refusal)
            try:
                if isinstance(cmd, grammar.Edit):
                    commitments.edit_text(s, commitment=c, text=cmd.text, actor_id=caller.user_id,
                                          now=now)
                elif isinstance(cmd, grammar.AddNote):
                    commitments.add_note(s, commitment=c, text=cmd.text, actor_id=caller.user_id,
                                         now=now)
                elif isinstance(cmd, grammar.Link):
                    wanted = ([r for r in c.rec_ids if r not in cmd.rec_ids] if cmd.remove
                              else [*c.rec_ids, *cmd.rec_ids])
                    commitments.set_links(s, commitment=c, rec_ids=wanted,
                                          actor_id=caller.user_id, now=now)
                else:
                    added, removed = commitments.assign(s, commitment=c, owner_ids=owners,
                                                        actor_id=caller.user_id, now=now)
                    c = commitments.reread(s, commitment=c)
                    for who in added:  # one notice per owner and window, after quiet hours
                        if who != caller.user_id:
                            owner_notices.announce(s, owner_id=who, now=now, config=config,
                                                   tz=self._tz(s, who))
                    for who in removed:  # they no longer hold it: told at once, once
                        if who != caller.user_id:
                            messages.append(DirectMessage(who, commitment_replies.reassigned_dm(
                                c, kb=kb, tz=self._tz(s, who), now=now, actor_id=caller.user_id,
                                added=False)))
            except CommitmentError as e:
                s.rollback()
                return Outcome(simple(str(e), note="Nothing was changed."))
            c = commitments.reread(s, commitment=c)
            shown = "link" if action == "unlink" else action
            reply = commitment_replies.changed(c, action=shown, kb=kb,
                                               tz=self._tz(s, caller.user_id), now=now)
            cid = c.id
        if action == "assign":
            self._replan(cid)
        return Outcome(reply, tuple(messages), changed=(cid,))

    def _edit(self, caller: Caller, commitment_id: int, *, text: str,
              owner_ids: tuple[str, ...] | None, due: DueDate | DateProblem,
              rec_ids: tuple[str, ...] | None,
              origin: values.Origin) -> Outcome | FormProblems:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        problems: dict[str, str] = {}
        text = grammar.clean(text)  # exactly what typed text gets
        try:
            commitments.validate_text(text)
        except CommitmentError as e:
            problems["text"] = str(e)
        owners = tuple(dict.fromkeys(o for o in owner_ids or () if values.user_id(o)))
        if not owners or len(owners) != len(set(owner_ids or ())):
            problems["owners"] = "Pick at least one owner, each a person from the list."
        recs = tuple(dict.fromkeys(r.upper() for r in rec_ids or ()))
        unknown = [r for r in recs if kb.get(r) is None]
        if rec_ids is None:
            problems["recs"] = "Pick recommendations from the list."
        elif unknown:
            problems["recs"] = f"There is no recommendation {unknown[0]}; pick from S1–S6, L1–L10."
        if isinstance(due, DateProblem):
            problems["due"] = due.message
        self._refresh_member(caller.user_id)
        for owner in owners if not problems else ():  # a failing form looks nobody up
            if owner != caller.user_id:
                self._refresh_member(owner)
        messages: list[DirectMessage] = []
        with unit_of_work(self._sessions) as s:
            c = commitments.get(s, commitment_id=commitment_id)
            if c is None:
                return Outcome(commitment_replies.not_found(commitment_id))
            if not rules.may_change(config, user_id=caller.user_id, owner_ids=c.owner_ids,
                                    creator_id=c.creator_id):
                return Outcome(simple(rules.refusal("edit", c.id), note=md(
                    "#{} belongs to {}.", c.id, commitment_replies.owners_text(c.owner_ids))))
            problem = rules.transition_problem("edit", status=c.status, commitment_id=c.id)
            if problem:
                return Outcome(simple(problem))
            tz = self._tz(s, caller.user_id)
            moved = not isinstance(due, DateProblem) and \
                _to_the_minute(due.at, tz) != _to_the_minute(c.due_at, tz)
            if moved and not isinstance(due, DateProblem):
                problem = rules.transition_problem("move", status=c.status, commitment_id=c.id)
                if problem:
                    problems["due"] = problem
                elif due.at <= now:
                    problems["due"] = f"{format_moment(due.at, tz)} is in the past."
            if problems or isinstance(due, DateProblem):
                return FormProblems(problems)
            fields = tuple(name for name, differs in (
                ("text", text != c.text), ("owners", owners != c.owner_ids), ("deadline", moved),
                ("recommendations", recs != c.rec_ids)) if differs)
            if not fields:
                return FormProblems({"text": f"Nothing was changed: the form still shows #{c.id} "
                                             "as it is. Change a field, or close the form."})
            refusal = self._before_write(s, caller, now)
            if refusal is not None:
                return Outcome(refusal)
            before_owners, removed = c.owner_ids, ()
            if "text" in fields:
                commitments.edit_text(s, commitment=c, text=text, actor_id=caller.user_id,
                                      now=now)
            if "owners" in fields:
                _, removed = commitments.assign(s, commitment=c, owner_ids=owners,
                                                actor_id=caller.user_id, now=now)
            if moved:
                commitments.move(s, commitment=c, due=due, actor_id=caller.user_id, now=now,
                                 first_nudge_at=planning.first_nudge(due.at, config=config))
            if "recommendations" in fields:
                commitments.set_links(s, commitment=c, rec_ids=recs, actor_id=caller.user_id,
                                      now=now)
            c = commitments.reread(s, commitment=c)
            for owner in c.owner_ids:  # one notice per owner and window, after quiet hours
                if owner != caller.user_id and (moved or owner not in before_owners):
                    owner_notices.announce(s, owner_id=owner, now=now, config=config,
                                           tz=self._tz(s, owner))
            for who in removed:  # they no longer hold it: told at once, once
                if who != caller.user_id:
                    messages.append(DirectMessage(who, commitment_replies.reassigned_dm(
                        c, kb=kb, tz=self._tz(s, who), now=now, actor_id=caller.user_id,
                        added=False)))
            reply = commitment_replies.edited(c, fields=fields, kb=kb, tz=tz, now=now)
            cid = c.id
        if moved or "owners" in fields:
            self._replan(cid)
        try:
            reply = self._redraw(caller, origin, reply, cid)
        except Exception:  # the change is written: confirm it, even without the redrawn view
            log.warning("could not redraw %s after #%s was edited; confirming the change alone",
                        values.origin_value(origin), cid, exc_info=True)
        return Outcome(reply, tuple(messages), changed=(cid,))

    def _find(self, caller: Caller, words: str, page: int, banner: str = "") -> Reply:
        config, now = self.config, self._clock.now()
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = self._tz(s, caller.user_id)
            result = commitments.find(s, words=words, page=page)
            if result.page > result.pages and result.total:
                result = commitments.find(s, words=words, page=result.pages)
            arg = " ".join(words.replace(":", " ").replace("|", " ").split())[:60]
            view = commitment_replies.ListView(scope="find", arg=arg, page=result.page,
                                               title="Commitments matching your words")
            return commitment_replies.listing(result.items, view=view, total=result.total,
                                              pages=result.pages, kb=config.knowledge, tz=tz,
                                              now=now, banner=banner)

    def _redraw(self, caller: Caller, origin: values.Origin, reply: Reply, cid: int) -> Reply:
        """What replaces the message a button sat on after a change (or the plain confirmation)."""
        if isinstance(origin, values.ListPage):
            listed = (self._find(caller, origin.arg, origin.page, banner=reply.text)
                      if origin.scope == "find"
                      else self._list(caller, origin.scope, origin.arg, origin.page,
                                      banner=reply.text))
            return Reply(parts=listed.parts, text=listed.text, replace_original=True)
        if origin == "msg":  # a reminder or assignment DM: the message itself shows the result
            return Reply(parts=reply.parts, text=reply.text, replace_original=True)
        if origin == "show":
            shown = self._change(caller, grammar.Change("show", cid)).reply
            return Reply(parts=shown.parts, text=shown.text, replace_original=True)
        return reply

    def _act(self, caller: Caller, action_id: str, value: str) -> Outcome:
        if action_id in ("wg_done", "wg_cancel", "wg_reopen"):
            target = values.parse_target(value)
            if target is None:
                return Outcome(help_replies.out_of_date())
            action = {"wg_done": "done", "wg_cancel": "cancel", "wg_reopen": "reopen"}[action_id]
            return self._change(caller, grammar.Change(action, target.commitment_id),  # type: ignore[arg-type]
                                origin=target.origin)
        if action_id == "wg_record_anyway":
            cmd = grammar.parse(value)
            if not isinstance(cmd, grammar.Commit):
                return Outcome(help_replies.out_of_date("/wg commit …"))
            return self._commit_text(caller, cmd, command=value, force=True)
        if action_id in ("wg_show", "wg_session_date") or action_id.startswith("wg_snooze_"):
            target = values.parse_target(value)
            words = {f"wg_snooze_{k}": w for _, k, w in commitment_replies.SNOOZES}.get(
                action_id, "the session" if action_id == "wg_session_date" else None)
            if target is None or (action_id != "wg_show" and words is None):
                return Outcome(help_replies.out_of_date())
            if action_id == "wg_show":
                return self._change(caller, grammar.Change("show", target.commitment_id))
            return self._change(caller, grammar.Change("move", target.commitment_id, words or ""),
                                origin=target.origin if target.origin == "msg" else "none")
        if action_id == "wg_link":
            raw_id, _, raw_rec = value.partition("|")
            target, rec = values.parse_target(raw_id), values.parse_rec(raw_rec)
            if target is None or rec is None or self.config.knowledge.get(rec) is None:
                return Outcome(help_replies.out_of_date())
            return self._update(caller, grammar.Link(target.commitment_id, (rec,)))
        if action_id == "wg_page":
            page = values.parse_page(value)
            if page is None:
                return Outcome(help_replies.out_of_date())
            reply = (self._find(caller, page.arg, page.page) if page.scope == "find"
                     else self._list(caller, page.scope, page.arg, page.page))
            return Outcome(Reply(parts=reply.parts, text=reply.text, replace_original=True))
        if action_id in ("wg_rec_previous", "wg_rec_next"):
            rec_id = values.parse_rec(value)
            if rec_id is None:
                return Outcome(help_replies.out_of_date("/wg recs"))
            reply = self._recs(grammar.Recs("id", rec_id))
            return Outcome(Reply(parts=reply.parts, text=reply.text, shareable=reply.shareable,
                                 replace_original=True))
        return Outcome(help_replies.out_of_date("/wg help"))

    def _export(self, caller: Caller, fmt: str) -> Outcome:
        config, now = self.config, self._clock.now()
        if not self._first_time(caller, now):
            return Outcome(already_handled())
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = self._tz(s, caller.user_id)
            if fmt == "csv":
                attachment = exports.csv_file(s, config=config, now=now, tz=tz)
            else:
                attachment = exports.ics_file(s, config=config, now=now, owner_id=caller.user_id)
        text = (f"📎 Sending you *{attachment.filename}* in a direct message: "
                + ("every open commitment, one row each." if fmt == "csv" else
                   "one event per open deadline plus the special session. Import it again later: "
                   "events update instead of duplicating."))
        return Outcome(simple(text), uploads=((caller.user_id, attachment),))

    def _session(self, caller: Caller) -> Reply:
        config, now = self.config, self._clock.now()
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = self._tz(s, caller.user_id)
            mine = commitments.open_due_before(s, before=config.session.starts_at,
                                               held_by=caller.user_id)
            return session_replies.readiness(config=config, mine=mine, tz=tz, now=now,
                                             figures=digests.figures(s, config=config, now=now))

    def _admin(self, caller: Caller, action: str) -> Reply:
        config = self.config
        if not config.is_admin(caller.user_id):
            names = Mrkdwn(", ").join(mention(p.id) for p in config.admins)
            mine = (" As a coordinator, `/wg digest` gives you your own digest now."
                    if action == "digest" and config.is_coordinator(caller.user_id) else "")
            return simple(md("Only admins can use `/wg admin {}`. The admins are {}.{}", action,
                             names, mine),
                          note="Admins are listed in config/settings.yaml.")
        if action == "help":
            return simple("Admin commands: " + grammar.USAGE["admin"])
        if self.operations is None:
            return simple("Admin operations are not available in this mode.")
        if action == "reload":
            return self.operations.reload(actor_id=caller.user_id)
        if action == "status":
            return self.operations.status()
        if action == "config":
            return self.operations.effective_config()
        if not self._first_time(caller, self._clock.now()):
            return already_handled()
        return self.operations.digest_now(actor_id=caller.user_id)

    def _before_write(self, s: Session, caller: Caller, now: datetime) -> Reply | None:
        """In the unit that writes: why this request must not write (too many, a replay), or None."""
        per_minute = self.config.limits.writes_per_minute
        again = limits.next_write_at(s, actor_id=caller.user_id, now=now, per_minute=per_minute)
        if again is not None:
            wait = max(1, int((again - now).total_seconds() + 0.999))
            return simple(f"You have made {per_minute} changes in the last minute, the most allowed "
                          f"({per_minute} changes a minute). Nothing was recorded or changed; try "
                          f"again at {again.astimezone(self._tz(s, caller.user_id)):%H:%M:%S} "
                          f"(in {wait} second{'s' if wait != 1 else ''}).",
                          note="The limit is set under limits.writes_per_minute in settings.yaml.")
        if caller.request_id and not events.claim_request(s, trigger_id=caller.request_id, now=now):
            return already_handled()
        return None

    def _first_time(self, caller: Caller, now: datetime) -> bool:
        """Claim a request whose effect lies outside the database (a file, a digest) on its own."""
        if not caller.request_id:
            return True
        with unit_of_work(self._sessions) as s:
            return events.claim_request(s, trigger_id=caller.request_id, now=now)

    def _coordinating(self, caller: Caller, what: str) -> Reply | None:
        config = self.config
        if config.is_coordinator(caller.user_id) or config.is_admin(caller.user_id):
            return None
        names = Mrkdwn(", ").join(mention(p.id) for p in config.coordinators) or "nobody yet"
        return simple(md("Only coordinators and admins can use `/wg {}`. The coordinators are {}.",
                         what, names), note="`/wg session` shows readiness to everyone.")

    def _digest(self, caller: Caller) -> Outcome:
        refused = self._coordinating(caller, "digest")
        if refused is not None:
            return Outcome(refused)
        config, now = self.config, self._clock.now()
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = self._tz(s, caller.user_id)
            data = digests.gather(s, config=config, coordinator_id=caller.user_id, now=now)
        reply = notification_replies.digest(data, config=config, tz=tz, title="Your digest")
        shown = Reply(parts=reply.parts, text=reply.text)
        return Outcome(shown, uploads=tuple((caller.user_id, f) for f in reply.files))

    def _brief(self, caller: Caller) -> Outcome:
        refused = self._coordinating(caller, "brief")
        if refused is not None:
            return Outcome(refused)
        config, now = self.config, self._clock.now()
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            tz = self._tz(s, caller.user_id)
            brief = briefs.gather(s, config=config, now=now, tz=tz)
        files = brief_files(brief)
        return Outcome(brief_replies.summary(brief, files=files),
                       uploads=tuple((caller.user_id, f) for f in files))

    def _delegation(self, caller: Caller, cmd: grammar.SetDelegation) -> Reply:
        config, now = self.config, self._clock.now()
        self._refresh_member(caller.user_id)
        if cmd.show:
            with unit_of_work(self._sessions, read_only=True) as s:
                name = delegations.of(s, config=config, user_id=caller.user_id)
            fixed = " (set by the admins)" if config.fixed_delegation(caller.user_id) else ""
            return simple(f"You act for *{name}*{fixed}." if name else
                          "You have not set a delegation.", note=grammar.USAGE["delegation"])
        try:
            with unit_of_work(self._sessions) as s:
                name = delegations.set_own(s, config=config, user_id=caller.user_id,
                                           name=cmd.name, now=now)
        except DelegationError as e:
            return simple(str(e), note="Nothing was changed.")
        if name is None:
            return simple("Your delegation is cleared.")
        return simple(f"✅ You act for *{name}*; your commitments show it.")

    def _replan(self, commitment_id: int) -> None:
        if self.operations is not None:
            try:
                self.operations.replan(commitment_id)
            except Exception:
                log.warning("re-planning reminders failed; the next sweep will do it", exc_info=True)


def _to_the_minute(at: datetime, tz: ZoneInfo) -> datetime:
    """A moment as the pickers show it: local wall time to the minute."""
    return at.astimezone(tz).replace(second=0, microsecond=0)


def already_handled() -> Reply:
    """The answer to a replayed request: it was carried out once, and nothing changes now."""
    return simple("That request was already handled, so nothing was changed this time.",
                  note="Type the command again to repeat it on purpose.")


def apology(logger: logging.Logger, context: str) -> Reply:
    """Log the current exception with a reference and return the short apology the user sees."""
    if isinstance(sys.exception(), DatabaseBusy):  # rolled back: nothing of this turn was written
        logger.warning("database busy while handling %s; answered 'try again'", context)
        return simple("The database is busy right now, so I could not do that. "
                      "Nothing was recorded or changed; please try again in a moment.")
    ref = secrets.token_hex(4)
    logger.exception("error ref=%s while handling %s", ref, context)
    text = (f"Sorry — something went wrong on my side and nothing was changed. "
            f"If it happens again, tell an admin the reference *{ref}*.")
    return Reply(parts=(Section(text), Note(f"error reference {ref}")), text=text)

"""One `/wg` conversation turn: text (or a button) in, a Reply and any follow-up messages out.

Slack listeners and the console both call this; neither has a second implementation of any command.
Everything runs inside one unit of work per turn; nothing half-written reaches the database.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.brief.files import brief_files
from bot.clock import Clock
from bot.config.types import Config
from bot.domain import grammar, planning, rules
from bot.domain.dates import DateProblem, DueDate, format_moment, parse_due
from bot.domain.reply import Attachment, Note, Reply, Section, escape, simple
from bot.ports import ConfigSource
from bot.replies import brief as brief_replies
from bot.replies import commitments as commitment_replies
from bot.replies import help as help_replies
from bot.replies import notifications as notification_replies
from bot.replies import recs as rec_replies
from bot.replies import session as session_replies
from bot.services import briefs, commitments, delegations, digests, exports, members
from bot.services.commitments import CommitmentError
from bot.services.delegations import DelegationError
from bot.services.members import Directory
from bot.store.db import unit_of_work

log = logging.getLogger("wgbot.conversation")


@dataclass(frozen=True)
class Caller:
    """Who is speaking, and where."""

    user_id: str
    channel_id: str | None = None


@dataclass(frozen=True)
class DirectMessage:
    """A message to send to a user after the reply."""

    user_id: str
    reply: Reply


@dataclass(frozen=True)
class MoveForm:
    """What the Move modal needs to show."""

    commitment_id: int
    text: str
    due_local: datetime


@dataclass(frozen=True)
class Outcome:
    """The reply to the caller plus what else must be sent once the reply is on its way."""

    reply: Reply
    messages: tuple[DirectMessage, ...] = ()
    uploads: tuple[tuple[str, Attachment], ...] = ()
    changed: tuple[int, ...] = field(default=())


class Operations(Protocol):
    """Admin operations provided by the running process (config reload, outbox status, digests)."""

    def reload(self, *, actor_id: str) -> Reply: ...

    def status(self) -> Reply: ...

    def effective_config(self) -> Reply: ...

    def digest_now(self, *, actor_id: str) -> Reply: ...

    def replan(self, commitment_id: int | None = None) -> None: ...


class Conversation:
    """Answers `/wg` text and button presses from any surface."""

    def __init__(self, *, config: ConfigSource, sessions: sessionmaker[Session], clock: Clock,
                 directory: Directory, operations: Operations | None = None) -> None:
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._directory = directory
        self.operations = operations

    @property
    def config(self) -> Config:
        """The config in force right now."""
        return self._config.current()

    # ---------------------------------------------------------------- entry points
    def answer(self, caller: Caller, text: str) -> Outcome:
        """Answer `/wg <text>`; never raises: a failure becomes an apology with a reference."""
        try:
            return self._answer(caller, grammar.parse(text))
        except Exception:
            return Outcome(apology(log, f"/wg {text[:200]!r} from {caller.user_id}"))

    def act(self, caller: Caller, action_id: str, value: str) -> Outcome:
        """Answer a button press (Done, Cancel, Reopen, paging, neighbours)."""
        try:
            return self._act(caller, action_id, value)
        except Exception:
            return Outcome(apology(log, f"action {action_id} {value!r} from {caller.user_id}"))

    def move_to(self, caller: Caller, commitment_id: int, due_words: str, *, origin: str = "none",
                due: DueDate | None = None) -> Outcome:
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

    def move_form(self, caller: Caller, commitment_id: int) -> MoveForm | Reply:
        """The Move modal's contents, or the reply explaining why it cannot be moved."""
        self._refresh_member(caller.user_id)
        config = self.config
        with unit_of_work(self._sessions, read_only=True) as s:
            c = commitments.get(s, commitment_id=commitment_id)
            if c is None:
                return commitment_replies.not_found(commitment_id)
            if not rules.may_change(config, user_id=caller.user_id, owner_id=c.owner_id,
                                    creator_id=c.creator_id):
                return simple(rules.refusal("move", c.id))
            problem = rules.transition_problem("move", status=c.status, commitment_id=c.id)
            if problem:
                return simple(problem)
            return MoveForm(commitment_id=c.id, text=c.text,
                            due_local=c.due_at.astimezone(self._tz(s, caller.user_id)))

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
    def _answer(self, caller: Caller, cmd: grammar.Command) -> Outcome:
        config = self.config
        if isinstance(cmd, grammar.Invalid):
            return Outcome(simple(cmd.message, note=cmd.usage or None))
        if isinstance(cmd, grammar.Help):
            return Outcome(help_replies.usage(role=config.role_of(caller.user_id)))
        if isinstance(cmd, grammar.Recs):
            return Outcome(self._recs(cmd))
        if isinstance(cmd, grammar.Commit):
            return self._commit_text(caller, cmd)
        if isinstance(cmd, grammar.ListCommitments):
            return Outcome(self._list(caller, cmd.scope, cmd.arg, cmd.page))
        if isinstance(cmd, grammar.Change):
            return self._change(caller, cmd)
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
        if cmd.kind == "overview":
            return rec_replies.overview(kb)
        if cmd.kind in ("short", "long"):
            return rec_replies.by_term(kb, cmd.kind)
        if cmd.kind == "areas":
            return rec_replies.areas(kb)
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

    def _commit_text(self, caller: Caller, cmd: grammar.Commit) -> Outcome:
        self._refresh_member(caller.user_id)
        with unit_of_work(self._sessions, read_only=True) as s:
            due = self._parse_due(s, caller.user_id, cmd.due)
        if isinstance(due, DateProblem):
            return Outcome(simple(due.message, note="Nothing was recorded. " + grammar.USAGE["commit"]))
        return self._commit(caller, what=cmd.what, due=due, owner_id=cmd.owner_id, rec_id=cmd.rec_id)

    def _commit(self, caller: Caller, *, what: str, due: DueDate, owner_id: str | None,
                rec_id: str | None) -> Outcome:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        if rec_id is not None and kb.get(rec_id) is None:
            return Outcome(simple(
                f"There is no recommendation *{escape(rec_id)}*; use S1–S6 or L1–L10 "
                f"(`/wg recs` lists them). Nothing was recorded."))
        try:
            commitments.validate_text(what)
        except CommitmentError as e:
            return Outcome(simple(str(e), note="Nothing was recorded."))
        if due.at <= now:
            return Outcome(simple(f"{format_moment(due.at, config.timezone)} is in the past. "
                                  f"Nothing was recorded."))
        owner = owner_id or caller.user_id
        self._refresh_member(caller.user_id)
        if owner != caller.user_id:
            self._refresh_member(owner)
        with unit_of_work(self._sessions) as s:
            c = commitments.create(s, text=what, owner_id=owner, creator_id=caller.user_id,
                                   rec_id=rec_id.upper() if rec_id else None, due=due,
                                   first_nudge_at=planning.first_nudge(due.at, config=config),
                                   now=now)
            tz = self._tz(s, caller.user_id)
            reply = commitment_replies.created(
                c, kb=kb, tz=tz, now=now, caller_id=caller.user_id,
                delegation=delegations.of(s, config=config, user_id=owner))
            messages: tuple[DirectMessage, ...] = ()
            if owner != caller.user_id:
                dm = commitment_replies.assigned_dm(c, kb=kb, tz=self._tz(s, owner), now=now,
                                                   assigner_id=caller.user_id)
                messages = (DirectMessage(owner, dm),)
            cid = c.id
        self._replan(cid)
        return Outcome(reply, messages, changed=(cid,))

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
                origin: str = "none") -> Outcome:
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
            if not rules.may_change(config, user_id=caller.user_id, owner_id=c.owner_id,
                                    creator_id=c.creator_id):
                return Outcome(simple(rules.refusal(cmd.action, c.id),
                                      note=f"#{c.id} belongs to <@{c.owner_id}>."))
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
                commitments.move(s, commitment=c, due=due, actor_id=caller.user_id, now=now,
                                 first_nudge_at=planning.first_nudge(due.at, config=config))
            else:
                status = {"done": "done", "reopen": "open", "cancel": "cancelled"}[cmd.action]
                commitments.set_status(s, commitment=c, status=status, actor_id=caller.user_id,
                                       now=now,
                                       first_nudge_at=planning.first_nudge(c.due_at, config=config))
            reply = commitment_replies.changed(c, action=cmd.action, kb=kb, tz=tz, now=now)
            messages: tuple[DirectMessage, ...] = ()
            if c.owner_id != caller.user_id and cmd.action in ("move", "cancel", "reopen"):
                verb = {"move": "moved", "cancel": "cancelled", "reopen": "reopened"}[cmd.action]
                note = (f"<@{caller.user_id}> {verb} your commitment *#{c.id}* “{escape(c.text)}”"
                        + (f"; it is now due {format_moment(c.due_at, self._tz(s, c.owner_id))}."
                           if cmd.action != "cancel" else "."))
                messages = (DirectMessage(c.owner_id, simple(note)),)
            cid = c.id
        self._replan(cid)
        if origin.startswith("list:"):
            _, scope, arg, page = origin.split(":", 3)
            reply = self._list(caller, scope, arg, int(page or 1),
                               banner=reply.text)
            reply = Reply(parts=reply.parts, text=reply.text, replace_original=True)
        elif origin == "msg":  # a reminder or assignment DM: the message itself shows the result
            reply = Reply(parts=reply.parts, text=reply.text, replace_original=True)
        elif origin == "show":
            shown = self._change(caller, grammar.Change("show", cid)).reply
            reply = Reply(parts=shown.parts, text=shown.text, replace_original=True)
        return Outcome(reply, messages, changed=(cid,))

    def _act(self, caller: Caller, action_id: str, value: str) -> Outcome:
        if action_id in ("wg_done", "wg_cancel", "wg_reopen"):
            raw_id, _, origin = value.partition("|")
            if not raw_id.isdigit():
                return Outcome(simple("That button is out of date; try `/wg list`."))
            action = {"wg_done": "done", "wg_cancel": "cancel", "wg_reopen": "reopen"}[action_id]
            out = self._change(caller, grammar.Change(action, int(raw_id)),  # type: ignore[arg-type]
                               origin=origin or "none")
            return out
        if action_id == "wg_page":
            scope, _, rest = value.partition(":")
            arg, _, page = rest.rpartition(":")
            if scope not in ("mine", "all", "overdue", "done", "user", "rec") or not page.isdigit():
                return Outcome(simple("That button is out of date; try `/wg list`."))
            reply = self._list(caller, scope, arg, int(page))
            return Outcome(Reply(parts=reply.parts, text=reply.text, replace_original=True))
        if action_id in ("wg_rec_previous", "wg_rec_next"):
            reply = self._recs(grammar.Recs("id", value))
            return Outcome(Reply(parts=reply.parts, text=reply.text, shareable=True,
                                 replace_original=True))
        return Outcome(simple("That button is out of date; try `/wg help`."))

    def _export(self, caller: Caller, fmt: str) -> Outcome:
        config, now = self.config, self._clock.now()
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
            mine = [c for c in commitments.open_due_before(s, before=config.session.starts_at)
                    if c.owner_id == caller.user_id]
            return session_replies.readiness(config=config, mine=mine, tz=tz, now=now,
                                             figures=digests.figures(s, config=config, now=now))

    def _admin(self, caller: Caller, action: str) -> Reply:
        config = self.config
        if not config.is_admin(caller.user_id):
            names = ", ".join(f"<@{p.id}>" for p in config.admins)
            mine = (" As a coordinator, `/wg digest` gives you your own digest now."
                    if action == "digest" and config.is_coordinator(caller.user_id) else "")
            return simple(f"Only admins can use `/wg admin {action}`. The admins are {names}.{mine}",
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
        return self.operations.digest_now(actor_id=caller.user_id)

    def _coordinating(self, caller: Caller, what: str) -> Reply | None:
        config = self.config
        if config.is_coordinator(caller.user_id) or config.is_admin(caller.user_id):
            return None
        names = ", ".join(f"<@{p.id}>" for p in config.coordinators) or "nobody yet"
        return simple(f"Only coordinators and admins can use `/wg {what}`. The coordinators are "
                      f"{names}.", note="`/wg session` shows readiness to everyone.")

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
            return simple(f"You act for *{escape(name)}*{fixed}." if name else
                          "You have not set a delegation.", note=grammar.USAGE["delegation"])
        try:
            with unit_of_work(self._sessions) as s:
                name = delegations.set_own(s, config=config, user_id=caller.user_id,
                                           name=cmd.name, now=now)
        except DelegationError as e:
            return simple(str(e), note="Nothing was changed.")
        if name is None:
            return simple("Your delegation is cleared.")
        return simple(f"✅ You act for *{escape(name)}*; your commitments show it.")

    def _replan(self, commitment_id: int) -> None:
        if self.operations is not None:
            try:
                self.operations.replan(commitment_id)
            except Exception:
                log.warning("re-planning reminders failed; the next sweep will do it", exc_info=True)


def apology(logger: logging.Logger, context: str) -> Reply:
    """Log the current exception with a reference and return the short apology the user sees."""
    ref = secrets.token_hex(4)
    logger.exception("error ref=%s while handling %s", ref, context)
    text = (f"Sorry — something went wrong on my side and nothing was changed. "
            f"If it happens again, tell an admin the reference *{ref}*.")
    return Reply(parts=(Section(text), Note(f"error reference {ref}")), text=text)

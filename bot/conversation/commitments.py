"""The commitment commands: record, list, find, show, change and update a commitment."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.config.knowledge import KnowledgeBase
from bot.conversation.base import Caller, DirectMessage, Outcome, TurnBase, already_handled, log
from bot.domain import grammar, planning, rules, values
from bot.domain.dates import DateProblem, DueDate, format_moment, to_the_minute
from bot.domain.reply import Reply, md, mention, simple
from bot.domain.views import CommitmentView
from bot.replies import commitments as commitment_replies
from bot.replies import recs as rec_replies
from bot.services import commitments, delegations, events, members, owner_notices
from bot.ports import Profile
from bot.services.commitments import CommitmentError
from bot.store.db import unit_of_work


class CommitmentCommands(TurnBase):
    """commit, list, show, done, reopen, cancel, move, edit, assign, link, note, find."""

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

    def _commit_text(self, caller: Caller, cmd: grammar.Commit, *, command: str = "",
                     force: bool = False) -> Outcome:
        with self._reading(caller.user_id) as s:
            due = self._parse_due(s, caller.user_id, cmd.due)
            if isinstance(due, DateProblem):
                return Outcome(simple(due.message,
                                      note="Nothing was recorded. " + grammar.USAGE["commit"]))
            owners = self._people(s, caller, cmd.owners)
            if isinstance(owners, Reply):
                return Outcome(owners)
            if not force:
                if caller.request_id and events.request_seen(s, trigger_id=caller.request_id):
                    return Outcome(already_handled())
                same = commitments.open_with_text(s, text=cmd.what,
                                                  owner_id=(owners or (caller.user_id,))[0])
                if same is not None and caller.request_id and \
                        events.request_seen(s, trigger_id=caller.request_id):
                    # its twin committed between the two reads above (PostgreSQL reads each
                    # statement afresh): the claim was committed with the commitment now seen
                    return Outcome(already_handled())
                if same is not None:
                    return Outcome(commitment_replies.possible_duplicate(
                        same, command=command, tz=self._tz(s, caller.user_id),
                        now=self._clock.now()))
            stale = self._stale(s, owners)
        return self._commit(caller, what=cmd.what, due=due, owner_ids=owners, rec_ids=cmd.rec_ids,
                            suggest=True, fresh=self._look_up(stale))

    def _commit(self, caller: Caller, *, what: str, due: DueDate, owner_id: str | None = None,
                rec_id: str | None = None, owner_ids: tuple[str, ...] = (),
                rec_ids: tuple[str, ...] = (), suggest: bool = False,
                fresh: dict[str, Profile | None] | None = None) -> Outcome:
        """Record a commitment in one unit of work; `fresh`: the profiles to remember in it, when
        the caller has already checked who is stale (None: check here)."""
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
        if fresh is None:
            fresh = self._fresh(caller.user_id, *owners)
        with unit_of_work(self._sessions) as s:
            self._remember(s, fresh)
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
            cid = c.id  # new: nothing is planned for it yet, so there is nothing to re-plan
        return Outcome(reply, changed=(cid,))

    def _list(self, caller: Caller, scope: str, arg: str, page: int, banner: str = "") -> Reply:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        if scope == "rec" and kb.get(arg) is None:
            return rec_replies.unknown_id(kb, arg)
        with self._reading(caller.user_id) as s:
            tz = self._tz(s, caller.user_id)
            result = commitments.listing(s, scope=scope, user_id=caller.user_id, arg=arg, now=now,
                                         page=page)
            if result.page > result.pages and result.total:
                result = commitments.listing(s, scope=scope, user_id=caller.user_id, arg=arg,
                                             now=now, page=result.pages)
            title = (f"Open commitments of {members.name_of(s, user_id=arg)}" if scope == "user"
                     else {"mine": "Your open commitments", "all": "All open commitments",
                           "overdue": "Overdue commitments", "done": "Completed commitments",
                           "rec": f"Open commitments for {arg}"}[scope])
            view = commitment_replies.ListView(scope=scope, arg=arg, page=result.page, title=title)
            dele = delegations.of_many(s, config=config, user_ids=[c.owner_id for c in result.items])
            return commitment_replies.listing(result.items, view=view, total=result.total,
                                              pages=result.pages, kb=kb, tz=tz, now=now,
                                              banner=banner, capped=result.capped, delegations=dele)

    # C901 (16): show, move and the status changes share one fetch, the permission and state
    # checks, the write checks, the notices and the redraw; split by action they would repeat them.
    def _change(self, caller: Caller, cmd: grammar.Change, *, due: DueDate | None = None,
                origin: values.Origin = "none") -> Outcome:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        if cmd.action == "show":
            with self._reading(caller.user_id) as s:
                c = commitments.get(s, commitment_id=cmd.commitment_id)
                if c is None:
                    return Outcome(commitment_replies.not_found(cmd.commitment_id))
                trail = commitments.history(s, commitment_id=c.id)
                return Outcome(commitment_replies.detail(
                    c, trail, kb=kb, tz=self._tz(s, caller.user_id), now=now,
                    delegation=delegations.of(s, config=config, user_id=c.owner_id)))
        fresh = self._fresh(caller.user_id)
        with unit_of_work(self._sessions) as s:
            self._remember(s, fresh)
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
                # a replay is told so first; then a move to the deadline it has writes nothing
                refusal = self._before_write(s, caller, now) or _same_deadline(c, due, kb=kb,
                                                                               tz=tz, now=now)
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
            self._replan(s, cid)
        return Outcome(self._redraw(caller, origin, reply, cid), changed=(cid,))

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
        with unit_of_work(self._sessions, read_only=True) as s:
            if isinstance(cmd, grammar.Assign):
                found = self._people(s, caller, cmd.owners)
                if isinstance(found, Reply):
                    return Outcome(found)
                owners = found
            stale = self._stale(s, (*owners, caller.user_id))
        fresh = self._look_up(stale)
        messages: list[DirectMessage] = []
        with unit_of_work(self._sessions) as s:
            self._remember(s, fresh)
            c = self._changeable(s, caller, cmd.commitment_id, action)
            if isinstance(c, Reply):
                return Outcome(c)
            refusal = self._before_write(s, caller, now)
            if refusal is not None:
                return Outcome(refusal)
            try:
                changed = True
                if isinstance(cmd, grammar.Edit):
                    changed = commitments.edit_text(s, commitment=c, text=cmd.text,
                                                    actor_id=caller.user_id, now=now)
                elif isinstance(cmd, grammar.AddNote):
                    commitments.add_note(s, commitment=c, text=cmd.text, actor_id=caller.user_id,
                                         now=now)
                elif isinstance(cmd, grammar.Link):
                    wanted = ([r for r in c.rec_ids if r not in cmd.rec_ids] if cmd.remove
                              else [*c.rec_ids, *cmd.rec_ids])
                    changed = commitments.set_links(s, commitment=c, rec_ids=wanted,
                                                    actor_id=caller.user_id, now=now)
                else:
                    added, removed = commitments.assign(s, commitment=c, owner_ids=owners,
                                                        actor_id=caller.user_id, now=now)
                    changed = bool(added or removed)
                    c = commitments.reread(s, commitment=c)
                    for who in added:  # one notice per owner and window, after quiet hours
                        if who != caller.user_id:
                            owner_notices.announce(s, owner_id=who, now=now, config=config,
                                                   tz=self._tz(s, who))
                    messages += self._tell_removed(s, c, removed, actor_id=caller.user_id,
                                                   now=now)
            except CommitmentError as e:
                s.rollback()
                return Outcome(simple(str(e), note="Nothing was changed."))
            if not changed:  # nothing written: no "Linked", no history entry
                return Outcome(commitment_replies.unchanged(
                    c, action, kb=kb, tz=self._tz(s, caller.user_id), now=now,
                    rec_ids=cmd.rec_ids if isinstance(cmd, grammar.Link) else ()))
            c = commitments.reread(s, commitment=c)
            shown = "link" if action == "unlink" else action
            reply = commitment_replies.changed(c, action=shown, kb=kb,
                                               tz=self._tz(s, caller.user_id), now=now)
            cid = c.id
            if action == "assign":
                self._replan(s, cid)
        return Outcome(reply, tuple(messages), changed=(cid,))

    def _find(self, caller: Caller, words: str, page: int, banner: str = "") -> Reply:
        config, now = self.config, self._clock.now()
        with self._reading(caller.user_id) as s:
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
        """What replaces the message a button sat on after a change (or the plain confirmation).

        The change is written already: if the redrawn view cannot be had, the confirmation alone
        is the answer."""
        try:
            return self._redrawn(caller, origin, reply, cid)
        except Exception:
            log.warning("could not redraw %s after #%s changed; confirming the change alone",
                        values.origin_value(origin), cid, exc_info=True)
            return reply

    def _redrawn(self, caller: Caller, origin: values.Origin, reply: Reply, cid: int) -> Reply:
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


def _same_deadline(c: CommitmentView, due: DueDate, *, kb: KnowledgeBase, tz: ZoneInfo,
                   now: datetime) -> Reply | None:
    """The answer to a `move` to the deadline it has (to the minute, as replies show it)."""
    if to_the_minute(due.at, tz) == to_the_minute(c.due_at, tz):
        return commitment_replies.unchanged(c, "move", kb=kb, tz=tz, now=now)
    return None

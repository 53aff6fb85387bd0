"""Turns from forms rather than text: the shortcut, the Move and Edit modals, App Home."""
from __future__ import annotations

from bot.config.knowledge import KnowledgeBase
from bot.conversation.base import Caller, DirectMessage, Outcome, apology, log
from bot.conversation.commitments import CommitmentCommands
from bot.domain import grammar, planning, rules, values
from bot.domain.dates import DateProblem, DueDate, format_moment, to_the_minute
from bot.domain.reply import EditForm, FormProblems, MoveForm, Reply, md, simple
from bot.replies import commitments as commitment_replies
from bot.replies import session as session_replies
from bot.services import commitments, members, owner_notices
from bot.services.commitments import CommitmentError
from bot.store.db import unit_of_work


class FormTurns(CommitmentCommands):
    """Structured input: the shortcut and the Move and Edit modals, typed deadlines, App Home."""

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
        with self._reading(user_id) as s:
            return self._parse_due(s, user_id, words)

    def move_form(self, caller: Caller, commitment_id: int) -> MoveForm | Reply:
        """The Move modal's contents, or the reply explaining why it cannot be moved."""
        with self._reading(caller.user_id) as s:
            c = self._changeable(s, caller, commitment_id, "move")
            if isinstance(c, Reply):
                return c
            return MoveForm(commitment_id=c.id, text=c.text,
                            due_local=c.due_at.astimezone(self._tz(s, caller.user_id)))

    def edit_form(self, caller: Caller, commitment_id: int) -> EditForm | Reply:
        """The Edit modal's contents, or the reply explaining why it cannot be edited."""
        with self._reading(caller.user_id) as s:
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
        config, now = self.config, self._clock.now()
        with self._reading(user_id) as s:
            tz = members.timezone_of(s, user_id=user_id, default=config.timezone)
            page = commitments.listing(s, scope="mine", user_id=user_id, arg="", now=now,
                                       per_page=20)
            return session_replies.home(config=config, items=page.items, total=page.total,
                                        tz=tz, now=now)

    # C901 (20): the Edit form changes up to four fields in one unit of work, each with its own
    # check, service call and audit entry; the field checks that need no database are in
    # _form_fields. Splitting the rest would pass the row and the half-made change around.
    def _edit(self, caller: Caller, commitment_id: int, *, text: str,  # noqa: C901
              owner_ids: tuple[str, ...] | None, due: DueDate | DateProblem,
              rec_ids: tuple[str, ...] | None,
              origin: values.Origin) -> Outcome | FormProblems:
        config, now = self.config, self._clock.now()
        kb = config.knowledge
        text, owners, recs, problems = _form_fields(kb, text=text, owner_ids=owner_ids,
                                                    rec_ids=rec_ids, due=due)
        fresh = self._fresh(caller.user_id,  # a failing form looks nobody else up
                            *(owners if not problems else ()))
        messages: list[DirectMessage] = []
        with unit_of_work(self._sessions) as s:
            self._remember(s, fresh)
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
                to_the_minute(due.at, tz) != to_the_minute(c.due_at, tz)
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
            messages += self._tell_removed(s, c, removed, actor_id=caller.user_id, now=now)
            reply = commitment_replies.edited(c, fields=fields, kb=kb, tz=tz, now=now)
            cid = c.id
            if moved or "owners" in fields:
                self._replan(s, cid)
        return Outcome(self._redraw(caller, origin, reply, cid), tuple(messages), changed=(cid,))


def _form_fields(kb: KnowledgeBase, *, text: str, owner_ids: tuple[str, ...] | None,
                 rec_ids: tuple[str, ...] | None, due: DueDate | DateProblem
                 ) -> tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """The Edit form's text, owners and recommendations as the change takes them, and what is
    wrong with each field (by field name); nothing here reads the database."""
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
    return text, owners, recs, problems

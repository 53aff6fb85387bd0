"""The turn dispatcher: `/wg` text, a shared command or a button press to the handler that answers it."""
from __future__ import annotations

from bot.conversation.base import Caller, Outcome, apology, log
from bot.conversation.forms import FormTurns
from bot.conversation.group import GroupCommands
from bot.domain import grammar, values
from bot.domain.reply import Reply, simple
from bot.replies import commitments as commitment_replies
from bot.replies import help as help_replies
from bot.replies import recs as rec_replies
from bot.services import commitments
from bot.store.db import unit_of_work


class Conversation(FormTurns, GroupCommands):
    """Answers `/wg` text and button presses from any surface."""

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

    # C901 (17): one flat branch per command type, each a line or two: the dispatch table itself.
    def _answer(self, caller: Caller, cmd: grammar.Command, text: str = "") -> Outcome:  # noqa: C901
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
            return self._commit_text(caller, cmd, command=text.strip())
        if isinstance(cmd, grammar.ListCommitments):
            arg = cmd.arg
            if cmd.person is not None and not cmd.person.user_id:
                with unit_of_work(self._sessions, read_only=True) as s:
                    found = self._people(s, caller, (cmd.person,))
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

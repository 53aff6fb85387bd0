"""Commands about the group rather than one commitment: admin, coordinator (digest, brief),
session readiness, exports and delegations."""
from __future__ import annotations

from datetime import datetime

from bot.brief.files import brief_files
from bot.conversation.base import Caller, Outcome, TurnBase, already_handled
from bot.domain import grammar
from bot.domain.reply import Mrkdwn, Reply, md, mention, simple
from bot.replies import brief as brief_replies
from bot.replies import notifications as notification_replies
from bot.replies import session as session_replies
from bot.services import briefs, commitments, delegations, digests, events, exports
from bot.services.delegations import DelegationError
from bot.store.db import unit_of_work


class GroupCommands(TurnBase):
    """admin, digest, brief, session, export and delegation."""

    def _export(self, caller: Caller, fmt: str) -> Outcome:
        config, now = self.config, self._clock.now()
        if not self._first_time(caller, now):
            return Outcome(already_handled())
        with self._reading(caller.user_id) as s:
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
        with self._reading(caller.user_id) as s:
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
        with self._reading(caller.user_id) as s:
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
        with self._reading(caller.user_id) as s:
            tz = self._tz(s, caller.user_id)
            brief = briefs.gather(s, config=config, now=now, tz=tz)
        files = brief_files(brief)
        return Outcome(brief_replies.summary(brief, files=files),
                       uploads=tuple((caller.user_id, f) for f in files))

    def _delegation(self, caller: Caller, cmd: grammar.SetDelegation) -> Reply:
        config, now = self.config, self._clock.now()
        if cmd.show:
            with self._reading(caller.user_id) as s:
                name = delegations.of(s, config=config, user_id=caller.user_id)
            fixed = " (set by the admins)" if config.fixed_delegation(caller.user_id) else ""
            return simple(f"You act for *{name}*{fixed}." if name else
                          "You have not set a delegation.", note=grammar.USAGE["delegation"])
        fresh = self._fresh(caller.user_id)
        try:
            with unit_of_work(self._sessions) as s:
                self._remember(s, fresh)
                name = delegations.set_own(s, config=config, user_id=caller.user_id,
                                           name=cmd.name, now=now)
        except DelegationError as e:
            return simple(str(e), note="Nothing was changed.")
        if name is None:
            return simple("Your delegation is cleared.")
        return simple(f"✅ You act for *{name}*; your commitments show it.")

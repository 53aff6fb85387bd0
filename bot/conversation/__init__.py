"""One `/wg` conversation turn: text (or a button) in, a Reply and any follow-up messages out.

Slack listeners and the console both call this; neither has a second implementation of any command.
A turn that changes something writes in one unit of work: the refreshed profiles of the people
involved, the write-limit check, the claim of the request (replays), the change, its audit entry,
owner notices and the re-planning of its reminders are kept together or not at all. What it reads
first (who is asking, their timezone, whom they name) takes at most one more, read-only unit.

base: the values in and out and what every turn shares; dispatch: text and buttons to handlers;
commitments: the commitment commands; forms: the modals and App Home; group: admin, coordinator,
session, export and delegation commands.
"""
from bot.conversation.base import (
    Caller,
    DirectMessage,
    Operations,
    Outcome,
    already_handled,
    apology,
)
from bot.conversation.dispatch import Conversation

__all__ = ["Caller", "Conversation", "DirectMessage", "Operations", "Outcome", "already_handled",
           "apology"]

"""Commitment rules: who may change what, and which states allow which changes."""
from __future__ import annotations


from bot.config.types import Config

WHO_MAY_CHANGE = "its owners, its creator, coordinators or admins"
VERB_FOR = {"done": "complete", "reopen": "reopen", "cancel": "cancel", "move": "move",
            "edit": "edit", "assign": "reassign", "link": "link", "unlink": "unlink",
            "note": "add a note to"}


def may_change(config: Config, *, user_id: str, owner_ids: tuple[str, ...] | str,
               creator_id: str) -> bool:
    """Any owner, the creator, coordinators and admins may change a commitment."""
    owners = (owner_ids,) if isinstance(owner_ids, str) else owner_ids
    return (user_id in owners or user_id == creator_id or config.is_coordinator(user_id)
            or config.is_admin(user_id))


def refusal(action: str, commitment_id: int) -> str:
    """The reply to someone who may not change a commitment, naming who can."""
    verb = VERB_FOR.get(action, action)
    return f"Only {WHO_MAY_CHANGE} can {verb} #{commitment_id}."


def transition_problem(action: str, *, status: str, commitment_id: int) -> str | None:
    """Why an action does not apply to a commitment in this status, or None when it does."""
    if status == "cancelled" and action != "reopen":
        return (f"#{commitment_id} was cancelled. `/wg reopen {commitment_id}` brings it back "
                f"if it is needed after all.")
    if action == "done" and status == "done":
        return f"#{commitment_id} is already done."
    if action == "reopen" and status == "open":
        return f"#{commitment_id} is already open."
    if action == "move" and status == "done":
        return f"#{commitment_id} is done; `/wg reopen {commitment_id}` first to give it a new deadline."
    return None

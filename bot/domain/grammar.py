"""The `/wg` command grammar: text in, a typed command out. Never raises."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

MAX_INPUT = 2000

ListScope = Literal["mine", "all", "overdue", "user", "rec", "done"]
RecsKind = Literal["overview", "short", "long", "areas", "id", "search"]
AdminAction = Literal["reload", "status", "config", "digest", "help"]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_REC_ID = re.compile(r"^[SsLl]\d{1,2}$")
_ID = re.compile(r"^#?(\d{1,9})$")


@dataclass(frozen=True)
class Help:
    """`help [topic]`"""

    topic: str = ""


@dataclass(frozen=True)
class Recs:
    """`recs`, `recs short|long|areas`, `recs <ID>`, `recs search <words>`."""

    kind: RecsKind
    arg: str = ""


@dataclass(frozen=True)
class Commit:
    """`commit <what> by <date> [for <rec ID>] [owner <@U…>]`."""

    what: str
    due: str
    rec_id: str | None = None
    owner_id: str | None = None


@dataclass(frozen=True)
class ListCommitments:
    """`list [mine | all | overdue | done | <@U…> | <rec ID>] [page N]`."""

    scope: ListScope = "mine"
    arg: str = ""
    page: int = 1


@dataclass(frozen=True)
class Change:
    """`show|done|reopen|cancel <id>` and `move <id> to <date>`."""

    action: Literal["show", "done", "reopen", "cancel", "move"]
    commitment_id: int
    due: str = ""


@dataclass(frozen=True)
class Export:
    """`export csv|ics`."""

    format: Literal["csv", "ics"]


@dataclass(frozen=True)
class SessionInfo:
    """`session`."""


@dataclass(frozen=True)
class Admin:
    """`admin reload|status|config|digest now`."""

    action: AdminAction


@dataclass(frozen=True)
class DigestNow:
    """`digest`: a coordinator's own digest, now."""


@dataclass(frozen=True)
class Brief:
    """`brief`: the session brief (summary, chart, Word document for the Chair)."""


@dataclass(frozen=True)
class SetDelegation:
    """`delegation` (show), `delegation <name>` (set), `delegation none` (clear)."""

    name: str | None = None
    show: bool = False


@dataclass(frozen=True)
class Invalid:
    """Text that could not be understood: a short explanation and what to type instead."""

    message: str
    usage: str = ""


Command = (Help | Recs | Commit | ListCommitments | Change | Export | SessionInfo | Admin
           | DigestNow | Brief | SetDelegation | Invalid)

VERBS = ("help", "recs", "commit", "list", "show", "done", "reopen", "cancel", "move", "export",
         "session", "admin", "digest", "brief", "delegation")
ALIASES = {
    "?": "help", "rec": "recs", "recommendations": "recs", "recommendation": "recs",
    "add": "commit", "new": "commit", "ls": "list", "complete": "done", "finish": "done",
    "undo": "reopen", "reschedule": "move", "postpone": "move", "delete": "cancel",
    "remove": "cancel", "info": "show", "countdown": "session",
    "delegate": "delegation", "briefing": "brief",
}

USAGE = {
    "recs": "`/wg recs` · `/wg recs short` · `/wg recs long` · `/wg recs areas` · `/wg recs S3` · "
            "`/wg recs search border`",
    "commit": "`/wg commit Draft guidelines by 30 June for L6` (add `owner @someone` to assign it)",
    "list": "`/wg list` · `/wg list all` · `/wg list overdue` · `/wg list @someone` · `/wg list L6`",
    "show": "`/wg show 12`",
    "done": "`/wg done 12`",
    "reopen": "`/wg reopen 12`",
    "cancel": "`/wg cancel 12`",
    "move": "`/wg move 12 to next Friday`",
    "export": "`/wg export csv` · `/wg export ics`",
    "session": "`/wg session`",
    "digest": "`/wg digest`",
    "brief": "`/wg brief`",
    "delegation": "`/wg delegation` · `/wg delegation Austria` · `/wg delegation none`",
    "admin": "`/wg admin status` · `/wg admin reload` · `/wg admin config` · `/wg admin digest now`",
}


def mention_id(token: str) -> str | None:
    """The user id in a Slack mention (`<@U1>` or `<@U1|name>`), or None."""
    m = _MENTION.fullmatch(token.strip())
    return m.group(1) if m else None


def clean(text: str) -> str:
    """Normalise whitespace and strip control characters from command text."""
    text = "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def parse(text: str) -> Command:
    """Parse the text after `/wg`; anything not understood becomes Invalid with a hint."""
    if len(text) > MAX_INPUT:
        return Invalid(f"That is {len(text):,} characters; a `/wg` command can be at most "
                       f"{MAX_INPUT:,}.", USAGE["commit"])
    text = clean(text)
    if not text:
        return Help()
    head, _, rest = text.partition(" ")
    verb = head.lower()
    verb = ALIASES.get(verb, verb)
    rest = rest.strip()
    if verb == "help":
        return Help(rest.lower())
    if verb == "recs":
        return _parse_recs(rest)
    if verb == "commit":
        return _parse_commit(rest)
    if verb == "list":
        return _parse_list(rest)
    if verb in ("show", "done", "reopen", "cancel"):
        return _parse_change(verb, rest)
    if verb == "move":
        return _parse_move(rest)
    if verb == "export":
        fmt = rest.lower().lstrip(".")
        if fmt in ("csv", "ics"):
            return Export(fmt)  # type: ignore[arg-type]
        return Invalid("Export as `csv` (a spreadsheet) or `ics` (a calendar).", USAGE["export"])
    if verb == "session":
        return SessionInfo()
    if verb == "admin":
        return _parse_admin(rest)
    if verb == "digest":
        if rest.lower() in ("", "now", "me", "mine"):
            return DigestNow()
        return Invalid("`/wg digest` takes no words after it; it shows your digest now.",
                       USAGE["digest"])
    if verb == "brief":
        if rest.lower() in ("", "now", "session", "chair"):
            return Brief()
        return Invalid("`/wg brief` takes no words after it; it prepares the session brief.",
                       USAGE["brief"])
    if verb == "delegation":
        if not rest:
            return SetDelegation(show=True)
        if rest.lower() in ("none", "clear", "-"):
            return SetDelegation(None)
        return SetDelegation(rest)
    if _REC_ID.match(head):
        return Recs("id", head.upper())
    close = difflib.get_close_matches(verb, VERBS + tuple(ALIASES), n=1, cutoff=0.6)
    hint = f" Did you mean `/wg {ALIASES.get(close[0], close[0])}`?" if close else ""
    return Invalid(f"I don't know `{_code(head)}`.{hint} Type `/wg help` to see what I can do.")


def _code(s: str) -> str:
    return s.replace("`", "'")[:40]


def _parse_recs(rest: str) -> Command:
    if not rest:
        return Recs("overview")
    word, _, tail = rest.partition(" ")
    low = word.lower()
    if low in ("short", "s", "short-term", "shortterm"):
        return Recs("short")
    if low in ("long", "l", "long-term", "longterm"):
        return Recs("long")
    if low in ("areas", "area", "key", "keyareas"):
        return Recs("areas")
    if low in ("search", "find", "about"):
        if not tail.strip():
            return Invalid("Tell me what to look for, e.g. `/wg recs search border management`.",
                           USAGE["recs"])
        return Recs("search", tail.strip())
    if _REC_ID.match(word) and not tail:
        return Recs("id", word.upper())
    # `/wg recs youth unemployment` reads as a search.
    return Recs("search", rest)


def _parse_commit(rest: str) -> Command:
    if not rest:
        return Invalid("Tell me what you commit to and by when.", USAGE["commit"])
    owner: str | None = None
    m = re.search(r"\s(?:owner|for owner|assign(?:ed)? to|owned by)\s+(<@[UW][A-Z0-9]+(?:\|[^>]*)?>)",
                  " " + rest, flags=re.IGNORECASE)
    if m:
        owner = mention_id(m.group(1))
        rest = (" " + rest)[: m.start()] + (" " + rest)[m.end():]
        rest = rest.strip()
    rec: str | None = None
    m = re.search(r"\s(?:for|towards|toward|under)\s+(?:rec(?:ommendation)?\s+)?([SsLl]\d{1,2})\b(?!\S)",
                  " " + rest, flags=re.IGNORECASE)
    if m:
        rec = m.group(1).upper()
        rest = ((" " + rest)[: m.start()] + (" " + rest)[m.end():]).strip()
    parts = re.split(r"\s+by\s+", " " + rest + " ", flags=re.IGNORECASE)
    if len(parts) < 2:
        return Invalid("I need a deadline: add `by <date>` after what you commit to.", USAGE["commit"])
    what = " by ".join(parts[:-1]).strip()
    due = parts[-1].strip()
    if not what:
        return Invalid("Tell me what you commit to before `by`.", USAGE["commit"])
    if not due:
        return Invalid("I need a date after `by`.", USAGE["commit"])
    return Commit(what=what, due=due, rec_id=rec, owner_id=owner)


def _parse_list(rest: str) -> Command:
    page = 1
    m = re.search(r"\bpage\s+(\d{1,4})\b", rest, flags=re.IGNORECASE)
    if m:
        page = max(1, int(m.group(1)))
        rest = (rest[: m.start()] + rest[m.end():]).strip()
    low = rest.lower()
    if low in ("", "mine", "my", "me"):
        return ListCommitments("mine", page=page)
    if low in ("all", "everything", "open"):
        return ListCommitments("all", page=page)
    if low in ("overdue", "late", "late ones"):
        return ListCommitments("overdue", page=page)
    if low in ("done", "completed", "finished"):
        return ListCommitments("done", page=page)
    uid = mention_id(rest)
    if uid:
        return ListCommitments("user", uid, page=page)
    if _REC_ID.match(rest):
        return ListCommitments("rec", rest.upper(), page=page)
    return Invalid(f"I can list `mine`, `all`, `overdue`, `done`, a person (`@name`) or a "
                   f"recommendation (`L6`), not `{_code(rest)}`.", USAGE["list"])


def _parse_id(token: str) -> int | None:
    m = _ID.match(token.strip())
    return int(m.group(1)) if m else None


def _parse_change(verb: str, rest: str) -> Command:
    cid = _parse_id(rest)
    if cid is None:
        what = f" — `{_code(rest)}` is not one" if rest else ""
        return Invalid(f"`{verb}` needs a commitment number{what}. `/wg list` shows them.",
                       USAGE[verb])
    return Change(verb, cid)  # type: ignore[arg-type]


def _parse_move(rest: str) -> Command:
    token, _, tail = rest.partition(" ")
    cid = _parse_id(token)
    if cid is None:
        return Invalid("`move` needs a commitment number and a new date.", USAGE["move"])
    tail = tail.strip()
    tail = re.sub(r"^(?:to|until|till|by|on)\s+", "", tail, flags=re.IGNORECASE)
    if not tail:
        return Invalid(f"Move #{cid} to when?", USAGE["move"])
    return Change("move", cid, tail)


def _parse_admin(rest: str) -> Command:
    low = rest.lower()
    if low in ("reload", "status", "config"):
        return Admin(low)  # type: ignore[arg-type]
    if low in ("digest", "digest now"):
        return Admin("digest")
    if low in ("", "help"):
        return Admin("help")
    return Invalid(f"Admin commands are `status`, `reload`, `config` and `digest now`, "
                   f"not `{_code(rest)}`.", USAGE["admin"])

"""The `/wg` command grammar: text in, a typed command out. Never raises."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from bot.domain.clauses import ClauseProblem, PersonRef, commit_clauses, people, person, rec_ids

MAX_INPUT = 2000

ListScope = Literal["mine", "all", "overdue", "user", "rec", "done", "find"]
RecsKind = Literal["overview", "short", "long", "areas", "aspects", "drivers", "id", "search"]
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
    """`commit <what> by <date> [for <IDs>] [owner <people>]`, clauses in any order."""

    what: str
    due: str
    rec_ids: tuple[str, ...] = ()
    owners: tuple[PersonRef, ...] = ()


@dataclass(frozen=True)
class ListCommitments:
    """`list [mine | all | overdue | done | <person> | <rec ID>] [page N]`."""

    scope: ListScope = "mine"
    arg: str = ""
    page: int = 1
    person: PersonRef | None = None  # for scope "user": who, as typed


@dataclass(frozen=True)
class Edit:
    """`edit <id> <new text>`."""

    commitment_id: int
    text: str


@dataclass(frozen=True)
class Assign:
    """`assign <id> <people>`: the commitment's owners from now on."""

    commitment_id: int
    owners: tuple[PersonRef, ...]


@dataclass(frozen=True)
class Link:
    """`link <id> <IDs>` adds recommendations; `unlink <id> <IDs>` removes them."""

    commitment_id: int
    rec_ids: tuple[str, ...]
    remove: bool = False


@dataclass(frozen=True)
class AddNote:
    """`note <id> <text>`: a dated progress note."""

    commitment_id: int
    text: str


@dataclass(frozen=True)
class Find:
    """`find <words> [page N]`: commitments by their text and notes."""

    words: str
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


Command = (Help | Recs | Commit | ListCommitments | Change | Edit | Assign | Link | AddNote | Find
           | Export | SessionInfo | Admin | DigestNow | Brief | SetDelegation | Invalid)

VERBS = ("help", "recs", "commit", "list", "show", "done", "reopen", "cancel", "move", "edit",
         "assign", "link", "unlink", "note", "find", "export", "session", "admin", "digest",
         "brief", "delegation")
ALIASES = {
    "?": "help", "rec": "recs", "recommendations": "recs", "recommendation": "recs",
    "add": "commit", "new": "commit", "ls": "list", "complete": "done", "finish": "done",
    "undo": "reopen", "reschedule": "move", "postpone": "move", "delete": "cancel",
    "remove": "cancel", "info": "show", "countdown": "session", "rename": "edit",
    "reword": "edit", "reassign": "assign", "give": "assign", "comment": "note",
    "progress": "note", "update": "note", "search": "find",
    "delegate": "delegation", "briefing": "brief",
}

USAGE = {
    "recs": "`/wg recs` · `/wg recs short` · `/wg recs long` · `/wg recs areas` · "
            "`/wg recs aspects` · `/wg recs drivers` · `/wg recs S3` · `/wg recs search border`",
    "commit": "`/wg commit Draft guidelines by 30 June for L6` (add `owner @someone` to assign it)",
    "list": "`/wg list` · `/wg list all` · `/wg list overdue` · `/wg list @someone` · `/wg list L6`",
    "edit": "`/wg edit 12 Draft guidelines with the Chair's comments`",
    "assign": "`/wg assign 12 @anna` · `/wg assign 12 @anna @marco`",
    "link": "`/wg link 12 S2 L4`",
    "unlink": "`/wg unlink 12 L4`",
    "note": "`/wg note 12 Draft sent to the Chair`",
    "find": "`/wg find guidelines` · `/wg find border police page 2`",
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


# Printable characters that show nothing (Hangul fillers, the blank braille pattern).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def clean(text: str) -> str:
    """User text as the bot keeps it: control, format (bidi, zero-width) and blank characters
    become spaces, whitespace runs one space. Typed commands and modal input both pass here."""
    text = "".join(ch if (ch.isprintable() and ch not in _BLANK) or ch in " \t\n" else " "
                   for ch in text)
    return re.sub(r"\s+", " ", text).strip()


# complexity: the command table: one branch per /wg verb
def parse(text: str) -> Command:  # noqa: C901
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
    if verb in ("edit", "note"):
        return _parse_id_and_text(verb, rest)
    if verb == "assign":
        return _parse_assign(rest)
    if verb in ("link", "unlink"):
        return _parse_link(verb, rest)
    if verb == "find":
        return _parse_find(rest)
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
    if low in ("aspects", "aspect") and not tail:
        return Recs("aspects")
    if (low in ("drivers", "driver", "causes") and not tail) or \
            (low == "root" and tail.lower() in ("cause", "causes")):
        return Recs("drivers")
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
    found = commit_clauses(rest)
    if isinstance(found, ClauseProblem):
        if not found.clause or found.clause == "by":
            return Invalid(found.message, USAGE["commit"])
        return Invalid(f"I couldn't read `{_code(found.clause)}`: {found.message}.",
                       USAGE["commit"])
    return Commit(what=found.what, due=found.due, rec_ids=found.rec_ids, owners=found.owners)


def _parse_id_and_text(verb: str, rest: str) -> Command:
    token, _, text = rest.partition(" ")
    cid = _parse_id(token)
    if cid is None:
        return Invalid(f"`{verb}` needs a commitment number first. `/wg list` shows them.",
                       USAGE[verb])
    if not text.strip():
        what = "the new text" if verb == "edit" else "the note"
        return Invalid(f"Write {what} after #{cid}.", USAGE[verb])
    return Edit(cid, text.strip()) if verb == "edit" else AddNote(cid, text.strip())


def _parse_assign(rest: str) -> Command:
    token, _, tail = rest.partition(" ")
    cid = _parse_id(token)
    tail = re.sub(r"^(?:to|owner|owners)\s+", "", tail.strip(), flags=re.IGNORECASE)
    refs = people(tail) if tail else None
    if cid is None or refs is None:
        return Invalid("`assign` needs a commitment number and who should hold it, as `@name`, "
                       "`@U…` or `me`.", USAGE["assign"])
    return Assign(cid, refs)


def _parse_link(verb: str, rest: str) -> Command:
    token, _, tail = rest.partition(" ")
    cid = _parse_id(token)
    tail = re.sub(r"^(?:to|from|with)\s+", "", tail.strip(), flags=re.IGNORECASE)
    ids = rec_ids(tail) if tail else None
    if cid is None or ids is None:
        return Invalid(f"`{verb}` needs a commitment number and recommendation ids such as "
                       f"`S2 L4`.", USAGE[verb])
    return Link(cid, ids, remove=verb == "unlink")


def _parse_find(rest: str) -> Command:
    page = 1
    m = re.search(r"\bpage\s+(\d{1,4})\s*$", rest, flags=re.IGNORECASE)
    if m:
        page = max(1, int(m.group(1)))
        rest = rest[: m.start()].strip()
    if not rest:
        return Invalid("Tell me what to look for, e.g. `/wg find guidelines`.", USAGE["find"])
    return Find(rest, page)


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
    who = person(rest) if " " not in rest.strip() or rest.startswith("<@") else None
    if who is not None and not who.me:
        return ListCommitments("user", who.user_id or "", page=page, person=who)
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

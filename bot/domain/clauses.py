"""The clauses of a commitment, in any order: what, `by` a date, `for` recommendations, owners.

    Draft guidelines by 30 June for L6                → what, by, for
    Help Anna by Friday owner @U0CONSOLE               → what, by, owner
    Circulate the note for S2 and L4 by 15 Jan         → what, for, by
    Brief the chair by the session for L6 for L7       → what, by, for, for
    Prepare the paper by Friday for @anna              → what, by, owner (`for` a person)

`by` starts the deadline (the last `by` of the text, so "organised by Italy by Friday" keeps its
first one); the deadline runs to the next clause. Before the deadline, `for …` is a clause only
when what follows is recommendation ids or people ("guidelines for border police" stays text);
after it, every `for …` is a clause, and one that names neither is a problem that quotes only it.
Pure functions; people are references to resolve against the members the bot knows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_TOKEN = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>|\S+")
_TYPED_ID = re.compile(r"^@?([UW][A-Z0-9]{2,})$")
_TYPED_NAME = re.compile(r"^@([\w.\-']{1,80})$")
_REC_ID = re.compile(r"^(?:rec(?:ommendation)?s?)?([SsLl]\d{1,2})$")
_FOR = {"for", "towards", "toward", "under"}
_OWNER = {"owner", "owners", "owned", "assign", "assigned", "assignee", "assignees"}
_OWNER_TAIL = {"by", "to"}  # owned by …, assign to …, assigned to …
_JOIN = {"and", ",", ";", "&", "plus"}
_REC_WORDS = {"rec", "recs", "recommendation", "recommendations"}


@dataclass(frozen=True)
class PersonRef:
    """Someone named in a command: a Slack user id, a typed @name to look up, or the caller."""

    user_id: str | None = None
    name: str | None = None
    me: bool = False

    def __str__(self) -> str:
        if self.me:
            return "me"
        return f"@{self.user_id}" if self.user_id else f"@{self.name}"


@dataclass(frozen=True)
class CommitClauses:
    """A commitment's clauses, each as written."""

    what: str
    due: str
    rec_ids: tuple[str, ...] = ()
    owners: tuple[PersonRef, ...] = ()


@dataclass(frozen=True)
class ClauseProblem:
    """A clause that could not be read, quoted on its own, with what to write instead."""

    clause: str
    message: str


def _tokens(text: str) -> list[str]:
    """Words and mentions (a mention may hold spaces); a trailing comma or semicolon on its own."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if len(token) > 1 and token[-1] in ",;" and not token.startswith("<@"):
            out.extend((token[:-1], token[-1]))
        else:
            out.append(token)
    return out


def person(token: str) -> PersonRef | None:
    """A person written as `<@U…>` (what Slack sends), `@U…` or `U…` typed, `@name`, or `me`."""
    m = _MENTION.fullmatch(token)
    if m:
        return PersonRef(user_id=m.group(1))
    if token.lower() in ("me", "myself", "@me"):
        return PersonRef(me=True)
    m = _TYPED_ID.match(token)
    if m and (token.startswith("@") or any(ch.isdigit() for ch in m.group(1))):
        return PersonRef(user_id=m.group(1))
    m = _TYPED_NAME.match(token)
    if m:
        return PersonRef(name=m.group(1))
    return None


def people(text: str) -> tuple[PersonRef, ...] | None:
    """Every person in a list like `@anna @marco`, `@anna and me`; None if anything else is there."""
    found: list[PersonRef] = []
    for token in _tokens(text):
        if token.lower() in _JOIN:
            continue
        ref = person(token)
        if ref is None:
            return None
        found.append(ref)
    return tuple(dict.fromkeys(found)) or None


def rec_ids(text: str) -> tuple[str, ...] | None:
    """Every recommendation id in a list like `S2 and L4`, `S2, L4`, `recs S2 L4`; None otherwise."""
    found: list[str] = []
    for token in _tokens(text):
        low = token.lower()
        if low in _JOIN or low in _REC_WORDS or low in _FOR:
            continue
        m = _REC_ID.match(token)
        if m is None:
            return None
        found.append(m.group(1).upper())
    return tuple(dict.fromkeys(found)) or None


def _leading(words: list[str], kind: str) -> int:
    """How many of the words, from the first, are a list of ids (for `for`) or of people."""
    best = 0
    kinds: set[str] = set()
    for i, token in enumerate(words):
        low = token.lower()
        if low in _JOIN or (kind == "for" and low in _REC_WORDS):
            continue
        if kind == "for" and _REC_ID.match(token) and "person" not in kinds:
            kinds.add("rec")
        elif person(token) is not None and "rec" not in kinds:
            kinds.add("person")
        else:
            break
        best = i + 1
    return best


def _keyword_at(tokens: list[str], i: int) -> tuple[str, int] | None:
    """("for" | "owner", tokens the keyword takes) when a clause keyword starts at tokens[i]."""
    low = tokens[i].lower()
    if low in _FOR:
        if low == "for" and i + 1 < len(tokens) and tokens[i + 1].lower() in ("owner", "owners"):
            return "owner", 2
        return "for", 1
    if low in _OWNER:
        taken = 2 if i + 1 < len(tokens) and tokens[i + 1].lower() in _OWNER_TAIL else 1
        if low in ("owned", "assign", "assigned") and taken == 1:
            return None  # "owned" or "assigned" alone are ordinary words
        return "owner", taken
    return None


def _segments(tokens: list[str]) -> list[tuple[str, list[str]]]:
    """Tokens cut at every clause keyword: [(kind, tokens)], the first of kind ""."""
    out: list[tuple[str, list[str]]] = [("", [])]
    i = 0
    while i < len(tokens):
        hit = _keyword_at(tokens, i)
        if hit is None:
            out[-1][1].append(tokens[i])
            i += 1
            continue
        out.append((hit[0], []))
        i += hit[1]
    return out


def _join(tokens: list[str]) -> str:
    return re.sub(r"\s+([,;])", r"\1", " ".join(tokens)).strip()


def _last_by(tokens: list[str]) -> int | None:
    """Where the deadline clause starts: the last `by` that is not part of `owned by`."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].lower() == "by" and not (i and tokens[i - 1].lower() == "owned"):
            return i
    return None


# complexity: one branch per clause and its refusal; splitting hides the order they are read in
def commit_clauses(text: str) -> CommitClauses | ClauseProblem:  # noqa: C901
    """Read `<what> by <date> [for <IDs>] [owner <people>]`, clauses in any order."""
    tokens = _tokens(text)
    by = _last_by(tokens)
    head, tail = (tokens, []) if by is None else (tokens[:by], tokens[by + 1:])
    recs: list[str] = []
    owners: list[PersonRef] = []
    what: list[str] = []
    due: list[str] = []

    def take(kind: str, words: list[str], strict: bool) -> ClauseProblem | list[str] | None:
        """Use a clause's leading ids or people; the words left over (None: not a clause here)."""
        n = _leading(words, kind)
        if n:
            listed = _join(words[:n])
            if kind == "owner" or rec_ids(listed) is None:
                owners.extend(people(listed) or ())
            else:
                recs.extend(rec_ids(listed) or ())
            return words[n:]
        phrase = _join(words)
        if kind == "owner":
            return ClauseProblem(f"owner {phrase}".strip(),
                                 "name people as `@name`, `@U…` or `me`, e.g. `owner @anna @marco`")
        if strict:
            return ClauseProblem(f"for {phrase}".strip(),
                                 "`for` takes recommendation ids such as `for S2` or `for S2 and L4`, "
                                 "or people such as `for @anna`")
        return None

    for kind, words in _segments(head):
        if not kind:
            what.extend(words)
            continue
        left = take(kind, words, strict=kind == "owner")
        if isinstance(left, ClauseProblem):
            return left
        what.extend([kind, *words] if left is None else left)
    for n, (kind, words) in enumerate(_segments(tail)):
        if n == 0:
            due.extend(words)
            continue
        left = take(kind, words, strict=True)
        if isinstance(left, ClauseProblem):
            return left
        if left:
            label = "owner" if kind == "owner" else "for"
            return ClauseProblem(f"{label} {_join(words)}",
                                 f"I don't know what “{_join(left)}” means there; put what you "
                                 "commit to before `by`")
    if by is None:
        return ClauseProblem("", "I need a deadline: add `by <date>` after what you commit to.")
    if not what:
        return ClauseProblem("", "Tell me what you commit to before `by`.")
    if not due:
        return ClauseProblem("by", "I need a date after `by`.")
    return CommitClauses(what=_join(what), due=_join(due), rec_ids=tuple(dict.fromkeys(recs)),
                         owners=tuple(dict.fromkeys(owners)))

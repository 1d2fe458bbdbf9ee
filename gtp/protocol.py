"""GTP v2 text layer: clean a line, split off the id, frame answers. Pure functions, no I/O.

Framing (GTP v2 spec, section 2): a command is ``[id] command_name [args]``; the answer is
``=[id] result\\n\\n`` on success and ``?[id] message\\n\\n`` on failure, with the id echoed
as sent (Lizzie matches answers by id). A multi-line result may not contain an empty line,
since an empty line ends the answer.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Optional

MAX_LINE = 4096  # characters; longer lines are refused, not parsed (no GTP command needs more)

# Control characters other than HT (\x09) and LF (\x0a) are deleted (spec 2.2), and so are
# the C1 controls, which no GTP command uses and some terminals interpret.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ID = re.compile(r"\d+", re.ASCII)


@dataclass(frozen=True)
class Command:
    id: Optional[str]  # the digits as sent, echoed in the answer; None when absent
    name: str  # "" when the line held only an id
    args: tuple[str, ...]


def preprocess(line: str) -> Optional[str]:
    """The line as the spec has engines see it, or None when nothing is left to answer.

    Deletes control characters but HT and LF, turns HT into a space, cuts a ``#``
    comment, strips whitespace. A line handed in with an LF inside is one command: the LF
    is then just whitespace.
    """
    text = _CONTROL.sub("", line).replace("\t", " ").replace("\n", " ")
    text = text.split("#", 1)[0].strip()
    return text or None


def parse(text: str) -> Command:
    """Split a preprocessed line into id, command name and arguments."""
    words = text.split()
    cid: Optional[str] = None
    if words and _ID.fullmatch(words[0]):
        cid, words = words[0], words[1:]
    name = words[0] if words else ""
    return Command(cid, name, tuple(words[1:]))


def leading_id(text: str) -> Optional[str]:
    """The id of a line too long to parse, if it starts with one (so the error can echo it)."""
    m = _ID.match(text.lstrip())
    if m is None:
        return None
    rest = text.lstrip()[m.end():]
    return m.group() if rest == "" or rest[0] in " \t" else None


def _clean(text: str) -> str:
    """A result safe to frame: no control characters, no empty line inside, no trailing LF.

    A leading LF is kept on purpose: ``showboard`` answers ``= \\n<board>``, the form GNU Go
    and GoGui use, and it is not an empty line.
    """
    lines = [_CONTROL.sub("", ln).replace("\t", " ").rstrip() for ln in text.split("\n")]
    head, body = lines[0], [ln for ln in lines[1:] if ln]
    return "\n".join([head, *body])


def success(cid: Optional[str], result: str = "") -> str:
    return f"={cid or ''} {_clean(result)}\n\n"


def failure(cid: Optional[str], message: str) -> str:
    # An error message is one line: a handler's multi-line text would end the answer early.
    one_line = " ".join(_clean(message).split("\n")).strip() or "error"
    return f"?{cid or ''} {one_line}\n\n"


def line_too_long(line: str) -> str:
    return failure(leading_id(_CONTROL.sub("", line[:64])), "line too long")


# ------------------------------------------------------------------ streamed answers
@dataclass(frozen=True)
class Stream:
    """What a streaming handler (``lz-analyze`` & co.) answers, before framing.

    ``lines`` are printed at once; if ``repeat`` is set it is printed again every
    ``interval`` seconds until the next input line arrives (Leela Zero's analysis: the
    command runs until the controller sends anything else); then ``tail`` lines and the
    empty line that ends every GTP answer. ``grow``, when set, replaces the fixed repeat: each
    interval's line is ``grow(interval, stop)``, which searches on for that long (ending early once
    the event ``stop`` is set) and returns the line to print (a search that goes on, engine/mc_live.py).
    """

    lines: tuple[str, ...]
    tail: tuple[str, ...] = ()
    repeat: Optional[str] = None
    interval: float = 0.0  # seconds between repeats; 0: print once, still wait for input
    until_input: bool = False  # False: the answer ends at once (genmove_analyze)
    grow: Optional[Callable[[float, threading.Event], str]] = None


class Streamed(str):
    """A framed streamed answer. As a string it is the whole answer as printed when the next
    input line is already waiting (so ``GtpEngine.handle`` still returns text, and
    transcripts compare byte for byte); ``opening``/``repeat``/``closing`` are its pieces."""

    opening: str
    closing: str
    repeat: Optional[str]
    interval: float
    until_input: bool
    grow: Optional[Callable[[float, threading.Event], str]]

    def __new__(cls, cid: Optional[str], stream: Stream) -> "Streamed":
        # "=5\n" then one line each, as Leela Zero and KataGo frame their analysis output.
        opening = f"={cid or ''}\n" + "".join(answer_line(ln) for ln in stream.lines)
        closing = "".join(answer_line(ln) for ln in stream.tail) + "\n"
        self = super().__new__(cls, opening + closing)
        self.opening, self.closing = opening, closing
        self.repeat = None if stream.repeat is None else answer_line(stream.repeat)
        self.interval, self.until_input, self.grow = stream.interval, stream.until_input, stream.grow
        return self


class EarlyLines:
    """The lines of one answer that go out while its command still runs (``*-genmove_analyze``'s ``info``
    lines during the search, as KataGo prints them): the first sends the ``=[id]`` header before it.
    ``write`` None (an engine driven through ``GtpEngine.handle`` alone: tests, transcripts): they are kept
    and put in front of the rest of the answer, so the text is the same as printed."""

    def __init__(self, cid: Optional[str], write: Optional[Callable[[str], None]]) -> None:
        self.cid, self.write = cid, write
        self.kept: list[str] = []
        self.started = False

    def line(self, text: str) -> None:
        piece = ("" if self.started else f"={self.cid or ''}\n") + answer_line(text)
        self.started = True
        if self.write is None:
            self.kept.append(piece)
        else:
            self.write(piece)

    def rest(self, answer: str) -> str:
        """What is left to print of the framed success ``answer`` (``=[id]`` then lines) after the early lines."""
        if not self.started:
            return answer
        head = f"={self.cid or ''}\n"
        if not answer.startswith(head):  # "=id result" on one line: a handler mixing the two forms is a bug
            raise ValueError("an answer with early lines must be a stream")
        return "".join(self.kept) + answer[len(head):]

    def failed(self, message: str) -> str:
        """The answer to print when the command fails: ``? message``, unless its header has gone out, when the
        answer can only end (with its empty line)."""
        if self.started and self.write is not None:
            return "\n"
        return failure(self.cid, message)


def answer_line(text: str) -> str:
    """One non-empty output line: an empty line would end the answer early."""
    cleaned = " ".join(_clean(text).split("\n")).strip()
    return (cleaned or " ") + "\n"

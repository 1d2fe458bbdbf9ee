"""KataGo's analysis engine as the oracle: JSON lines over stdin/stdout.

One query per position: ``{id, moves, rules, komi, boardXSize, boardYSize, maxVisits,
includePolicy}``. The answer holds ``policy`` (N*N+1 priors, row-major from the top-left
corner, pass last, -1 where the move is illegal), ``rootInfo`` (winrate for Black, as
configured by ``reportAnalysisWinratesAs = BLACK``) and, when it searched, ``moveInfos``
sorted by ``order`` (0 = the move KataGo would play). At 1 visit there are no moveInfos:
the raw policy is the answer. Rules are ours: area scoring, positional superko, no
suicide (``engine.engines.KATAGO_RULES``).

Queries are answered one at a time (``numAnalysisThreads = 1`` in the shipped config);
a reader thread fills a queue so a hung engine is detected by a timeout, not a block.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional, Sequence

from engine.coords import Move, color_name, to_gtp
from engine.engines import KATAGO_RULES, default_katago_dir

_EOF = object()


class OracleError(RuntimeError):
    """KataGo refused a query, crashed, or did not answer in time."""


@dataclass(frozen=True)
class Analysis:
    """What one query returned, in our conventions."""

    policy: Optional[list[float]]  # (N*N+1,) priors, -1 for illegal, pass last; None unless asked for
    move_infos: list[dict]  # by order; empty at 1 visit
    root: dict  # rootInfo (winrate for Black, scoreLead, visits ...)
    raw: dict  # the whole answer


def analysis_command(katago_dir: Optional[Path] = None, size: int = 9) -> list[str]:
    d = Path(katago_dir or default_katago_dir())
    cfg = d / "configs" / ("analysis9.cfg" if size == 9 else "analysis.cfg")  # 9x9 config has a 9x9 NN buffer
    return [str(d / "bin" / "katago"), "analysis", "-model", str(d / "default_model.bin.gz"), "-config", str(cfg)]


class KataGoAnalysis:
    """``KataGoAnalysis().analyze(moves, size=9, komi=7, visits=1) -> Analysis``; close() when done."""

    def __init__(self, command: Optional[Sequence[str]] = None, size: int = 9, timeout: float = 300.0,
                 start_timeout: float = 240.0, stderr_path: Optional[str] = None) -> None:
        self.command = list(command or analysis_command(size=size))
        self.timeout = timeout
        self.start_timeout = start_timeout  # the first query waits for start-up (PoCL kernel compile)
        self._answered = False
        self._next_id = 0
        self._stderr: IO[bytes] = open(stderr_path, "ab") if stderr_path else open(os.devnull, "wb")
        try:
            self._proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=self._stderr, bufsize=0)
        except OSError as e:
            self._stderr.close()
            raise OracleError(f"cannot start KataGo {self.command[0]!r}: {e}") from None
        self._lines: "queue.Queue[object]" = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in iter(self._proc.stdout.readline, b""):
                self._lines.put(raw.decode("utf-8", "replace"))
        except (ValueError, OSError):  # close() closed the pipe under us
            pass
        self._lines.put(_EOF)

    def analyze(self, moves: Sequence[tuple[int, Move]], size: int = 9, komi: float = 7.0, visits: int = 1,
                include_policy: bool = True, timeout: Optional[float] = None) -> Analysis:
        """Analyse the position after ``moves`` ((colour, move) pairs, passes allowed)."""
        qid = f"q{self._next_id}"
        self._next_id += 1
        query = {
            "id": qid,
            "moves": [[color_name(c), to_gtp(m, size)] for c, m in moves],
            "rules": json.loads(KATAGO_RULES),
            "komi": komi,
            "boardXSize": size,
            "boardYSize": size,
            "maxVisits": visits,
            "includePolicy": include_policy,
        }
        if moves:
            query["initialPlayer"] = color_name(moves[0][0])  # so a game started by White replays right
        answer = self._ask(query, timeout if timeout is not None else
                           (self.timeout if self._answered else self.start_timeout))
        self._answered = True
        infos = sorted(answer.get("moveInfos", []), key=lambda m: m.get("order", 0))
        return Analysis(answer.get("policy"), infos, answer.get("rootInfo", {}), answer)

    def _ask(self, query: dict, timeout: float) -> dict:
        if self._proc.poll() is not None:
            raise OracleError(f"KataGo is not running (exit code {self._proc.poll()})")
        try:
            self._proc.stdin.write((json.dumps(query) + "\n").encode())
            self._proc.stdin.flush()
        except OSError:
            raise OracleError(f"KataGo closed its input (exit code {self._proc.poll()})") from None
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self._lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                self.close()
                raise OracleError(f"no answer to query {query['id']} within {timeout:g} s") from None
            if item is _EOF:
                raise OracleError(f"KataGo exited (code {self._proc.wait()}) during query {query['id']}")
            try:
                answer = json.loads(str(item))
            except json.JSONDecodeError:
                continue  # not ours to parse (KataGo logs to stderr, but be lenient)
            if answer.get("id") != query["id"] or "warning" in answer or answer.get("isDuringSearch"):
                continue
            if "error" in answer:
                raise OracleError(f"KataGo refused query {query['id']}: {answer['error']} "
                                  f"(field {answer.get('field')})")
            return answer

    def close(self) -> None:
        """Close stdin (KataGo finishes and exits), then kill if it lingers; safe to call twice."""
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.stdin.close()
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        # stdout is closed only after the reader saw EOF: closing it under the reader would free
        # the fd number for the next subprocess, whose output the old reader would then steal.
        self._reader.join(timeout=2.0)
        for f in (proc.stdin,) + (() if self._reader.is_alive() else (proc.stdout,)):
            try:
                f.close()
            except OSError:
                pass
        if not self._stderr.closed:
            self._stderr.close()

    def __enter__(self) -> "KataGoAnalysis":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

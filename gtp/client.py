"""A GTP client for any engine run as a subprocess (GNU Go, KataGo, ourselves).

One command at a time, numbered ids checked on the way back, a per-command timeout,
stderr drained to a log file (so the engine can never block on a full pipe), crash and
hang detection with clear errors, clean shutdown. The arena and the data factory talk
to engines only through this class.
"""

from __future__ import annotations

import os
import queue
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Optional, Sequence


class GtpClientError(RuntimeError):
    """Base of what can go wrong talking to an engine."""


class GtpFailure(GtpClientError):
    """The engine answered `? message` (the message is in .message)."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(f"{command!r} failed: {message}")
        self.command = command
        self.message = message


class GtpTimeout(GtpClientError):
    """No complete answer within the time limit (the engine is killed)."""


class GtpCrash(GtpClientError):
    """The engine exited or closed its stdout."""


@dataclass
class EngineSpec:
    """How to start an engine: command line, a display name, and commands sent on start."""

    name: str
    command: Sequence[str]
    setup: Sequence[str] = field(default_factory=tuple)  # e.g. ("kata-set-rules ...",)
    cwd: Optional[str] = None
    env: Optional[dict] = None

    @classmethod
    def from_string(cls, name: str, command: str, setup: Sequence[str] = ()) -> "EngineSpec":
        return cls(name=name, command=shlex.split(command), setup=tuple(setup))


_EOF = object()


class GtpClient:
    """``GtpClient(spec).send("genmove b") -> "D4"``; raises GtpFailure/GtpTimeout/GtpCrash."""

    def __init__(self, spec: EngineSpec, timeout: float = 60.0, stderr_path: Optional[str] = None,
                 start_timeout: float = 180.0) -> None:
        self.spec = spec
        self.timeout = timeout
        self.start_timeout = start_timeout  # first KataGo start compiles OpenCL kernels
        self.stderr_path = stderr_path
        self._proc: Optional[subprocess.Popen] = None
        self._lines: "queue.Queue[object]" = queue.Queue()
        self._next_id = 1
        self._stderr: Optional[IO[bytes]] = None
        self._reader: Optional[threading.Thread] = None
        self.start()

    # -------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._stderr = open(self.stderr_path, "ab") if self.stderr_path else open(os.devnull, "wb")
        env = None if self.spec.env is None else {**os.environ, **self.spec.env}
        try:
            self._proc = subprocess.Popen(
                list(self.spec.command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr, cwd=self.spec.cwd, env=env, bufsize=0,
            )
        except OSError as e:
            self._stderr.close()
            raise GtpCrash(f"{self.spec.name}: cannot start {self.spec.command[0]!r}: {e}") from None
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(self._proc.stdout, self._lines), daemon=True)
        self._reader.start()
        try:
            first = True
            for cmd in self.spec.setup:
                self.send(cmd, timeout=self.start_timeout if first else None)
                first = False
            if first:  # no setup commands: still prove the engine is alive
                self.send("protocol_version", timeout=self.start_timeout)
        except GtpClientError:
            self.close(grace=0.5)  # do not leak the process and the log handle of an engine that failed to start
            raise

    @staticmethod
    def _read(stream, lines: "queue.Queue[object]") -> None:
        try:
            for raw in iter(stream.readline, b""):
                lines.put(raw.decode("utf-8", "replace"))
        except (ValueError, OSError):  # close() closed the pipe under us: that is the end too
            pass
        lines.put(_EOF)

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return None if self._proc is None else self._proc.pid

    def close(self, grace: float = 5.0) -> None:
        """Send quit, wait a little, then kill; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.stdin.write(b"quit\n")
                proc.stdin.flush()
                proc.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # Close stdout only once the reader thread has seen EOF: closing it under a reader that
        # is between two read(1) calls frees the fd number, the next Popen reuses it, and the
        # old reader then steals bytes from the new engine (seen as a lost "=").
        if self._reader is not None:
            self._reader.join(timeout=2.0)
        reading = self._reader is not None and self._reader.is_alive()
        for f in (proc.stdin,) + (() if reading else (proc.stdout,)):
            try:
                f.close()
            except OSError:
                pass
        if self._stderr:
            self._stderr.close()

    def restart(self) -> None:
        self.close(grace=1.0)
        self.start()

    def __enter__(self) -> "GtpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- commands
    def send(self, command: str, timeout: Optional[float] = None) -> str:
        """Send one command; return the answer text (without `=id `)."""
        if "\n" in command:
            raise ValueError("one command per call")
        if not self.alive:
            raise GtpCrash(f"{self.spec.name} is not running")
        cid = self._next_id
        self._next_id += 1
        try:
            self._proc.stdin.write(f"{cid} {command}\n".encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise GtpCrash(f"{self.spec.name} closed its input (exit code {self._proc.poll()})") from None
        status, body = self._answer(cid, command, self.timeout if timeout is None else timeout)
        if status == "?":
            raise GtpFailure(command, body)
        return body

    def _answer(self, cid: int, command: str, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = self._lines.get(timeout=max(remaining, 0.0)) if remaining > 0 else self._lines.get_nowait()
            except queue.Empty:
                self._kill()
                raise GtpTimeout(f"{self.spec.name}: no answer to {command!r} within {timeout:g} s") from None
            if item is _EOF:
                code = self._proc.wait() if self._proc else None
                raise GtpCrash(f"{self.spec.name} exited (code {code}) during {command!r}")
            line = str(item).replace("\r", "").rstrip("\n")
            if not lines and not line.strip():
                continue  # stray blank lines between answers
            if line.strip() == "" and lines:
                break
            lines.append(line)
        head, _, rest = lines[0].partition(" ")
        status, rid = head[:1], head[1:]
        if status not in "=?" or (rid and rid != str(cid)):
            raise GtpClientError(f"{self.spec.name}: unexpected answer {lines[0]!r} to {cid} {command!r}")
        body = "\n".join([rest] + lines[1:]).strip()
        return status, body

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

"""Running another program (diff, git, grep, pip, sendmail, an editor...): the one helper.

``run`` starts the program and says what went wrong in one line, the same way everywhere:
a program that cannot be started is a ``ProgramMissing`` naming it; an exit status outside
``ok`` is an ``F5QuiltError`` with the last line of its standard error (or the status when it
said nothing). ``ok=None`` leaves the status to the caller (diff's 1, grep's own exit code).
Standard input is closed unless ``input`` is given or ``stdin`` says otherwise.
"""
from __future__ import annotations

import os

from f5quilt.errors import F5QuiltError

TYPE_CHECKING = False  # typing only for mypy: ``capture`` runs in a shell-prompt query's start-up
if TYPE_CHECKING:
    import subprocess
    from typing import IO, Any, Collection, Mapping, Optional, Sequence, Tuple, Union

    Stream = Union[None, int, IO[Any]]

# subprocess's values (imported where a program runs: quilt mode's quiltrc, read by every
# command, the shell-prompt queries included, goes through ``capture`` without it)
PIPE = -1
DEVNULL = -3
INHERIT = None  # stdin/stdout/stderr as f5quilt's own
# git's words, whatever the user's locale (as GitPython ran it): messages are parsed and shown
GIT_ENV = {"LANGUAGE": "C", "LC_ALL": "C"}


class ProgramMissing(F5QuiltError):
    """The program could not be started (not installed, not executable)."""


def last_line(text: Union[str, bytes, None]) -> str:
    """The last line that says something (an error's conclusion), stripped."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run(argv: Sequence[str], *, cwd: Union[str, "os.PathLike[str]", None] = None,
        input: Union[bytes, str, None] = None, env: Optional[Mapping[str, str]] = None,
        ok: Optional[Collection[int]] = (0,), stdin: Stream = DEVNULL, stdout: Stream = PIPE,
        stderr: Stream = PIPE, text: bool = False, timeout: Optional[float] = None,
        what: Optional[str] = None, missing: Optional[str] = None) -> "subprocess.CompletedProcess[Any]":
    """Run ``argv`` and wait for it; its output captured unless ``stdout``/``stderr`` say
    otherwise (``INHERIT``: f5quilt's own). ``env`` adds to (or overrides) the environment.
    ``what`` names the program in errors (default ``argv[0]``); ``missing`` replaces the
    message when it cannot be started."""
    import subprocess
    name = what or argv[0]
    try:
        result = subprocess.run(list(argv), cwd=cwd, input=input, stdin=None if input is not None else stdin,
                                stdout=stdout, stderr=stderr, text=text, timeout=timeout,
                                env={**os.environ, **env} if env is not None else None)
    except FileNotFoundError as exc:
        if cwd is not None and not os.path.isdir(cwd):
            raise  # the folder, not the program: the error boundary names it
        raise ProgramMissing(missing or f"{argv[0]}: command not found") from exc
    except OSError as exc:  # not executable, a bad interpreter line...
        raise ProgramMissing(missing or f"{argv[0]}: {exc.strerror or exc}") from exc
    except subprocess.TimeoutExpired:
        raise F5QuiltError(f"{name}: no answer after {timeout:g} s") from None
    if ok is not None and result.returncode not in ok:
        said = last_line(result.stderr) if stderr == PIPE else ""
        raise F5QuiltError(f"{name}: {said}" if said else f"{name} failed (exit status {result.returncode})")
    return result


def capture(argv: Sequence[str], env: Mapping[str, str]) -> Tuple[int, bytes, bytes]:
    """Run ``argv[0]`` (found on PATH) with exactly ``env``, stdin closed, and return its exit
    status, stdout and stderr: what ``run(argv, env=env, ok=None)`` gives, without importing
    subprocess (several milliseconds of start-up). For quilt mode's quiltrc, which every command
    reads before it does anything (repo/quiltrc.py). A program that cannot start is
    ``ProgramMissing``."""
    import select  # lazy: start-up
    try:  # signal's numbers without signal.py, whose enums cost a prompt's query a millisecond
        import _signal as signal  # lazy: start-up
    except ImportError:  # not CPython
        import signal  # lazy: start-up

    out_r, out_w = os.pipe()  # not inherited: the child gets them only as its 1 and 2
    err_r, err_w = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        pid = os.posix_spawnp(argv[0], list(argv), dict(env), file_actions=[
            (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)],
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))  # what Python ignores, as subprocess restores
    except FileNotFoundError as exc:
        for fd in (out_r, err_r):
            os.close(fd)
        raise ProgramMissing(f"{argv[0]}: command not found") from exc
    except OSError as exc:
        for fd in (out_r, err_r):
            os.close(fd)
        raise ProgramMissing(f"{argv[0]}: {exc.strerror or exc}") from exc
    finally:
        for fd in (null, out_w, err_w):
            os.close(fd)
    chunks: dict = {out_r: [], err_r: []}  # type: ignore[type-arg]
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    open_fds = set(chunks)
    try:
        while open_fds:  # both read as they come: a chatty stderr cannot stall stdout
            for fd, _event in poller.poll():
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    open_fds.discard(fd)
    finally:
        for fd in chunks:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks[out_r]), b"".join(chunks[err_r])

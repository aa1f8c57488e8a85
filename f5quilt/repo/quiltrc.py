"""quilt's configuration file, read as quilt reads it (quilt mode only: no f5quilt.yaml).

quilt sources the first of ``--quiltrc FILE`` (``-`` for none), ``$QUILTRC``,
``~/.quiltrc``, ``/etc/quilt.quiltrc`` with bash; so does f5quilt: the file is
sourced by ``bash`` in a clean shell (stdin closed, its output dropped) and the
``QUILT_*`` variables it leaves (the environment's included, as in quilt) are
what f5quilt honours. Real quiltrcs are shell code (Debian's tests ``$LESS``;
the Debian developers' one walks up to ``debian/``), which an assignment parser
would misread; bash reads them all. A quiltrc that fails is a one-line error.
"""
from __future__ import annotations

import os

from f5quilt.errors import F5QuiltError
from f5quilt.repo.layout import settings_file_above, shell_words

TYPE_CHECKING = False  # typing only for mypy: pathlib and typing stay out of a prompt's query
if TYPE_CHECKING:
    from typing import Collection, Dict, List, Optional, Tuple

# proc and shlex are imported where used: every command in quilt mode, the shell-prompt
# queries included, reads the quiltrc

SYSTEM_QUILTRC = "/etc/quilt.quiltrc"

# what bash prints after sourcing: NAME=VALUE\0 for every QUILT_* variable (and EDITOR)
_DUMP = ('. "$1" </dev/null >/dev/null; '
         'for v in ${!QUILT_*} EDITOR; do [ -n "${!v+x}" ] && printf "%s=%s\\0" "$v" "${!v}"; done; exit 0')


def locate(option: Optional[str], env: Dict[str, str]) -> Optional[str]:
    """The quiltrc quilt would read: ``--quiltrc`` (``-``: none), ``$QUILTRC``, ~/.quiltrc, /etc."""
    if option is not None:
        return None if option == "-" else option
    if "QUILTRC" in env:
        value = env["QUILTRC"]
        return None if value in ("", "-") else value
    home = env.get("HOME")
    if home and os.path.isfile(os.path.join(home, ".quiltrc")):
        return os.path.join(home, ".quiltrc")
    if os.path.isfile(SYSTEM_QUILTRC):
        return SYSTEM_QUILTRC
    return None


def source(path: str, env: Dict[str, str]) -> Dict[str, str]:
    """The QUILT_* variables after bash sources ``path`` (with ``env`` as its environment)."""
    if not os.path.isfile(path):
        if os.path.normpath(path) == os.devnull:
            return {k: v for k, v in env.items() if k.startswith("QUILT_")}
        raise F5QuiltError(f"{path}: quiltrc not found")
    from f5quilt import proc
    try:
        returncode, stdout, stderr = proc.capture(
            ["bash", "--noprofile", "--norc", "-c", _DUMP, "bash", str(path)], env={**os.environ, **env})
    except proc.ProgramMissing:
        raise F5QuiltError(f"{path}: a quiltrc is a bash fragment and bash is not installed "
                           "(pass --quiltrc - to read none)") from None
    if returncode != 0 or stderr:
        detail = stderr.decode("utf-8", "replace").strip().splitlines()
        raise F5QuiltError(f"{path}: the quiltrc failed when sourced by bash"
                           + (f": {detail[-1]}" if detail else ""))
    out: Dict[str, str] = {}
    for item in stdout.split(b"\0"):
        if b"=" in item:
            key, _, value = item.partition(b"=")
            out[key.decode()] = value.decode("utf-8", "surrogateescape")
    return out


def load(option: Optional[str] = None, env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Read the quiltrc: its QUILT_* variables (the environment's included, as in quilt), or the
    environment's alone when there is none. The command line reads it once and hands the result
    to ``load_settings``: ``Settings.quiltrc`` is where commands find it."""
    env = dict(os.environ if env is None else env)
    path = locate(option, env)
    return source(path, env) if path is not None else {
        k: v for k, v in env.items() if k.startswith("QUILT_")}


def command_args(command: str, variables: Dict[str, str]) -> List[str]:
    """``QUILT_<COMMAND>_ARGS``, split as the shell splits it (quilt puts it before the arguments)."""
    value = variables.get(f"QUILT_{command.upper().replace('-', '_')}_ARGS", "")
    if not value:
        return []
    try:
        return shell_words(value)
    except ValueError as exc:
        raise F5QuiltError(f"QUILT_{command.upper()}_ARGS: {exc}") from None


def flag(variables: Dict[str, str], name: str) -> bool:
    """A yes/no variable as quilt tests it: set and not empty."""
    return bool(variables.get(name))


def command_line(argv: List[str], commands: Collection[str]) -> Tuple[List[str], Optional[Dict[str, str]]]:
    """The command line as quilt mode reads it: quilt's ``--quiltrc FILE`` before the command
    taken off; without an f5quilt.yaml, the quiltrc read (``load``) and its
    ``QUILT_<COMMAND>_ARGS`` put before the command's own arguments (for a name in
    ``commands``). The arguments left, and the quiltrc's variables (None with f5quilt.yaml)."""
    option: Optional[str] = None
    rest = list(argv)
    if rest and rest[0].startswith("--quiltrc"):
        if rest[0] == "--quiltrc" and len(rest) > 1:
            option, rest = rest[1], rest[2:]
        elif rest[0].startswith("--quiltrc="):
            option, rest = rest[0].split("=", 1)[1], rest[1:]
    if settings_file_above(os.path.realpath(os.getcwd())) is not None:
        return rest, None
    variables = load(option)  # for load_settings: Settings.quiltrc
    if rest and rest[0] in commands:
        rest = [rest[0], *command_args(rest[0], variables), *rest[1:]]
    return rest, variables

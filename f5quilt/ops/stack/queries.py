"""The shell-prompt queries (series, applied, top) without click: what they print and the
error they end with. ``cli/query.py`` runs them for click's commands and ``f5quilt/fastpath.py``
for the same command lines parsed without click; both hand in ``echo`` (click.echo's rules)."""
from __future__ import annotations

from typing import Any, Callable, Optional

from f5quilt.errors import F5QuiltError, NotFound, NothingToDo
from f5quilt.repo.settings import Dialect
from f5quilt.repo.workspace import Workspace

Echo = Callable[[str], None]


def none_applied(ws: Workspace) -> F5QuiltError:
    """quilt's refresh, diff, files, applied and previous fail (1) with nothing applied;
    f5quilt says 2."""
    if ws.settings.dialect is Dialect.QUILT:
        return NotFound("No patches applied" if ws.series.entries else "No patches in series")
    return NothingToDo("No patches applied")


def _json(data: Any, echo: Echo) -> None:
    import json  # only for --json: a prompt's query starts without it
    echo(json.dumps(data, indent=2))


def series(ws: Workspace, verbose: bool, as_json: bool, echo: Echo) -> None:
    applied = ws.stack.applied()
    top = applied[-1] if applied else None
    if as_json:
        _json([{"patch": e.name, "applied": e.name in applied, "top": e.name == top,
                "strip": e.strip, "reverse": e.reverse, "guards": list(e.guards)} for e in ws.series.entries],
              echo)
        return
    skipped = {}
    if verbose and any(e.guards for e in ws.series.entries):
        from f5quilt.ops.stack.guards import guarded_out  # lazy: start-up
        skipped = guarded_out(ws, ws.series.names)
    shown = ws.settings.patches_display  # ws.display(name), worked out once, not once a patch
    lines = []
    for entry in ws.series.entries:
        name = entry.name
        if verbose:
            mark = "=" if name == top else ("+" if name in applied else ("G" if name in skipped else " "))
            guards = "".join(f" #{g}" for g in entry.guards)
            lines.append(f"{mark} {shown}/{name}{guards}")
        else:
            lines.append(f"{shown}/{name}")
    if lines:  # one write: a long series is one flush, not one a patch
        echo("\n".join(lines))
    return


def applied(ws: Workspace, patch: Optional[str], as_json: bool, echo: Echo) -> None:
    names = ws.stack.applied()
    if patch is not None:
        name = ws.resolve_name(patch)
        if name not in names:
            raise F5QuiltError(f"Patch {ws.display(name)} is not applied")
        names = names[:names.index(name) + 1]
    if as_json:
        _json(names, echo)
    if not names:
        raise none_applied(ws)
    if not as_json:
        shown = ws.settings.patches_display  # ws.display(name), worked out once
        echo("\n".join(f"{shown}/{name}" for name in names))  # one write
    return


def top(ws: Workspace, as_json: bool, echo: Echo) -> None:
    name = ws.stack.top()
    if as_json:
        _json({"top": name}, echo)
    if name is None:
        quilt_empty = ws.settings.dialect is Dialect.QUILT and not ws.series.entries
        raise NothingToDo("No patches in series" if quilt_empty else "No patches applied")
    if not as_json:
        echo(ws.display(name))
    return

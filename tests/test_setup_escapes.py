"""setup (from a spec or a series file) never writes outside the folder it runs in: each
escape found in issue 18 against a canary folder beside the project that must stay as it
was, and the spec inputs that used to be tracebacks, each one line now."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from helpers import canary_intact
from test_setup_spec import HELLO, f5, sources, tarball


def _spec(prep: str) -> str:
    return HELLO.split("%prep\n")[0] + "%prep\n" + prep


@pytest.mark.parametrize("prep,what", [
    ("%setup -q -n ../../canary/X\n%patch0 -p1\n", "%setup -n '../../canary/X' leads outside"),
    ("%setup -q\ncd ../..\n%patch0 -p1\n", "cd 'hello-1.2/../..' leads outside"),
    ("%setup -q\n%patch0 -p1 -d ../../canary\n", "%patch -d"),
    ("%setup -q -c -n {canary}/X\n%patch0 -p1\n", "leads outside"),
])
def test_spec_cannot_send_setup_out(tmp_path: Path, canary: Path, prep: str, what: str) -> None:
    work = tmp_path / "w"
    work.mkdir()
    sources(work)
    (work / "bad.spec").write_text(_spec(prep.format(canary=canary)))
    rc, out = f5(work, "setup", "bad.spec")
    assert rc == 1 and what in out and out.count("\n") == 1 and "Traceback" not in out, out
    canary_intact(canary)
    assert not (work / "hello-1.2").exists()


def _evil_tar(path: Path, members: List[Tuple[str, str, str]]) -> None:
    """(kind, name, data-or-target) members, in order: "f" file, "s" symlink, "h" hard link."""
    with tarfile.open(path, "w:gz") as tar:
        for kind, name, data in members:
            info = tarfile.TarInfo(name)
            if kind == "f":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data.encode()))
            else:
                info.type = tarfile.SYMTYPE if kind == "s" else tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)


EVIL: Dict[str, List[Tuple[str, str, str]]] = {
    "file through a symlink": [("f", "hello-1.2/main.c", "line1\nline2\nline3\n"),
                               ("s", "hello-1.2/out", "../../../canary"),
                               ("f", "hello-1.2/out/evil", "x\n")],
    "file through an inside-looking symlink": [("f", "hello-1.2/main.c", "line1\nline2\nline3\n"),
                                               ("s", "hello-1.2/here", "."),
                                               ("s", "hello-1.2/here/out", "../../../canary"),
                                               ("f", "hello-1.2/here/out/evil", "x\n")],
    "hard link to a symlink": [("s", "hello-1.2/out", "../../../canary/precious"),
                               ("h", "hello-1.2/main.c", "hello-1.2/out"),
                               ("f", "hello-1.2/main.c", "overwritten\n")],
    "absolute name": [("f", "/tmp/f5quilt-evil-abs", "x\n")],
    "dot-dot name": [("f", "hello-1.2/../../canary/evil", "x\n")],
    "shipped journal": [("f", "hello-1.2/main.c", "line1\nline2\nline3\n"),
                        ("s", "hello-1.2/out", "../../canary"),
                        ("f", "hello-1.2/.pc/.f5quilt/txn/journal",
                         '{"command": "x"}\n{"op": "file", "root": "tree", "rel": "out/precious", '
                         '"before": null}\n')],
}


@pytest.mark.parametrize("case", list(EVIL))
@pytest.mark.parametrize("form", ["spec", "series"])
def test_archive_cannot_write_out(tmp_path: Path, canary: Path, case: str, form: str) -> None:
    work = tmp_path / "w"
    work.mkdir()
    sources(work)
    _evil_tar(work / "hello-1.2.tar.gz", EVIL[case])
    if form == "spec":
        (work / "s.spec").write_text(_spec("%setup -q\n%patch0 -p1\n"))
        args = ["setup", "s.spec"]
    else:
        (work / "s.series").write_text("# Source: hello-1.2.tar.gz\n# Patchdir: hello-1.2\n#\nfix-main.patch\n")
        args = ["setup", "s.series"]
    rc, out = f5(work, *args)
    errors = [line for line in out.splitlines() if not line.startswith("Unpacking archive")]
    assert rc == 1 and len(errors) == 1 and "Traceback" not in out, out
    canary_intact(canary)
    assert not Path("/tmp/f5quilt-evil-abs").exists()
    assert not (work / "hello-1.2").exists()


@pytest.mark.parametrize("line,what", [
    ("%bcond_with\n", "%bcond_with without a name"),
    ("%undefine\n", "%undefine without a name"),
    ("%setup -q -a x\n", "-a 'x' is not a number"),
    ("%setup -q\n%patch -P one\n", "-P 'one' is not a number"),
    ("%setup -q\n%autopatch -m x\n", "-m 'x' is not a number"),
])
def test_spec_values_are_one_line(tmp_path: Path, line: str, what: str) -> None:
    sources(tmp_path)
    if line.startswith(("%bcond", "%undefine")):
        text = line + HELLO
    else:
        text = _spec(line)
    (tmp_path / "bad.spec").write_text(text)
    rc, out = f5(tmp_path, "setup", "bad.spec")
    assert rc == 1 and what in out and out.count("\n") == 1 and "Traceback" not in out, out


def test_nul_in_name_is_one_line(tmp_path: Path) -> None:
    sources(tmp_path)
    (tmp_path / "bad.spec").write_bytes(HELLO.replace("Name:           hello", "Name: hel\0lo").encode())
    rc, out = f5(tmp_path, "setup", "bad.spec")
    assert rc == 1 and "NUL" in out and out.count("\n") == 1 and "Traceback" not in out, out


def test_a_plain_archive_still_unpacks(tmp_path: Path) -> None:
    sources(tmp_path)
    tarball(tmp_path / "hello-1.2.tar.gz", "hello-1.2", {"main.c": "line1\nline2\nline3\n", "README": "doc\n"})
    (tmp_path / "s.spec").write_text(_spec("%setup -q\n%patch0 -p1\n"))
    rc, out = f5(tmp_path, "setup", "s.spec")
    assert rc == 0, out
    assert (tmp_path / "hello-1.2/series").read_text().endswith("fix-main.patch\n")

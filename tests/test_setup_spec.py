"""quilt setup from an RPM spec file, read without rpmbuild: the tree and series file
as GNU quilt 0.66's setup gives them (compared with the real one where rpmbuild is)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, Tuple

import pytest

from helpers import ROOT, snapshot

MAIN_PATCH = "--- a/main.c\n+++ b/main.c\n@@ -1,3 +1,3 @@\n line1\n-line2\n+line two\n line3\n"
README_PATCH = "--- README\n+++ README\n@@ -1 +1 @@\n-doc\n+documentation\n"


def tarball(path: Path, top: str, files: Dict[str, str]) -> None:
    src = path.parent / f".build-{path.name}"
    for rel, text in files.items():
        (src / top / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / top / rel).write_text(text)
    mode = "w:bz2" if path.name.endswith("bz2") else "w:gz"
    with tarfile.open(path, mode) as tar:
        tar.add(src / top, arcname=top)
    shutil.rmtree(src)


def sources(d: Path) -> None:
    tarball(d / "hello-1.2.tar.gz", "hello-1.2", {"main.c": "line1\nline2\nline3\n", "README": "doc\n"})
    tarball(d / "extra-data.tar.bz2", "extra", {"data.txt": "x\n"})
    (d / "fix-main.patch").write_text(MAIN_PATCH)
    (d / "readme.patch").write_text(README_PATCH)


HELLO = """%global debug_package %{nil}
%define major 1
Name:           hello
Version:        %{major}.2
Release:        3%{?dist}
Summary:        Hello
License:        MIT
Source0:        https://example.org/%{name}-%{version}.tar.gz
Source1:        extra-data.tar.bz2
Patch0:         fix-main.patch
Patch1:         readme.patch

%description
Hello.

%prep
%setup -q -a 1
%patch0 -p1
%patch1 -p0
sed -i 's/x/y/' README

%build
make
"""

AUTO = """%bcond_without docs
%global srcname hello
Name:           python-%{srcname}
Version:        1.2
Release:        1%{?dist}
Summary:        Hello
License:        MIT
Source:         %{srcname}-%{version}.tar.gz
Patch:          fix-main.patch
Patch:          readme.patch
%if 0%{?fedora} >= 38 || 0%{?rhel}
Patch:          fedora-only.patch
%endif
%if %{with docs}
Source1:        extra-data.tar.bz2
%endif

%description
x

%prep
%autosetup -n %{srcname}-%{version} -p0 -a1
"""


def f5(cwd: Path, *args: str) -> Tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", LC_ALL="C")
    r = subprocess.run([sys.executable, "-m", "f5quilt", *args], cwd=cwd, env=env, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def tree(d: Path) -> Dict[str, bytes]:
    return {k: v for k, v in snapshot(d).items() if not k.startswith(".f5quilt")}


def test_setup_spec_tree_and_series(tmp_path: Path) -> None:
    sources(tmp_path)
    (tmp_path / "hello.spec").write_text(HELLO)
    rc, out = f5(tmp_path, "setup", "-d", "out", "hello.spec")
    assert (rc, out) == (0, "Unpacking archive hello-1.2.tar.gz\nUnpacking archive extra-data.tar.bz2\n")
    top = tmp_path / "out" / "hello-1.2"
    assert (top / "series").read_text() == (
        "# Patch series file for quilt, created by quilt setup\n# Sourcedir: hello-1.2\n"
        "# Source: extra-data.tar.bz2\n# Patchdir: hello-1.2\n#\nfix-main.patch\nreadme.patch -p0\n")
    assert os.readlink(top / "patches") == "../.."
    assert (top / "main.c").read_text() == "line1\nline2\nline3\n"  # patches are listed, not applied
    assert (top / "extra" / "data.txt").read_text() == "x\n"
    assert (top / ".pc" / ".quilt_series").read_text() == "series\n"
    if shutil.which("quilt"):  # GNU quilt pushes the series f5quilt wrote
        r = subprocess.run(["quilt", "push", "-a"], cwd=top, capture_output=True, text=True,
                           env=dict(os.environ, QUILTRC="/dev/null"))
        assert r.returncode == 0, r.stdout + r.stderr
        assert (top / "README").read_text() == "documentation\n"
    # a second run refuses: the folder is there (nothing overwritten)
    rc, out = f5(tmp_path, "setup", "-d", "out", "hello.spec")
    assert (rc, out) == (1, "Directory out/hello-1.2 exists\n")


@pytest.mark.skipif(shutil.which("rpmbuild") is None or shutil.which("quilt") is None,
                    reason="needs GNU quilt and rpmbuild (apt-get install rpm)")
def test_setup_spec_same_as_gnu_quilt(tmp_path: Path) -> None:
    """GNU quilt 0.66 --fast with rpm 4.18 (its %setup unpacks through rpmuncompress, which
    quilt's wrapper does not see, so its header lacks the Sourcedir/Source lines; the slow
    default unpacks nothing at all there): same tree, same patches, same options."""
    # (%autosetup: quilt 0.66 records rpm 4.18's patches as unmatched md5sums, so only %setup/%patch)
    c_spec = (HELLO.replace("%setup -q -a 1", "%setup -q -c -n top -T -a 1\ncd extra")
              .replace("%patch0 -p1\n%patch1 -p0\n", "%patch -P 0 -P 1 -p2 -R\n"))
    for spec, text, srcdir, top in (("hello.spec", HELLO, "", "hello-1.2"), ("c.spec", c_spec, "SOURCES", "top/extra")):
        for side in ("q", "f"):
            d = tmp_path / side / spec
            (d / srcdir).mkdir(parents=True)
            sources(d / srcdir)
            (d / spec).write_text(text)
        opts = ["--sourcedir", srcdir] if srcdir else []
        r = subprocess.run(["quilt", "setup", "--fast", *opts, "-d", "out", spec], cwd=tmp_path / "q" / spec,
                           capture_output=True, text=True, env=dict(os.environ, QUILTRC="/dev/null"))
        assert r.returncode == 0, r.stdout + r.stderr
        rc, out = f5(tmp_path / "f" / spec, "setup", *opts, "-d", "out", spec)
        assert rc == 0, out
        q, f = tree(tmp_path / "q" / spec / "out"), tree(tmp_path / "f" / spec / "out")

        def strip(s: bytes) -> bytes:
            return b"".join(l for l in s.splitlines(True) if not l.startswith((b"# Source", b"# Sourcedir")))
        q = {k: strip(v) if k.endswith("series") else v for k, v in q.items()}
        f = {k: strip(v) if k.endswith("series") else v for k, v in f.items()}
        assert f == q and f"{top}/series" in f
        assert os.readlink(tmp_path / "q" / spec / "out" / top / "patches") == \
            os.readlink(tmp_path / "f" / spec / "out" / top / "patches")


def test_setup_autosetup_conditionals(tmp_path: Path) -> None:
    sources(tmp_path)
    (tmp_path / "python-hello.spec").write_text(AUTO)
    rc, out = f5(tmp_path, "setup", "python-hello.spec")
    assert rc == 0, out
    assert (tmp_path / "hello-1.2/series").read_text().endswith(
        "#\nfix-main.patch -p0\nreadme.patch -p0\n")  # not fedora-only.patch: %{?fedora} is undefined
    assert (tmp_path / "hello-1.2/extra/data.txt").is_file()  # %bcond_without docs: with_docs


@pytest.mark.parametrize("prep, line, what", [
    ("%setup -q\n%(echo hi)\n", 18, "shell expansion"),
    ("%setup -q\npatch -p1 < %{PATCH0}\n", 18, "shell line"),
    ("%ifarch x86_64\n%setup -q\n%endif\n", 17, "%ifarch"),
    ("%setup -q\n%{lua: print('x')}\n", 18, "%{lua}"),
    ("%setup -q\n%patch7 -p1\n", 18, "Patch7 is not defined"),
    ("%setup -q\n%patch0 -p1 %{undefined_thing}\n", 18, "%{undefined_thing} is not defined"),
])
def test_setup_spec_what_cannot_be_evaluated(tmp_path: Path, prep: str, line: int, what: str) -> None:
    sources(tmp_path)
    (tmp_path / "bad.spec").write_text(HELLO.split("%prep\n")[0] + "%prep\n" + prep)
    rc, out = f5(tmp_path, "setup", "bad.spec")
    assert rc == 1
    assert out.startswith(f"bad.spec:{line}: ") and what in out and out.count("\n") == 1, out
    assert not (tmp_path / "hello-1.2").exists()


def test_setup_spec_create_dir_and_sourcedir(tmp_path: Path) -> None:
    src = tmp_path / "SOURCES"
    src.mkdir()
    sources(src)
    (tmp_path / "c.spec").write_text(HELLO.replace("%setup -q -a 1", "%setup -q -c -n top -T -a 1\ncd extra")
                                     .replace("%patch0 -p1\n%patch1 -p0\n", "%patch -P 0 -P 1 -p2 -R\n"))
    rc, out = f5(tmp_path, "setup", "--sourcedir", "SOURCES", "-d", "w", "c.spec")
    assert (rc, out) == (0, "Unpacking archive SOURCES/extra-data.tar.bz2\n")
    series = tmp_path / "w/top/extra/series"
    assert series.read_text() == ("# Patch series file for quilt, created by quilt setup\n# Sourcedir: top\n"
                                  "# Source: extra-data.tar.bz2\n# Patchdir: top/extra\n#\n"
                                  "fix-main.patch -p2 -R\nreadme.patch -p2 -R\n")
    assert os.readlink(tmp_path / "w/top/extra/patches") == "../../../SOURCES"


@pytest.mark.kill
def test_setup_spec_killed_at_every_point_is_rolled_back(tmp_path: Path) -> None:
    from test_transaction import kill_every_point
    template = tmp_path / "template"
    template.mkdir()
    sources(template)
    (template / "hello.spec").write_text(HELLO)
    (template / "bad.spec").write_text(HELLO.replace("%patch1 -p0", "%(true)"))
    # the next setup (one that then fails on its spec) rolls the killed one back first
    points = kill_every_point(template, tmp_path, ["setup", "-d", "out", "hello.spec"], "",
                              next_cmd=("setup", "-d", "out", "bad.spec"))
    assert points > 3


def test_setup_spec_zip_source_global_and_string_if(tmp_path: Path) -> None:
    import zipfile
    sources(tmp_path)
    with zipfile.ZipFile(tmp_path / "docs-1.0.zip", "w") as zf:
        zf.writestr("docs/index.txt", "index\n")
    spec = (HELLO.replace("Source1:        extra-data.tar.bz2", "%if \"%{name}\" == \"hello\"\n"
                          "Source1:        docs-1.0.zip\n%else\nSource1:        extra-data.tar.bz2\n%endif")
            .replace("%global debug_package %{nil}", "%global debug_package %{nil}\n"
                     "%global shortcommit %(c=abcdef; echo ${c:0:3})"))
    (tmp_path / "z.spec").write_text(spec)
    rc, out = f5(tmp_path, "setup", "z.spec")
    assert (rc, out) == (0, "Unpacking archive hello-1.2.tar.gz\nUnpacking archive docs-1.0.zip\n")
    assert (tmp_path / "hello-1.2/docs/index.txt").read_text() == "index\n"
    # the %global that needs a shell is an error only where it is used, naming its line
    (tmp_path / "z2.spec").write_text(spec.replace("%setup -q -a 1", "%setup -q -n hello-%{shortcommit}"))
    rc, out = f5(tmp_path, "setup", "-d", "o2", "z2.spec")
    assert rc == 1 and out.startswith("z2.spec:2: shell expansion")


# -- issue 18: escapes and tracebacks, each against a canary folder outside --------------------
@pytest.mark.parametrize("prep, what", [
    ("%setup -q -n ../../X\n", "%setup -n '../../X' leads outside"),
    ("%setup -q\ncd ../..\n%patch0 -p1\n", "cd 'hello-1.2/../..' leads outside"),
    ("%setup -q\n%patch0 -p1 -d ../..\n", "%patch -d 'hello-1.2/../..' leads outside"),
    ("%setup -q -c -n /ABS\n", "%setup -n '/ABS' leads outside"),
    ("%setup -q -a x1\n", "%setup -a 'x1' is not a number"),
    ("%setup -q\n%patch -P zero\n", "%patch -P 'zero' is not a number"),
    ("%setup -q\n%autopatch -m many\n", "%autopatch -m 'many' is not a number"),
])
def test_setup_spec_never_leaves_the_tree(tmp_path: Path, prep: str, what: str) -> None:
    work = tmp_path / "a/b/work"
    work.mkdir(parents=True)
    sources(work)
    (work / "bad.spec").write_text(HELLO.split("%prep\n")[0] + "%prep\n" + prep)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    rc, out = f5(work, "setup", "bad.spec")
    assert rc == 1 and what in out and out.count("\n") == 1 and "Traceback" not in out, out
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("preamble, what", [
    ("%bcond_with\n", "%bcond_with without a name"),
    ("%undefine\n", "%undefine without a name"),
    ("Name: he\0llo\n", "a NUL byte in Name:"),
])
def test_setup_spec_odd_preambles_are_one_line(tmp_path: Path, preamble: str, what: str) -> None:
    sources(tmp_path)
    (tmp_path / "bad.spec").write_text(preamble + HELLO)
    rc, out = f5(tmp_path, "setup", "bad.spec")
    assert rc == 1 and what in out and out.count("\n") == 1 and "Traceback" not in out, out


def _symlink_tarball(path: Path, top: str) -> None:
    with tarfile.open(path, "w:gz") as tar:
        link = tarfile.TarInfo(f"{top}/out")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../canary"
        tar.addfile(link)
        data = b"planted\n"
        evil = tarfile.TarInfo(f"{top}/out/evil.txt")
        evil.size = len(data)
        import io
        tar.addfile(evil, io.BytesIO(data))


def test_setup_never_unpacks_through_a_symlink_member(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary.mkdir()
    work = tmp_path / "w"
    work.mkdir()
    _symlink_tarball(work / "hello-1.2.tar.gz", "hello-1.2")
    (work / "fix-main.patch").write_text(MAIN_PATCH)
    (work / "readme.patch").write_text(README_PATCH)
    (work / "bad.spec").write_text(HELLO.replace("Source1:        extra-data.tar.bz2\n", "")
                                   .replace("%setup -q -a 1", "%setup -q"))
    rc, out = f5(work, "setup", "bad.spec")
    assert rc == 1 and "through the symlink hello-1.2/out" in out, out
    assert list(canary.iterdir()) == [] and not (work / "hello-1.2").exists()
    # the series form of setup reads the same archive
    (work / "series").write_text("# Source: hello-1.2.tar.gz\nfix-main.patch\n")
    rc, out = f5(work, "setup", "series")
    assert rc == 1 and "through the symlink" in out, out
    assert list(canary.iterdir()) == []

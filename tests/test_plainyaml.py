"""f5quilt/model/plainyaml.py reads what it reads exactly as yaml.safe_load does, and leaves
everything else (None) to PyYAML: on the settings files the project and its tests write, on
chosen traps (YAML 1.1's booleans, octal, timestamps, multi-line scalars...), and on texts
generated from the pieces of YAML's syntax."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from f5quilt.model import plainyaml

ROOT = Path(__file__).resolve().parent.parent


def yaml_reads(text: str) -> Optional[Any]:
    """What settings.py gets from PyYAML (``safe_load(text) or {}``), or None when it refuses."""
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return None


def agrees(text: str) -> bool:
    """plainyaml gives PyYAML's answer or none at all; never another one."""
    mine = plainyaml.load(text)
    if mine is None:
        return True
    theirs = yaml_reads(text)
    return theirs is not None and mine == theirs and \
        all(type(a) is type(b) for a, b in zip(_leaves(mine), _leaves(theirs)))


def _leaves(data: Any) -> list:
    if isinstance(data, dict):
        return [x for k in data for x in [k, *_leaves(data[k])]]
    return [data]


READ_HERE = [
    "",
    "# only a comment\n",
    "tree: .\n",
    "tree: third_party/F5-TTS\npatches: patches\nupstream:\n  pypi: f5-tts==1.1.22\n"
    "  sha256: c4d86a8bb74836165a93ca91747cd1b75bb2105a37b96ffe6c083f0f0ce7dbdd\n",
    "upstreams:\n  alpha:            # the first\n    tree: third_party/alpha\n    upstream:\n"
    "      path: src/alpha\n  beta:\n    tree: third_party/beta\n    patches: beta-patches\n",
    "fuzz: 2\nrerere: false\nlog:\n  keep: 5\nrefresh:\n  index: true\n",
    "upstream:\n  git: https://github.com/SWivid/F5-TTS.git\n  ref: main\n",
    "upstream:\n    pypi: 'requests>=2.31,<3'\n    sha256: \"\"\nignore:\n",
    "tree: /abs/path   # a comment\n\n\n   \n",
    "series: series.local\npc: .pc\n",
]

NOT_READ_HERE = [  # PyYAML says otherwise (or must say what is wrong)
    "rerere: yes\n", "rerere: No\n", "rerere: on\n", "rerere: OFF\n", "rerere: True\n", "tree: ~\n",
    "tree: null\n", "fuzz: 010\n", "fuzz: 0x1F\n", "fuzz: 1_000\n", "fuzz: -1\n", "fuzz: 1.5\n",
    "tree: .inf\n", "tree: .Inf\n", "tree: .NaN\n", "tree: .5\n", "tree: .5e+3\n", "ref: 1.1.22\n", "ref: 2001-12-14\n", "fuzz: 1:20\n", "on: 1\n", "y: 1\n",
    "tree: a\n  b\n", "tree: a: b\n", "tree:a\n", "tree : a\n", "- a\n", "tree: [a, b]\n", "tree: {a: b}\n",
    "tree: &x a\nb: *x\n", "tree: !!str 1\n", "---\ntree: a\n", "tree: a\n---\nb: c\n", "tree: |\n  a\n",
    "tree: >\n  a\n", "tree: 'it''s'\n", 'tree: "a\\tb"\n', "tree: a\ntree: b\n", "  tree: a\n",
    "a:\n    b: 1\n  c: 2\n", "tree: a\tb\n", "tree: a\r\n", "tree: caf\u00e9\n", "tree: a#b\n",
    "tree: 'a'b\n", "tree: a b\n", "<<: {a: 1}\n", "tree: =\n", "tree: @a\n", "tree: `a`\n", "tree: %a\n",
    "? tree\n: a\n", "tree: a\n b: c\n",
]


@pytest.mark.parametrize("text", READ_HERE)
def test_the_common_shape_is_read_as_pyyaml_reads_it(text: str) -> None:
    assert plainyaml.load(text) is not None, text
    assert agrees(text)


@pytest.mark.parametrize("text", NOT_READ_HERE)
def test_everything_else_is_left_to_pyyaml(text: str) -> None:
    assert plainyaml.load(text) is None


def test_the_projects_own_settings_files_agree() -> None:
    files = [p for p in ROOT.rglob("*.yaml") if "third_party" not in p.parts and ".venv" not in p.parts
             and ".cache" not in p.parts]
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    assert any(p.name == "f5quilt.yaml" for p in files)
    for path, text in zip(files, texts):
        assert agrees(text), path


_KEYS = st.sampled_from(["tree", "patches", "pypi", "on", "No", "y", "a-b", "_x", "k1", "tree ", "? a", "- a",
                         "<<", "1", "null"])
_VALUES = st.sampled_from(["", ".", "..", "./a", ".pc", ".5", ".inf", ".NAN", ".x1", "a", "yes", "no", "Off", "true", "false", "TRUE", "0", "7", "012", "0x1",
                           "1_0", "-3", "+3", "1.5", "1.1.22", ".nan", "2020-01-02", "1:20", "~", "null", "Null",
                           "a b", "a: b", "a:b", "a #c", "a#c", "'q'", "'q' #c", "'q'x", '"d"', '"d\\n"',
                           "'it''s'", "[a]", "{a: 1}", "&a x", "*a", "!!str 3", "|", ">", "=", "@x", "%x",
                           "f5-tts==1.1.22", "https://x.org/a.git", "/abs", "x,y;z!", "caf\u00e9", "a\tb",
                           "# c", "a  ", "é"])
_INDENT = st.sampled_from(["", " ", "  ", "    ", "\t"])
_LINE = st.one_of(
    st.builds(lambda i, k, v: f"{i}{k}: {v}" if v else f"{i}{k}:", _INDENT, _KEYS, _VALUES),
    st.builds(lambda i, k, v: f"{i}{k}:{v}", _INDENT, _KEYS, _VALUES),
    st.sampled_from(["", "   ", "# c", "  # c", "---", "...", "- x", "  - x", "%YAML 1.1"]),
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_LINE, max_size=8), st.sampled_from(["\n", "\r\n", ""]))
def test_generated_settings_agree(lines: list, end: str) -> None:
    assert agrees(end.join(lines) + end)


_NAMES = st.sampled_from(["tree", "patches", "upstream", "pypi", "git", "sha256", "keep", "a-b", "_x", "On", "n"])
_LEAF = st.sampled_from([".", "a", "0", "17", "007", "true", "false", "False", "yes", "null", "", "'q r'",
                         '"d"', "f5-tts==1.1.22", "https://x.org/a.git", ".5", "1.2", "a b", "x # c", "a:b"])


def _render(tree: dict, step: str, depth: int = 0) -> list:
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            lines.append(f"{step * depth}{key}:")
            lines.extend(_render(value, step, depth + 1))
        else:
            leaf = value if isinstance(value, str) else ""
            lines.append(f"{step * depth}{key}: {leaf}".rstrip(" "))
    return lines


_TREES = st.recursive(_LEAF, lambda children: st.dictionaries(_NAMES, children, max_size=4), max_leaves=12)


@settings(max_examples=2000, deadline=None)
@given(st.dictionaries(_NAMES, _TREES, min_size=1, max_size=5), st.sampled_from(["  ", "    ", " "]),
       st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["", "# note", "  # note", "   "])), max_size=3))
def test_generated_nested_settings_agree(tree: dict, step: str, extra: list) -> None:
    """Nested settings as people write them (and with a trap word here and there): read here
    as PyYAML reads them whenever they are read here at all."""
    lines = _render(tree, step)
    for at, line in extra:
        lines.insert(min(at, len(lines)), line)
    assert agrees("\n".join(lines) + "\n")

"""Every setting and every command is documented.

- A setting: every environment variable Deelwijs reads (each `DEELWIJS_*` name in
  src/deelwijs, and any name the code reads with `os.environ`/`os.getenv`, such as
  TRACEPARENT) is named in README.md or docs/*.md; each `DEELWIJS_*` one also has its row in
  the settings table of settings.py's docstring. The `DEELWIJS_*` variables the tests, dev.py
  and CI read (DEELWIJS_TEST_DATABASE_URL, ...) are named in README.md or docs/*.md too.
- A command: every command and subcommand of `deelwijs` (the click tree of `cli.app`, as
  `deelwijs --help` walks it) has a Dutch help text and is named in README.md or docs/*.md:
  in a code span or code block, right after `deelwijs` or at the span's start
  (`deelwijs org list` / `org show ID`); `a\\|b` in a table names both
  (`case meeting schedule\\|update`).

A new setting or command without documentation fails here with its name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest

from deelwijs import cli, settings
from deelwijs.cli import nl as cli_nl

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "deelwijs"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# where the tests, the developer's commands and CI read variables of their own
ELSEWHERE = [ROOT / "dev.py", ROOT / ".ci" / "run", *sorted((ROOT / "tests").rglob("*.py")),
             *sorted((ROOT / "bench").rglob("*.py"))]

NAME = re.compile(r"\bDEELWIJS_[A-Z0-9_]*[A-Z0-9]\b")
# a variable read: os.environ.get("X"), os.environ["X"], os.getenv("X"), env_bool("X"), a
# constant naming it (TEST_DB_ENV = "X"), or a shell expansion ($X, ${X:-...})
READ = re.compile(r"""(?:environ\.get\(|environ\[|getenv\(|env_bool\(|_ENV\s*=\s*)\s*["']"""
                  r"""(DEELWIJS_\w+)["']|\$\{?(DEELWIJS_\w+)""")
# English words no Dutch help text needs ("of", "is", "in" and "op" are Dutch too)
ENGLISH = {"the", "and", "with", "for", "from", "this", "that", "which", "are", "will",
           "when", "into", "your", "show", "create", "list", "delete", "print"}


def _docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def _documented(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


# --- settings -------------------------------------------------------------------------------


def environment_reads(source: str) -> set[str]:
    """The names Python code reads from the environment with a constant name."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            func = node.func
            if (func.attr == "get" and isinstance(func.value, ast.Attribute)
                    and func.value.attr == "environ") or func.attr == "getenv":
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "environ":
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def code_settings(src: Path = SRC) -> set[str]:
    """Every DEELWIJS_* name in the package, and every other variable it reads."""
    names: set[str] = set()
    for path in sorted(src.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        names |= set(NAME.findall(text)) | environment_reads(text)
    return names


def other_settings(paths: list[Path] = ELSEWHERE) -> set[str]:
    """The DEELWIJS_* variables the tests, dev.py, bench and CI read."""
    names: set[str] = set()
    for path in paths:
        if path.is_file():
            for match in READ.finditer(path.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    return names


def settings_table(doc: str | None = settings.__doc__) -> set[str]:
    """The variables of the table in settings.py's docstring (`| NAME | default | ... |`)."""
    return {m.group(1) for m in re.finditer(r"^\|\s*(DEELWIJS_\w+)\s*\|", doc or "", re.M)}


def test_the_package_reads_the_settings_we_know_of():
    """A guard of the scan itself: it finds the settings that are certainly there."""
    found = code_settings()
    assert {"DEELWIJS_DATABASE_URL", "DEELWIJS_MASTER_KEY", "DEELWIJS_VAR",
            "TRACEPARENT"} <= found, sorted(found)
    assert "DEELWIJS_TEST_DATABASE_URL" in other_settings()


def test_every_setting_is_documented():
    text = _docs_text()
    missing = sorted(n for n in code_settings() | other_settings() if not _documented(n, text))
    assert not missing, (f"niet genoemd in README.md of docs/*.md: {missing}; zet elke "
                         "instelling in de tabel onder 'Production' in README.md")


def test_every_setting_of_the_package_is_in_the_table_of_settings_py():
    missing = sorted(n for n in code_settings() if n.startswith("DEELWIJS_")
                     and n not in settings_table())
    assert not missing, f"niet in de tabel van settings.py's docstring: {missing}"


# --- commands -------------------------------------------------------------------------------


def commands(app=cli.app) -> Iterator[tuple[str, object]]:
    """(path, click command) for every command and group below the root, depth first."""
    def walk(cmd, path: list[str]):
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield " ".join([*path, name]), sub
            yield from walk(sub, [*path, name])

    yield from walk(cli_nl.command_of(app), [])


def named_commands(texts: list[str]) -> set[str]:
    """Every command path the documents name: in a code span or a code block line, words
    right after `deelwijs` (or `.venv/bin/deelwijs`) or at the span's start; `a|b` (in a
    table `a\\|b`) names both."""
    named: set[str] = set()
    for text in texts:
        fenced = False
        snippets = []
        for line in text.splitlines():
            if line.strip().startswith("```"):
                fenced = not fenced
            elif fenced:
                snippets.append(line)
            else:
                snippets += re.findall(r"`([^`]+)`", line)
        for snippet in snippets:
            words = [word.split("|") for word in snippet.replace("\\|", "|").split()]
            for i in range(len(words)):
                if i and not any(w.endswith("deelwijs") for w in words[i - 1]):
                    continue
                for end in range(i + 1, min(i + 4, len(words)) + 1):
                    named.update(" ".join(p) for p in product(*words[i:end]))
    return named


ALL_COMMANDS = list(commands())


def test_the_walk_finds_the_commands_we_know_of():
    paths = {path for path, _ in ALL_COMMANDS}
    assert {"decide", "rules check", "case meeting schedule", "keys rewrap"} <= paths
    assert len(paths) > 100


@pytest.mark.parametrize("path,command", ALL_COMMANDS, ids=[p for p, _ in ALL_COMMANDS])
def test_every_command_has_a_dutch_help_text(path, command):
    help_text = (command.help or "").strip()
    assert help_text, f"deelwijs {path}: geen helptekst"
    english = sorted(ENGLISH & set(re.findall(r"[a-z]+", help_text.lower())))
    assert not english, f"deelwijs {path}: helptekst lijkt Engels ({english}): {help_text!r}"


def test_every_command_is_named_in_the_documentation():
    named = named_commands([path.read_text(encoding="utf-8") for path in DOCS])
    missing = [path for path, _ in ALL_COMMANDS if path not in named]
    assert not missing, (f"niet genoemd in README.md of docs/*.md: {missing}; noem elk "
                         "commando in een tabel van README.md (`deelwijs groep commando`)")

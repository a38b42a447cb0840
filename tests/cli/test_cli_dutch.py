"""Every message of the command line is Dutch, click's own included; ids the database cannot
hold and huge or endless input files are clear errors (issue 11, item 10).

The help pages and usage errors of every command are checked in process through the same
entry (`nl.run` on the Dutch command tree) that `deelwijs` runs; a sample goes through the
real console script too. Reads of /dev/zero run under a 1 GiB address-space limit, so that a
read without a cap fails the test (MemoryError, 'interne fout') instead of filling the
machine's memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
import typer
from tests.cli.cli_checks import refused

from deelwijs.cli import app, nl
from deelwijs.cli.common import DB_BIGINT_MAX, DB_INTEGER_MAX, Bounded

HUGE = "99999999999999999999"  # OverflowError in SQLite, out of range for PostgreSQL integer
ENGLISH = ("Usage:", "Options:", "Arguments:", "Commands:", "Show this message", "[required]",
           "[default:", "Try '", "Error:", "Invalid value", "Missing ", "No such",
           "<str>", "<int>", "<path>", "<list[", "does not take", "requires an argument",
           "Got unexpected", "Aborted", "Value error")


def _commands():
    """(path, click command) of every leaf command of `deelwijs`."""
    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            yield path, cmd
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd
    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(_commands())


def _command(path):
    return next(cmd for p, cmd in COMMANDS if p == path)


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = nl.run(nl.command_of(app), list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _no_english(text: str, where: str) -> None:
    for word in ENGLISH:
        assert word not in text, (where, word, text)


# --- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "-")
def test_every_help_page_is_dutch(capsys, path):
    code, out, err = _run(capsys, *path, "--help")
    assert (code, err) == (0, ""), err
    _no_english(out, " ".join(path))
    assert out.startswith("Gebruik: deelwijs")
    assert "Toon deze hulp en stop." in out


def test_a_group_without_its_command_shows_its_dutch_help(capsys):
    code, out, err = _run(capsys, "youth")
    assert code == 2 and out == ""
    assert err.startswith("Gebruik: deelwijs youth [OPTIES] OPDRACHT [ARGUMENTEN]...")
    _no_english(err, "youth")


# --- usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("args,line", [
    (("youth", "list", "--lmit", "3"),
     "--lmit: onbekende optie (bedoelt u --limit?). Zie: deelwijs youth list --help"),
    (("youth", "show"), "youth_id: dit argument ontbreekt. Zie: deelwijs youth show --help"),
    (("consent", "change", "abc"),
     "--version: deze optie is verplicht. Zie: deelwijs consent change --help"),
    (("youth", "show", "abc"),
     f"youth_id: 'abc' is geen geldig id: een geheel getal van 1 tot en met {DB_INTEGER_MAX}."
     " Zie: deelwijs youth show --help"),
    (("youth", "shw"),
     "shw: onbekende opdracht (bedoelt u 'show'?). Zie: deelwijs youth --help"),
    (("decide", "--explain=ja"), "--explain: deze optie neemt geen waarde"),
    (("youth", "list", "--limit"), "--limit: deze optie vraagt een waarde"),
    (("version", "extra"), "extra: onverwacht argument (niet meer argumenten dan de opdracht "
                           "kent). Zie: deelwijs version --help"),
])
def test_usage_errors_are_one_dutch_line_and_exit_2(capsys, args, line):
    code, out, err = _run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.splitlines() == [line]


def test_through_the_console_script_too(deelwijs):
    """The real `deelwijs` (cli.main): click's English never reaches the user."""
    for args, field in ((("youth", "list", "--lmit", "3"), "--lmit"),
                        (("youth", "show"), "youth_id"),
                        (("disclosure", "list", "--youth", "x"), "--youth"),
                        (("nonsense",), "nonsense")):
        run = deelwijs(*args)
        line = refused(run, field)
        _no_english(line, " ".join(args))
    shown = deelwijs("case", "open", "--help")
    assert shown.returncode == 0 and shown.stdout.startswith("Gebruik: deelwijs case open")
    _no_english(shown.stdout, "case open --help")


# --- ids the database can hold -----------------------------------------------------------------


def _int_params():
    for path, cmd in COMMANDS:
        for p in cmd.params:
            desc = getattr(p, "type_descriptor", None)
            if desc is not None and "int" in str(desc.annotation):
                yield path, p


INT_PARAMS = list(_int_params())
BOUNDED = [(path, p) for path, p in INT_PARAMS
           if isinstance(p.type_descriptor.parameter_info.parser, Bounded)]


def _ranged(p) -> bool:
    """An option with its own range (typer's min/max: a port, a number of workers)."""
    info = p.type_descriptor.parameter_info
    return info.min is not None and info.max is not None


def test_every_integer_parameter_is_bounded_to_the_database():
    """A new integer option without ID, VERSION or COUNT (or a range of its own) fails here."""
    loose = [(" ".join(path), p.name) for path, p in INT_PARAMS
             if not isinstance(p.type_descriptor.parameter_info.parser, Bounded)
             and not _ranged(p)]
    assert loose == []
    ids = [p for _, p in BOUNDED if p.type_descriptor.parameter_info.parser.what == "id"]
    assert len(ids) > 80  # every id option and argument of the CLI
    assert all(p.type_descriptor.parameter_info.parser.high <= DB_INTEGER_MAX for p in ids)


@pytest.mark.parametrize("path,param", BOUNDED,
                         ids=[f"{' '.join(path)} {p.name}" for path, p in BOUNDED])
def test_an_id_out_of_range_is_refused_before_the_command_runs(capsys, path, param):
    """Was: 'interne fout in deelwijs (OverflowError: Python int too large to convert to
    SQLite INTEGER)'. Now the value is refused while the command line is read."""
    parser = param.type_descriptor.parameter_info.parser
    option = max((o for o in param.opts if o.startswith("--")), key=len, default=None) \
        if param.param_type_name == "option" else None
    field = option or param.name
    arguments = [p for p in _command(path).params if p.param_type_name == "argument"]
    before = arguments.index(param) if param in arguments else 0  # fill the ones before it
    for value in (HUGE, str(parser.high + 1), "-1", "1e3", "12abc", str(parser.low - 1)):
        if value == str(parser.low - 1) and parser.low == 0:
            continue
        given = [option, value] if option else ["--", *["1"] * before, value]
        code, out, err = _run(capsys, *path, *given)
        assert (code, out) == (2, ""), (value, err)
        assert err.startswith(f"{field}: '{value}' is geen geldig {parser.what}: een geheel "
                              f"getal van {parser.low} tot en met {parser.high}"), err


def test_a_ranged_option_says_its_range_in_dutch(capsys):
    for value, words in (("99999", "hoogstens 65535"), ("0", "ten minste 1"),
                         ("abc", "geef een geheel getal")):
        code, out, err = _run(capsys, "serve", "--port", value)
        assert (code, out) == (2, "")
        assert err.splitlines() == [f"--port: {words}. Zie: deelwijs serve --help"]


def test_the_bounds_are_the_databases(capsys):
    from deelwijs.cli.common import COUNT, ID, VERSION

    assert (ID.low, ID.high, VERSION.low, VERSION.high) == (1, 2**31 - 1, 1, 2**31 - 1)
    assert (COUNT.low, COUNT.high) == (0, DB_BIGINT_MAX) and DB_BIGINT_MAX == 2**63 - 1
    assert ID("0042") == 42 and ID(" 7 ") == 7 and ID(str(2**31 - 1)) == 2**31 - 1
    for bad in ("", " ", "+5", "0x10", "1_000", "٣", "1.0", "9" * 5000):
        with pytest.raises(ValueError):
            ID(bad)


def test_a_huge_id_through_the_console_script(deelwijs):
    for args, field in ((("youth", "show", HUGE), "youth_id"),
                        (("rights", "inzage", HUGE, "--as", "youth"), "youth"),
                        (("breach", "show", HUGE), "breach"),
                        (("consent", "record", "--youth", HUGE, "--role", "youth", "--answer",
                          "given", "--purpose", "oza", "--data", "gedrag"), "--youth")):
        run = deelwijs(*args)
        refused(run, field, "geen geldig id", str(DB_INTEGER_MAX))


# --- huge and endless input files --------------------------------------------------------------


def _limited():
    """At most 1 GiB of address space: reading /dev/zero without a cap ends in MemoryError."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.fixture
def limited(deelwijs_script, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env.update(DEELWIJS_VAR=str(tmp_path / "var"), PYTHONIOENCODING="utf-8")

    def run(*args, stdin=subprocess.DEVNULL, **extra_env):
        proc = subprocess.run([str(deelwijs_script), *args], stdin=stdin, capture_output=True,
                              text=True, env={**env, **extra_env}, cwd=tmp_path, timeout=60,
                              preexec_fn=_limited, check=False)
        assert "Traceback" not in proc.stderr and "interne fout" not in proc.stderr, proc.stderr
        return proc

    return run


@pytest.mark.skipif(not os.path.exists("/dev/zero") or sys.platform == "win32",
                    reason="needs /dev/zero and setrlimit")
def test_endless_input_files_are_refused_at_once(limited):
    with open("/dev/zero", "rb") as zero:
        runs = {
            "decide --file": limited("decide", "--file", "/dev/zero"),
            "decide stdin": limited("decide", stdin=zero),
            "rules check": limited("rules", "check", "/dev/zero"),
            "rules test": limited("rules", "test", "/dev/zero"),
            "master key file": limited("youth", "list",
                                       DEELWIJS_MASTER_KEY_FILE="/dev/zero"),
            "wrapping keys file": limited("youth", "list",
                                          DEELWIJS_WRAPPING_KEYS_FILE="/dev/zero"),
        }
    for what, run in runs.items():
        assert run.returncode == 2 and run.stdout == "", (what, run.stdout, run.stderr)
        assert len(run.stderr.splitlines()) == 1, (what, run.stderr)
        assert "groter dan" in run.stderr, (what, run.stderr)


def test_request_files_that_cannot_be_read_are_dutch(deelwijs, tmp_path):
    (tmp_path / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    (tmp_path / "bom.json").write_bytes(b'\xef\xbb\xbf{"discloser": 1}')
    cases = {("--file", str(tmp_path / "missing.json")): "het bestand bestaat niet",
             ("--file", str(tmp_path)): "is een map",
             ("--file", str(tmp_path / "latin1.json")): "geen UTF-8-tekst"}
    for args, words in cases.items():
        refused(deelwijs("decide", *args), "request", words)
    # a byte order mark is skipped: the request itself is read (and refused on its content)
    run = deelwijs("decide", "--file", str(tmp_path / "bom.json"))
    assert run.returncode == 2 and "JSON" not in run.stderr.splitlines()[0], run.stderr
    refused(deelwijs("decide", stdin='{"a": "\\q"}'), "request", "ongeldige escape")
    refused(deelwijs("decide", stdin="[" + "1" * 5000 + "]"), "request", "te lang")

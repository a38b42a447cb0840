"""The command line in Dutch, click's own words included.

Typer (with the click it ships) writes its usage errors and help pages in English: "Usage:",
"Error: No such option", "Missing argument", "Invalid value for", "Try ... for help", "Show
this message and exit.". Deelwijs speaks Dutch to everyone who uses it, so:

- `run` calls the command tree with click's standalone mode off and turns every usage error
  into one Dutch line on stderr, `field: message. Zie: deelwijs … --help`, exit 2 (the same
  shape as every other refusal of the CLI), and an abort into "afgebroken";
- `dutch` gives every command of the tree a context whose help formatter writes the help page
  in Dutch: "Gebruik:", "Argumenten", "Opties", "Opdrachten", "Toon deze hulp en stop.",
  "[verplicht]", "[standaard: …]" and Dutch names for the kinds of values.

The vendored click holds these texts as plain literals (no gettext catalogue to install), so
they are translated where they are written out: in the formatter and in `message`. This leans
on typer's vendored click (`typer._click`: its Context, HelpFormatter and exception classes),
which requirements.lock pins; tests/cli/test_cli_dutch.py fails when an English text slips
through after an upgrade.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import typer
from typer._click import Context, HelpFormatter
from typer._click import exceptions as click_exc

HEADINGS = {"Options": "Opties", "Arguments": "Argumenten", "Commands": "Opdrachten"}
# what typer writes in the option column and the usage line, and its Dutch
_WORDS = (
    ("[OPTIONS]", "[OPTIES]"),
    ("COMMAND [ARGS]...", "OPDRACHT [ARGUMENTEN]..."),
    ("[ARGS]...", "[ARGUMENTEN]..."),
)
_TYPES = {"str": "tekst", "int": "getal", "float": "getal", "bool": "ja/nee", "path": "pad",
          "Path": "pad", "datetime": "datum en tijd", "file": "bestand", "dir": "map",
          "int range": "getal", "float range": "getal"}
_HELP = (
    ("Show this message and exit.", "Toon deze hulp en stop."),
    ("[required]", "[verplicht]"),
    ("[default: ", "[standaard: "),
    ("[env var: ", "[omgevingsvariabele: "),
    ("(dynamic)", "(wisselend)"),
    ("; required]", "; verplicht]"),
    ("; default: ", "; standaard: "),
)
_TYPE_MARK = re.compile(r"<(list\[)?([A-Za-z ]+?)(\])?>")


def _type_nl(match: re.Match) -> str:
    listed, name = match.group(1), match.group(2)
    word = _TYPES.get(name, name)
    return f"<{word}>..." if listed else f"<{word}>"


def help_text(text: str) -> str:
    """One cell of a help page in Dutch (the option column or its description)."""
    for en, nl in _HELP:
        text = text.replace(en, nl)
    return _TYPE_MARK.sub(_type_nl, text)


def usage_args(args: str) -> str:
    for en, nl in _WORDS:
        args = args.replace(en, nl)
    return args


class DutchFormatter(HelpFormatter):
    """click's help formatter, writing Dutch."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, usage_args(args), "Gebruik: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(HEADINGS.get(heading, heading))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        super().write_dl([(help_text(a), help_text(b)) for a, b in rows], col_max, col_spacing)


class DutchContext(Context):
    formatter_class = DutchFormatter


def dutch(command):
    """Every command of the tree gets the Dutch context (an attribute of these objects only;
    click's classes are left as they are). Returns the command."""
    command.context_class = DutchContext
    for sub in (getattr(command, "commands", None) or {}).values():
        dutch(sub)
    return command


# --- usage errors ---------------------------------------------------------------------------


def _field(param) -> str:
    """How a parameter is named in a message: its long option, or the argument's name."""
    if param is None:
        return "aanroep"
    opts = [o for o in getattr(param, "opts", []) or [] if o.startswith("--")] or \
        list(getattr(param, "opts", []) or [])
    if getattr(param, "param_type_name", "") == "option" and opts:
        return max(opts, key=len)
    return param.name or "argument"


_PATTERNS = (
    (re.compile(r"^No such command '(?P<name>.*)'\.(?: Did you mean (?P<hint>.*)\?)?$", re.S),
     lambda m: (m["name"], "onbekende opdracht" + (f" (bedoelt u {m['hint']}?)"
                                                    if m["hint"] else ""))),
    (re.compile(r"^Missing command\.$"), lambda m: ("aanroep", "noem een opdracht")),
    (re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$", re.S),
     lambda m: (m["args"], "onverwacht argument (niet meer argumenten dan de opdracht kent)")),
    (re.compile(r"^Option '(?P<opt>.*)' does not take a value\.$"),
     lambda m: (m["opt"], "deze optie neemt geen waarde")),
    (re.compile(r"^Option '(?P<opt>.*)' requires an argument\.$"),
     lambda m: (m["opt"], "deze optie vraagt een waarde")),
    (re.compile(r"^Option '(?P<opt>.*)' requires (?P<n>\d+) arguments\.$"),
     lambda m: (m["opt"], f"deze optie vraagt {m['n']} waarden")),
    (re.compile(r"^No such option: (?P<opt>\S+)$"), lambda m: (m["opt"], "onbekende optie")),
)
_VALUE = (  # BadParameter messages: a parser's own (Dutch) or typer's and pydantic's (English)
    (re.compile(r"^Value error, ", re.S), ""),
    (re.compile(r"^Input should be a valid integer.*$", re.S), "geef een geheel getal"),
    (re.compile(r"^Input should be a valid number.*$", re.S), "geef een getal"),
    (re.compile(r"^Input should be a valid boolean.*$", re.S), "geef ja of nee (true/false)"),
    (re.compile(r"^Input should be greater than or equal to (\S+)$"), r"ten minste \1"),
    (re.compile(r"^Input should be greater than (\S+)$"), r"groter dan \1"),
    (re.compile(r"^Input should be less than or equal to (\S+)$"), r"hoogstens \1"),
    (re.compile(r"^Input should be less than (\S+)$"), r"kleiner dan \1"),
    (re.compile(r"^(?:Path|File|Directory) '(.*)' is a file\.$"), r"'\1' is een bestand, geen map"),
    (re.compile(r"^(?:Path|File|Directory) '(.*)' is a directory\.$"),
     r"'\1' is een map, geen bestand"),
    (re.compile(r"^(?:Path|File|Directory) '(.*)' is not readable\.$"), r"'\1' is niet leesbaar"),
    (re.compile(r"^(?:Path|File|Directory) '(.*)' is not writable\.$"),
     r"'\1' is niet schrijfbaar"),
    (re.compile(r"^(?:Path|File|Directory) '(.*)' does not exist\.$"), r"'\1' bestaat niet"),
)


def _value_message(text: str) -> str:
    for pattern, nl in _VALUE:
        new = pattern.sub(nl, text)
        if new != text:
            return new
    return "ongeldige waarde"  # never English


def message(exc: click_exc.ClickException) -> str:
    """One Dutch line for a usage error: `field: what is wrong. Zie: … --help`."""
    ctx = getattr(exc, "ctx", None)
    hint = f". Zie: {ctx.command_path} --help" if ctx is not None else ""
    if isinstance(exc, click_exc.NoSuchOption):
        near = sorted(exc.possibilities or [])
        return f"{exc.option_name}: onbekende optie" + \
            (f" (bedoelt u {', '.join(near)}?)" if near else "") + hint
    if isinstance(exc, click_exc.MissingParameter):
        param = exc.param
        what = "deze optie is verplicht" if getattr(param, "param_type_name", "") == "option" \
            else "dit argument ontbreekt"
        return f"{_field(param)}: {what}{hint}"
    if isinstance(exc, click_exc.BadParameter):
        field = exc.param_hint if isinstance(exc.param_hint, str) else _field(exc.param)
        return f"{field.strip(chr(39))}: {_value_message(exc.message)}{hint}"
    text = exc.format_message() if isinstance(exc, click_exc.UsageError) else exc.message
    for pattern, build in _PATTERNS:
        m = pattern.match(text)
        if m:
            field, what = build(m)
            return f"{field}: {what}{hint}"
    if isinstance(exc, click_exc.FileError):
        return f"{exc.ui_filename}: kan het bestand niet openen"
    return f"aanroep: deze aanroep klopt niet{hint}"


def run(command, args: list[str] | None = None, prog_name: str = "deelwijs") -> int:
    """Run the (Dutch) command tree; returns the exit code. Usage errors: one Dutch line on
    stderr and 2; `--help` and a command's own exit keep their codes."""
    try:
        rv = command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:  # a group without its command: its help
        print(exc.ctx.get_help(), file=sys.stderr)
        return 2
    except click_exc.UsageError as exc:
        print(message(exc), file=sys.stderr)
        return 2
    except click_exc.ClickException as exc:
        print(message(exc), file=sys.stderr)
        return exc.exit_code
    except typer.Abort:
        print("afgebroken", file=sys.stderr)
        return 1
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


def command_of(app: typer.Typer):
    """The click command of a Typer app, in Dutch."""
    return dutch(typer.main.get_command(app))

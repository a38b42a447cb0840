"""Validators for the schema objects of the vendored OpenAPI documents (tests/standards/vng).

An OpenAPI 3.0 schema object is JSON Schema (draft 4/5 style) plus a few keywords a validator
may ignore (`example`, `readOnly`, `nullable`); its `$ref`s point into the same document
(`#/components/schemas/…`). So each schema is checked with jsonschema's Draft4Validator, with
the whole document as the root that the references resolve against, and a format checker that
really checks the formats these documents use:

- `date-time` (RFC 3339: a time zone is required), by rfc3339-validator;
- `uri`, by rfc3986-validator;
- `uuid`, by jsonschema itself;
- `duration` (ISO 8601, RFC 3339 appendix A), by DURATION below (jsonschema would need
  isoduration and its dependencies for that one format);
- `OIN`, `identificator`, `naam`, `beschrijving`: formats the documents name but do not
  define; not checked (the `uitvoerder` and `verantwoordelijkeOrganisatie` patterns are).

`format_checks()` returns the formats whose checks are active, so a test can make sure none of
them is silently skipped.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml
from jsonschema import Draft4Validator, FormatChecker

ROOT = Path(__file__).resolve().parent / "vng"
BEWERKING = ROOT / "docs/api-write/oas-specification/logging-verwerkingen-api/openapi.yaml"
INZAGE = ROOT / "docs/api-read/oas-specification/logging-verwerkingen-api/openapi.yaml"
VAR = ROOT / "docs/api-write/oas-specification/var-api/openapi.yaml"

# RFC 3339 appendix A: duration = "P" (dur-date / dur-time / dur-week)
DURATION = re.compile(
    r"P(?:(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)"
    r"(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?"
    r"|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)|\d+W)")


def _checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("duration")
    def _duration(value) -> bool:
        return not isinstance(value, str) or DURATION.fullmatch(value) is not None

    return checker


FORMATS = _checker()


def format_checks() -> set[str]:
    return set(FORMATS.checkers)


@functools.cache
def document(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def validator(path: Path, schema: str) -> Draft4Validator:
    """A validator for `#/components/schemas/<schema>` of the document at `path`."""
    doc = document(path)
    if schema not in doc["components"]["schemas"]:
        raise KeyError(f"{path.name} has no schema {schema}")
    root = {"$ref": f"#/components/schemas/{schema}", "components": doc["components"]}
    return Draft4Validator(root, format_checker=FORMATS)


def problems(path: Path, schema: str, instance) -> list[str]:
    """Every validation error, as 'path: message' (empty when the instance is valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator(path, schema).iter_errors(instance)]

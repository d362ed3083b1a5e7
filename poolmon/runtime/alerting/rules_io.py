"""Reading a rule file from disk: the one IO step in front of the pure rule-file parser.

`Pool(alerts="rules.toml")` and `poolmon alerts check FILE` both come through here, so a
missing file, a directory, a permission problem or bytes that are not UTF-8 get the same clear
`RuleFileError` (`path: message`) as a syntax error does, never a bare OSError or
UnicodeDecodeError.
"""

from __future__ import annotations

import os

from poolmon.core.alerts.rulefile import RuleFile, RuleFileError, parse_rule_file


def load_rule_file(path: str | os.PathLike[str]) -> RuleFile:
    """Read and parse a rule file (RuleFileError with the reason for anything wrong)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise RuleFileError([(name, None, "no such rule file")]) from None
    except IsADirectoryError:
        raise RuleFileError([(name, None, "is a directory, not a rule file")]) from None
    except PermissionError:
        raise RuleFileError([(name, None, "permission denied reading the rule file")]) from None
    except OSError as exc:
        raise RuleFileError([(name, None, f"cannot read the rule file: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RuleFileError(
            [(name, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")]
        ) from None
    return parse_rule_file(text, name)

"""Compose's variable interpolation, as the Compose Specification defines it, for reading
docker-compose.yaml the way ``docker compose`` does without Docker.

Rules (compose-spec "Interpolation"): ``$$`` is a literal ``$``; ``$VAR`` and ``${VAR}`` are the
variable's value, empty when unset; ``${VAR:-default}`` / ``${VAR-default}`` take the default when
the variable is unset or empty / unset; ``${VAR:?err}`` / ``${VAR?err}`` stop with ``err`` when it
is unset or empty / unset; ``${VAR:+alt}`` / ``${VAR+alt}`` give ``alt`` when it is set and
non-empty / set. Defaults may hold further expressions. Any other ``$`` is an error. Values are
interpolated after the YAML is parsed (anchors and ``<<`` merges resolved); keys are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NAME = r"[_A-Za-z][_A-Za-z0-9]*"
# What a default or an error message may hold: plain text, escaped dollars, and whole expressions.
ARGUMENT = rf"(?:[^${{}}]|\$\$|\${NAME}|\$\{{{NAME}(?::?[-?+][^{{}}]*)?\}})*"
PATTERN = re.compile(
    rf"\$(?:(?P<escaped>\$)|(?P<named>{NAME})|\{{(?P<braced>{NAME})(?:(?P<op>:?[-?+])(?P<arg>{ARGUMENT}))?\}}|(?P<invalid>))"
)


class InterpolationError(ValueError):
    """What compose refuses: a required variable missing, or a ``$`` it cannot read."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every expression replaced, as compose does with the values of a compose file."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"] is not None:
            return "$"
        if match["named"] is not None:
            return env.get(match["named"], "")
        name = match["braced"]
        if name is None:
            raise InterpolationError(f"invalid interpolation format in {text!r} at position {match.start()}")
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        present = value is not None
        filled = present and value != ""
        if op is None:
            return value or ""
        if op in (":-", "-"):
            return value if (filled if op == ":-" else present) else interpolate(arg, env)  # type: ignore[return-value]
        if op in (":?", "?"):
            if filled if op == ":?" else present:
                return value  # type: ignore[return-value]
            raise InterpolationError(f"required variable {name} is missing a value: {interpolate(arg, env)}")
        return interpolate(arg, env) if (filled if op == ":+" else present) else ""

    return PATTERN.sub(replace, text)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    """Every string value of a parsed compose file interpolated; mapping keys left as they are."""
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(value, env) for value in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node

"""The example payloads in docs/formats/ are what the connectors build from the demo orders today."""

from __future__ import annotations

from tools import format_examples


def test_every_format_page_example_is_the_codes_own_output() -> None:
    built = format_examples.examples()
    documented = format_examples.documented()
    assert sorted(documented) == sorted(format_examples.EXAMPLES)
    for name, text in built.items():
        hint = f"docs/formats example {name}: run `python -m tools.format_examples --write`"
        assert documented[name] == text.rstrip() + "\n", hint

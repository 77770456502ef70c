"""Write the JSON Schema of a hardware description to docs/hardware-schema.json.

Usage: python scripts/export_hardware_schema.py [OUTPUT]   (--check: fail if out of date)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codesign_playground.hardware import HardwareSpec

DEFAULT = Path(__file__).resolve().parent.parent / "docs" / "hardware-schema.json"


def schema_text() -> str:
    schema = HardwareSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "codesign-playground/hardware-schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT, help="schema file")
    parser.add_argument("--check", action="store_true", help="fail if OUTPUT is out of date")
    ns = parser.parse_args(argv)
    out: Path = ns.output
    text = schema_text()
    if ns.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is out of date; run scripts/export_hardware_schema.py", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

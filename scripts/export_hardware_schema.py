"""Write the JSON Schema of a hardware description to docs/hardware-schema.json.

Usage: python scripts/export_hardware_schema.py [OUTPUT]   (--check: fail if out of date)
"""

from __future__ import annotations

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
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    out = Path(args[0]) if args else DEFAULT
    text = schema_text()
    if check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is out of date; run scripts/export_hardware_schema.py", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

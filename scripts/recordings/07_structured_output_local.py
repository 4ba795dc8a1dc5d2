"""Real samples of lesson 07 from SmolLM2-135M-Instruct: a truncated JSON-mode answer and the layer experiment.

Run the scripted script first, then this one (it keeps the scripted entries):

    python scripts/recordings/07_structured_output.py
    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=07_structured_output \
        python scripts/recordings/07_structured_output_local.py
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from course_lib.lessons.l07_structured_output.layers import CONTACT_TEXTS, JSON_MODE, contact_messages
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "07_enforcement_layers.py"

provider = get_provider(model=MODEL)

# JSON mode constrains the grammar, not the length: a low max_tokens cuts the object off.
cut = provider.complete(contact_messages(CONTACT_TEXTS[0]), temperature=0, max_tokens=12, **JSON_MODE)
print(repr(cut.text), cut.finish_reason)

spec = importlib.util.spec_from_file_location("enforcement_layers", EXPERIMENT)
assert spec is not None and spec.loader is not None
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.report(provider)

"""How long `import course_lib` takes in a fresh interpreter (budget: at most 0.3 s).

Each run starts a new interpreter that times its own ``import course_lib`` with ``perf_counter``,
so interpreter start-up is not counted. For context it also reports the whole command's wall time as
a ratio to a bare interpreter (``python -c pass``), and what the first ``get_provider()`` adds: that
is where the ``openai`` SDK is loaded, on first use, not at import.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import common

IMPORT_BUDGET_S = 0.3

_TIME_IMPORT = "import time; t = time.perf_counter(); import course_lib; print(time.perf_counter() - t)"
_TIME_FIRST_PROVIDER = (
    "import time, course_lib; t = time.perf_counter(); course_lib.get_provider(env={}); "
    "print(time.perf_counter() - t)"
)


def _python(code: str) -> str:
    out = subprocess.run(
        [common.PYTHON, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=common.ROOT,
        env=common.offline_env(),
    )
    return out.stdout.strip()


def _wall(code: str) -> float:
    start = time.perf_counter()
    _python(code)
    return time.perf_counter() - start


def run(runs: int = 20, provider_runs: int = 5) -> dict[str, Any]:
    """Measure the import in ``runs`` fresh interpreters and the first provider in ``provider_runs``."""
    load = common.load_average()
    _python("import course_lib")  # warm the file-system cache and byte-code once, untimed
    imports = [float(_python(_TIME_IMPORT)) for _ in range(runs)]
    bare = [_wall("pass") for _ in range(runs)]
    with_import = [_wall("import course_lib") for _ in range(runs)]
    ratios = [w / b for w, b in zip(with_import, bare, strict=True)]
    first_provider = [float(_python(_TIME_FIRST_PROVIDER)) for _ in range(provider_runs)]
    rows = [
        common.row(
            "import course_lib (in a fresh interpreter)",
            imports,
            "s",
            budget=IMPORT_BUDGET_S,
            detail="perf_counter around the import statement",
        ),
        common.row(
            "python -c 'import course_lib' vs python -c pass",
            ratios,
            "×",
            detail=f"bare interpreter {common.format_value(common.summarize(bare)['median'], 's')}",
        ),
        common.row(
            "first get_provider() (replay; loads the openai SDK)",
            first_provider,
            "s",
            detail="lazy: paid on first use, not at import",
        ),
    ]
    return common.make_result(
        "import",
        "Import time",
        rows,
        params={"runs": runs, "provider_runs": provider_runs},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    parser = common.base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=20, help="fresh interpreters to time (default 20)")
    args = parser.parse_args(argv)
    return common.report(run(runs=args.runs), json_path=args.json, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())

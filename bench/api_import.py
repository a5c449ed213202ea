"""What starting the API process costs before it serves anything: importing the app factory
module (``frameforge_api.main``), in a new interpreter each time.

    .venv/bin/python bench/api_import.py [--runs 9]

Per run, in a fresh ``python -c``: the wall time of the import, the process's resident memory
after it (``VmRSS``) and its peak (``VmHWM``), and which of the heavy libraries the API must
not load at start-up (PyAV, OpenCV, pyarrow, DuckDB) were loaded. The reference, measured in
the same run and interleaved with it: importing FastAPI and Dagster alone, the floor the API
cannot go under (it serves with one and reads runs with the other). Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

HEAVY = ("av", "cv2", "pyarrow", "duckdb")
PROBE = """
import json, sys, time
started = time.perf_counter()
{statement}
took = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
kib = lambda name: int(status[name].split()[0])
print(json.dumps({{
    "seconds": took, "rss_mib": kib("VmRSS") / 1024, "peak_mib": kib("VmHWM") / 1024,
    "modules": len(sys.modules), "heavy": [m for m in {heavy!r} if m in sys.modules],
}}))
"""
SUBJECTS = {
    "fastapi + dagster (reference)": "import fastapi, dagster",
    "frameforge_api.main": "import frameforge_api.main",
}


def measure(statement: str) -> dict[str, object]:
    code = PROBE.format(statement=statement, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    found: dict[str, list[dict[str, object]]] = {name: [] for name in SUBJECTS}
    measure(SUBJECTS["frameforge_api.main"])  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, statement in SUBJECTS.items():  # interleaved: both see the same machine
            found[name].append(measure(statement))

    def median(name: str, key: str) -> float:
        return statistics.median(float(str(run[key])) for run in found[name])

    reference = "fastapi + dagster (reference)"
    print(f"median of {runs} runs, each in a new interpreter ({sys.version.split()[0]})")
    print(f"{'import':32} {'time s':>7} {'ratio':>6} {'RSS MiB':>8} {'peak MiB':>9} {'modules':>8}")
    for name in SUBJECTS:
        print(
            f"{name:32} {median(name, 'seconds'):7.2f} "
            f"{median(name, 'seconds') / median(reference, 'seconds'):6.2f} "
            f"{median(name, 'rss_mib'):8.0f} {median(name, 'peak_mib'):9.0f} "
            f"{median(name, 'modules'):8.0f}"
        )
    heavy = sorted({m for run in found["frameforge_api.main"] for m in run["heavy"]})  # type: ignore[attr-defined]
    print(f"heavy libraries loaded by frameforge_api.main: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()

"""How long a first start spends generating the sample data (both services, full size).

Each round runs a fresh interpreter that generates into an empty temporary folder and reports
wall-clock and CPU seconds (CPU time is steadier than wall time on a shared machine). With
`--peer REF` the generator at another git commit runs too, taking turns round by round.

    .venv/bin/python -m bench.sample_generation --rounds 3
    .venv/bin/python -m bench.sample_generation --rounds 3 --peer 7ca9f1e
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import checkouts

PROBE = """
import json, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
from imageservice.server.sampledata import ensure_sample_data
wall, cpu = time.perf_counter(), time.process_time()
with tempfile.TemporaryDirectory() as root:
    ensure_sample_data(root)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""


def run_once(source: Path) -> dict:
    with tempfile.TemporaryDirectory() as empty:     # an empty working folder: nothing shadows a module
        out = subprocess.run([sys.executable, "-c", PROBE, str(source)], check=True, capture_output=True,
                             text=True, cwd=empty)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer", help="a git commit whose generator runs too, for comparison")
    args = parser.parse_args()
    with checkouts(args.peer) as sources:
        results: dict[str, list[dict]] = {name: [] for name in sources}
        for _ in range(args.rounds):
            for name, source in sources.items():
                results[name].append(run_once(source))
    for name, runs in results.items():
        print(f"{name}: median wall {statistics.median(r['wall'] for r in runs):.1f} s, "
              f"median CPU {statistics.median(r['cpu'] for r in runs):.1f} s over {len(runs)} runs")


if __name__ == "__main__":
    main()

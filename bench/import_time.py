"""What importing the Dash component costs an app beyond `import dash, dash_leaflet`.

Each round starts fresh interpreters (nothing cached in the process; the OS file cache is warm
after the first round) and times, in-process, `import <module>` after `import dash, dash_leaflet`,
for this checkout's component and, with `--peer REF`, for the component at another git commit
(checked out into a temporary worktree), taking turns round by round. It also lists which heavy
libraries the import pulled in.

    .venv/bin/python -m bench.import_time --rounds 9
    .venv/bin/python -m bench.import_time --rounds 9 --peer b2e7b03 --peer-module components.imagemaplayer
    .venv/bin/python -m bench.import_time --rounds 9 --installed /path/to/venv/bin/python --peer b2e7b03

`--installed PYTHON` times the component as a user's app gets it: that interpreter (a virtual
environment with the wheel installed) run from an empty folder, so this checkout is not on sys.path.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("rasterio", "osgeo", "shapely", "pandas", "numpy", "pyproj", "plotly", "requests", "flask")
PROBE = """
import json, sys, time
import dash, dash_leaflet
before = set(sys.modules)
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
added = {{name.split('.')[0] for name in set(sys.modules) - before}}
print(json.dumps({{"seconds": elapsed, "added": sorted(added)}}))
"""


def probe(module: str, root: Path, python: str) -> dict:
    """One fresh interpreter importing `module` with `root` (its working folder) first on sys.path."""
    done = subprocess.run([python, "-c", PROBE.format(module=module)], cwd=root,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def report(name: str, runs: list[dict]) -> float:
    seconds = [run["seconds"] for run in runs]
    heavy = sorted(set(runs[-1]["added"]) & set(HEAVY))
    median = statistics.median(seconds)
    print(f"| {name} | {len(seconds)} | {min(seconds) * 1000:.0f} | {median * 1000:.0f} | "
          f"{max(seconds) * 1000:.0f} | {', '.join(heavy) or 'none'} |")
    print("  every run, ms: " + ", ".join(f"{s * 1000:.0f}" for s in seconds), file=sys.stderr)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--module", default="imageservice.dash")
    parser.add_argument("--peer", help="a git commit whose component to time side by side")
    parser.add_argument("--peer-module", default="components.imagemaplayer")
    parser.add_argument("--installed", metavar="PYTHON", help="time the module in this interpreter's installed package")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        targets = [(f"{args.module} (installed wheel)", args.module, Path(temp), args.installed) if args.installed
                   else (f"{args.module} (this checkout)", args.module, REPO, sys.executable)]
        if args.peer:
            worktree = Path(temp) / "peer"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(worktree), args.peer],
                           check=True, capture_output=True)
            targets.append((f"{args.peer_module} at {args.peer}", args.peer_module, worktree, sys.executable))
        try:
            runs: dict[str, list[dict]] = {name: [] for name, *_ in targets}
            for _ in range(args.rounds):
                for name, module, root, python in targets:
                    runs[name].append(probe(module, root, python))
        finally:
            if args.peer:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(worktree)], check=True)
    print("| import | runs | min ms | median ms | max ms | heavy libraries it loads |")
    print("|---|---:|---:|---:|---:|---|")
    medians = [report(name, runs[name]) for name, *_ in targets]
    if len(medians) == 2:
        print(f"\nmedian ratio, {targets[0][0]} / peer: {medians[0] / medians[1]:.2f}")


if __name__ == "__main__":
    main()

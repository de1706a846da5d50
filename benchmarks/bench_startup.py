"""Start-up time of `evidencekit --help` (heavy imports must stay deferred).

    python benchmarks/bench_startup.py [RUNS]

Prints the median and best wall time of RUNS fresh processes, and which heavy modules a bare
`import evidencekit.cli` pulled in (there should be none).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

HEAVY = ("reportlab", "av", "pikepdf", "pypdfium2", "pillow_heif", "PIL.Image", "rfc3161_client")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "evidencekit", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    probe = ("import sys, evidencekit.cli; "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.strip()
    print(f"| `evidencekit --help` | median {statistics.median(times):.3f} s | best {min(times):.3f} s "
          f"| heavy modules imported: {loaded or 'none'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Near-duplicate detection in bounded memory (issue 15, defect 12): templated answers share MinHash bands, so
their candidate pairs run into the millions; 40,000 of them took 1.4 GB (4.7 GB for a whole ingest of 50,000,
20.6 GB at 200,000). Measured in a fresh subprocess, so the peak is the detection's own."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child of a large pytest process would
# report the parent's peak; VmHWM belongs to the new address space
SCRIPT = """
import json, re
from benchmarks.ingest_memory import templated_answers
from pipeline.clean.dedupe import find_near_duplicates

def peak_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1)) / 1024

texts = list(dict.fromkeys(templated_answers(40_000)))
before = peak_mb()
found = find_near_duplicates(texts, 0.9)
print(json.dumps({"before_mb": before, "peak_mb": peak_mb(), "near": sum(f is not None for f in found),
                  "n": len(texts)}))
"""


def test_near_duplicates_of_40000_templated_answers_stay_under_600_mb():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["near"] > measured["n"] // 10  # the templates really do make many near-duplicates
    assert measured["peak_mb"] < 600, measured

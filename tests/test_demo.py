"""`make demo` end to end: agent -> collector -> chDB -> report, totals checked by hand.

Per call, from published prices per million tokens (gpt-4o-mini $0.15 in / $0.60 out; embedding-3-small
$0.02; gpt-4o $2.50 in / $1.25 cached / $10 out; claude-sonnet-4-5 $3 in / $0.30 cache read /
$3.75 cache write / $15 out):
  classify  gpt-4o-mini:  450*0.15 + 12*0.60                      =    74.7 µ$
  search    embeddings:   800*0.02                                =    16.0 µ$
  review    gpt-4o:       476*2.50 + 1024*1.25 + 300*10           =  5470.0 µ$
  draft     claude, first ticket of a customer (cache write):
                          900*3 + 12000*3.75 + 650*15             = 57450.0 µ$
            later tickets (cache read): 900*3 + 12000*0.30 + 650*15 = 16050.0 µ$
acme (2 tickets) = 2*(74.7+16+5470) + 57450 + 16050 = 84621.4 µ$; globex (1) = 63010.7 µ$;
initech (3) = 3*5560.7 + 57450 + 2*16050 = 106232.1 µ$; total 253864.2 µ$.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_prints_the_cost_report():
    # A newcomer's shell: none of the test session's OTEL_* / LLMOBSERVE_* settings, no keys.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.startswith(("OTEL_", "LLMOBSERVE_"))
    }
    env["COLUMNS"] = "160"
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "run_demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "handled 6 tickets for 3 customers" in text
    for amount in ("$0.253864", "$0.106232", "$0.084621", "$0.063011", "$0.220500", "$0.032820"):
        assert amount in text, amount
    assert "tool:search_docs" in text

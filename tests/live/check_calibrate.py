#!/usr/bin/env python3
"""`cowlab calibrate --quick`: the constants it measures are usable, and the model refitted with
them reproduces the measurements it was fitted to.

    python3 tests/live/check_calibrate.py build/native/cowlab

Fork time per GiB and the child's COW fault come straight out of the fitted constants, so the
engine with the measured constants must land within 15 % of the measurement (quick runs here:
0.1 % and 0 %; the full run: 0.1 % and 0 %). Other rows (exec, THP) are known model limits and
only printed.
"""

import json
import math
import subprocess
import sys

from checks import check, status


def main():
    cowlab = sys.argv[1]
    out = subprocess.run([cowlab, "calibrate", "--quick", "--json"], capture_output=True, text=True, timeout=600)
    check("calibrate --quick runs", out.returncode == 0, out.stderr[-400:])
    if out.returncode != 0:
        return 1
    j = json.loads(out.stdout)
    # A fitted constant is the fit through the per-size medians and its spread the fits of each
    # round alone, so it need not lie inside that spread, and a round alone may fit a negative
    # slope. A small slope (a huge PMD: 1-3 us per 2 MiB against a fork of 150 us and more) may
    # come out negative under load in a --quick run: then calibrate must say so.
    for c in j["constants"]:
        v = c["measured"]
        said = any(c["name"] in n and "negative" in n for n in j["notes"])
        check(f"{c['name']} is a figure with a spread, positive or said to be noise",
              math.isfinite(v) and (v > 0 or said) and c["min"] <= c["max"], json.dumps(c))
    derived = {d["name"]: d for d in j["derived"]}
    for name in ("fork per GiB, 4 KiB pages", "COW fault, the child copies"):
        d = derived[name]
        err = abs(d["engine_measured"] - d["measured"]) / d["measured"]
        check(f"the refitted model reproduces '{name}' within 15 %", err <= 0.15,
              f"measured {d['measured']:.3f}, engine {d['engine_measured']:.3f} {d['unit']}")
    for d in j["derived"]:
        print(f"# {d['name']}: measured {d['measured']:.3f}, engine (measured constants) {d['engine_measured']:.3f} {d['unit']}")
    check("the machine is described", j["machine"]["kernel"] != "" and j["machine"]["cpus"] >= 1)
    zp = j["machine"].get("zero_page_on_read")
    check("whether reads map the zero page is found out and said", isinstance(zp, bool) and
          any("zero page" in n for n in j["notes"]), json.dumps(j["machine"]))
    bad = subprocess.run([cowlab, "calibrate", "--rounds"], capture_output=True, text=True, timeout=30)
    check("an unknown option is refused with the usage", bad.returncode == 2 and "usage" in bad.stderr, bad.stderr)
    return status()


if __name__ == "__main__":
    sys.exit(main())

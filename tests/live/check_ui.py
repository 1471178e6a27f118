#!/usr/bin/env python3
"""The lab's window in live mode (`cowlab live --ui`), run under a virtual X display.

    python3 tests/live/check_ui.py build/native/cowlab [artifacts-dir]

A parent maps 64 MiB, touches it, forks; the child writes 4096 of its pages (16 MiB). The lab,
following the parent's tree, must show both processes, the child's Private_Dirty of at least
those 16 MiB (its own stack and interpreter pages add a little), and the parent's pages with as
many shared as the child left untouched. Then: a recording replayed natively, and bad input.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from checks import check, status

WORKLOAD = r"""
import os, sys, time
buf = bytearray(64 << 20)
for i in range(0, len(buf), 4096): buf[i] = 1
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    for i in range(0, 16 << 20, 4096): buf[i] = 2
    os.write(w, b"x")
    time.sleep(120)
    os._exit(0)
os.read(r, 1)
print(pid, flush=True)
time.sleep(120)
"""


def main():
    cowlab = sys.argv[1]
    artifacts = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp()
    os.makedirs(artifacts, exist_ok=True)
    if not shutil.which("xvfb-run"):
        print("not ok - xvfb-run is missing (scripts/setup.sh installs xvfb)")
        return 1
    xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]
    lab = os.path.join(os.path.dirname(cowlab), "cowlab-lab")
    parent = subprocess.Popen([sys.executable, "-c", WORKLOAD], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        shot = os.path.join(artifacts, "live-ui.png")
        out = subprocess.run(xvfb + [cowlab, "live", "--ui", "--tree", str(parent.pid), "--interval", "100",
                                     "--frames", "200", "--screenshot", shot, "--print-state"],
                             capture_output=True, text=True, timeout=180)
        check("cowlab live --ui runs the lab window", out.returncode == 0, out.stderr[-500:])
        state = json.loads(out.stdout.strip().splitlines()[-1])
        procs = {p["pid"]: p for p in state["processes"]}
        check("it follows the parent and the child", parent.pid in procs and child in procs, str(list(procs)))
        if child in procs:
            pd = procs[child]["private_dirty"]
            check("the child's Private_Dirty holds the 4096 pages it wrote", 16 << 20 <= pd <= (16 << 20) + (2 << 20),
                  f"{pd} bytes")
        check("samples keep coming", state["samples"] >= 2, f"{state['samples']} samples")
        check("the parent's pages are drawn", state["pid"] == parent.pid and state["pages_shown"] >= 16384,
              f"pid {state['pid']}, {state['pages_shown']} pages")
        check("the window's screenshot was saved", os.path.getsize(shot) > 10000)

        out = subprocess.run([cowlab, "live", "--tree", str(parent.pid), "--shared", "--json"],
                             capture_output=True, text=True, timeout=60)
        sharing = {x["pid"]: x for x in json.loads(out.stdout)["sharing"]}
        c = sharing.get(child, {})
        # 64 MiB touched, 16 MiB of it rewritten by the child: 12288 pages still shared, plus the
        # interpreter's own heap pages that neither process has written since the fork.
        check("--shared counts the pages the child still shares", 12288 <= c.get("shared", 0) <= 12288 + 4096,
              json.dumps(c))
        check("--shared counts the pages the child copied as its own", 4096 <= c.get("alone", 0) <= 4096 + 1024,
              json.dumps(c))
        if "same_frame_as_parent" in c:   # frame numbers are visible (root)
            check("as root, the shared pages are the parent's very frames", c["same_frame_as_parent"] == c["shared"],
                  json.dumps(c))

        rec = os.path.join(artifacts, "live-ui-tree.jsonl")
        subprocess.run([cowlab, "live", "--tree", str(parent.pid), "--count", "2", "--interval", "100", "--record", rec],
                       capture_output=True, check=True, timeout=60)
    finally:
        for pid in (parent.pid, child if "child" in locals() else 0):
            if pid:
                try:
                    os.kill(pid, 9)   # the child too: it holds the test's output open
                except ProcessLookupError:
                    pass
        parent.wait()
    out = subprocess.run(xvfb + [lab, "--recording", rec, "--frames", "5", "--print-state"],
                         capture_output=True, text=True, timeout=120)
    state = json.loads(out.stdout.strip().splitlines()[-1])
    check("the native lab replays a recording", out.returncode == 0 and state["open"] and state["samples"] == 2,
          out.stdout[-300:] + out.stderr[-300:])
    bad = os.path.join(artifacts, "not-a-recording.jsonl")
    with open(bad, "w") as f:
        f.write("hello\n")
    out = subprocess.run(xvfb + [lab, "--recording", bad, "--frames", "5", "--print-state"],
                         capture_output=True, text=True, timeout=120)
    check("a bad recording is named with the reason, and the lab still opens", out.returncode == 0 and
          "line 1 is not a JSON object" in out.stderr, out.stderr[-300:])
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    out = subprocess.run([cowlab, "live", "--ui"], capture_output=True, text=True, timeout=30, env=env)
    check("without a display, --ui says so instead of opening a window nobody sees",
          out.returncode == 1 and "no display" in out.stderr, out.stderr)
    out = subprocess.run([cowlab, "live", "--ui", "--json"], capture_output=True, text=True, timeout=30)
    check("live --ui with a table option says why it cannot", out.returncode == 2 and "--json" in out.stderr, out.stderr)
    out = subprocess.run(xvfb + [lab, "--live", "--tree", "nope"], capture_output=True, text=True, timeout=60)
    check("a pid that is not a number is refused", out.returncode != 0 and "process id" in out.stderr, out.stderr)
    return status()


if __name__ == "__main__":
    sys.exit(main())

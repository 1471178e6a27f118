#!/usr/bin/env python3
"""`cowlab experiment redis-bgsave` against a real redis-server.

    python3 tests/live/check_redis.py build/native/cowlab

Runs small BGSAVEs under write load and checks the engine's prediction against
what Redis and /proc report, then the error paths: bad options, a missing
redis-server, a port in use, a server killed mid-run and Ctrl-C mid-run (the
server, its saving child and its directory must be gone). Skips (exit 0) only
when redis-server is not installed.

Tolerances, from repeated runs on a 2-core VM under heavy build load
(engine vs measured, relative):
  used_memory          -1.4 % .. -3.8 % in every run (Redis's own ~0.9 MiB baseline,
                       which the engine does not model): assert within 6 %
  rdb_last_cow_size    raw values (> 44 B), the engine given the measured save time and
                       write count: -4.1 % .. -1.2 % over 10 runs of the two cases below
                       (load average 8-9; the engine lacks the child's own ~0.3 MiB of
                       buffers and the server's own background writes); one later run with
                       only 770 SETs in the save: -10.1 % (0.87 MB). A CI run (2 cores, 1 KiB
                       values) read -17.3 %: the SETs were counted at the child's last sample,
                       53 ms before its exit, and its last Private_Dirty covers the writes up to
                       its exit. The exit is now seen through a pidfd and the SETs counted then:
                       -0.1 % .. -4.7 % over 8 runs with three busy loops on 2 cores.
                       Assert within 8 % + 1 MiB
  sampled Private_Dirty peak vs Redis's own rdb_last_cow_size: the sampler misses at most
                       the last sampling period: assert it is not above it by more than 5 %
                       + 1 MiB, nor below 70 % of it
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CASES = [
    # keys, value bytes, SETs/s
    (200000, 100, 2000),
    (50000, 1024, 20000),
]
TOL_USED = 0.06
TOL_COW = 0.08
TOL_COW_BYTES = 2 ** 20

failures = []


def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        failures.append(what)


def run(cowlab, args, env=None, timeout=120):
    return subprocess.run([cowlab, "experiment", "redis-bgsave"] + args, capture_output=True, text=True,
                          env=env, timeout=timeout)


def server_line(stderr):
    """(pid, port, dir) from 'redis-server PID on 127.0.0.1:PORT in DIR', or None."""
    for line in stderr.splitlines():
        if "redis-server" in line and " on 127.0.0.1:" in line and " in " in line:
            words = line.split()
            i = words.index("redis-server")
            pid = int(words[i + 1])
            port = int(words[i + 3].rsplit(":", 1)[1])
            return pid, port, words[i + 5]
    return None


def gone(pid, port, d):
    """True when no process serves the port (the server or its saving child) and d is removed."""
    alive = subprocess.run(["pgrep", "-f", "127.0.0.1:%d" % port], capture_output=True, text=True).stdout.split()
    pid_alive = os.path.exists("/proc/%d" % pid)
    return not alive and not pid_alive and not os.path.exists(d), (alive, pid_alive, os.path.exists(d))


def rel(m, p):
    return (p - m) / m if m else float("inf")


def check_case(cowlab, keys, vb, rate):
    name = "%d keys x %d B at %d SETs/s" % (keys, vb, rate)
    rec = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    try:
        r = run(cowlab, ["--keys", str(keys), "--value-bytes", str(vb), "--writes-per-s", str(rate), "--json", "--record", rec])
        ok(r.returncode == 0, "%s: exit 0 (%s)" % (name, r.stderr.strip()[-300:]))
        if r.returncode != 0:
            return
        j = json.loads(r.stdout)
        rows = {x["name"]: x for x in j["rows"]}
        for x in j["rows"]:
            print("#   %-36s measured %14.0f  engine %14.0f  %+6.1f %%" % (x["name"], x["measured"], x["predicted"],
                                                                       100 * rel(x["measured"], x["predicted"])))
        print("#   " + " | ".join(j["notes"]))
        um = rows["used_memory"]
        ok(abs(rel(um["measured"], um["predicted"])) <= TOL_USED, "%s: used_memory within %d %%" % (name, TOL_USED * 100))
        ok(rows["server Rss after load"]["measured"] >= um["measured"], "%s: the server's Rss covers its used_memory" % name)
        cow = rows["rdb_last_cow_size"]
        writes = rows["writes applied during the save"]["measured"]
        ok(writes > 0, "%s: SETs were applied during the save (%d)" % (name, writes))
        # Every SET of an existing key copies at least the page of its dictEntry, once: the COW
        # size is well above the bytes written and below the whole dataset.
        ok(cow["measured"] > 4096 * min(writes, 100) and cow["measured"] < 1.5 * um["measured"],
           "%s: rdb_last_cow_size is plausible (%d B)" % (name, cow["measured"]))
        ok(abs(cow["predicted"] - cow["measured"]) <= TOL_COW * cow["measured"] + TOL_COW_BYTES,
           "%s: rdb_last_cow_size: engine within %d %% + 1 MiB of Redis (%+.1f %%)"
           % (name, TOL_COW * 100, 100 * rel(cow["measured"], cow["predicted"])))
        peak = rows["child Private_Dirty peak (sampled)"]["measured"]
        ok(0.7 * cow["measured"] <= peak <= 1.05 * cow["measured"] + 2 ** 20,
           "%s: sampled Private_Dirty peak agrees with Redis's own report" % name)
        ok(rows["latest_fork_usec"]["measured"] > 0, "%s: latest_fork_usec measured" % name)
        series = j["series"][0]
        ok(series["name"] == "child Private_Dirty" and len(series["measured"]) >= 2 and len(series["predicted"]) >= 10,
           "%s: the Private_Dirty series has measured and engine points" % name)
        vals = [v for _, v in series["measured"]]
        ok(max(vals) > vals[0], "%s: the child's Private_Dirty grows during the save" % name)
        with open(rec) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        types = [l["type"] for l in lines]
        samples = [l for l in lines if l["type"] == "sample"]
        ok(types[0] == "header" and "experiment" in types and "series" in types and types[-1] == "end" and samples,
           "%s: the recording has samples, the report and the series" % name)
        ok(all(len(s["processes"]) == 2 for s in samples), "%s: each sample has the server and its child" % name)
    finally:
        os.unlink(rec)


def main():
    if len(sys.argv) != 2:
        print("usage: check_redis.py path/to/cowlab")
        return 2
    cowlab = os.path.abspath(sys.argv[1])
    if not shutil.which("redis-server"):
        print("ok - skip: redis-server is not installed (scripts/setup.sh installs it)")
        return 0
    t0 = time.time()

    # Bad input: a clear message and status 2, nothing started.
    for args, word in [(["--keys", "0", "--value-bytes", "100", "--writes-per-s", "10"], "--keys"),
                       (["--keys", "10", "--value-bytes", "100", "--writes-per-s", "abc"], "--writes-per-s"),
                       (["--keys", "10", "--value-bytes", "1000000", "--writes-per-s", "10"], "--value-bytes"),
                       (["--keys", "10", "--value-bytes", "100"], "usage")]:
        r = run(cowlab, args)
        ok(r.returncode == 2 and word in r.stderr and "redis-server " not in r.stderr,
           "bad input %s: exit 2 with a message naming %s" % (" ".join(args), word))
    r = run(cowlab, ["--keys", "20000000", "--value-bytes", "4096", "--writes-per-s", "10"])
    ok(r.returncode == 1 and "MemAvailable" in r.stderr, "a dataset beyond the machine's memory is refused")
    r = run(cowlab, ["--keys", "10", "--value-bytes", "10", "--writes-per-s", "10"], env=dict(os.environ, PATH="/nonexistent"))
    ok(r.returncode == 1 and "scripts/setup.sh" in r.stderr, "no redis-server on PATH: exit 1, told to run scripts/setup.sh")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    busy = s.getsockname()[1]
    r = run(cowlab, ["--keys", "10", "--value-bytes", "10", "--writes-per-s", "10", "--port", str(busy)])
    s.close()
    ok(r.returncode == 1 and "in use" in r.stderr, "a port in use: exit 1 with a message")

    for keys, vb, rate in CASES:
        check_case(cowlab, keys, vb, rate)

    # A server that dies mid-run: an error naming it, and nothing left behind.
    for sig, who in [(signal.SIGKILL, "server"), (signal.SIGINT, "experiment")]:
        p = subprocess.Popen([cowlab, "experiment", "redis-bgsave", "--keys", "400000", "--value-bytes", "100",
                              "--writes-per-s", "2000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stderr.readline()
        info = server_line(line)
        ok(info is not None, "%s interrupted: the server's pid, port and directory are printed (%r)" % (who, line))
        if info is None:
            p.kill()
            p.wait()
            continue
        pid, port, d = info
        time.sleep(1.0)   # loading or saving by now
        os.kill(pid if who == "server" else p.pid, sig)
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        if who == "server":
            ok(p.returncode == 1 and "redis-server" in err and "signal 9" in err,
               "a server killed mid-run: exit 1, the error says so (%s)" % err.strip()[-200:])
        else:
            ok(p.returncode == -signal.SIGINT, "Ctrl-C mid-run: the experiment ends by SIGINT (%s)" % p.returncode)
        for _ in range(50):
            done, why = gone(pid, port, d)
            if done:
                break
            time.sleep(0.1)
        ok(done, "%s interrupted: no redis process on port %d and %s removed %s" % (who, port, d, why))

    print("# %.1f s" % (time.time() - t0))
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

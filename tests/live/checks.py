"""One `ok - ...` / `not ok - ...` line per check, as the live tests print them."""

failures = 0


def check(name, ok, detail=""):
    """Prints the check's line (with `detail` when it failed) and counts a failure."""
    global failures
    print(f"{'ok' if ok else 'not ok'} - {name}{': ' + detail if detail and not ok else ''}")
    failures += not ok


def status():
    """The exit status: 1 if any check failed."""
    return 1 if failures else 0

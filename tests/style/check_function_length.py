#!/usr/bin/env python3
"""Functions in engine/, host/ and tools/ fit on a screen.

Lists every function body longer than LIMIT lines and fails unless the line
before the function's head carries a comment starting "// long:" that says why
(a generated table, say). A function is found the way this code base writes
them: a head line that ends in "{" at indentation 0 (or 4 inside a class)
and a closing "}" at the same indentation.

    tests/style/check_function_length.py [--limit 100] [--top 10] [ROOT]
"""
import argparse
import os
import re
import sys

FOLDERS = ("engine", "host", "tools")
HEAD = re.compile(r"^(?P<indent> {0,4})(?!(?:namespace|struct|class|enum|union|extern)\b)[A-Za-z_~][^;{}]*\)[^;{}]*\{\s*(//.*)?$")


def functions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = HEAD.match(lines[i])
        if not m or lines[i].lstrip().startswith(("if", "for", "while", "switch", "else", "}", "//", "return", "case")):
            i += 1
            continue
        indent = m.group("indent")
        start = i
        # The head may begin on earlier lines (a return type, wrapped parameters).
        while start > 0 and lines[start - 1].strip() and not lines[start - 1].rstrip().endswith((";", "}", "{")) \
                and not lines[start - 1].lstrip().startswith(("//", "#")):
            start -= 1
        end = i + 1
        while end < len(lines) and lines[end] != indent + "}" and lines[end] != indent + "};":
            end += 1
        if end >= len(lines):
            i += 1
            continue
        name = re.search(r"([A-Za-z_~][\w:~]*(?:operator\S*)?)\s*\(", " ".join(l.strip() for l in lines[start:i + 1]))
        justified = start > 0 and lines[start - 1].lstrip().startswith("// long:")
        yield (name.group(1) if name else lines[i].strip()), start + 1, end - i - 1, justified
        i = end + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--top", type=int, default=10)
    a = ap.parse_args()
    found = []
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(a.root, folder)):
            for fn in sorted(files):
                if fn.endswith((".cpp", ".h")):
                    p = os.path.join(dirpath, fn)
                    for name, line, length, justified in functions(p):
                        found.append((length, os.path.relpath(p, a.root), line, name, justified))
    found.sort(reverse=True)
    print(f"longest functions in {', '.join(FOLDERS)} (body lines):")
    for length, p, line, name, justified in found[:a.top]:
        print(f"  {length:5d}  {p}:{line}  {name}{'  (justified)' if justified else ''}")
    bad = [f for f in found if f[0] > a.limit and not f[4]]
    for length, p, line, name, _ in bad:
        print(f"{p}:{line}: {name} is {length} lines (over {a.limit}): split it by case, or say why in a '// long:' comment above it")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

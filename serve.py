#!/usr/bin/env python3
"""Serve the cowlab web lab over HTTP on this machine.

    python3 serve.py [--port 8000] [--host 127.0.0.1] [--root DIR] [--no-build] [--quiet]

Serves build/wasm/web (or --root DIR) and rebuilds it first with `scripts/build.sh web`
when it is missing or older than its sources. Browsers load WebAssembly only over HTTP with
the right MIME type, so opening index.html from disk does not work; this server does that,
refuses every path outside the root, and answers only GET and HEAD.

The build writes a brotli (NAME.br) and a gzip (NAME.gz) copy next to the lab's files; a request
whose Accept-Encoding allows one gets it (brotli first) with Content-Encoding set, the
Content-Type of NAME and `Vary: Accept-Encoding`. A copy that is missing, outside the root or
older than NAME is never served: NAME itself is.
"""

import argparse
import http.server
import os
import signal
import socket
import socketserver
import subprocess
import sys
import urllib.parse

REPO = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.join(REPO, "build", "wasm", "web")
BUILD_CMD = ["scripts/build.sh", "web"]
BUILD_CMD_TEXT = " ".join(BUILD_CMD)
LAB_FILES = ("index.html", "cowlab.js", "cowlab.wasm")
SOURCE_DIRS = ("engine", "web", "shaders", "lessons")
SOURCE_FILES = ("CMakeLists.txt", "CMakePresets.json")

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".jsonl": "application/jsonl",   # recordings (engine/recording/recording.h)
    ".map": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

# Precompressed copies, in the order they are preferred when the client accepts them equally.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


class Stop(Exception):
    """Raised by the SIGTERM handler to leave serve_forever like Ctrl-C does."""


# ---------------------------------------------------------------------------------------------
# Build freshness


def newest_mtime(paths):
    """Newest modification time of the files at or under `paths`, 0 if there is none."""
    newest = 0.0
    for top in paths:
        if os.path.isfile(top):
            newest = max(newest, os.path.getmtime(top))
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if not name.startswith(".") and not name.endswith("~"):
                    try:
                        newest = max(newest, os.path.getmtime(os.path.join(folder, name)))
                    except OSError:
                        pass  # removed while walking
    return newest


def same_content(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def build_reason(root, repo):
    """Why the lab in `root` needs a build, or None when it is current.

    The page files are copied verbatim from web/static/ and only when they change, so they are
    compared by content; cowlab.js/.wasm must be newer than every other source, which keeps an
    edit to the page alone from making the (unchanged) wasm look stale forever.
    """
    static = os.path.join(repo, "web", "static")
    for name in LAB_FILES:
        if not os.path.isfile(os.path.join(root, name)):
            return f"{name} is missing"
    if os.path.isdir(static):
        for name in sorted(os.listdir(static)):
            src, out = os.path.join(static, name), os.path.join(root, name)
            if os.path.isfile(src) and not (os.path.isfile(out) and same_content(src, out)):
                return f"{name} differs from web/static/{name}"
    sources = [os.path.join(repo, p) for p in SOURCE_FILES + SOURCE_DIRS if p != "web"]
    web = os.path.join(repo, "web")
    if os.path.isdir(web):
        sources += [os.path.join(web, p) for p in os.listdir(web) if p != "static"]
    newest = newest_mtime(sources)
    for name in ("cowlab.js", "cowlab.wasm"):
        if os.path.getmtime(os.path.join(root, name)) < newest:
            return f"{name} is older than its sources"
    return None


def build_lab(repo):
    """Run the web build with its output streamed; exit 1 with a one-line hint if it fails."""
    script = os.path.join(repo, BUILD_CMD[0])
    if not os.path.isfile(script):
        fail(f"{BUILD_CMD[0]} is missing, so the lab cannot be built; restore it and run "
             f"`{BUILD_CMD_TEXT}`, or serve a built lab with --root DIR", 1)
    print(f"building the lab: {BUILD_CMD_TEXT}", flush=True)
    try:
        code = subprocess.call([script, *BUILD_CMD[1:]], cwd=repo)
    except OSError as e:
        fail(f"could not run `{BUILD_CMD_TEXT}` ({e.strerror}); run it by hand to see why", 1)
    except (KeyboardInterrupt, Stop):
        fail(f"build interrupted; run `{BUILD_CMD_TEXT}` to finish it", 1)
    if code != 0:
        fail(f"`{BUILD_CMD_TEXT}` failed (exit {code}); fix the build and run "
             f"`{BUILD_CMD_TEXT}` again", 1)


# ---------------------------------------------------------------------------------------------
# Content negotiation


def accepted_codings(header):
    """Accept-Encoding as {coding: q}, names lowercased ("x-gzip" is gzip); {} when absent."""
    accepted = {}
    for item in (header or "").split(","):
        name, *params = [p.strip() for p in item.split(";")]
        name = name.lower()
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        accepted["gzip" if name == "x-gzip" else name] = q
    return accepted


def pick_encoding(header, available):
    """The coding to send among `available` (names, in order of preference), or None: identity.

    A coding the header names with q > 0 is acceptable, and so is one covered by `*` with q > 0
    that the header does not name; of the acceptable ones the highest q wins, ties going to the
    earlier in `available`. Identity is always possible, so nothing here ever answers 406.
    """
    accepted = accepted_codings(header)
    best, best_q = None, 0.0
    for name in available:
        q = accepted.get(name, accepted.get("*", 0.0))
        if q > best_q:
            best, best_q = name, q
    return best


# ---------------------------------------------------------------------------------------------
# Request handling


class LabHandler(http.server.BaseHTTPRequestHandler):
    """Static files from `server.root` (a resolved, absolute path); nothing outside it."""

    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "cowlab"

    def do_GET(self):
        self.serve(body=True)

    def do_HEAD(self):
        self.serve(body=False)

    def refuse_method(self):
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = refuse_method

    def resolve(self):
        """Map the request target to (status, path): 200 file, 301 new location, 403 or 404."""
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            target = urllib.parse.urlsplit(target).path or "/"
        target = target.split("#", 1)[0].split("?", 1)[0]
        if not target.startswith("/") or "\\" in target:
            return 403, None
        path = urllib.parse.unquote(target, errors="strict")
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if "\\" in path or "\0" in path or ".." in parts:
            return 403, None
        full = self.server.inside_root(os.path.join(self.server.root, *parts))
        if full and os.path.isdir(full):
            if not path.endswith("/"):
                return 301, target + "/"
            full = self.server.inside_root(os.path.join(full, "index.html"))
        if full is None:
            return 403, None  # a symlink leads outside the root
        if not os.path.isfile(full):
            return 404, None
        return 200, full

    def variants(self, full):
        """[(coding, path)] of the precompressed copies of `full` that may stand in for it."""
        found = []
        mtime = os.path.getmtime(full)
        for coding, suffix in ENCODINGS:
            copy = self.server.inside_root(full + suffix)
            try:
                if copy and os.path.isfile(copy) and os.path.getmtime(copy) >= mtime:
                    found.append((coding, copy))
            except OSError:
                pass  # removed meanwhile
        return found

    def serve(self, body):
        try:
            status, full = self.resolve()
        except UnicodeDecodeError:
            status, full = 400, None
        if status == 301:
            self.send_response(301)
            self.send_header("Location", full)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if status != 200:
            self.send_error(status)
            return
        ext = os.path.splitext(full)[1].lower()
        try:
            variants = self.variants(full)
        except OSError:
            self.send_error(404)
            return
        coding = pick_encoding(self.headers.get("Accept-Encoding"), [c for c, _ in variants])
        try:
            f = open(dict(variants)[coding] if coding else full, "rb")
        except OSError:
            coding = None  # the copy went away: the file itself still answers
            try:
                f = open(full, "rb")
            except OSError:
                self.send_error(404)
                return
        with f:
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", MIME_TYPES.get(ext, "application/octet-stream"))
            if coding:
                self.send_header("Content-Encoding", coding)
            if variants:
                self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if body:
                try:
                    while chunk := f.read(64 * 1024):
                        self.wfile.write(chunk)
                except ConnectionError:
                    self.close_connection = True

    def end_headers(self):
        if self.close_connection:
            self.send_header("Connection", "close")
        super().end_headers()

    def send_error(self, code, message=None, explain=None):
        self.close_connection = True  # error bodies are short; keep the protocol simple
        super().send_error(code, message, explain)

    def log_request(self, code="-", size="-"):
        if not self.server.quiet:
            code = getattr(code, "value", code)
            sys.stderr.write(f"{self.command or '-'} {getattr(self, 'path', '-')} {code}\n")

    def log_error(self, format, *args):
        pass  # every error response is also logged by log_request


class LabServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, family, root, quiet):
        self.address_family = family
        self.root = root
        self.quiet = quiet
        super().__init__(address, LabHandler)

    def server_bind(self):
        # HTTPServer.server_bind also looks up the host's FQDN, which can stall; nothing here uses it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def inside_root(self, path):
        """`path` with symlinks resolved if it stays inside the root, else None."""
        real = os.path.realpath(path)
        return real if real == self.root or real.startswith(self.root + os.sep) else None

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the browser went away mid-response
        super().handle_error(request, client_address)


# ---------------------------------------------------------------------------------------------
# Command line


def fail(message, code):
    print(f"cowlab lab: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def port_number(text):
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0-65535 (0 picks a free one)")
    return port


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="serve.py", description="Serve the cowlab web lab on this machine.")
    parser.add_argument("--port", type=port_number, default=8000,
                        help="port to listen on, 0 picks a free one (default 8000)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only)")
    parser.add_argument("--root", help="serve this built lab folder instead of build/wasm/web; "
                                       "implies --no-build")
    parser.add_argument("--no-build", action="store_true",
                        help="serve what is there, never run the build")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)

    try:
        infos = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as e:
        parser.error(f"cannot resolve host {args.host!r}: {getattr(e, 'strerror', None) or e}")
    args.family, _, _, _, args.address = infos[0]

    args.build = not args.no_build and args.root is None
    args.root = os.path.abspath(args.root or DEFAULT_ROOT)
    if not args.build and not os.path.isdir(args.root):
        parser.error(f"root folder {args.root} does not exist"
                     + ("" if args.root != DEFAULT_ROOT else f"; build it with `{BUILD_CMD_TEXT}`"))
    return args


def url_host(host):
    return f"[{host}]" if ":" in host else host


def main(argv=None):
    args = parse_args(argv)

    def on_sigterm(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_sigterm)
    # A shell that starts us in the background ignores SIGINT; Ctrl-C must still stop the server.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if args.build:
        reason = build_reason(args.root, REPO)
        if reason:
            print(f"cowlab lab: {reason} in {os.path.relpath(args.root, REPO)}", flush=True)
            build_lab(REPO)
            for name in LAB_FILES:
                if not os.path.isfile(os.path.join(args.root, name)):
                    fail(f"`{BUILD_CMD_TEXT}` succeeded but left no {name} in {args.root}", 1)

    address = args.address[:2] if args.family == socket.AF_INET else args.address
    try:
        server = LabServer(address, args.family, os.path.realpath(args.root), args.quiet)
    except OSError as e:
        fail(f"cannot listen on {url_host(args.host)}:{args.port}: {e.strerror or e}", 1)

    print(f"cowlab lab: http://{url_host(args.host)}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        server.server_close()
    print("cowlab lab: stopped", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, Stop):  # stopped before the server was up
        print("cowlab lab: stopped", flush=True)
        sys.exit(0)

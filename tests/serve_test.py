#!/usr/bin/env python3
"""Tests of serve.py, the lab's local web server.

    python3 tests/serve_test.py        (or: python3 -m unittest tests/serve_test.py)

Each test runs serve.py as a program, the way people and the browser test use it, on a
temporary folder; nothing in the repository is built or served.
"""

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVE = os.path.join(REPO, "serve.py")
SECRET = b"the secret outside the root"
START_TIMEOUT = 20


class Server:
    """serve.py running as a child process; `url` host and port once it prints them."""

    def __init__(self, args, script=None):
        self.proc = subprocess.Popen(
            [sys.executable, script or SERVE, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        found = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line)
                if "http://" in line:
                    found.set()
            found.set()  # exited

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not found.wait(START_TIMEOUT) or not any("http://" in l for l in self.lines):
            code, out, err = self.stop()
            raise AssertionError(f"serve.py printed no URL (exit {code}): {out}{err}")
        url = next(l for l in self.lines if "http://" in l).split("http://", 1)[1].strip()
        hostport = url.rstrip("/")
        self.host, self.port = hostport.rsplit(":", 1)[0], int(hostport.rsplit(":", 1)[1])

    def request(self, path, method="GET", headers=None):
        """(status, headers, body) for a raw request target, sent exactly as given."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM):
        """Send `sig`, wait, and return (exit code, stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.reader.join(10)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code, "".join(self.lines), err


def run_serve(args, script=None, timeout=20):
    return subprocess.run([sys.executable, script or SERVE, *args], capture_output=True, text=True,
                          timeout=timeout)


class ServingFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cowlab-serve-test-")
        base = cls.tmp
        root = os.path.join(base, "root")
        os.makedirs(os.path.join(root, "sub"))
        files = {
            "index.html": b"<!doctype html><title>lab</title>",
            "cowlab.wasm": b"\0asm\1\0\0\0",
            "cowlab.js": b"var createCowlab;",
            "page.mjs": b"export {};",
            "info.json": b"{}",
            "style.css": b"body{}",
            "icon.png": b"\x89PNG",
            "icon.svg": b"<svg/>",
            "blob.bin": b"\1\2\3",
            "sub/index.html": b"sub index",
        }
        for name, data in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        cls.files = files
        with open(os.path.join(base, "secret.txt"), "wb") as f:
            f.write(SECRET)
        os.symlink(os.path.join(base, "secret.txt"), os.path.join(root, "link.txt"))
        os.symlink(base, os.path.join(root, "outside"))
        os.symlink("index.html", os.path.join(root, "alias.html"))  # stays inside: allowed
        cls.secret_path = os.path.join(base, "secret.txt")
        cls.server = Server(["--no-build", "--root", root, "--port", "0", "--quiet"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp)

    def test_prints_one_loopback_url(self):
        self.assertEqual(self.server.host, "127.0.0.1")
        self.assertNotEqual(self.server.port, 0)
        self.assertEqual(sum("http://" in l for l in self.server.lines), 1)

    def test_serves_each_kind_of_file_with_its_mime_type(self):
        expected = {
            "/index.html": "text/html; charset=utf-8",
            "/cowlab.wasm": "application/wasm",
            "/cowlab.js": "text/javascript",
            "/page.mjs": "text/javascript",
            "/info.json": "application/json",
            "/style.css": "text/css",
            "/icon.png": "image/png",
            "/icon.svg": "image/svg+xml",
        }
        for path, mime in expected.items():
            with self.subTest(path=path):
                status, headers, body = self.server.request(path)
                self.assertEqual(status, 200)
                self.assertEqual(headers["Content-Type"], mime)
                self.assertEqual(headers["Cache-Control"], "no-cache")
                self.assertEqual(body, self.files[path[1:]])
                self.assertEqual(int(headers["Content-Length"]), len(body))

    def test_the_root_and_query_strings_serve_index_html(self):
        for path in ("/", "/?lesson=fork-basics&step=3", "/index.html?x=1#frag"):
            with self.subTest(path=path):
                status, _, body = self.server.request(path)
                self.assertEqual(status, 200)
                self.assertEqual(body, self.files["index.html"])

    def test_a_folder_without_its_slash_is_redirected(self):
        status, headers, _ = self.server.request("/sub?a=b")
        self.assertEqual(status, 301)
        self.assertEqual(headers["Location"], "/sub/")
        self.assertEqual(self.server.request("/sub/")[2], b"sub index")

    def test_head_sends_headers_only(self):
        status, headers, body = self.server.request("/cowlab.wasm", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/wasm")
        self.assertEqual(int(headers["Content-Length"]), len(self.files["cowlab.wasm"]))
        self.assertEqual(body, b"")

    def test_only_get_and_head_are_answered(self):
        for method in ("POST", "PUT", "DELETE"):
            with self.subTest(method=method):
                status, headers, _ = self.server.request("/index.html", method=method)
                self.assertEqual(status, 405)
                self.assertEqual(headers["Allow"], "GET, HEAD")

    def test_a_missing_file_is_404(self):
        self.assertEqual(self.server.request("/nope.js")[0], 404)
        self.assertEqual(self.server.request("/sub/nope/")[0], 404)

    def test_unknown_extensions_are_octet_streams(self):
        status, headers, _ = self.server.request("/blob.bin")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")

    def test_a_symlink_inside_the_root_is_served(self):
        status, _, body = self.server.request("/alias.html")
        self.assertEqual((status, body), (200, self.files["index.html"]))

    def test_no_path_reaches_a_file_outside_the_root(self):
        secret = self.secret_path
        attempts = [
            "/../secret.txt",
            "/sub/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E/secret.txt",
            "/..%2fsecret.txt",
            "/..%2Fsecret.txt",
            "/sub/..%2f..%2fsecret.txt",
            "/%2e%2e%2fsecret.txt",
            "/..\\secret.txt",
            "/%5c..%5csecret.txt",
            "/..%5csecret.txt",
            "/link.txt",
            "/outside/secret.txt",
            "/outside/root/../secret.txt",
            "//" + secret.lstrip("/"),
            "/%2f" + secret.lstrip("/"),
            "/%2F%2F" + secret.lstrip("/"),
            secret,
            "http://127.0.0.1/../secret.txt",
            "/secret.txt%00.html",
            "..",
            "../secret.txt",
        ]
        for path in attempts:
            with self.subTest(path=path):
                status, _, body = self.server.request(path)
                self.assertIn(status, (400, 403, 404))
                self.assertNotIn(SECRET, body)

    def test_the_server_still_answers_after_bad_requests(self):
        self.server.request("/%ff%fe")
        self.server.request("/../../../../etc/passwd")
        self.assertEqual(self.server.request("/")[0], 200)


class Precompressed(unittest.TestCase):
    """NAME.br / NAME.gz beside NAME, chosen by the request's Accept-Encoding."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cowlab-serve-test-")
        root = os.path.join(cls.tmp, "root")
        os.makedirs(root)
        cls.files = {
            "cowlab.wasm": b"\0asm\1\0\0\0 plain",
            "cowlab.wasm.br": b"brotli bytes of the wasm",
            "cowlab.wasm.gz": b"gzip bytes of the wasm",
            "cowlab.js": b"var createCowlab; // plain",
            "cowlab.js.gz": b"gzip bytes of the js",        # no .br: gzip or nothing
            "index.html": b"<!doctype html><title>lab</title>",
            "index.html.br": b"brotli bytes of the page",   # no .gz
            "style.css": b"body{}",                         # no copies at all
            "stale.js": b"newer than its copies",
            "stale.js.br": b"an old build's brotli",
            "stale.js.gz": b"an old build's gzip",
            "ghost.js.br": b"a copy whose file is gone",
            "linked.js": b"its copy is a link out of the root",
        }
        for name, data in cls.files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        old = time.time() - 3600
        for name in ("stale.js.br", "stale.js.gz"):
            os.utime(os.path.join(root, name), (old, old))
        for name in ("secret.txt.br", "secret.txt.gz", "secret.txt"):
            with open(os.path.join(cls.tmp, name), "wb") as f:
                f.write(SECRET)
        os.symlink(os.path.join(cls.tmp, "secret.txt.br"), os.path.join(root, "linked.js.br"))
        cls.server = Server(["--no-build", "--root", root, "--port", "0", "--quiet"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp)

    def get(self, path, accept=None, method="GET"):
        return self.server.request(path, method, {"Accept-Encoding": accept} if accept is not None else None)

    def assertServes(self, path, accept, file, coding, mime):
        status, headers, body = self.get(path, accept)
        self.assertEqual(status, 200)
        self.assertEqual(body, self.files[file])
        self.assertEqual(headers["Content-Encoding"], coding)
        self.assertEqual(headers["Content-Type"], mime)
        self.assertEqual(int(headers["Content-Length"]), len(body))

    def test_brotli_is_preferred_when_accepted(self):
        for accept in ("gzip, deflate, br", "br", "br;q=1, gzip;q=1", "BR, GZIP", "*", "gzip;q=0.5, br"):
            with self.subTest(accept=accept):
                self.assertServes("/cowlab.wasm", accept, "cowlab.wasm.br", "br", "application/wasm")

    def test_gzip_comes_next(self):
        for accept in ("gzip", "gzip, deflate", "x-gzip", "br;q=0, gzip", "br;q=0.2, gzip;q=0.8",
                       "gzip;q=1.0, *;q=0"):
            with self.subTest(accept=accept):
                self.assertServes("/cowlab.wasm", accept, "cowlab.wasm.gz", "gzip", "application/wasm")
        self.assertServes("/cowlab.js", "gzip, deflate, br", "cowlab.js.gz", "gzip", "text/javascript")

    def test_identity_otherwise(self):
        for accept in (None, "", "identity", "deflate", "br;q=0, gzip;q=0", "*;q=0", "gzip;q=nope",
                       "br;q=7"):
            with self.subTest(accept=accept):
                self.assertServes("/cowlab.wasm", accept, "cowlab.wasm", None, "application/wasm")
        self.assertServes("/index.html", "gzip", "index.html", None, "text/html; charset=utf-8")

    def test_vary_is_sent_whenever_a_copy_exists(self):
        for path, accept in (("/cowlab.wasm", "br"), ("/cowlab.wasm", None), ("/cowlab.js", "br"),
                             ("/index.html", "gzip"), ("/", "br")):
            with self.subTest(path=path, accept=accept):
                self.assertEqual(self.get(path, accept)[1]["Vary"], "Accept-Encoding")
        self.assertIsNone(self.get("/style.css", "br")[1]["Vary"], "nothing to vary on")

    def test_head_negotiates_like_get(self):
        status, headers, body = self.get("/cowlab.wasm", "br", method="HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["Content-Encoding"], "br")
        self.assertEqual(int(headers["Content-Length"]), len(self.files["cowlab.wasm.br"]))

    def test_a_missing_copy_falls_back(self):
        self.assertServes("/cowlab.js", "br", "cowlab.js", None, "text/javascript")
        self.assertServes("/index.html", "gzip, br", "index.html.br", "br", "text/html; charset=utf-8")
        self.assertServes("/style.css", "gzip, br", "style.css", None, "text/css")

    def test_a_copy_older_than_its_file_is_not_served(self):
        self.assertServes("/stale.js", "gzip, br", "stale.js", None, "text/javascript")

    def test_a_copy_without_its_file_is_not_served_in_its_place(self):
        self.assertEqual(self.get("/ghost.js", "br")[0], 404)

    def test_no_copy_comes_from_outside_the_root(self):
        self.assertServes("/linked.js", "br", "linked.js", None, "text/javascript")
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/linked.js.br",
                     "/..%5csecret.txt"):
            with self.subTest(path=path):
                status, headers, body = self.get(path, "gzip, br")
                self.assertIn(status, (400, 403, 404))
                self.assertIsNone(headers["Content-Encoding"])
                self.assertNotIn(SECRET, body)

    def test_negotiation_helpers(self):
        sys.path.insert(0, REPO)
        try:
            import serve
        finally:
            sys.path.pop(0)
        self.assertEqual(serve.accepted_codings("gzip;q=0.5, BR , identity;q=0"),
                         {"gzip": 0.5, "br": 1.0, "identity": 0.0})
        self.assertEqual(serve.pick_encoding("gzip, br", ["br", "gzip"]), "br")
        self.assertEqual(serve.pick_encoding("gzip, br", ["gzip"]), "gzip")
        self.assertEqual(serve.pick_encoding("br;q=0.1, gzip;q=0.9", ["br", "gzip"]), "gzip")
        self.assertEqual(serve.pick_encoding("*;q=0.5, br;q=0", ["br", "gzip"]), "gzip")
        self.assertIsNone(serve.pick_encoding(None, ["br", "gzip"]))
        self.assertIsNone(serve.pick_encoding("br", []))


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cowlab-serve-test-")
        with open(os.path.join(self.tmp, "index.html"), "w") as f:
            f.write("lab")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_bad_flags_exit_2_with_a_message(self):
        cases = {
            "port too large": ["--port", "70000"],
            "negative port": ["--port", "-1"],
            "port not a number": ["--port", "eighty"],
            "host unresolvable": ["--host", "no-such-host.invalid"],
            "root missing": ["--root", os.path.join(self.tmp, "missing")],
            "unknown flag": ["--frobnicate"],
        }
        for name, args in cases.items():
            with self.subTest(name):
                result = run_serve(["--no-build", "--root", self.tmp, *args])
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("error", result.stderr)
                self.assertNotIn("Traceback", result.stderr)
                self.assertNotIn("http://", result.stdout)

    def test_a_port_in_use_is_a_clear_error(self):
        first = Server(["--no-build", "--root", self.tmp, "--port", "0", "--quiet"])
        try:
            result = run_serve(["--no-build", "--root", self.tmp, "--port", str(first.port)])
            self.assertEqual(result.returncode, 1)
            self.assertIn("cannot listen", result.stderr)
            self.assertNotIn("Traceback", result.stderr)
        finally:
            first.stop()

    def test_ctrl_c_and_sigterm_stop_cleanly(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name):
                server = Server(["--no-build", "--root", self.tmp, "--port", "0", "--quiet"])
                self.assertEqual(server.request("/")[0], 200)
                code, out, err = server.stop(sig)
                self.assertEqual(code, 0, err)
                self.assertIn("cowlab lab: stopped", out)
                self.assertNotIn("Traceback", err)

    def test_requests_are_logged_unless_quiet(self):
        server = Server(["--no-build", "--root", self.tmp, "--port", "0"])
        server.request("/index.html")
        server.request("/nope")
        _, _, err = server.stop()
        self.assertIn("GET /index.html 200", err)
        self.assertIn("GET /nope 404", err)

        server = Server(["--no-build", "--root", self.tmp, "--port", "0", "--quiet"])
        server.request("/index.html")
        _, _, err = server.stop()
        self.assertEqual(err, "")


class Building(unittest.TestCase):
    """serve.py copied into a scratch repository whose scripts/build.sh is a stand-in."""

    BUILD_OK = """#!/bin/sh
set -e
echo "stand-in build $*"
mkdir -p build/wasm/web
cp web/static/index.html build/wasm/web/
echo js > build/wasm/web/cowlab.js
echo wasm > build/wasm/web/cowlab.wasm
"""

    def setUp(self):
        self.repo = tempfile.mkdtemp(prefix="cowlab-serve-repo-")
        shutil.copy(SERVE, self.repo)
        self.script = os.path.join(self.repo, "serve.py")
        for folder in ("scripts", "engine", "web/static"):
            os.makedirs(os.path.join(self.repo, folder))
        self.write("engine/frames.cpp", "int frames;")
        self.write("web/static/index.html", "lab")

    def tearDown(self):
        shutil.rmtree(self.repo)

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.repo, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def serve_once(self):
        """Start serve.py with the build enabled, fetch the page, stop: (code, stdout, stderr)."""
        server = Server(["--port", "0", "--quiet"], script=self.script)
        self.assertEqual(server.request("/")[2].rstrip(b"\n"), b"lab")
        return server.stop()

    def test_a_missing_build_is_built_first(self):
        self.write("scripts/build.sh", self.BUILD_OK, 0o755)
        code, out, err = self.serve_once()
        self.assertEqual(code, 0, err)
        self.assertIn("building the lab: scripts/build.sh web", out)
        self.assertIn("stand-in build web", out)
        self.assertLess(out.index("building the lab"), out.index("http://"))

        code, out, _ = self.serve_once()
        self.assertNotIn("building the lab", out, "a current build is not rebuilt")

        later = time.time() + 5
        os.utime(os.path.join(self.repo, "engine", "frames.cpp"), (later, later))
        code, out, _ = self.serve_once()
        self.assertIn("building the lab", out, "an engine change rebuilds the wasm")

    def test_a_changed_page_is_rebuilt(self):
        self.write("scripts/build.sh", self.BUILD_OK, 0o755)
        self.serve_once()
        self.write("web/static/index.html", "lab")  # same content, newer: nothing to do
        self.assertNotIn("building the lab", self.serve_once()[1])
        self.write("web/static/index.html", "lab 2")
        result = run_serve(["--port", "0", "--host", "no-such-host.invalid"], script=self.script)
        self.assertEqual(result.returncode, 2, "flags are checked before building")
        self.assertNotIn("building the lab", result.stdout)

    def test_a_failing_build_exits_1_naming_the_command(self):
        self.write("scripts/build.sh", "#!/bin/sh\necho 'emcc: error' >&2\nexit 3\n", 0o755)
        result = run_serve(["--port", "0"], script=self.script)
        self.assertEqual(result.returncode, 1)
        self.assertIn("building the lab: scripts/build.sh web", result.stdout)
        self.assertIn("emcc: error", result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        self.assertIn("scripts/build.sh web", last)
        self.assertNotIn("http://", result.stdout)

    def test_a_missing_build_script_exits_1_naming_the_command(self):
        result = run_serve(["--port", "0"], script=self.script)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)
        self.assertIn("scripts/build.sh web", result.stderr)

    def test_no_build_and_root_never_build(self):
        self.write("scripts/build.sh", "#!/bin/sh\necho BUILT\nexit 1\n", 0o755)
        result = run_serve(["--no-build"], script=self.script)
        self.assertEqual(result.returncode, 2, "the default root does not exist yet")
        self.assertNotIn("BUILT", result.stdout)
        server = Server(["--root", os.path.join(self.repo, "web", "static"), "--port", "0", "--quiet"],
                        script=self.script)
        code, out, _ = server.stop()
        self.assertEqual(code, 0)
        self.assertNotIn("BUILT", out)


if __name__ == "__main__":
    unittest.main()

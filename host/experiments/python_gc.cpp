// python_gc.cpp: `cowlab experiment python-gc`: what a forked CPython child
// copies when it uses or collects objects its parent made, measured on the
// system's python3 beside the engine's ManagedHeap (runtime cpython).
//
//   cowlab experiment python-gc --objects N --kind dict|instance --child none|iterate|collect
//                               [--freeze] [--json] [--record FILE]
//
// Real: python3 -c SCRIPT builds N objects (small dicts, or instances of a
// plain class), forks, and the child stops at a barrier (a line on stdin)
// so that its Private_Dirty can be read before it acts; after its action it
// waits again to be read. The parent python waits for the child, so the
// objects' pages stay shared until both readings are done.
//
//   cowlab ──stdin "go"──▶ python child ──acts──▶ stdout {"event":"done"} ──▶ cowlab reads /proc
//
// With --freeze the script follows the pre-fork pattern of gc.freeze()'s
// documentation (what Instagram's servers do): gc.disable() early in the
// parent, gc.freeze() just before fork(), gc.enable() first thing in the child.
// Without it the collector runs as it does by default.
//
// Engine: the same object count in a ManagedHeap laid out as CPython 3.11's
// pymalloc does, forked, and the child's action. Both python processes are
// ended and reaped also on Ctrl-C; the script is passed with -c, so no file
// is left behind.
#include "experiment.h"
#include "report.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine.h"
#include "procfs.h"

namespace cowlab::live {

namespace {

using cow::u64;
using Clock = std::chrono::steady_clock;

// argv: N dict|instance none|iterate|collect freeze|nofreeze. One JSON line per event on stdout.
constexpr const char* kScript = R"PY(
import gc, json, os, signal, sys, time, tracemalloc
signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C ends the script quietly; cowlab reaps it
N, KIND, ACTION, FREEZE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "freeze"

def say(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()

def rss_anon():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return -1

if FREEZE:
    gc.disable()          # early in the parent: no collection leaves holes in the pools

# Every object refers to one shared list, so the cyclic GC tracks each of them (a dict of
# atomic values alone would stay untracked); the other values are small ints, which are
# shared, so the N objects are the only allocations per object.
shared = []

class Record:
    def __init__(self, i):
        self.a = i & 127
        self.b = i & 127
        self.c = shared

def make(i):
    if KIND == "dict":
        return {"a": i & 127, "b": i & 127, "c": shared}
    return Record(i)

# The 200 objects made first empty the dict and keys free lists (whose blocks would not
# count as new memory) and let the class's shared keys settle to their size.
hold = [make(i) for i in range(200)]
objs = [None] * N
rss0 = rss_anon()
t = time.perf_counter()
for i in range(N):
    objs[i] = make(i)
build_s = time.perf_counter() - t
rss1 = rss_anon()
# Bytes per object as tracemalloc counts them (requested sizes), after the build (so that
# the probe's freed blocks do not count in its RSS growth).
probe = [None] * 4000
tracemalloc.start()
t0 = tracemalloc.get_traced_memory()[0]
for i in range(4000):
    probe[i] = make(i)
per_object = (tracemalloc.get_traced_memory()[0] - t0) / 4000
tracemalloc.stop()
del probe

pages = set()
for o in objs:
    pages.add(id(o) >> 12)     # the page of each object's header (its reference count)
header_pages = len(pages)
del pages
tracked = sum(1 for o in objs if gc.is_tracked(o))
if FREEZE:
    gc.freeze()           # just before fork: every tracked object into the permanent generation
say(event="built", per_object=per_object, rss_growth=rss1 - rss0, header_pages=header_pages,
    tracked=tracked, frozen=gc.get_freeze_count(), build_s=build_s, version=list(sys.version_info[:3]))

def iterate():
    if KIND == "dict":
        for o in objs:
            o["a"]; o["b"]
    else:
        for o in objs:
            o.a; o.b

pid = os.fork()
if pid == 0:
    if FREEZE:
        gc.enable()
    say(event="ready", pid=os.getpid())
    if sys.stdin.readline().strip() != "go":
        os._exit(1)
    t = time.perf_counter()
    if ACTION == "iterate":
        iterate()
    elif ACTION == "collect":
        gc.collect()
    ms = (time.perf_counter() - t) * 1000
    say(event="done", ms=ms)
    sys.stdin.readline()  # stay (sharing the parent's pages) until cowlab has read /proc
    os._exit(0)
os.waitpid(pid, 0)
)PY";

// CPython 3.11 (64-bit) sizes of one object of each kind, as this workload makes them.
// Checked with tracemalloc and sys.getsizeof on 3.11.7: a dict 64 + 120 bytes, an instance 56 + 40.
struct Layout {
    cow::u32 object_bytes;   // the object without its 16-byte PyGC_Head
    cow::u32 side_bytes;     // its second allocation
};
Layout layout_311(bool dict) {
    // PyDictObject: ob_refcnt, ob_type, ma_used, ma_version_tag, ma_keys, ma_values = 48 bytes.
    // Its keys table (3 str keys, a literal presized to 8 slots): a 32-byte header, 8 one-byte
    // indices, 5 usable entries of 16 bytes (key, value) = 120 bytes.
    if (dict) return {48, 120};
    // An instance: ob_refcnt, ob_type and the __weakref__ slot (tp_basicsize 24), after the
    // 16-byte pre-header of a managed dict (dict and values pointers) = 40 bytes. Its inline
    // values array, once the class's shared keys stop growing: an 8-byte prefix and 4 slots
    // (the 3 attributes and one spare) = 40 bytes.
    return {40, 40};
}

int usage() {
    std::fprintf(stderr, "usage: cowlab experiment python-gc --objects N --kind dict|instance --child none|iterate|collect\n"
                         "                                  [--freeze] [--json] [--record FILE]\n");
    return 2;
}

// The python parent and child, with the pipes to them.
struct Python {
    pid_t pid = -1, child = -1;
    FILE* from = nullptr;   // its stdout
    int to = -1;            // its stdin

    // The next JSON line whose "event" is `event`; a discarded value at end of file.
    nlohmann::json next(const char* event) {
        char* line = nullptr;
        size_t cap = 0;
        nlohmann::json j(nlohmann::json::value_t::discarded);
        while (getline(&line, &cap, from) > 0) {
            nlohmann::json l = nlohmann::json::parse(line, nullptr, false);
            if (!l.is_discarded() && l.is_object() && l.value("event", "") == event) {
                j = std::move(l);
                break;
            }
        }
        std::free(line);
        return j;
    }
    bool say(const char* s) const { return write(to, s, std::strlen(s)) == ssize_t(std::strlen(s)); }
    // Ends both processes (the parent exits when its child has) and reaps the parent.
    void finish() {
        if (to >= 0) close(to);
        to = -1;
        cleanup::run();
        if (from) std::fclose(from);
        from = nullptr;
    }
};


struct Params {
    long long objects = 200'000;
    std::string kind = "dict", action = "iterate";
    bool freeze = false;
};

// The options, or the exit status of a bad one (its message printed).
int parse_options(const std::vector<std::string>& a, Output& out, Params& p) {
    for (size_t i = 1; i < a.size(); ++i) {
        const bool has = i + 1 < a.size();
        if (a[i] == "--objects" && has) {
            if (!parse_count(a[++i], 1, 100'000'000, p.objects)) {
                std::fprintf(stderr, "cowlab experiment python-gc: --objects %s: use a whole number 1 .. 100000000\n", a[i].c_str());
                return 2;
            }
        } else if (a[i] == "--kind" && has) {
            p.kind = a[++i];
            if (p.kind != "dict" && p.kind != "instance") {
                std::fprintf(stderr, "cowlab experiment python-gc: --kind %s: use dict or instance\n", p.kind.c_str());
                return 2;
            }
        } else if (a[i] == "--child" && has) {
            p.action = a[++i];
            if (p.action != "none" && p.action != "iterate" && p.action != "collect") {
                std::fprintf(stderr, "cowlab experiment python-gc: --child %s: use none, iterate or collect\n", p.action.c_str());
                return 2;
            }
        } else if (a[i] == "--freeze") {
            p.freeze = true;
        } else if (!parse_output(a, i, out)) {
            return usage();
        }
    }
    return 0;
}

// What the real run needs: the objects' pools (16 KiB pools hold (16384 - 48) / block objects).
u64 heap_bytes_estimate(const Layout& lay, u64 n) {
    const u64 block = (lay.object_bytes + 16 + 15) & ~u64{15}, side = (lay.side_bytes + 15) & ~u64{15};
    return n / ((cow::kPyPoolSize - cow::kPyPoolHeader) / block) * cow::kPyPoolSize +
           n / ((cow::kPyPoolSize - cow::kPyPoolHeader) / side) * cow::kPyPoolSize + 2 * cow::kPyPoolSize;
}

// The real run's memory: the objects and the list of them in the parent, a copy of the
// objects' pools in the child (iterate and collect copy them), and the interpreters.
u64 memory_needed(const Layout& lay, u64 n) {
    const u64 block = (lay.object_bytes + 16 + 15) & ~u64{15}, side = (lay.side_bytes + 15) & ~u64{15};
    const u64 est_heap = heap_bytes_estimate(lay, n);
    return est_heap + 8 * n + est_heap * block / (block + side) + 64 * cow::MiB;
}

struct Predicted {
    double ms = 0;
    u64 growth = 0, faults = 0, heap_bytes = 0, objects_len = 0;
    double tracked = 0;
};

// The engine: the same object count in a ManagedHeap laid out as CPython 3.11's, forked, and the child's action.
cow::Result<Predicted> predict(const Params& p, const Layout& lay, u64 n) {
    cow::HeapSpec spec;
    spec.runtime = cow::Runtime::cpython;
    spec.objects = n;
    spec.object_bytes = lay.object_bytes;
    spec.side_bytes = lay.side_bytes;
    spec.tracked = 1.0;   // every object refers to a container (see the script)
    cow::MachineConfig cfg;
    cfg.ram_bytes = cow::huge_up(heap_bytes_estimate(lay, n) * 3 + 512 * cow::MiB);
    cfg.overcommit = cow::Overcommit::always;
    cfg.thp = cow::ThpMode::never;   // pymalloc's 1 MiB arenas are never huge pages
    cow::Result<cow::Machine> made = cow::Machine::create(cfg);
    if (!made) return made.status();
    cow::Machine m = std::move(made.value());
    cow::Pid sim_parent = *m.spawn(cow::default_image("python3"));
    cow::Result<cow::ManagedHeap> heap = cow::ManagedHeap::create(m, sim_parent, spec);
    if (!heap) return heap.status();
    if (p.freeze) (void)heap->freeze(sim_parent);
    cow::Result<cow::ForkResult> f = m.fork(sim_parent);
    if (!f) return f.status();
    const cow::Pid sim_child = f->child;
    heap->inherit(sim_parent, sim_child);
    const u64 sim_pd0 = m.smaps_rollup(sim_child)->private_dirty, sim_flt0 = m.process(sim_child)->counters.min_flt;
    const u64 sim_t0 = m.now_ns();
    cow::Status acted = p.action == "iterate" ? heap->touch(m, sim_child, 1.0) : p.action == "collect" ? heap->collect(m, sim_child) : cow::Status{};
    if (!acted) return acted;
    Predicted e;
    e.ms = double(m.now_ns() - sim_t0) / 1e6;
    e.growth = m.smaps_rollup(sim_child)->private_dirty - sim_pd0;
    e.faults = m.process(sim_child)->counters.min_flt - sim_flt0;
    e.heap_bytes = heap->bytes();
    e.objects_len = heap->objects_len();
    e.tracked = spec.tracked;
    return e;
}

// python3 -c SCRIPT, its stdin and stdout piped to us.
cow::Status start_python(const Params& p, const std::string& python, Python& py) {
    cleanup::install();
    std::signal(SIGPIPE, SIG_IGN);   // a python that died: writes fail with EPIPE
    // The python child is our grandchild: if its parent dies first it becomes ours, so that
    // cleanup can wait for it (and SIGKILL it if it lingers).
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int in[2], outp[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0) return failure(std::string("pipe: ") + std::strerror(errno));
    const std::string count = std::to_string(p.objects), fr = p.freeze ? "freeze" : "nofreeze";
    const pid_t parent_self = getpid();
    py.pid = fork();
    if (py.pid < 0) return failure(std::string("fork: ") + std::strerror(errno));
    if (py.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   // cowlab killed outright: the python parent goes too (its child reads EOF)
        if (getppid() != parent_self) _exit(127);
        dup2(in[0], 0);
        dup2(outp[1], 1);
        const char* argv[] = {"python3", "-c", kScript, count.c_str(), p.kind.c_str(), p.action.c_str(), fr.c_str(), nullptr};
        execv(python.c_str(), const_cast<char* const*>(argv));
        std::fprintf(stderr, "cowlab experiment python-gc: cannot run %s: %s\n", python.c_str(), std::strerror(errno));
        _exit(127);
    }
    cleanup::add_pid(py.pid);
    close(in[0]);
    close(outp[1]);
    py.to = in[1];
    py.from = fdopen(outp[0], "r");
    return {};
}

// What the real python3 did: its "built" and "done" events, the child's /proc before and
// after its action, and the sample lines of a recording.
struct RealRun {
    nlohmann::json built, done;
    ProcSample child_before;
    double growth = 0, faults = 0;
    std::vector<std::string> recorded;
};

// The script run, the child stopped at its barrier and read, let act, read again; both ended.
cow::Result<RealRun> measure_real(const Params& p, const std::string& python) {
    Python py;
    if (cow::Status st = start_python(p, python, py); !st) return st;
    RealRun r;
    auto failed = [&](const char* what) {
        py.finish();
        return failure(what);
    };
    if (!py.from) return failed("fdopen failed");
    r.built = py.next("built");
    if (r.built.is_discarded()) return failed("python3 exited before building the objects (its error is above)");
    const auto t_fork = Clock::now();
    const nlohmann::json ready = py.next("ready");
    if (ready.is_discarded() || !ready.contains("pid") || !ready["pid"].is_number_integer()) return failed("the python child did not start");
    py.child = ready["pid"].get<pid_t>();
    cleanup::add_pid(py.child);
    ProcFs fs;
    Result<ProcSample> child_before = fs.sample(int(py.child)), parent_before = fs.sample(int(py.pid));
    auto sample_line = [&](const Result<ProcSample>& parent, const Result<ProcSample>& c) {
        const double t_s = std::chrono::duration<double>(Clock::now() - t_fork).count();
        return cow::rec_line::sample(rec_sample(t_s, {{int(py.pid), parent}, {int(py.child), c}}));
    };
    r.recorded.push_back(sample_line(parent_before, child_before));
    if (!py.say("go\n")) return failed("the python child went away");
    r.done = py.next("done");
    if (r.done.is_discarded()) return failed("the python child exited during its action");
    Result<ProcSample> child_after = fs.sample(int(py.child)), parent_after = fs.sample(int(py.pid));
    r.recorded.push_back(sample_line(parent_after, child_after));
    (void)py.say("exit\n");
    // Both exit now: the child on the line, the parent when its child has.
    int status = 0;
    for (int waited = 0; waited < 5000; waited += 10) {
        if (waitpid(py.pid, &status, WNOHANG) == py.pid) {
            cleanup::forget_pid(py.pid);
            cleanup::forget_pid(py.child);
            break;
        }
        usleep(10000);
    }
    py.finish();
    if (!child_before || !child_after) {
        return failure("reading the python child's /proc: " + child_before.message() + child_after.message());
    }
    r.child_before = *child_before;
    r.growth = double(child_after->private_dirty) - double(child_before->private_dirty);
    r.faults = double(child_after->min_flt) - double(child_before->min_flt);
    return r;
}

// Side by side.
Report report(const Params& p, const Layout& lay, const RealRun& real, const Predicted& e) {
    Report r;
    const nlohmann::json& built = real.built;
    r.name = "python-gc";
    std::string version;
    for (const auto& v : built.value("version", nlohmann::json::array())) {
        if (!version.empty()) version += '.';
        version += std::to_string(v.get<int>());
    }
    char title[256];
    std::snprintf(title, sizeof title, "python-gc experiment: %lld %s objects, the forked child %s%s (python %s)", p.objects,
                  p.kind == "dict" ? "small dict" : "instance", p.action == "none" ? "does nothing" : p.action == "iterate" ? "reads every object" : "runs gc.collect()",
                  p.freeze ? ", after gc.freeze()" : "", version.c_str());
    r.title = title;
    r.set_params({{"objects", p.objects}, {"kind", p.kind}, {"child", p.action}, {"freeze", p.freeze}, {"python", version},
                {"tracked", built.value("tracked", 0)}, {"frozen", built.value("frozen", 0)}, {"build_s", built.value("build_s", 0.0)},
                {"child_private_dirty_before", real.child_before.private_dirty}});
    r.rows = {
        {"child Private_Dirty growth", real.growth, double(e.growth), "B"},
        {"child minor faults", real.faults, double(e.faults), ""},
        {"bytes per object (tracemalloc)", built.value("per_object", 0.0), double(lay.object_bytes + 16 + lay.side_bytes), ""},
        {"object memory (RssAnon growth)", built.value("rss_growth", 0.0), double(e.heap_bytes), "B"},
        {"pages holding object headers", built.value("header_pages", 0.0), double(e.objects_len / 4096), ""},
        {"objects the GC tracks", built.value("tracked", 0.0), e.tracked * double(p.objects), ""},
        {"child action time", real.done.value("ms", 0.0), e.ms, "ms"},
    };
    r.notes.push_back("the engine lays objects out as CPython 3.11's pymalloc does: 16 KiB pools, 16-byte size classes");
    r.notes.push_back("time: the engine counts the page copies only, not the interpreter's own work");
    if (version.compare(0, 5, "3.11.") != 0) r.notes.push_back("the engine's object sizes are CPython 3.11's; this python is " + version);
    return r;
}

}  // namespace

int experiment_python_gc(const std::vector<std::string>& a, Output out) {
    Params p;
    if (int st = parse_options(a, out, p)) return st;
    const Layout lay = layout_311(p.kind == "dict");
    const u64 n = u64(p.objects);
    if (const u64 need = memory_needed(lay, n), avail = mem_available(); avail && need > avail / 10 * 8) {
        std::fprintf(stderr, "cowlab experiment python-gc: --objects %lld needs about %s (the objects, and the child's copy of their pages), "
                             "but MemAvailable is %s\n", p.objects, cow::format_bytes(need).c_str(), cow::format_bytes(avail).c_str());
        return 2;
    }
    // The engine first: it needs no python.
    cow::Result<Predicted> e = predict(p, lay, n);
    if (!e) {
        std::fprintf(stderr, "cowlab experiment python-gc: engine: %s\n", e.message().c_str());
        return 1;
    }
    const std::string python = find_program("python3");
    if (python.empty()) {
        std::fprintf(stderr, "cowlab experiment python-gc: python3 is not on PATH (this experiment runs CPython; install python3)\n");
        return 1;
    }
    cow::Result<RealRun> real = measure_real(p, python);
    if (!real) {
        std::fprintf(stderr, "cowlab experiment python-gc: %s\n", real.message().c_str());
        return 1;
    }
    return emit(report(p, lay, *real, *e), out, out.record.empty() ? std::vector<std::string>{} : real->recorded);
}

}  // namespace cowlab::live

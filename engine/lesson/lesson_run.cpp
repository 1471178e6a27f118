// lesson_run.cpp: running a lesson: its operations against a machine, and the
// functions its expressions may call.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lesson.h"

namespace cow {

namespace {

Status lesson_error(const LessonOp& op, const std::string& why) {
    return fail(Errc::invalid_argument, op.where + " (" + op.op + "): " + why);
}

bool is_segment(const std::string& n) {
    return n == "text" || n == "rodata" || n == "data" || n == "bss" || n == "heap" || n == "stack";
}

Result<u8> parse_prot(const std::string& s) {
    if (s == "none") return u8{prot::none};
    u8 p = 0;
    for (char c : s) {
        if (c == 'r') p |= prot::read;
        else if (c == 'w') p |= prot::write;
        else if (c == 'x') p |= prot::exec;
        else if (c != '-') return fail(Errc::invalid_argument, "protection '" + s + "' must be made of r, w, x or be none");
    }
    return p;
}

Result<Advice> parse_advice(const std::string& s) {
    static const std::pair<const char*, Advice> names[] = {
        {"dontneed", Advice::dontneed}, {"dontfork", Advice::dontfork}, {"dofork", Advice::dofork},
        {"wipeonfork", Advice::wipeonfork}, {"keeponfork", Advice::keeponfork}, {"hugepage", Advice::hugepage},
        {"nohugepage", Advice::nohugepage}};
    for (auto& [n, a] : names)
        if (s == n) return a;
    return fail(Errc::invalid_argument, "unknown advice '" + s +
                                            "' (dontneed, dontfork, dofork, wipeonfork, keeponfork, hugepage, nohugepage)");
}

}  // namespace

std::string format_value(double v, const std::string& unit) {
    char buf[64];
    auto scaled = [&](double div, const char* u) {
        double x = v / div;
        if (std::fabs(x - std::round(x)) < 1e-9 || std::fabs(x) >= 100) std::snprintf(buf, sizeof buf, "%.0f %s", x, u);
        else std::snprintf(buf, sizeof buf, "%.1f %s", x, u);
        return std::string(buf);
    };
    if (unit == "B") return scaled(1, "B");
    if (unit == "KiB") return scaled(double(KiB), "KiB");
    if (unit == "MiB") return scaled(double(MiB), "MiB");
    if (unit == "GiB") return scaled(double(GiB), "GiB");
    if (unit == "pages") return scaled(double(kPageSize), "pages");
    if (unit == "ns") return scaled(1, "ns");
    if (unit == "us") return scaled(1e3, "µs");
    if (unit == "ms") return scaled(1e6, "ms");
    if (unit == "s") return scaled(1e9, "s");
    if (unit == "%") return scaled(0.01, "%");
    if (unit == "x") return scaled(1, "x");
    if (unit == "faults" || unit == "processes") return scaled(1, unit.c_str());
    if (std::fabs(v - std::round(v)) < 1e-9) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

Result<LessonRun> LessonRun::start(const Lesson& lesson, const std::map<std::string, double>& given) {
    LessonRun r;
    r.lesson_ = lesson;
    for (const auto& [name, value] : given) {
        const LessonParam* p = lesson.param(name);
        if (!p) return fail(Errc::invalid_argument, lesson.file + ": no parameter '" + name + "'");
        if (!std::isfinite(value) || value < p->min || value > p->max) {
            char buf[160];
            std::snprintf(buf, sizeof buf, ": parameter %s = %g is outside [%g, %g]", name.c_str(), value, p->min, p->max);
            return fail(Errc::invalid_argument, lesson.file + buf);
        }
    }
    for (const LessonParam& p : lesson.params) {
        auto it = given.find(p.name);
        r.params_[p.name] = it == given.end() ? p.def : it->second;
    }
    Result<MachineConfig> cfg = lesson.machine_config(r.params_);
    if (!cfg) return fail(cfg.code(), lesson.file + ": " + cfg.message());
    Result<Machine> m = Machine::create(*cfg);
    if (!m) return fail(m.code(), lesson.file + ": machine: " + m.message());
    r.m_ = std::move(m.value());
    r.rng_ = cfg->seed * 0x9E3779B97F4A7C15ull + 1;
    return r;
}

double LessonRun::param(const std::string& name) const {
    auto it = params_.find(name);
    return it == params_.end() ? 0 : it->second;
}

Pid LessonRun::pid_of(const std::string& name) const {
    for (const auto& [n, p] : names_)
        if (n == name) return p;
    return kNoPid;
}

Status LessonRun::step() {
    if (done()) return fail(Errc::invalid_argument, lesson_.file + ": the lesson has no more steps");
    const LessonStep& s = lesson_.steps[size_t(next_)];
    outcomes_.clear();
    step_start_used_ = m_.meminfo().used;
    step_start_ns_ = m_.now_ns();
    for (const LessonOp& op : s.ops) {
        if (Status st = run_op(op); !st) {
            ++next_;   // a broken step is not retried
            return fail(st.err, lesson_.file + ": " + st.message);
        }
    }
    ++next_;
    return {};
}

// ---------------------------------------------------------------- arguments

Result<double> LessonRun::num(const LessonOp& op, const std::string& key, double fallback, bool required) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) {
        if (required) return lesson_error(op, key + " is missing");
        return fallback;
    }
    Result<double> v = eval(it->second);
    if (!v) return lesson_error(op, key + ": " + v.message());
    return v;
}

Result<Pid> LessonRun::proc_arg(const LessonOp& op, const std::string& key) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) return lesson_error(op, key + " is missing");
    Pid p = pid_of(it->second);
    if (p == kNoPid) return lesson_error(op, key + ": no process named '" + it->second + "'");
    return p;
}

Status LessonRun::name_process(const LessonOp& op, const std::string& key, Pid pid) {
    auto it = op.args.find(key);
    if (it == op.args.end() || it->second.empty()) return lesson_error(op, key + " is missing");
    const std::string& name = it->second;
    if (!std::isalpha(static_cast<unsigned char>(name[0]))) return lesson_error(op, key + ": a name must start with a letter");
    for (auto& [n, p] : names_)
        if (n == name) {
            p = pid;
            return {};
        }
    names_.push_back({name, pid});
    return {};
}

Result<LessonRun::Region> LessonRun::region_named(const std::string& name, Pid pid) const {
    if (auto it = regions_.find(name); it != regions_.end()) return it->second;
    if (is_segment(name)) {
        const Mm* mm = m_.address_space(pid);
        if (!mm) return fail(Errc::not_running, "process " + std::to_string(pid) + " has no address space");
        for (const Vma& v : mm->vmas)
            if (to_string(v.kind) == name) return Region{"", v.start, v.end - v.start};
        return fail(Errc::invalid_argument, "the process has no " + name + " segment");
    }
    return fail(Errc::invalid_argument, "no region named '" + name + "'");
}

Result<LessonRun::Region> LessonRun::region_arg(const LessonOp& op, Pid pid, const std::string& key) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) return lesson_error(op, key + " is missing");
    Result<Region> r = region_named(it->second, pid);
    if (!r) return lesson_error(op, key + ": " + r.message());
    return r;
}

Result<Image> LessonRun::image_arg(const LessonOp& op) const {
    auto get = [&](const std::string& k) -> const std::string* {
        auto it = op.args.find("image." + k);
        return it == op.args.end() ? nullptr : &it->second;
    };
    Image im;
    const std::string* name = get("name");
    auto as = op.args.find("as");
    im = default_image(name ? *name : as != op.args.end() ? as->second : "a.out");
    if (!op.args.count("image")) return im;
    for (auto [field, slot] : {std::pair{"text", &im.text}, {"rodata", &im.rodata}, {"data", &im.data},
                               {"bss", &im.bss}, {"heap", &im.heap}, {"stack", &im.stack}}) {
        if (const std::string* v = get(field)) {
            Result<double> x = eval(*v);
            if (!x) return lesson_error(op, std::string("image.") + field + ": " + x.message());
            if (*x < 0 || *x > 1e15) return lesson_error(op, std::string("image.") + field + ": out of range");
            *slot = u64(std::llround(*x));
        }
    }
    if (const std::string* libs = get("libs")) {
        if (*libs == "none") im.libs.clear();
        else if (*libs != "glibc") return lesson_error(op, "image.libs: must be \"glibc\" or \"none\"");
    }
    if (const std::string* warm = get("warm")) {
        if (*warm != "true" && *warm != "false") return lesson_error(op, "image.warm: must be true or false");
        im.warm = *warm == "true";
    }
    return im;
}

// ---------------------------------------------------------------- operations

Status LessonRun::run_op(const LessonOp& op) {
    // An engine refusal (ENOMEM, SIGSEGV, OOM) is part of the story: it is
    // recorded as an outcome and the lesson goes on. Errors in the lesson's own
    // arguments stop it.
    auto outcome = [&](const Status& st) -> Status {
        if (!st) outcomes_.push_back(op.where + " (" + op.op + "): " + st.message);
        return {};
    };
    const std::string& o = op.op;
    if (o == "spawn") {
        Result<Image> im = image_arg(op);
        if (!im) return im.status();
        Result<Pid> p = m_.spawn(*im);
        if (!p) return outcome(p.status());
        if (auto adj = op.args.find("oom_score_adj"); adj != op.args.end()) {
            Result<double> v = num(op, "oom_score_adj", 0, true);
            if (!v) return v.status();
            if (Status st = m_.set_oom_score_adj(*p, int(*v)); !st) return lesson_error(op, st.message);
        }
        return name_process(op, "as", *p);
    }
    if (o == "set") {
        const std::string& name = op.args.at("name");
        if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])))
            return lesson_error(op, "name: must start with a letter");
        if (lesson_.param(name) || unit_value(name)) return lesson_error(op, "name: '" + name + "' is a parameter or a unit");
        Result<double> v = num(op, "value", 0, true);
        if (!v) return v.status();
        vars_[name] = *v;
        return {};
    }
    if (o == "oom_score_adj") {
        Result<Pid> p = proc_arg(op, "pid");
        if (!p) return p.status();
        Result<double> v = num(op, "value", 0, true);
        if (!v) return v.status();
        if (Status st = m_.set_oom_score_adj(*p, int(*v)); !st) return lesson_error(op, st.message);
        return {};
    }
    // "pid": "w*" applies the operation to every named process whose name starts with "w".
    if (auto p = op.args.find("pid"); p != op.args.end() && !p->second.empty() && p->second.back() == '*') {
        const std::string prefix = p->second.substr(0, p->second.size() - 1);
        std::vector<std::string> targets;
        for (const auto& [n, id] : names_)
            if (n.compare(0, prefix.size(), prefix) == 0 && m_.process(id) && m_.process(id)->alive()) targets.push_back(n);
        for (const std::string& n : targets) {
            LessonOp one = op;
            one.args["pid"] = n;
            if (Status st = run_op(one); !st) return st;
        }
        return {};
    }
    if (o == "fork" && op.args.count("count")) {
        Result<double> n = num(op, "count", 1, true);
        if (!n) return n.status();
        if (*n < 0 || *n > 10000 || *n != std::floor(*n)) return lesson_error(op, "count: must be a whole number 0 .. 10000");
        for (int i = 1; i <= int(*n); ++i) {
            LessonOp one = op;
            one.args.erase("count");
            one.args["as"] = op.args.at("as") + std::to_string(i);
            if (Status st = run_op(one); !st) return st;
        }
        return {};
    }
    Result<Pid> pid = proc_arg(op, "pid");
    if (!pid) return pid.status();
    if (o == "fork" || o == "vfork" || o == "posix_spawn") {
        Result<ForkResult> r = Status{};
        if (o == "fork") {
            auto eager = op.args.find("eager");
            bool e = eager != op.args.end() && eager->second == "true";
            if (eager != op.args.end() && eager->second != "true" && eager->second != "false")
                return lesson_error(op, "eager: must be true or false");
            r = e ? m_.fork_eager(*pid) : m_.fork(*pid);
        } else if (o == "vfork") {
            r = m_.vfork(*pid);
        } else {
            Result<Image> im = image_arg(op);
            if (!im) return im.status();
            r = m_.posix_spawn(*pid, *im);
        }
        if (!r) return outcome(r.status());
        last_fork_ = *r;
        for (auto& [name, heap] : heaps_) heap.inherit(*pid, r->child);
        return name_process(op, "as", r->child);
    }
    if (o == "redis_load") {
        Result<double> keys = num(op, "keys", 0, true);
        if (!keys) return keys.status();
        Result<double> vb = num(op, "value_bytes", 0, true);
        if (!vb) return vb.status();
        if (*keys < 1 || *keys > 5e7 || *vb < 1 || *vb > 1e6)
            return lesson_error(op, "keys must be 1 .. 50,000,000 and value_bytes 1 .. 1,000,000");
        Result<RedisServer> r = RedisServer::load(m_, *pid, {u64(*keys), u32(*vb)}, m_.config().seed);
        if (!r) return outcome(r.status());
        redis_[op.args.at("pid")] = std::move(r.value());
        return {};
    }
    if (o.compare(0, 5, "heap_") == 0) {
        if (o == "heap_create") {
            HeapSpec spec;
            const std::string& rt = op.args.at("runtime");
            if (rt == "cpython") spec.runtime = Runtime::cpython;
            else if (rt == "ruby") spec.runtime = Runtime::ruby;
            else if (rt == "moving") spec.runtime = Runtime::moving;
            else return lesson_error(op, "runtime: '" + rt + "' is not cpython, ruby or moving");
            Result<double> n = num(op, "objects", 0, true), b = num(op, "object_bytes", 64, false),
                           t = num(op, "tracked", 0.5, false);
            for (const Result<double>* r : {&n, &b, &t})
                if (!*r) return r->status();
            if (*n < 1 || *n > 1e8 || *b < 16 || *b > 65536) return lesson_error(op, "objects must be 1 .. 100,000,000 and object_bytes 16 .. 65536");
            spec.objects = u64(*n);
            spec.object_bytes = u32(*b);
            spec.tracked = *t;
            Result<ManagedHeap> h = ManagedHeap::create(m_, *pid, spec, m_.config().seed);
            if (!h) return outcome(h.status());
            regions_[op.args.at("as")] = Region{"", h->base(*pid), (h->bytes() + kPageSize - 1) & ~(kPageSize - 1)};
            heaps_[op.args.at("as")] = std::move(h.value());
            return {};
        }
        auto it = heaps_.find(op.args.at("heap"));
        if (it == heaps_.end()) return lesson_error(op, "heap: no heap named '" + op.args.at("heap") + "'");
        ManagedHeap& h = it->second;
        if (o == "heap_touch") {
            Result<double> f = num(op, "fraction", 1, false);
            if (!f) return f.status();
            return outcome(h.touch(m_, *pid, *f));
        }
        if (o == "heap_collect") return outcome(h.collect(m_, *pid));
        if (o == "heap_freeze") return outcome(h.freeze(*pid));
        if (o == "heap_immortalize") return outcome(h.immortalize(*pid));
        return outcome(h.warmup(m_, *pid));
    }
    if (o == "redis_bgsave") {
        // What Redis's INFO persistence reports; zero until a BGSAVE completes.
        for (const char* v : {"latest_fork_usec", "rdb_last_bgsave_time_sec", "rdb_last_cow_size", "current_cow_peak",
                              "bgsave_writes", "bgsave_child_killed"})
            vars_.emplace(v, 0.0);
        vars_["bgsave_failed"] = 1;
        auto it = redis_.find(op.args.at("pid"));
        if (it == redis_.end())
            return outcome(fail(Errc::invalid_argument, "BGSAVE: '" + op.args.at("pid") + "' holds no dataset (its load failed)"));
        BgsaveLoad load;
        Result<double> w = num(op, "writes_per_s", 0, true), z = num(op, "zipf_s", 0, false),
                       vb = num(op, "value_bytes", 0, false), rate = num(op, "save_mb_per_s", 100, false),
                       samples = num(op, "samples", 20, false);
        for (const Result<double>* r : {&w, &z, &vb, &rate, &samples})
            if (!*r) return r->status();
        load.writes_per_s = *w;
        load.zipf_s = *z;
        load.value_bytes = *vb < 0 || *vb > 1e6 ? 2000000 : u32(*vb);
        load.save_mb_per_s = *rate;
        load.samples = *samples < 1 || *samples > 1000 ? 0 : int(*samples);
        Result<BgsaveResult> r = it->second.bgsave(m_, load);
        if (!r) return outcome(r.status());
        vars_["bgsave_failed"] = 0;
        vars_["latest_fork_usec"] = double(r->fork_ns) / 1000.0;
        vars_["rdb_last_bgsave_time_sec"] = r->save_s;
        vars_["rdb_last_cow_size"] = double(r->cow_last);
        vars_["current_cow_peak"] = double(r->cow_peak);
        vars_["bgsave_writes"] = double(r->writes);
        vars_["bgsave_child_killed"] = r->child_killed ? 1 : 0;
        bgsave_series_ = r->samples;
        return name_process(op, "as", r->child);
    }
    if (o == "exec") {
        Result<Image> im = image_arg(op);
        if (!im) return im.status();
        return outcome(m_.exec(*pid, *im));
    }
    if (o == "exit") {
        Result<double> code = num(op, "code", 0, false);
        if (!code) return code.status();
        return outcome(m_.exit(*pid, int(*code)));
    }
    if (o == "wait") {
        Pid child = kNoPid;
        if (op.args.count("child")) {
            Result<Pid> c = proc_arg(op, "child");
            if (!c) return c.status();
            child = *c;
        }
        return outcome(m_.wait(*pid, child).status());
    }
    if (o == "mmap") {
        Result<double> size = num(op, "size", 0, true);
        if (!size) return size.status();
        if (*size < 1) return lesson_error(op, "size: must be at least 1 byte");
        if (*size > 9e18) return lesson_error(op, "size: larger than any address space");
        MmapArgs a;
        a.len = u64(std::llround(*size));
        a.name = op.args.at("as");
        if (auto p = op.args.find("prot"); p != op.args.end()) {
            Result<u8> pr = parse_prot(p->second);
            if (!pr) return lesson_error(op, pr.message());
            a.prot = *pr;
        }
        if (auto sh = op.args.find("shared"); sh != op.args.end()) {
            if (sh->second != "true" && sh->second != "false") return lesson_error(op, "shared: must be true or false");
            a.shared = sh->second == "true";
        }
        Result<u64> addr = m_.mmap(*pid, a);
        if (!addr) return outcome(addr.status());
        regions_[a.name] = Region{"", *addr, (a.len + kPageSize - 1) & ~(kPageSize - 1)};
        if (auto adv = op.args.find("advice"); adv != op.args.end()) {
            Result<Advice> ad = parse_advice(adv->second);
            if (!ad) return lesson_error(op, ad.message());
            return outcome(m_.madvise(*pid, *addr, a.len, *ad));
        }
        return {};
    }
    Result<Region> region = region_arg(op, *pid, "region");
    if (!region) return region.status();
    if (o == "munmap") return outcome(m_.munmap(*pid, region->start, region->len));
    if (o == "mprotect") {
        Result<u8> pr = parse_prot(op.args.at("prot"));
        if (!pr) return lesson_error(op, pr.message());
        return outcome(m_.mprotect(*pid, region->start, region->len, *pr));
    }
    // madvise, write, read: an optional [offset, offset + size) inside the region.
    Result<double> off = num(op, "offset", 0, false);
    if (!off) return off.status();
    Result<double> size = num(op, "size", double(region->len) - *off, false);
    if (!size) return size.status();
    if (*off < 0 || *size < 1 || *off + *size > double(region->len))
        return lesson_error(op, "offset and size must lie inside the region (" + format_bytes(region->len) + ")");
    const u64 start = region->start + u64(std::llround(*off)), len = u64(std::llround(*size));
    if (o == "madvise") {
        Result<Advice> ad = parse_advice(op.args.at("advice"));
        if (!ad) return lesson_error(op, ad.message());
        const u64 a = start & ~(kPageSize - 1);
        return outcome(m_.madvise(*pid, a, start + len - a, *ad));
    }
    const Access kind = o == "write" ? Access::write : Access::read;
    const u64 first = start & ~(kPageSize - 1);
    const u64 npages = (start + len - first + kPageSize - 1) / kPageSize;
    const bool every = op.args.count("every"), fraction = op.args.count("fraction"), count = op.args.count("pages");
    if (int(every) + int(fraction) + int(count) > 1) return lesson_error(op, "use one of every, fraction and pages");
    if (!every && !fraction && !count) {
        Result<AccessResult> r = m_.access(*pid, start, len, kind);
        if (r) last_access_ = *r;
        return outcome(r.status());
    }
    std::vector<u64> addrs;
    if (every) {
        Result<double> n = num(op, "every", 1, true);
        if (!n) return n.status();
        if (*n < 1) return lesson_error(op, "every: must be at least 1 (page)");
        const u64 stride = u64(std::llround(*n));
        for (u64 i = 0; i < npages; i += stride) addrs.push_back(first + i * kPageSize);
    } else {
        u64 want;
        if (fraction) {
            Result<double> f = num(op, "fraction", 0, true);
            if (!f) return f.status();
            if (*f < 0 || *f > 1) return lesson_error(op, "fraction: must be between 0 and 1");
            want = u64(std::llround(*f * double(npages)));
        } else {
            Result<double> n = num(op, "pages", 0, true);
            if (!n) return n.status();
            if (*n < 0 || *n > double(npages)) return lesson_error(op, "pages: must be between 0 and the region's " + std::to_string(npages));
            want = u64(std::llround(*n));
        }
        // A seeded partial Fisher-Yates shuffle: distinct pages, in a random order.
        std::vector<u32> idx(npages);
        for (u64 i = 0; i < npages; ++i) idx[i] = u32(i);
        for (u64 i = 0; i < want; ++i) {
            rng_ ^= rng_ << 13;
            rng_ ^= rng_ >> 7;
            rng_ ^= rng_ << 17;
            const u64 j = i + rng_ % (npages - i);
            std::swap(idx[i], idx[j]);
            addrs.push_back(first + u64(idx[i]) * kPageSize);
        }
    }
    if (addrs.empty()) return {};
    Result<AccessResult> r = m_.access_pages(*pid, addrs, kind);
    if (r) last_access_ = *r;
    return outcome(r.status());
}

// ---------------------------------------------------------------- expressions

Result<double> LessonRun::lookup(const std::string& name) const {
    if (auto it = params_.find(name); it != params_.end()) return it->second;
    if (auto it = vars_.find(name); it != vars_.end()) return it->second;
    if (Result<double> u = unit_value(name); u) return u;
    return fail(Errc::invalid_argument, "unknown name '" + name + "' (not a parameter or a unit)");
}

Result<double> LessonRun::call(const std::string& fn, const std::vector<ExprArg>& args) const {
    auto want = [&](size_t lo, size_t hi) -> Status {
        if (args.size() < lo || args.size() > hi)
            return fail(Errc::invalid_argument, fn + "() takes " + std::to_string(lo) +
                                                    (hi > lo ? " to " + std::to_string(hi) : "") + " arguments");
        return {};
    };
    auto number = [&](size_t i) -> Result<double> {
        if (!args[i].is_name) return args[i].value;
        return lookup(args[i].name);
    };
    auto proc = [&](size_t i) -> Result<Pid> {
        if (!args[i].is_name) return fail(Errc::invalid_argument, fn + "(): argument " + std::to_string(i + 1) + " must name a process");
        Pid p = pid_of(args[i].name);
        if (p == kNoPid) return fail(Errc::invalid_argument, fn + "(): no process named '" + args[i].name + "'");
        return p;
    };
    // Machine-wide and helper functions.
    const MemInfo mi = m_.meminfo();
    static const std::map<std::string, u64 MemInfo::*> mem = {
        {"ram", &MemInfo::total}, {"used", &MemInfo::used}, {"free", &MemInfo::free},
        {"committed_as", &MemInfo::committed_as}, {"commit_limit", &MemInfo::commit_limit},
        {"page_tables", &MemInfo::page_tables}, {"anon_pages", &MemInfo::anon_pages}, {"cached", &MemInfo::cached},
        {"anon_huge_total", &MemInfo::anon_huge}};
    if (auto it = mem.find(fn); it != mem.end()) {
        if (Status st = want(0, 0); !st) return st;
        return double(mi.*(it->second));
    }
    if (fn == "now_ns") return double(m_.now_ns());
    if (fn == "step_ns") return double(m_.now_ns() - step_start_ns_);
    if (fn == "used_delta") return double(mi.used) - double(step_start_used_);
    if (fn == "fork_ns") return double(last_fork_.time_ns);
    if (fn == "fork_pt_pages") return double(last_fork_.pt_pages);
    if (fn == "fork_pages_copied") return double(last_fork_.pages_copied);
    // The cost model's constants (engine/kernel/cost.h), for text that explains a time.
    if (fn == "cost_fork_base_ns") return m_.config().cost.fork_base_ns;
    if (fn == "cost_pte_ns") return m_.config().cost.per_pte_ns;
    if (fn == "cost_page_copy_ns") return m_.config().cost.copy_ns(kPageSize);
    if (fn == "cost_fault_ns") return m_.config().cost.fault_trap_ns;
    if (fn == "access_ns") return double(last_access_.time_ns);
    if (fn == "access_faults") return double(last_access_.minor_faults + last_access_.major_faults);
    if (fn == "failures") return double(outcomes_.size());
    if (fn == "processes") return double(m_.pids().size());
    if (fn == "min" || fn == "max") {
        if (Status st = want(2, 2); !st) return st;
        Result<double> a = number(0), b = number(1);
        if (!a) return a;
        if (!b) return b;
        return fn == "min" ? std::min(*a, *b) : std::max(*a, *b);
    }
    if (fn == "lt" || fn == "gt" || fn == "eq") {
        if (Status st = want(2, 2); !st) return st;
        Result<double> a = number(0), b = number(1);
        if (!a) return a;
        if (!b) return b;
        return (fn == "lt" ? *a < *b : fn == "gt" ? *a > *b : *a == *b) ? 1.0 : 0.0;
    }
    if (fn == "ifelse") {
        if (Status st = want(3, 3); !st) return st;
        Result<double> c = number(0), a = number(1), b = number(2);
        if (!c) return c;
        if (!a) return a;
        if (!b) return b;
        return *c != 0 ? *a : *b;
    }
    if (fn == "round" || fn == "floor" || fn == "ceil") {
        if (Status st = want(1, 1); !st) return st;
        Result<double> a = number(0);
        if (!a) return a;
        return fn == "round" ? std::round(*a) : fn == "floor" ? std::floor(*a) : std::ceil(*a);
    }
    if (fn == "total" || fn == "count") {
        // total(rss, w): rss summed over the live processes named w...; count(w): how many.
        const size_t need = fn == "total" ? 2 : 1;
        if (Status st = want(need, need + 1); !st) return st;
        for (const ExprArg& a : args)
            if (!a.is_name) return fail(Errc::invalid_argument, fn + "() takes names");
        const std::string& prefix = args[need - 1].name;
        double sum = 0;
        for (const auto& [n, id] : names_) {
            if (n.compare(0, prefix.size(), prefix) != 0 || !m_.process(id) || !m_.process(id)->alive()) continue;
            if (fn == "count") {
                sum += 1;
                continue;
            }
            std::vector<ExprArg> one{{true, n, 0}};
            if (args.size() == 3) one.push_back(args[2]);
            Result<double> v = call(args[0].name, one);
            if (!v) return v;
            sum += *v;
        }
        return sum;
    }
    if (fn == "events") {
        if (Status st = want(1, 1); !st) return st;
        if (!args[0].is_name) return fail(Errc::invalid_argument, "events() takes an event kind");
        for (int k = 0; k < kEventKindCount; ++k)
            if (args[0].name == to_string(EventKind(k))) return double(m_.events().count(EventKind(k)));
        return fail(Errc::invalid_argument, "events(): no event kind '" + args[0].name + "'");
    }
    if (fn == "size" || fn == "pages") {
        if (Status st = want(1, 2); !st) return st;
        if (!args[0].is_name) return fail(Errc::invalid_argument, fn + "() takes a region name");
        Pid p = kNoPid;
        if (args.size() == 2) {
            Result<Pid> pp = proc(1);
            if (!pp) return pp.status();
            p = *pp;
        } else if (!names_.empty()) {
            p = names_.front().second;
        }
        Result<Region> r = region_named(args[0].name, p);
        if (!r) return r.status();
        return fn == "size" ? double(r->len) : double(r->len / kPageSize);
    }
    // Per-process figures: f(process) or f(process, region).
    if (args.empty()) return fail(Errc::invalid_argument, "unknown function '" + fn + "'");
    if (fn == "alive" && args[0].is_name && pid_of(args[0].name) == kNoPid) return 0.0;   // never started: not alive
    Result<Pid> p = proc(0);
    if (!p) return p.status();
    const Process* pr = m_.process(*p);
    if (fn == "alive") return pr && pr->alive() ? 1.0 : 0.0;
    if (fn == "exit_status") return pr ? double(pr->exit_status) : 0.0;
    if (fn == "pid") return double(*p);
    if (fn == "redis_used_memory") {
        auto it = redis_.find(args[0].name);
        return it == redis_.end() ? 0.0 : double(it->second.used_memory());   // no dataset loaded: 0
    }
    static const std::map<std::string, u64 ProcCounters::*> counters = {
        {"min_flt", &ProcCounters::min_flt}, {"maj_flt", &ProcCounters::maj_flt},
        {"cow_copies", &ProcCounters::cow_copies}, {"cow_reuses", &ProcCounters::cow_reuses},
        {"zero_fills", &ProcCounters::zero_fills}, {"zero_page_maps", &ProcCounters::zero_page_maps},
        {"thp_faults", &ProcCounters::thp_faults}, {"thp_splits", &ProcCounters::thp_splits},
        {"thp_copies", &ProcCounters::thp_copies}, {"file_copies", &ProcCounters::file_copies}};
    if (auto it = counters.find(fn); it != counters.end()) return pr ? double(pr->counters.*(it->second)) : 0.0;
    static const std::map<std::string, u64 ProcStatus::*> status = {
        {"vm_rss", &ProcStatus::vm_rss}, {"vm_size", &ProcStatus::vm_size}, {"vm_pte", &ProcStatus::vm_pte},
        {"rss_anon", &ProcStatus::rss_anon}, {"rss_file", &ProcStatus::rss_file}, {"rss_shmem", &ProcStatus::rss_shmem}};
    if (auto it = status.find(fn); it != status.end()) {
        Result<ProcStatus> s = m_.status(*p);
        if (!s) return s.status();
        return double((*s).*(it->second));
    }
    if (fn == "oom_badness") {
        Result<ProcStatus> s = m_.status(*p);
        if (!s) return s.status();
        return double(s->oom_badness);
    }
    static const std::map<std::string, u64 (*)(const MemStats&)> smaps = {
        {"rss", [](const MemStats& s) { return s.rss; }},
        {"pss", [](const MemStats& s) { return s.pss(); }},
        {"pss_dirty", [](const MemStats& s) { return s.pss_dirty(); }},
        {"uss", [](const MemStats& s) { return s.uss(); }},
        {"shared", [](const MemStats& s) { return s.shared(); }},
        {"shared_clean", [](const MemStats& s) { return s.shared_clean; }},
        {"shared_dirty", [](const MemStats& s) { return s.shared_dirty; }},
        {"private_clean", [](const MemStats& s) { return s.private_clean; }},
        {"private_dirty", [](const MemStats& s) { return s.private_dirty; }},
        {"anonymous", [](const MemStats& s) { return s.anonymous; }},
        {"anon_huge", [](const MemStats& s) { return s.anon_huge; }},
        {"referenced", [](const MemStats& s) { return s.referenced; }}};
    auto sm = smaps.find(fn);
    if (sm == smaps.end()) return fail(Errc::invalid_argument, "unknown function '" + fn + "'");
    if (Status st = want(1, 2); !st) return st;
    if (args.size() == 1) {
        Result<MemStats> s = m_.smaps_rollup(*p);
        if (!s) return s.status();
        return double(sm->second(*s));
    }
    if (!args[1].is_name) return fail(Errc::invalid_argument, fn + "(): argument 2 must name a region");
    Result<Region> r = region_named(args[1].name, *p);
    if (!r) return r.status();
    Result<std::vector<VmaStats>> v = m_.smaps(*p);
    if (!v) return v.status();
    MemStats sum;
    for (const VmaStats& vs : *v)
        if (vs.start < r->start + r->len && vs.end > r->start) sum += vs.mem;
    return double(sm->second(sum));
}

Result<std::string> LessonRun::narrative(int step) const {
    if (step < 0 || step >= int(lesson_.steps.size())) return fail(Errc::invalid_argument, "no step " + std::to_string(step));
    Result<std::string> r = render(lesson_.steps[size_t(step)].text);
    if (!r) return fail(r.code(), "steps[" + std::to_string(step) + "].text: " + r.message());
    return r;
}

Result<std::string> LessonRun::render(const std::string& t) const {
    std::string out;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] != '{') {
            out += t[i];
            continue;
        }
        size_t close = t.find('}', i);
        if (close == std::string::npos) return fail(Errc::invalid_argument, "'{' without '}'");
        std::string inner = t.substr(i + 1, close - i - 1), unit;
        if (size_t bar = inner.find('|'); bar != std::string::npos) {
            unit = inner.substr(bar + 1);
            inner = inner.substr(0, bar);
        }
        Result<double> v = eval(inner);
        if (!v) return fail(Errc::invalid_argument, v.message());
        out += format_value(*v, unit);
        i = close;
    }
    return out;
}

StepMetrics LessonRun::metrics() const {
    StepMetrics sm;
    sm.step = next_ - 1;
    sm.time_ns = m_.now_ns();
    sm.meminfo = m_.meminfo();
    for (const auto& [name, pid] : names_) {
        ProcMetrics pm;
        pm.name = name;
        pm.pid = pid;
        const Process* p = m_.process(pid);
        pm.state = p ? to_string(p->state) : "?";
        if (Result<MemStats> s = m_.smaps_rollup(pid); s) pm.mem = *s;
        if (Result<ProcStatus> s = m_.status(pid); s) pm.status = *s;
        if (p) pm.counters = p->counters;
        sm.procs.push_back(pm);
    }
    if (sm.step >= 0)
        for (const std::string& e : lesson_.steps[size_t(sm.step)].show) {
            Result<double> v = eval(e);
            sm.shown.push_back({e, v ? *v : std::nan("")});
        }
    return sm;
}

}  // namespace cow

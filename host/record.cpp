// record.cpp: writing recordings (the format is described in record.h).
#include "record.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

namespace cowlab::live {

using cow::Errc;
using cow::fail;

cow::RecProc rec_proc(int pid, const Result<ProcSample>& r) {
    cow::RecProc p;
    p.pid = pid;
    if (!r) {
        p.problem = to_string(ProcFs::problem_of(r.status()));
        p.error = r.message();
        return p;
    }
    const ProcSample& s = *r;
    p.ppid = s.ppid;
    p.name = s.name;
    p.state = std::string(1, s.state);
    p.rss = s.rss;
    p.pss = s.pss;
    p.uss = s.uss();
    p.shared_clean = s.shared_clean;
    p.shared_dirty = s.shared_dirty;
    p.private_clean = s.private_clean;
    p.private_dirty = s.private_dirty;
    p.anon_huge = s.anon_huge;
    p.swap = s.swap;
    p.vm_pte = s.vm_pte;
    p.min_flt = s.min_flt;
    p.maj_flt = s.maj_flt;
    return p;
}

nlohmann::json sample_json(int pid, const Result<ProcSample>& r) {
    const cow::RecProc p = rec_proc(pid, r);
    if (!p.problem.empty()) return {{"pid", pid}, {"problem", p.problem}, {"error", p.error}};
    return {{"pid", pid},
            {"ppid", p.ppid},
            {"name", p.name},
            {"state", p.state},
            {"rss", p.rss},
            {"pss", p.pss},
            {"uss", p.uss},
            {"shared_clean", p.shared_clean},
            {"shared_dirty", p.shared_dirty},
            {"private_clean", p.private_clean},
            {"private_dirty", p.private_dirty},
            {"anon_huge", p.anon_huge},
            {"swap", p.swap},
            {"vm_pte", p.vm_pte},
            {"min_flt", p.min_flt},
            {"maj_flt", p.maj_flt}};
}

nlohmann::json host_json() {
    nlohmann::json h = nlohmann::json::object();
    utsname u{};
    if (uname(&u) == 0) {
        h["kernel"] = u.release;
        h["machine"] = u.machine;
        h["hostname"] = u.nodename;
    }
    h["page_size"] = sysconf(_SC_PAGESIZE);
    h["cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
    std::ifstream mi("/proc/meminfo");
    std::string key;
    u64 kb = 0;
    if (mi >> key >> kb && key == "MemTotal:") h["mem_total"] = kb * 1024;
    return h;
}

Result<Recorder> Recorder::open(const std::string& path, const std::string& source, const std::string& command) {
    Recorder r;
    r.f_ = std::fopen(path.c_str(), "w");
    if (!r.f_) return fail(Errc::invalid_argument, path + ": cannot be written: " + std::strerror(errno));
    r.path_ = path;
    char when[32] = "";
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    if (gmtime_r(&now, &tm)) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (Status st = r.line({{"type", "header"}, {"format", "cowlab-recording"}, {"version", 1}, {"source", source},
                            {"command", command}, {"started", when}, {"host", host_json()}});
        !st)
        return st;
    return r;
}

Recorder::Recorder(Recorder&& o) noexcept : f_(o.f_), path_(std::move(o.path_)), samples_(o.samples_) { o.f_ = nullptr; }

Recorder& Recorder::operator=(Recorder&& o) noexcept {
    if (this != &o) {
        (void)close();
        f_ = o.f_;
        path_ = std::move(o.path_);
        samples_ = o.samples_;
        o.f_ = nullptr;
    }
    return *this;
}

Recorder::~Recorder() { (void)close(); }

Status Recorder::line(const nlohmann::json& j) {
    if (!f_) return fail(Errc::invalid_argument, "recording is not open");
    const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (std::fprintf(f_, "%s\n", text.c_str()) < 0 || std::fflush(f_) != 0)
        return fail(Errc::invalid_argument, path_ + ": write failed: " + std::strerror(errno));
    return {};
}

Status Recorder::sample(double t_s, const std::vector<std::pair<int, Result<ProcSample>>>& rows) {
    nlohmann::json procs = nlohmann::json::array();
    for (const auto& [pid, r] : rows) procs.push_back(sample_json(pid, r));
    ++samples_;
    return line({{"type", "sample"}, {"t_s", t_s}, {"processes", procs}});
}

Status Recorder::close() {
    if (!f_) return {};
    Status st = line({{"type", "end"}, {"samples", samples_}});
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (st && !closed) return fail(Errc::invalid_argument, path_ + ": write failed: " + std::strerror(errno));
    return st;
}

std::string encode_runs(const std::string& states) {
    std::string out;
    for (size_t i = 0; i < states.size();) {
        size_t j = i;
        while (j < states.size() && states[j] == states[i]) ++j;
        out += std::to_string(j - i);
        out += states[i];
        i = j;
    }
    return out;
}

}  // namespace cowlab::live

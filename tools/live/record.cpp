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

nlohmann::json sample_json(int pid, const Result<ProcSample>& r) {
    if (!r) return {{"pid", pid}, {"problem", to_string(ProcFs::problem_of(r.status()))}, {"error", r.message()}};
    const ProcSample& s = *r;
    return {{"pid", pid},
            {"ppid", s.ppid},
            {"name", s.name},
            {"state", std::string(1, s.state)},
            {"rss", s.rss},
            {"pss", s.pss},
            {"uss", s.uss()},
            {"shared_clean", s.shared_clean},
            {"shared_dirty", s.shared_dirty},
            {"private_clean", s.private_clean},
            {"private_dirty", s.private_dirty},
            {"anon_huge", s.anon_huge},
            {"swap", s.swap},
            {"vm_pte", s.vm_pte},
            {"min_flt", s.min_flt},
            {"maj_flt", s.maj_flt}};
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

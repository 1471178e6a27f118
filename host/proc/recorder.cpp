// recorder.cpp: recordings written to files (recorder.h; the lines: engine/recording/).
#include "recorder.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include "system.h"

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

cow::RecSample rec_sample(double t_s, const std::vector<std::pair<int, Result<ProcSample>>>& rows) {
    cow::RecSample s;
    s.t_s = t_s;
    for (const auto& [pid, r] : rows) s.procs.push_back(rec_proc(pid, r));
    return s;
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
    if (Status st = r.line(cow::rec_line::header(source, command, when, host_info())); !st) return st;
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

Status Recorder::line(const std::string& text) {
    if (!f_) return fail(Errc::invalid_argument, "recording is not open");
    if (std::fprintf(f_, "%s\n", text.c_str()) < 0 || std::fflush(f_) != 0)
        return fail(Errc::invalid_argument, path_ + ": write failed: " + std::strerror(errno));
    return {};
}

Status Recorder::sample(const cow::RecSample& sample) {
    ++samples_;
    return line(cow::rec_line::sample(sample));
}

Status Recorder::close() {
    if (!f_) return {};
    Status st = line(cow::rec_line::end(samples_));
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (st && !closed) return fail(Errc::invalid_argument, path_ + ": write failed: " + std::strerror(errno));
    return st;
}

}  // namespace cowlab::live

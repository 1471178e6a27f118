// redis_bgsave.cpp: `cowlab experiment redis-bgsave`: a real redis-server saving
// its dataset under write load, beside the engine's Redis workload.
//
//   cowlab experiment redis-bgsave --keys N --value-bytes V --writes-per-s R
//                                  [--port P] [--json] [--record FILE]
//
// Real: start redis-server (no config file, no persistence of its own) on
// 127.0.0.1 in a private temporary directory, load N keys "key:%012d" with
// V-byte values by pipelined SETs, wait until the keyspace is not rehashing,
// then run BGSAVE while a second connection SETs random existing keys at R per
// second. While the child saves, its Private_Dirty is sampled from /proc and
// INFO persistence is polled; when it is done, INFO gives what Redis itself
// reports. The server and its directory are removed at the end, also on Ctrl-C.
//
// Engine: cow::RedisServer::load and bgsave on a simulated machine, with the
// same dataset, the same write rate and the save time measured on the real run.
#include "experiment.h"
#include "report.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "engine.h"
#include "procfs.h"

namespace cowlab::live {

namespace {

using cow::u32;
using cow::u64;
using Clock = std::chrono::steady_clock;

constexpr long long kMaxKeys = 20'000'000;
constexpr long long kMaxValueBytes = 4096;
constexpr double kMaxWritesPerS = 200'000;
constexpr double kMaxSaveS = 600;        // a save that takes longer is reported as stuck
constexpr size_t kMaxRecordedSamples = 3000;

int usage() {
    std::fprintf(stderr,
                 "usage: cowlab experiment redis-bgsave --keys N --value-bytes V --writes-per-s R [--port P]\n"
                 "                                      [--json] [--record FILE]\n"
                 "  N: 1 .. %lld keys; V: 1 .. %lld bytes per value; R: 0 .. %.0f SETs per second during the save\n",
                 kMaxKeys, kMaxValueBytes, kMaxWritesPerS);
    return 2;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// A port on 127.0.0.1 free now (the kernel's choice), or whether `port` is free.
int free_port(int port) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t len = sizeof a;
    int got = -1;
    if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        got = ntohs(a.sin_port);
    close(s);
    return got;
}

std::string last_lines(const std::string& file, int n) {
    std::ifstream f(file);
    std::vector<std::string> lines;
    for (std::string l; std::getline(f, l);)
        if (!l.empty()) lines.push_back(l);
    std::string out;
    for (size_t i = lines.size() > size_t(n) ? lines.size() - size_t(n) : 0; i < lines.size(); ++i) out += "\n  " + lines[i];
    return out;
}

// A field of an INFO reply ("name:value\r\n"); false when absent.
bool info_field(const std::string& info, const std::string& name, double& out) {
    const std::string k = "\n" + name + ":";
    size_t p = ("\n" + info).find(k);
    if (p == std::string::npos) return false;
    p += k.size() - 1;
    char* end = nullptr;
    out = std::strtod(info.c_str() + p, &end);
    return end != info.c_str() + p;
}

// "cmdstat_set:calls=123,usec=..." -> 123 (0 before the first SET).
double set_calls(const std::string& info) {
    const std::string k = "cmdstat_set:calls=";
    const size_t p = info.find(k);
    return p == std::string::npos ? 0 : std::strtod(info.c_str() + p + k.size(), nullptr);
}

struct ReplyFree {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
struct ContextFree {
    void operator()(redisContext* c) const { redisFree(c); }
};
using Conn = std::unique_ptr<redisContext, ContextFree>;

Conn connect(int port, std::string& err) {
    timeval tv{2, 0};
    Conn c(redisConnectWithTimeout("127.0.0.1", port, tv));
    if (!c) err = "out of memory";
    else if (c->err) err = c->errstr;
    else return c;
    return nullptr;
}

// One command's reply, or the error (a connection error or an error reply).
Reply command(redisContext* c, std::string& err, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
Reply command(redisContext* c, std::string& err, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Reply r(static_cast<redisReply*>(redisvCommand(c, fmt, ap)));
    va_end(ap);
    if (!r) err = c->err ? c->errstr : "no reply";
    else if (r->type == REDIS_REPLY_ERROR) err = std::string(r->str, r->len);
    else return r;
    return nullptr;
}

Reply pending_reply(redisContext* c, std::string& err) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || !raw) {
        err = c->err ? c->errstr : "no reply";
        return nullptr;
    }
    Reply r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR) {
        err = std::string(r->str, r->len);
        return nullptr;
    }
    return r;
}

std::string text(const Reply& r) { return r && r->str ? std::string(r->str, r->len) : std::string(); }

std::string key_name(u64 k) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "key:%012llu", static_cast<unsigned long long>(k));
    return buf;
}

// Random letters: never an integer, so Redis keeps every value a string.
std::string letters(size_t n, std::mt19937_64& rng) {
    std::string s(n, 'a');
    for (char& ch : s) ch = char('a' + rng() % 26);
    return s;
}

// The SET load: its own connection, paced at `rate` per second until stopped.
struct Writer {
    int port = 0;
    u64 keys = 0;
    u32 value_bytes = 0;
    double rate = 0;
    std::atomic<bool> stop{false};
    std::atomic<u64> sent{0};
    std::string error;   // set before the thread ends, read after join

    void run() {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);   // signals are the main thread's (cleanup)
        std::string err;
        Conn c = connect(port, err);
        if (!c) {
            error = "the writer's connection: " + err;
            return;
        }
        std::mt19937_64 rng(7);
        const std::string pool = letters(value_bytes + 4096, rng);
        const auto t0 = Clock::now();
        u64 n = 0;
        while (!stop.load()) {
            const u64 due = u64(rate * seconds_since(t0));
            const u64 batch = std::min<u64>(due > n ? due - n : 0, 2000);
            for (u64 i = 0; i < batch; ++i) {
                const std::string k = key_name(rng() % keys);
                redisAppendCommand(c.get(), "SET %b %b", k.data(), k.size(), pool.data() + rng() % 4096, size_t(value_bytes));
            }
            for (u64 i = 0; i < batch; ++i)
                if (!pending_reply(c.get(), err)) {
                    error = "a SET during the save failed: " + err;
                    return;
                }
            n += batch;
            sent.store(n);
            if (batch == 0) sleep_s(0.0005);
        }
    }
};

struct Measured {
    double used_memory = 0, used_memory_rss = 0, rss = 0, anonymous = 0;
    double fork_us = 0, cow_last = 0, cow_peak_info = 0, cow_peak_sampled = 0;
    double writes = 0, save_s = 0, redis_save_s = 0;
    double load_s = 0, period = 0.01, end_gap = 0;   // loading time; sampling period and lateness at the save's end
    bool exit_seen = false;                          // the child's exit seen as it happened (a pidfd)
    std::vector<std::array<double, 2>> series;
};

struct Params {
    long long keys = -1, value_bytes = -1, port = 0;
    double rate = -1;
};

// The options, or the exit status of a bad one (its message printed).
int parse_options(const std::vector<std::string>& a, Output& out, Params& p) {
    for (size_t i = 1; i < a.size(); ++i) {
        const bool has = i + 1 < a.size();
        if (a[i] == "--keys" && has) {
            if (!parse_count(a[++i], 1, kMaxKeys, p.keys)) {
                std::fprintf(stderr, "cowlab experiment: --keys %s: must be a whole number 1 .. %lld\n", a[i].c_str(), kMaxKeys);
                return 2;
            }
        } else if (a[i] == "--value-bytes" && has) {
            if (!parse_count(a[++i], 1, kMaxValueBytes, p.value_bytes)) {
                std::fprintf(stderr, "cowlab experiment: --value-bytes %s: must be a whole number 1 .. %lld (jemalloc's small size "
                                     "classes, which the engine models)\n", a[i].c_str(), kMaxValueBytes);
                return 2;
            }
        } else if (a[i] == "--writes-per-s" && has) {
            const std::string& v = a[++i];
            char* end = nullptr;
            errno = 0;
            p.rate = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || errno || !(p.rate >= 0 && p.rate <= kMaxWritesPerS)) {
                std::fprintf(stderr, "cowlab experiment: --writes-per-s %s: must be a number 0 .. %.0f\n", v.c_str(), kMaxWritesPerS);
                return 2;
            }
        } else if (a[i] == "--port" && has) {
            if (!parse_count(a[++i], 1024, 65535, p.port)) {
                std::fprintf(stderr, "cowlab experiment: --port %s: must be 1024 .. 65535\n", a[i].c_str());
                return 2;
            }
        } else if (!parse_output(a, i, out)) {
            return usage();
        }
    }
    return p.keys < 0 || p.value_bytes < 0 || p.rate < 0 ? usage() : 0;
}

// What the dataset takes (the engine's layout, rounded up).
u64 estimate_bytes(const Params& p) {
    const u64 per_key = 64 + (p.value_bytes <= 44 ? 64 : 16 + u64(p.value_bytes) + 9 + 64);
    return u64(p.keys) * per_key + u64(p.keys) * 16 + 8 * cow::MiB;
}

// The real redis-server: started in a private directory, connected to, and ended by cleanup.
struct Server {
    std::string bin, dir, log;
    int port = 0;
    pid_t pid = 0;
    int child = 0;   // the server's saving child, once BGSAVE has forked it
    Conn conn;

    // Whether the server has ended (waiting up to `grace` seconds: a broken connection is
    // seen before the process is), and why.
    bool gone(std::string& why, double grace = 0) const {
        int st = 0;
        for (auto t0 = Clock::now(); waitpid(pid, &st, WNOHANG) != pid; sleep_s(0.01))
            if (seconds_since(t0) >= grace) return false;
        cleanup::forget_pid(pid);
        why = WIFSIGNALED(st) ? "redis-server was killed by signal " + std::to_string(WTERMSIG(st))
                              : "redis-server exited with status " + std::to_string(WEXITSTATUS(st));
        why += "; its log says:" + last_lines(log, 4);
        return true;
    }
    // An error: why the server ended, if it did (within `grace`), or else `what`.
    cow::Status error(const std::string& what, double grace = 1) const {
        std::string why;
        return failure(gone(why, grace) ? why : what);
    }
    cow::Status start();
};

// A private directory, the server in it, a connection, and a check that it is ours answering.
cow::Status Server::start() {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/cowlab-redis-XXXXXX";
    if (!mkdtemp(dir.data())) return failure("cannot create a directory " + dir + ": " + std::strerror(errno));
    cleanup::add_path(dir);
    log = dir + "/redis.log";
    cleanup::add_path(log);
    cleanup::add_path(dir + "/dump.rdb");
    const std::string port_s = std::to_string(port);
    std::vector<std::string> argv_s = {bin, "--port", port_s, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                       "--dir", dir, "--dbfilename", "dump.rdb", "--logfile", log, "--daemonize", "no",
                                       "--enable-debug-command", "local"};
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid = fork();
    if (pid < 0) return failure(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);   // never outlive the experiment, even if it is killed
        setpgid(0, 0);                      // the terminal's Ctrl-C is the experiment's to handle
        const int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
        }
        execv(argv[0], argv.data());
        _exit(127);
    }
    cleanup::add_pid(pid);
    std::fprintf(stderr, "cowlab experiment: redis-server %d on 127.0.0.1:%d in %s\n", int(pid), port, dir.c_str());
    std::string err, why;
    for (auto t0 = Clock::now(); !conn; sleep_s(0.02)) {
        if (gone(why)) return failure(why);
        if (seconds_since(t0) > 10) return failure("redis-server did not accept connections within 10 s; its log says:" + last_lines(log, 4));
        conn = connect(port, err);
    }
    // Check that it is our server answering, not another one on the port.
    Reply info = command(conn.get(), err, "INFO server");
    double info_pid = 0;
    if (!info || !info_field(text(info), "process_id", info_pid) || pid_t(info_pid) != pid)
        return error("the server on 127.0.0.1:" + port_s + " is not the one started (" + err + ")");
    return {};
}

// N keys by pipelined SETs; then until the keyspace is not rehashing (or the SETs during
// the save would rehash it); then what the server holds.
cow::Status load_dataset(Server& sv, const Params& p, Measured& real) {
    const auto t_load = Clock::now();
    std::string err;
    std::mt19937_64 rng(1);
    const std::string pool = letters(size_t(p.value_bytes) + 4096, rng);
    const long long batch = 5000;
    for (long long k0 = 0; k0 < p.keys; k0 += batch) {
        const long long k1 = std::min(p.keys, k0 + batch);
        for (long long k = k0; k < k1; ++k) {
            const std::string kn = key_name(u64(k));
            redisAppendCommand(sv.conn.get(), "SET %b %b", kn.data(), kn.size(), pool.data() + rng() % 4096, size_t(p.value_bytes));
        }
        for (long long k = k0; k < k1; ++k)
            if (!pending_reply(sv.conn.get(), err)) {
                std::string why;
                if (sv.gone(why, 1)) return failure("loading the dataset: " + why);
                return failure("loading the dataset: SET failed: " + err);
            }
    }
    for (auto t0 = Clock::now();; sleep_s(0.05)) {
        Reply h = command(sv.conn.get(), err, "DEBUG HTSTATS 0");
        if (!h) return sv.error("DEBUG HTSTATS: " + err);
        if (text(h).find("rehashing target") == std::string::npos) break;
        if (seconds_since(t0) > 30) return failure("the keyspace was still rehashing 30 s after loading");
    }
    sleep_s(0.25);   // INFO's used_memory_rss is refreshed by serverCron (10 times a second)
    real.load_s = seconds_since(t_load);
    Reply mem = command(sv.conn.get(), err, "INFO memory");
    if (!mem || !info_field(text(mem), "used_memory", real.used_memory) || !info_field(text(mem), "used_memory_rss", real.used_memory_rss))
        return sv.error("INFO memory: " + (err.empty() ? std::string("no used_memory field") : err));
    Result<ProcSample> s = ProcFs().sample(int(sv.pid));
    if (!s) return sv.error("sampling redis-server: " + s.message());
    real.rss = double(s->rss);
    real.anonymous = double(s->anonymous);
    return {};
}

// Samples the saving child until it is done: its Private_Dirty, the SETs applied, what
// INFO shows while saving; sample lines for a recording (when `recorded`).
cow::Status sample_save(Server& sv, Clock::time_point t_fork, double calls0, Measured& real, std::vector<std::string>* recorded) {
    const ProcFs fs;
    std::string err, why;
    double last_info = -1;
    real.writes = 0;
    double calls1 = calls0;
    // The child's exit is seen the moment it happens through a pidfd (Linux 5.3), and the
    // SETs are counted then: the child's last Private_Dirty (its rdb_last_cow_size) covers
    // every write up to its exit, and a sampling period on a loaded machine can be 50 ms
    // of writes. Without a pidfd the loop falls back to the last sample seen saving.
    const int pidfd = int(syscall(SYS_pidfd_open, sv.child, 0));
    struct Close {
        int fd;
        ~Close() { if (fd >= 0) close(fd); }
    } close_pidfd{pidfd};
    auto count_sets = [&]() -> bool {
        Reply st = command(sv.conn.get(), err, "INFO commandstats");
        if (!st) return false;
        calls1 = set_calls(text(st));
        real.save_s = seconds_since(t_fork);
        return true;
    };
    for (;;) {
        const double t = seconds_since(t_fork);
        Result<ProcSample> cs = fs.sample(sv.child);
        // An exiting child has let go of its memory before it is a zombie: its smaps read empty.
        if (!cs || cs->state == 'Z' || cs->state == 'X' || cs->rss == 0) {
            // The child is done. With a pidfd the poll below would have woken at its exit: it
            // is exiting now, and the SETs are counted now. Without one the save is taken to end
            // when it was last seen saving: on a busy machine this loop may be late to see the end.
            if (pidfd >= 0 && count_sets()) {
                real.end_gap = 0;
                real.exit_seen = true;
            } else {
                real.end_gap = t - real.save_s;
            }
            break;
        }
        if (!count_sets()) break;
        real.series.push_back({t, double(cs->private_dirty)});
        real.cow_peak_sampled = std::max(real.cow_peak_sampled, double(cs->private_dirty));
        real.period = std::max(0.01, 4 * cs->sample_ms / 1000);
        if (recorded && recorded->size() < kMaxRecordedSamples)
            recorded->push_back(cow::rec_line::sample(rec_sample(t, {{int(sv.pid), fs.sample(int(sv.pid))}, {sv.child, cs}})));
        if (t - last_info >= 0.05) {   // what Redis shows while saving: the child's reports so far
            last_info = t;
            Reply p = command(sv.conn.get(), err, "INFO persistence");
            double v = 0;
            if (p && info_field(text(p), "current_cow_peak", v)) real.cow_peak_info = std::max(real.cow_peak_info, v);
        }
        if (sv.gone(why)) return failure("during the save: " + why);
        if (t > kMaxSaveS) return failure("the save did not end within " + std::to_string(int(kMaxSaveS)) + " s");
        if (pidfd < 0) {
            sleep_s(real.period);
            continue;
        }
        pollfd pf{pidfd, POLLIN, 0};
        if (poll(&pf, 1, int(real.period * 1000)) == 1 && (pf.revents & POLLIN)) {
            const double exited = seconds_since(t_fork);
            if (!count_sets()) break;
            real.end_gap = real.save_s - exited;   // the time INFO took
            real.exit_seen = true;
            break;
        }
    }
    real.writes = calls1 - calls0;
    return {};
}

// BGSAVE while a second connection SETs at the rate asked for, sampled until the child is done.
cow::Status bgsave_under_writes(Server& sv, const Params& p, Measured& real, std::vector<std::string>* recorded) {
    Writer writer;
    writer.port = sv.port;
    writer.keys = u64(p.keys);
    writer.value_bytes = u32(p.value_bytes);
    writer.rate = p.rate;
    std::thread wt([&] { writer.run(); });
    struct Join {   // the writer stops on every way out
        Writer& w;
        std::thread& t;
        ~Join() { stop(); }
        void stop() {
            w.stop.store(true);
            if (t.joinable()) t.join();
        }
    } join{writer, wt};
    sleep_s(0.2);   // the load is steady when the fork comes
    if (!writer.error.empty()) {
        join.stop();
        return sv.error(writer.error);
    }
    // INFO and BGSAVE in one pipeline: nothing runs between them.
    std::string err;
    redisAppendCommand(sv.conn.get(), "INFO commandstats");
    redisAppendCommand(sv.conn.get(), "BGSAVE");
    const auto t_fork = Clock::now();
    Reply before = pending_reply(sv.conn.get(), err);
    Reply started = before ? pending_reply(sv.conn.get(), err) : nullptr;
    if (!started) {
        join.stop();
        return sv.error("BGSAVE: " + err);
    }
    for (auto t0 = Clock::now(); !sv.child; sleep_s(0.001)) {
        for (int c : ProcFs().tree(int(sv.pid)))
            if (c != int(sv.pid)) sv.child = c;
        if (!sv.child && seconds_since(t0) > 5) return failure("BGSAVE started but no child of redis-server appeared");
    }
    cleanup::add_pid(sv.child);   // not our child: signalled, not reaped
    cleanup::add_path(sv.dir + "/temp-" + std::to_string(sv.child) + ".rdb");
    cow::Status sampled = sample_save(sv, t_fork, set_calls(text(before)), real, recorded);
    join.stop();
    if (!sampled) return sampled;
    std::string why;
    if (sv.gone(why, writer.error.empty() && real.save_s > 0 ? 0 : 1)) return failure("during the save: " + why);
    if (!writer.error.empty()) return sv.error(writer.error);
    if (real.save_s <= 0) return failure("the save ended before it could be sampled");
    return {};
}

// Once Redis has reaped the child (rdb_bgsave_in_progress is 0), what INFO says of the save.
cow::Status read_save_figures(Server& sv, Measured& real) {
    std::string err, persistence;
    for (auto t0 = Clock::now();; sleep_s(0.02)) {
        Reply p = command(sv.conn.get(), err, "INFO persistence");
        double busy = 1;
        if (!p || !info_field(text(p), "rdb_bgsave_in_progress", busy)) return sv.error("INFO persistence: " + err);
        if (busy == 0) {
            persistence = text(p);
            break;
        }
        if (seconds_since(t0) > 10) return failure("redis-server did not finish the BGSAVE 10 s after its child ended");
    }
    cleanup::forget_pid(sv.child);
    cleanup::forget_path(sv.dir + "/temp-" + std::to_string(sv.child) + ".rdb");
    sv.child = 0;
    Reply st = command(sv.conn.get(), err, "INFO stats");
    if (!st) return sv.error("INFO stats: " + err);
    const std::string stats = text(st);
    if (persistence.find("rdb_last_bgsave_status:ok") == std::string::npos)
        return failure("the BGSAVE failed; redis-server's log says:" + last_lines(sv.log, 4));
    if (!info_field(persistence, "rdb_last_cow_size", real.cow_last) || !info_field(stats, "latest_fork_usec", real.fork_us) ||
        !info_field(persistence, "rdb_last_bgsave_time_sec", real.redis_save_s))
        return failure("INFO: rdb_last_cow_size, latest_fork_usec or rdb_last_bgsave_time_sec missing");
    return {};
}

// The real run, start to end; the server and its files are gone afterwards, also on failure.
cow::Status run_real(Server& sv, const Params& p, Measured& real, std::vector<std::string>* recorded) {
    cow::Status st = sv.start();
    if (st) st = load_dataset(sv, p, real);
    if (st) st = bgsave_under_writes(sv, p, real, recorded);
    if (st) st = read_save_figures(sv, real);
    // Without its server the child would save on (it ignores SIGTERM): it is stopped first.
    if (!st && sv.child > 0) kill(sv.child, SIGKILL);
    sv.conn.reset();
    cleanup::run();   // stops the server (SIGTERM: it does not save), removes its files and directory
    return st;
}

// What the engine predicts: cow::RedisServer with the same dataset, saving for as long as
// the real one did, under the SETs the real server applied.
struct Predicted {
    double used_memory = 0, rss = 0, anonymous = 0, save_mb_per_s = 0, achieved = 0;
    cow::BgsaveResult bg;
};

cow::Result<Predicted> predict(const Params& p, const Measured& real, u64 estimate) {
    Predicted e;
    cow::MachineConfig cfg;
    cfg.ram_bytes = std::min<u64>(cow::MachineConfig::kMaxRam, cow::huge_up(4 * estimate + 512 * cow::MiB));
    cfg.overcommit = cow::Overcommit::always;   // what Redis asks for
    cfg.thp = cow::ThpMode::never;              // Redis 7 turns THP off for itself (disable-thp)
    cow::Result<cow::Machine> made = cow::Machine::create(cfg);
    if (!made) return made.status();
    cow::Machine m = std::move(made.value());
    cow::Result<cow::Pid> sp = m.spawn(cow::default_image("redis-server"));
    if (!sp) return sp.status();
    cow::Result<cow::RedisServer> rs = cow::RedisServer::load(m, *sp, {u64(p.keys), u32(p.value_bytes)});
    if (!rs) return rs.status();
    cow::RedisServer sim = std::move(rs.value());
    cow::Result<cow::MemStats> sim_mem = m.smaps_rollup(*sp);
    cow::BgsaveLoad load;
    // The SETs the real server applied during its save, at the rate it managed (on a busy
    // machine it can fall behind the rate asked for): both copy for the same writes.
    e.achieved = real.writes / real.save_s;
    load.writes_per_s = e.achieved;
    load.save_mb_per_s = std::min(1e5, double(sim.used_memory()) / 1e6 / real.save_s);   // saves for as long as the real one did
    load.samples = int(std::clamp(real.save_s / 0.01, 10.0, 200.0));
    cow::Result<cow::BgsaveResult> bg = sim.bgsave(m, load);
    if (!bg) return bg.status();
    e.used_memory = double(sim.used_memory());
    e.rss = double(sim_mem ? sim_mem->rss : 0);
    e.anonymous = double(sim_mem ? sim_mem->anonymous : 0);
    e.save_mb_per_s = load.save_mb_per_s;
    e.bg = std::move(bg.value());
    return e;
}

// Side by side.
Report report(const Params& p, const Measured& real, const Predicted& e, const std::string& server_bin) {
    Report r;
    r.name = "redis-bgsave";
    char title[256];
    std::snprintf(title, sizeof title, "redis-bgsave experiment: %lld keys of %lld-byte values, BGSAVE under %.0f SETs/s",
                  p.keys, p.value_bytes, p.rate);
    r.title = title;
    r.set_params({{"keys", p.keys}, {"value_bytes", p.value_bytes}, {"writes_per_s", p.rate}, {"writes_per_s_achieved", e.achieved}, {"save_mb_per_s", e.save_mb_per_s},
                {"load_s", real.load_s}, {"redis_server", server_bin}});
    r.rows = {
        {"used_memory", real.used_memory, e.used_memory, "B"},
        {"server Rss after load", real.rss, e.rss, "B"},
        {"server Anonymous after load", real.anonymous, e.anonymous, "B"},
        {"latest_fork_usec", real.fork_us, double(e.bg.fork_ns) / 1000.0, "us"},
        {"rdb_last_cow_size", real.cow_last, double(e.bg.cow_last), "B"},
        {"child Private_Dirty peak (sampled)", real.cow_peak_sampled, double(e.bg.cow_peak), "B"},
        {"writes applied during the save", real.writes, double(e.bg.writes), ""},
        {"save time", real.save_s, e.bg.save_s, "s"},
    };
    cow::RecSeries s;
    s.name = "child Private_Dirty";
    s.unit = "B";
    s.measured = real.series;
    s.predicted.push_back({0.0, 0.0});
    for (const cow::BgsaveSample& b : e.bg.samples) s.predicted.push_back({b.t_s, double(b.child_private_dirty)});
    r.series.push_back(std::move(s));
    char note[320];
    std::snprintf(note, sizeof note, "current_cow_peak seen in INFO during the save: %s (Redis updates it from the child's reports, "
                  "about once a second, and zeroes it when the child is reaped)", cow::format_bytes(u64(real.cow_peak_info)).c_str());
    r.notes.push_back(note);
    if (real.exit_seen)
        std::snprintf(note, sizeof note, "save time: from BGSAVE to the saving child's exit, seen through a pidfd, the SETs "
                      "counted as it exited (Private_Dirty sampled every %.0f ms); Redis's rdb_last_bgsave_time_sec says %.0f s (whole seconds)",
                      real.period * 1000, real.redis_save_s);
    else
        std::snprintf(note, sizeof note, "save time: from BGSAVE to the last sample of the saving child (sampled every %.0f ms; "
                      "its end was seen %.0f ms later); Redis's rdb_last_bgsave_time_sec says %.0f s (whole seconds)",
                      real.period * 1000, real.end_gap * 1000, real.redis_save_s);
    r.notes.push_back(note);
    std::snprintf(note, sizeof note, "SETs during the save: %.0f/s achieved of %.0f/s asked; the engine applies them at the "
                  "achieved rate; used_memory_rss %s", e.achieved, p.rate, cow::format_bytes(u64(real.used_memory_rss)).c_str());
    r.notes.push_back(note);
    r.notes.push_back("times: the engine's cost model (engine/kernel/cost.h) was calibrated on the machine named there; `cowlab calibrate` measures this one");
    return r;
}

}  // namespace

int experiment_redis_bgsave(const std::vector<std::string>& a, Output out) {
    Params p;
    if (int st = parse_options(a, out, p)) return st;
    Server sv;
    sv.bin = find_program("redis-server");
    if (sv.bin.empty()) {
        std::fprintf(stderr, "cowlab experiment: redis-server not found on PATH; install it with scripts/setup.sh "
                             "(Debian package redis-server)\n");
        return 1;
    }
    // The dataset, twice over for a save that copies everything, must fit in half of
    // what the machine has available.
    const u64 estimate = estimate_bytes(p), avail = mem_available();
    if (avail == 0 || 2 * estimate + 64 * cow::MiB > avail / 2) {
        std::fprintf(stderr, "cowlab experiment: %lld keys of %lld bytes need about %s (the dataset and a full copy); "
                             "MemAvailable is %s: use fewer keys or smaller values\n", p.keys, p.value_bytes,
                     cow::format_bytes(2 * estimate).c_str(), cow::format_bytes(avail).c_str());
        return 1;
    }
    sv.port = free_port(int(p.port));
    if (sv.port <= 0) {
        std::fprintf(stderr, "cowlab experiment: port %lld on 127.0.0.1 is in use\n", p.port);
        return 1;
    }
    cleanup::install();
    Measured real;
    std::vector<std::string> recorded;
    if (cow::Status st = run_real(sv, p, real, out.record.empty() ? nullptr : &recorded); !st) {
        std::fprintf(stderr, "cowlab experiment: %s\n", st.message.c_str());
        return 1;
    }
    cow::Result<Predicted> e = predict(p, real, estimate);
    if (!e) {
        std::fprintf(stderr, "cowlab experiment: engine: %s\n", e.message().c_str());
        return 1;
    }
    return emit(report(p, real, *e, sv.bin), out, recorded);
}

}  // namespace cowlab::live

// exp_redis.cpp: `cowlab experiment redis-bgsave`: a real redis-server saving
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
#include <sys/prctl.h>
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
    std::vector<std::array<double, 2>> series;
};

}  // namespace

int experiment_redis_bgsave(const std::vector<std::string>& a, Output out) {
    long long keys = -1, value_bytes = -1, port_arg = 0;
    double rate = -1;
    for (size_t i = 1; i < a.size(); ++i) {
        const bool has = i + 1 < a.size();
        if (a[i] == "--keys" && has) {
            if (!parse_count(a[++i], 1, kMaxKeys, keys)) {
                std::fprintf(stderr, "cowlab experiment: --keys %s: must be a whole number 1 .. %lld\n", a[i].c_str(), kMaxKeys);
                return 2;
            }
        } else if (a[i] == "--value-bytes" && has) {
            if (!parse_count(a[++i], 1, kMaxValueBytes, value_bytes)) {
                std::fprintf(stderr, "cowlab experiment: --value-bytes %s: must be a whole number 1 .. %lld (jemalloc's small size "
                                     "classes, which the engine models)\n", a[i].c_str(), kMaxValueBytes);
                return 2;
            }
        } else if (a[i] == "--writes-per-s" && has) {
            const std::string& v = a[++i];
            char* end = nullptr;
            errno = 0;
            rate = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || errno || !(rate >= 0 && rate <= kMaxWritesPerS)) {
                std::fprintf(stderr, "cowlab experiment: --writes-per-s %s: must be a number 0 .. %.0f\n", v.c_str(), kMaxWritesPerS);
                return 2;
            }
        } else if (a[i] == "--port" && has) {
            if (!parse_count(a[++i], 1024, 65535, port_arg)) {
                std::fprintf(stderr, "cowlab experiment: --port %s: must be 1024 .. 65535\n", a[i].c_str());
                return 2;
            }
        } else if (!parse_output(a, i, out)) {
            return usage();
        }
    }
    if (keys < 0 || value_bytes < 0 || rate < 0) return usage();

    // ---------------------------------------------------------------- preconditions
    const std::string server_bin = find_program("redis-server");
    if (server_bin.empty()) {
        std::fprintf(stderr, "cowlab experiment: redis-server not found on PATH; install it with scripts/setup.sh "
                             "(Debian package redis-server)\n");
        return 1;
    }
    // What the dataset takes (the engine's layout, rounded up), twice over for a save
    // that copies everything, must fit in half of what the machine has available.
    const u64 per_key = 64 + (value_bytes <= 44 ? 64 : 16 + u64(value_bytes) + 9 + 64);
    const u64 estimate = u64(keys) * per_key + u64(keys) * 16 + 8 * cow::MiB;
    const u64 avail = mem_available();
    if (avail == 0 || 2 * estimate + 64 * cow::MiB > avail / 2) {
        std::fprintf(stderr, "cowlab experiment: %lld keys of %lld bytes need about %s (the dataset and a full copy); "
                             "MemAvailable is %s: use fewer keys or smaller values\n", keys, value_bytes,
                     cow::format_bytes(2 * estimate).c_str(), cow::format_bytes(avail).c_str());
        return 1;
    }
    const int port = free_port(int(port_arg));
    if (port <= 0) {
        std::fprintf(stderr, "cowlab experiment: port %lld on 127.0.0.1 is in use\n", port_arg);
        return 1;
    }

    // ---------------------------------------------------------------- the real server
    cleanup::install();
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/cowlab-redis-XXXXXX";
    if (!mkdtemp(dir.data())) {
        std::fprintf(stderr, "cowlab experiment: cannot create a directory %s: %s\n", dir.c_str(), std::strerror(errno));
        return 1;
    }
    cleanup::add_path(dir);
    const std::string log = dir + "/redis.log", rdb = dir + "/dump.rdb";
    cleanup::add_path(log);
    cleanup::add_path(rdb);
    int child = 0;   // the server's saving child, once BGSAVE has forked it
    auto fail = [&](const std::string& msg) {
        std::fprintf(stderr, "cowlab experiment: %s\n", msg.c_str());
        // Without its server the child would save on (it ignores SIGTERM): it is stopped first.
        if (child > 0) kill(child, SIGKILL);
        cleanup::run();
        return 1;
    };

    const std::string port_s = std::to_string(port);
    std::vector<std::string> argv_s = {server_bin, "--port", port_s, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                       "--dir", dir, "--dbfilename", "dump.rdb", "--logfile", log, "--daemonize", "no",
                                       "--enable-debug-command", "local"};
    std::vector<char*> argv;
    for (std::string& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t server = fork();
    if (server < 0) return fail(std::string("fork failed: ") + std::strerror(errno));
    if (server == 0) {
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
    cleanup::add_pid(server);
    // Whether the server has ended (waiting up to `grace` seconds: a broken connection is
    // seen before the process is), and why.
    auto server_gone = [&](std::string& why, double grace = 0) {
        int st = 0;
        for (auto t0 = Clock::now(); waitpid(server, &st, WNOHANG) != server; sleep_s(0.01))
            if (seconds_since(t0) >= grace) return false;
        cleanup::forget_pid(server);
        why = WIFSIGNALED(st) ? "redis-server was killed by signal " + std::to_string(WTERMSIG(st))
                              : "redis-server exited with status " + std::to_string(WEXITSTATUS(st));
        why += "; its log says:" + last_lines(log, 4);
        return true;
    };
    std::fprintf(stderr, "cowlab experiment: redis-server %d on 127.0.0.1:%d in %s\n", int(server), port, dir.c_str());

    Conn conn;
    std::string err, why;
    for (auto t0 = Clock::now(); !conn; sleep_s(0.02)) {
        if (server_gone(why)) return fail(why);
        if (seconds_since(t0) > 10) return fail("redis-server did not accept connections within 10 s; its log says:" + last_lines(log, 4));
        conn = connect(port, err);
    }
    // Check that it is our server answering, not another one on the port.
    Reply info = command(conn.get(), err, "INFO server");
    double info_pid = 0;
    if (!info || !info_field(text(info), "process_id", info_pid) || pid_t(info_pid) != server)
        return fail(server_gone(why, 1) ? why : "the server on 127.0.0.1:" + port_s + " is not the one started (" + err + ")");

    // ---------------------------------------------------------------- load the dataset
    const auto t_load = Clock::now();
    {
        std::mt19937_64 rng(1);
        const std::string pool = letters(size_t(value_bytes) + 4096, rng);
        const long long batch = 5000;
        for (long long k0 = 0; k0 < keys; k0 += batch) {
            const long long k1 = std::min(keys, k0 + batch);
            for (long long k = k0; k < k1; ++k) {
                const std::string kn = key_name(u64(k));
                redisAppendCommand(conn.get(), "SET %b %b", kn.data(), kn.size(), pool.data() + rng() % 4096, size_t(value_bytes));
            }
            for (long long k = k0; k < k1; ++k)
                if (!pending_reply(conn.get(), err)) {
                    if (server_gone(why, 1)) return fail("loading the dataset: " + why);
                    return fail("loading the dataset: SET failed: " + err);
                }
        }
    }
    // A keyspace still rehashing would be rehashed by the SETs during the save: wait for the end.
    for (auto t0 = Clock::now();; sleep_s(0.05)) {
        Reply h = command(conn.get(), err, "DEBUG HTSTATS 0");
        if (!h) return fail(server_gone(why, 1) ? why : "DEBUG HTSTATS: " + err);
        if (text(h).find("rehashing target") == std::string::npos) break;
        if (seconds_since(t0) > 30) return fail("the keyspace was still rehashing 30 s after loading");
    }
    sleep_s(0.25);   // INFO's used_memory_rss is refreshed by serverCron (10 times a second)
    const double load_s = seconds_since(t_load);

    Measured real;
    ProcFs fs;
    {
        Reply mem = command(conn.get(), err, "INFO memory");
        if (!mem || !info_field(text(mem), "used_memory", real.used_memory) || !info_field(text(mem), "used_memory_rss", real.used_memory_rss))
            return fail(server_gone(why, 1) ? why : "INFO memory: " + (err.empty() ? std::string("no used_memory field") : err));
        Result<ProcSample> s = fs.sample(int(server));
        if (!s) return fail(server_gone(why, 1) ? why : "sampling redis-server: " + s.message());
        real.rss = double(s->rss);
        real.anonymous = double(s->anonymous);
    }

    // ---------------------------------------------------------------- BGSAVE under writes
    Writer writer;
    writer.port = port;
    writer.keys = u64(keys);
    writer.value_bytes = u32(value_bytes);
    writer.rate = rate;
    std::thread wt([&] { writer.run(); });
    auto stop_writer = [&] {
        writer.stop.store(true);
        if (wt.joinable()) wt.join();
    };
    sleep_s(0.2);   // the load is steady when the fork comes
    if (!writer.error.empty()) {
        stop_writer();
        return fail(server_gone(why, 1) ? why : writer.error);
    }
    // INFO and BGSAVE in one pipeline: nothing runs between them.
    redisAppendCommand(conn.get(), "INFO commandstats");
    redisAppendCommand(conn.get(), "BGSAVE");
    const auto t_fork = Clock::now();
    Reply before = pending_reply(conn.get(), err);
    Reply started = before ? pending_reply(conn.get(), err) : nullptr;
    if (!started) {
        stop_writer();
        return fail(server_gone(why, 1) ? why : "BGSAVE: " + err);
    }
    const double calls0 = set_calls(text(before));
    for (auto t0 = Clock::now(); !child; sleep_s(0.001)) {
        for (int p : fs.tree(int(server)))
            if (p != int(server)) child = p;
        if (!child && seconds_since(t0) > 5) {
            stop_writer();
            return fail("BGSAVE started but no child of redis-server appeared");
        }
    }
    cleanup::add_pid(child);   // not our child: signalled, not reaped
    const std::string tmp_rdb = dir + "/temp-" + std::to_string(child) + ".rdb";
    cleanup::add_path(tmp_rdb);

    std::vector<std::string> recorded;
    double last_info = -1, calls1 = calls0, end_gap = 0;
    double period = 0.01;
    for (;;) {
        const double t = seconds_since(t_fork);
        Result<ProcSample> cs = fs.sample(child);
        // An exiting child has let go of its memory before it is a zombie: its smaps read empty.
        if (!cs || cs->state == 'Z' || cs->state == 'X' || cs->rss == 0) {
            // The child is done. The save is taken to end when it was last seen saving, with
            // the SETs counted then: on a busy machine this loop may be late to see the end.
            end_gap = t - real.save_s;
            break;
        }
        {
            Reply st = command(conn.get(), err, "INFO commandstats");
            if (!st) break;
            calls1 = set_calls(text(st));
            real.save_s = seconds_since(t_fork);
        }
        real.series.push_back({t, double(cs->private_dirty)});
        real.cow_peak_sampled = std::max(real.cow_peak_sampled, double(cs->private_dirty));
        period = std::max(0.01, 4 * cs->sample_ms / 1000);
        if (!out.record.empty() && recorded.size() < kMaxRecordedSamples) {
            recorded.push_back(cow::rec_line::sample(rec_sample(t, {{int(server), fs.sample(int(server))}, {child, cs}})));
        }
        if (t - last_info >= 0.05) {   // what Redis shows while saving: the child's reports so far
            last_info = t;
            Reply p = command(conn.get(), err, "INFO persistence");
            double v = 0;
            if (p && info_field(text(p), "current_cow_peak", v)) real.cow_peak_info = std::max(real.cow_peak_info, v);
        }
        if (server_gone(why)) {
            stop_writer();
            return fail("during the save: " + why);
        }
        if (t > kMaxSaveS) {
            stop_writer();
            return fail("the save did not end within " + std::to_string(int(kMaxSaveS)) + " s");
        }
        sleep_s(period);
    }
    stop_writer();
    if (server_gone(why, writer.error.empty() && real.save_s > 0 ? 0 : 1)) return fail("during the save: " + why);
    if (!writer.error.empty()) return fail(server_gone(why, 1) ? why : writer.error);
    if (real.save_s <= 0) return fail("the save ended before it could be sampled");
    real.writes = calls1 - calls0;
    // Redis has reaped the child once rdb_bgsave_in_progress is 0; then INFO has the save's figures.
    std::string persistence, stats;
    for (auto t0 = Clock::now();; sleep_s(0.02)) {
        Reply p = command(conn.get(), err, "INFO persistence");
        double busy = 1;
        if (!p || !info_field(text(p), "rdb_bgsave_in_progress", busy)) return fail(server_gone(why, 1) ? why : "INFO persistence: " + err);
        if (busy == 0) {
            persistence = text(p);
            break;
        }
        if (seconds_since(t0) > 10) return fail("redis-server did not finish the BGSAVE 10 s after its child ended");
    }
    cleanup::forget_pid(child);
    cleanup::forget_path(tmp_rdb);
    child = 0;
    Reply st = command(conn.get(), err, "INFO stats");
    if (!st) return fail(server_gone(why, 1) ? why : "INFO stats: " + err);
    stats = text(st);
    if (persistence.find("rdb_last_bgsave_status:ok") == std::string::npos)
        return fail("the BGSAVE failed; redis-server's log says:" + last_lines(log, 4));
    if (!info_field(persistence, "rdb_last_cow_size", real.cow_last) || !info_field(stats, "latest_fork_usec", real.fork_us) ||
        !info_field(persistence, "rdb_last_bgsave_time_sec", real.redis_save_s))
        return fail("INFO: rdb_last_cow_size, latest_fork_usec or rdb_last_bgsave_time_sec missing");
    conn.reset();
    cleanup::run();   // stops the server (SIGTERM: it does not save), removes its files and directory

    // ---------------------------------------------------------------- the engine
    cow::MachineConfig cfg;
    cfg.ram_bytes = std::min<u64>(cow::MachineConfig::kMaxRam, ((4 * estimate + 512 * cow::MiB) + cow::kHugeSize - 1) & ~(cow::kHugeSize - 1));
    cfg.overcommit = cow::Overcommit::always;   // what Redis asks for
    cfg.thp = cow::ThpMode::never;              // Redis 7 turns THP off for itself (disable-thp)
    cow::Result<cow::Machine> made = cow::Machine::create(cfg);
    if (!made) { std::fprintf(stderr, "cowlab experiment: engine: %s\n", made.message().c_str()); return 1; }
    cow::Machine m = std::move(made.value());
    cow::Result<cow::Pid> sp = m.spawn(cow::default_image("redis-server"));
    if (!sp) { std::fprintf(stderr, "cowlab experiment: engine: %s\n", sp.message().c_str()); return 1; }
    cow::Result<cow::RedisServer> rs = cow::RedisServer::load(m, *sp, {u64(keys), u32(value_bytes)}, cfg.seed);
    if (!rs) { std::fprintf(stderr, "cowlab experiment: engine: %s\n", rs.message().c_str()); return 1; }
    cow::RedisServer sim = std::move(rs.value());
    cow::Result<cow::MemStats> sim_mem = m.smaps_rollup(*sp);
    cow::BgsaveLoad load;
    // The SETs the real server applied during its save, at the rate it managed (on a busy
    // machine it can fall behind the rate asked for): both copy for the same writes.
    const double achieved = real.writes / real.save_s;
    load.writes_per_s = achieved;
    load.save_mb_per_s = std::min(1e5, double(sim.used_memory()) / 1e6 / real.save_s);   // saves for as long as the real one did
    load.samples = int(std::clamp(real.save_s / 0.01, 10.0, 200.0));
    cow::Result<cow::BgsaveResult> bg = sim.bgsave(m, load);
    if (!bg) { std::fprintf(stderr, "cowlab experiment: engine: %s\n", bg.message().c_str()); return 1; }

    // ---------------------------------------------------------------- side by side
    Report r;
    r.name = "redis-bgsave";
    char title[256];
    std::snprintf(title, sizeof title, "redis-bgsave experiment: %lld keys of %lld-byte values, BGSAVE under %.0f SETs/s",
                  keys, value_bytes, rate);
    r.title = title;
    r.set_params({{"keys", keys}, {"value_bytes", value_bytes}, {"writes_per_s", rate}, {"writes_per_s_achieved", achieved}, {"save_mb_per_s", load.save_mb_per_s},
                {"load_s", load_s}, {"redis_server", server_bin}});
    r.rows = {
        {"used_memory", real.used_memory, double(sim.used_memory()), "B"},
        {"server Rss after load", real.rss, double(sim_mem ? sim_mem->rss : 0), "B"},
        {"server Anonymous after load", real.anonymous, double(sim_mem ? sim_mem->anonymous : 0), "B"},
        {"latest_fork_usec", real.fork_us, double(bg->fork_ns) / 1000.0, "us"},
        {"rdb_last_cow_size", real.cow_last, double(bg->cow_last), "B"},
        {"child Private_Dirty peak (sampled)", real.cow_peak_sampled, double(bg->cow_peak), "B"},
        {"writes applied during the save", real.writes, double(bg->writes), ""},
        {"save time", real.save_s, bg->save_s, "s"},
    };
    cow::RecSeries s;
    s.name = "child Private_Dirty";
    s.unit = "B";
    s.measured = real.series;
    s.predicted.push_back({0.0, 0.0});
    for (const cow::BgsaveSample& b : bg->samples) s.predicted.push_back({b.t_s, double(b.child_private_dirty)});
    r.series.push_back(std::move(s));
    char note[320];
    std::snprintf(note, sizeof note, "current_cow_peak seen in INFO during the save: %s (Redis updates it from the child's reports, "
                  "about once a second, and zeroes it when the child is reaped)", cow::format_bytes(u64(real.cow_peak_info)).c_str());
    r.notes.push_back(note);
    std::snprintf(note, sizeof note, "save time: from BGSAVE to the last sample of the saving child (sampled every %.0f ms; "
                  "its end was seen %.0f ms later); Redis's rdb_last_bgsave_time_sec says %.0f s (whole seconds)",
                  period * 1000, end_gap * 1000, real.redis_save_s);
    r.notes.push_back(note);
    std::snprintf(note, sizeof note, "SETs during the save: %.0f/s achieved of %.0f/s asked; the engine applies them at the "
                  "achieved rate; used_memory_rss %s", achieved, rate, cow::format_bytes(u64(real.used_memory_rss)).c_str());
    r.notes.push_back(note);
    r.notes.push_back("times: the engine's cost model (engine/kernel/cost.h) was calibrated on the machine named there; `cowlab calibrate` measures this one");
    return emit(r, out, recorded);
}

}  // namespace cowlab::live

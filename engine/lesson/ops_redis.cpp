// ops_redis.cpp: the Redis workload's operations (engine/workloads/redis.h):
// load a dataset into a process, BGSAVE under write load; and its query,
// redis_used_memory. The servers live in the run as the "redis" workload.
#include "ops.h"
#include "queries.h"
#include "redis.h"
#include "units.h"

namespace cow {

namespace {

struct RedisWorkload : Workload {
    std::map<std::string, RedisServer> servers;   // by the name of the process that holds it
    std::vector<BgsaveSample> series;             // the last BGSAVE's time series
    std::unique_ptr<Workload> clone() const override { return std::make_unique<RedisWorkload>(*this); }
};

Status op_redis_load(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    Result<double> keys = c.num("keys", 0, true);
    if (!keys) return keys.status();
    Result<double> vb = c.num("value_bytes", 0, true);
    if (!vb) return vb.status();
    if (*keys < 1 || *keys > 5e7 || *vb < 1 || *vb > 1e6)
        return c.error("keys must be 1 .. 50,000,000 and value_bytes 1 .. 1,000,000");
    const RedisDataset data{u64(*keys), u32(*vb)};
    if (Status st = c.admit(data.keys, "keys to load"); !st) return st;
    // A dataset larger than the machine is said so before loading, not found by the OOM killer.
    const u64 need = RedisServer::bytes_for(data), ram = c.run.m.config().ram_bytes;
    if (need > ram)
        return fail(Errc::over_budget, c.op.where + " (redis_load): " + format_count(data.keys) + " keys of " +
                                           format_bytes(data.value_bytes) + " need " + format_bytes(need) +
                                           " of simulated RAM; this machine has " + format_bytes(ram) + ": the dataset does not fit");
    Result<RedisServer> r = RedisServer::load(c.run.m, *pid, data);
    if (!r) return c.outcome(r.status());
    c.run.workload<RedisWorkload>("redis").servers[c.text("pid")] = std::move(r.value());
    return {};
}

Result<BgsaveLoad> bgsave_load(OpCall& c) {
    BgsaveLoad load;
    Result<double> w = c.num("writes_per_s", 0, true), z = c.num("zipf_s", 0, false),
                   vb = c.num("value_bytes", 0, false), rate = c.num("save_mb_per_s", 100, false),
                   samples = c.num("samples", 20, false);
    for (const Result<double>* r : {&w, &z, &vb, &rate, &samples})
        if (!*r) return r->status();
    load.writes_per_s = *w;
    load.zipf_s = *z;
    load.value_bytes = *vb < 0 || *vb > 1e6 ? 2000000 : u32(*vb);   // out of range: the server refuses it
    load.save_mb_per_s = *rate;
    load.samples = *samples < 1 || *samples > 1000 ? 0 : int(*samples);
    return load;
}

// A BGSAVE runs a sample per chunk (RedisServer::bgsave_begin / _sample / _end).
Status op_redis_bgsave(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    RedisWorkload& redis = c.run.workload<RedisWorkload>("redis");
    auto it = redis.servers.find(c.text("pid"));
    if (!c.cur.state.has_value()) {
        // INFO's figures are zero until a BGSAVE completes; bgsave_failed until one does.
        for (const auto& [name, v] : BgsaveResult{}.info()) c.run.vars.emplace(name, v);
        c.run.vars["bgsave_failed"] = 1;
        if (it == redis.servers.end())
            return c.outcome(fail(Errc::invalid_argument, "BGSAVE: '" + c.text("pid") + "' holds no dataset (its load failed)"));
        Result<BgsaveLoad> load = bgsave_load(c);
        if (!load) return load.status();
        Result<RedisServer::Bgsave> b = it->second.bgsave_begin(c.run.m, *load);
        if (!b) return c.outcome(b.status());
        c.cur.state = std::move(b.value());
    }
    auto& b = std::any_cast<RedisServer::Bgsave&>(c.cur.state);
    while (!b.done()) {
        if (Status st = it->second.bgsave_sample(c.run.m, b); !st) return c.outcome(st);
        if (!b.done() && c.pause(u64(b.next - 1), u64(b.load.samples))) return {};
    }
    BgsaveResult r = it->second.bgsave_end(c.run.m, b);
    for (const auto& [name, v] : r.info()) c.run.vars[name] = v;
    c.run.vars["bgsave_failed"] = 0;
    redis.series = r.samples;
    return c.name_process("as", r.child);
}

Result<double> q_redis_used_memory(const QueryCall& q) {
    Result<Pid> p = q.proc(0);
    if (!p) return p.status();
    const RedisWorkload* redis = q.run->find_workload<RedisWorkload>("redis");
    if (!redis) return 0.0;
    auto it = redis->servers.find(q.args[0].name);
    return it == redis->servers.end() ? 0.0 : double(it->second.used_memory());   // no dataset loaded: 0
}

}  // namespace

std::vector<OpSpec> redis_ops() {
    return {
        {"redis_load", {{"pid"}, {"keys"}, {"value_bytes"}},
         "lay out a Redis 7 keyspace with jemalloc size classes in the process (`engine/workloads/redis.h`)", op_redis_load},
        {"redis_bgsave",
         {{"pid"}, {"as"}, {"writes_per_s"}, {"zipf_s", false}, {"value_bytes", false}, {"save_mb_per_s", false}, {"samples", false}},
         "fork a saving child that reads the dataset over `used_memory / save rate` seconds while the parent applies SETs; "
         "sets `latest_fork_usec`, `rdb_last_bgsave_time_sec`, `rdb_last_cow_size`, `current_cow_peak`, `bgsave_writes`, "
         "`bgsave_child_killed`, `bgsave_failed`",
         op_redis_bgsave},
    };
}

std::vector<QuerySpec> redis_queries() {
    return {{"redis_used_memory", {{"process"}}, "INFO used_memory of the dataset the process holds (0 if none)", q_redis_used_memory}};
}

const std::vector<BgsaveSample>& LessonRun::bgsave_series() const {
    static const std::vector<BgsaveSample> none;
    const RedisWorkload* redis = s_.find_workload<RedisWorkload>("redis");
    return redis ? redis->series : none;
}

}  // namespace cow

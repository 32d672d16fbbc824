#include "actors/doctor.h"

#include <mpi.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kernels/devices.h"
#include "runtime/bulk.h"
#include "runtime/failure.h"

namespace newsrl::actors {

namespace {

using namespace std::chrono_literals;
using runtime::Clock;

// How long any one doctor call may take before the rank is reported stuck.
constexpr auto kCallTimeout = 60s;

struct NodeInfo {
  int rank = 0;
  std::string host;
  int pid = 0;
  int threads = 0;  // OpenMP threads of the rank's kernels
  std::string roles;
  std::vector<std::string> gpus;
  std::string cuda_note;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& rank& host& pid& threads& roles& gpus& cuda_note;
  }
};

// One per rank: answers pings, sinks bulk transfers, describes its host.
class NodeProbe {
 public:
  explicit NodeProbe(runtime::ActorContext& ctx)
      : rank_(ctx.rank), roles_(ctx.cluster.placement().describe_rank(ctx.rank)) {}

  NodeInfo info() const {
    NodeInfo n;
    n.rank = rank_;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    n.host = host;
    n.pid = static_cast<int>(getpid());
    n.threads = omp_get_max_threads();
    n.roles = roles_;
    for (const auto& d : kernels::cuda_devices(&n.cuda_note)) {
      n.gpus.push_back(d.name + " (" + std::to_string(d.memory_bytes >> 30) + " GiB, sm " + d.capability + ")");
    }
    if (!kernels::cuda_built()) n.cuda_note = "built without CUDA";
    return n;
  }
  void nop() {}
  std::uint64_t sink(const runtime::Bulk& b) const { return b.bytes(); }

  static void expose(runtime::Methods<NodeProbe>& m) {
    m.def("info", &NodeProbe::info).def("nop", &NodeProbe::nop).def("sink", &NodeProbe::sink);
  }

 private:
  int rank_;
  std::string roles_;
};

// One per actor of each role: answers with its role, and runs the group check.
class RoleProbe {
 public:
  explicit RoleProbe(runtime::ActorContext& ctx) : role_(ctx.role), group_(&ctx.group) {}

  std::string ping() const { return role_; }

  // All-reduces a float32 buffer over the role group and checks it against
  // the sum computed serially; returns the seconds it took.
  double check_all_reduce(std::uint64_t count) {
    const int n = group_->size();
    std::vector<float> data(count);
    for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<float>((group_->rank() + 1) * (i % 7 + 1));
    group_->host().barrier();
    const auto t0 = Clock::now();
    group_->host().all_reduce(std::span<float>(data), runtime::ReduceOp::sum);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const float ranks_sum = static_cast<float>(n * (n + 1) / 2);
    for (std::size_t i = 0; i < count; ++i) {
      if (data[i] != ranks_sum * static_cast<float>(i % 7 + 1)) {
        throw std::runtime_error("all-reduce gave " + std::to_string(data[i]) + " at element " + std::to_string(i) +
                                 ", expected " + std::to_string(ranks_sum * static_cast<float>(i % 7 + 1)));
      }
    }
    return secs;
  }

  static void expose(runtime::Methods<RoleProbe>& m) {
    m.def("ping", &RoleProbe::ping).def("check_all_reduce", &RoleProbe::check_all_reduce);
  }

 private:
  std::string role_;
  runtime::Group* group_;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string fmt(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

struct Round {
  int errors = 0;
  std::vector<std::string> problems;
  std::map<int, double> rtt_p50_us, rtt_p99_us, gbps;
  std::map<std::string, double> allreduce_ms;
  std::map<std::string, double> ping_us;  // "role@rank" → first ping's round trip
};

class Doctor {
 public:
  Doctor(runtime::Cluster& c, const DoctorOptions& o, std::ostream& out,
         std::vector<runtime::ActorHandle<NodeProbe>> nodes,
         std::map<std::string, std::vector<runtime::ActorHandle<RoleProbe>>> roles)
      : cluster_(c), opt_(o), out_(out), nodes_(std::move(nodes)), roles_(std::move(roles)) {}

  int run() {
    const auto& p = cluster_.placement();
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(lib, &len);
    std::string mpi(lib, static_cast<std::size_t>(len));
    mpi = mpi.substr(0, mpi.find_first_of(",\n"));

    std::vector<NodeInfo> infos;
    for (auto& n : nodes_) infos.push_back(n.call(&NodeProbe::info).get(kCallTimeout));

    if (opt_.json) {
      emit({{"event", "cluster"},
            {"ranks", p.world_size},
            {"driver", p.driver},
            {"mpi", mpi},
            {"cuda_built", kernels::cuda_built()}});
      for (const auto& i : infos) {
        emit({{"event", "rank"},
              {"rank", i.rank},
              {"host", i.host},
              {"pid", i.pid},
              {"threads", i.threads},
              {"roles", i.roles},
              {"gpus", i.gpus},
              {"cuda_note", i.cuda_note}});
      }
    } else {
      out_ << "newsrl doctor: " << p.world_size << (p.world_size == 1 ? " rank" : " ranks") << ", driver rank "
           << p.driver << ", " << mpi << ", CUDA " << (kernels::cuda_built() ? "built" : "not built") << "\n\n";
      out_ << "rank  host              pid      threads  gpus  roles\n";
      for (const auto& i : infos) {
        out_ << std::left << std::setw(6) << i.rank << std::setw(18) << i.host.substr(0, 17) << std::setw(9) << i.pid
             << std::setw(9) << i.threads << std::setw(6) << i.gpus.size() << i.roles << "\n";
        for (const auto& g : i.gpus) out_ << "      gpu: " << g << "\n";
      }
      out_ << "\n";
    }

    const Round first = round();
    report(first);
    int errors = first.errors;

    if (opt_.seconds > 0) {
      const auto start = Clock::now();
      const bool tty = isatty(STDERR_FILENO) != 0;
      std::size_t rounds = 0;
      double worst_p99 = 0, min_gbps = 1e30;
      while (std::chrono::duration<double>(Clock::now() - start).count() < opt_.seconds) {
        const Round r = round();
        ++rounds;
        errors += r.errors;
        for (const auto& [rank, v] : r.rtt_p99_us) worst_p99 = std::max(worst_p99, v);
        for (const auto& [rank, v] : r.gbps) min_gbps = std::min(min_gbps, v);
        for (const auto& pr : r.problems) std::cerr << "doctor: " << pr << "\n";
        const double el = std::chrono::duration<double>(Clock::now() - start).count();
        const double eta = std::max(0.0, opt_.seconds - el);
        if (opt_.json) {
          emit({{"event", "soak"},
                {"round", rounds},
                {"elapsed_s", el},
                {"errors", errors},
                {"worst_rtt_p99_us", worst_p99},
                {"min_gbps", min_gbps}});
        } else if (tty) {
          std::cerr << "\rsoak " << fmt(el, 0) << "/" << fmt(opt_.seconds, 0) << " s (ETA " << fmt(eta, 0)
                    << " s): " << rounds << " rounds, " << errors << " errors, worst rtt p99 " << fmt(worst_p99, 1)
                    << " us, lowest bandwidth " << fmt(min_gbps, 2) << " GB/s   " << std::flush;
        }
      }
      if (tty && !opt_.json) std::cerr << "\n";
      if (!opt_.json) {
        out_ << "soak: " << rounds << " rounds in " << fmt(opt_.seconds, 0) << " s, " << errors
             << " errors, worst rtt p99 " << fmt(worst_p99, 1) << " us, lowest bandwidth " << fmt(min_gbps, 2)
             << " GB/s\n";
      }
    }

    if (opt_.json)
      emit({{"event", "result"}, {"ok", errors == 0}, {"errors", errors}});
    else
      out_ << (errors == 0 ? "all well\n" : std::to_string(errors) + " problem(s) found\n");
    return errors == 0 ? 0 : 1;
  }

 private:
  void emit(const nlohmann::json& j) { out_ << j.dump() << "\n" << std::flush; }

  // Every check once. Remote errors are counted; a timeout ends the job,
  // because a stuck rank would also stall the shutdown.
  Round round() {
    Round r;
    auto problem = [&](const std::string& what) {
      ++r.errors;
      r.problems.push_back(what);
    };
    for (auto& [role, probes] : roles_) {
      for (auto& h : probes) {
        const auto t0 = Clock::now();
        try {
          const std::string got = h.call(&RoleProbe::ping).get(kCallTimeout);
          const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
          if (got != role)
            problem("rank " + std::to_string(h.rank()) + " answered as " + got + ", not " + role);
          else
            r.ping_us[role + "@" + std::to_string(h.rank())] = us;
        } catch (const runtime::RemoteError& e) {
          problem(e.what());
        }
      }
    }
    for (auto& n : nodes_) {
      std::vector<double> rtts;
      rtts.reserve(opt_.pings);
      for (std::size_t i = 0; i < opt_.pings; ++i) {
        const auto t0 = Clock::now();
        n.call(&NodeProbe::nop).get(kCallTimeout);
        rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      r.rtt_p50_us[n.rank()] = percentile(rtts, 0.5);
      r.rtt_p99_us[n.rank()] = percentile(rtts, 0.99);

      if (opt_.bandwidth_bytes > 0) {
        runtime::Bulk payload = runtime::Bulk::allocate(runtime::DType::u8, opt_.bandwidth_bytes);
        std::memset(payload.data(), 0x5a, payload.bytes());
        std::vector<double> rates;
        for (int i = 0; i < 4; ++i) {
          const auto t0 = Clock::now();
          const std::uint64_t got = n.call(&NodeProbe::sink, payload).get(kCallTimeout);
          const double s = std::chrono::duration<double>(Clock::now() - t0).count();
          if (got != payload.bytes())
            problem("rank " + std::to_string(n.rank()) + " received " + std::to_string(got) + " of " +
                    std::to_string(payload.bytes()) + " bytes");
          if (i > 0) rates.push_back(static_cast<double>(payload.bytes()) / s / 1e9);  // first is warm-up
        }
        r.gbps[n.rank()] = percentile(rates, 0.5);
      }
    }
    for (auto& [role, probes] : roles_) {
      std::vector<runtime::Future<double>> pending;
      for (auto& h : probes) pending.push_back(h.call(&RoleProbe::check_all_reduce, std::uint64_t{1} << 18));
      double worst = 0;
      for (auto& f : pending) {
        try {
          worst = std::max(worst, f.get(kCallTimeout));
        } catch (const runtime::RemoteError& e) {
          problem(e.what());
        }
      }
      r.allreduce_ms[role] = worst * 1e3;
    }
    return r;
  }

  void report(const Round& r) {
    for (const auto& pr : r.problems) std::cerr << "doctor: " << pr << "\n";
    const auto& p = cluster_.placement();
    if (opt_.json) {
      for (const auto& [key, v] : r.ping_us) emit({{"event", "ping"}, {"actor", key}, {"rtt_us", v}});
      for (const auto& [rank, v] : r.rtt_p50_us) {
        nlohmann::json j = {
            {"event", "link"}, {"rank", rank}, {"rtt_p50_us", v}, {"rtt_p99_us", r.rtt_p99_us.at(rank)}};
        if (r.gbps.contains(rank)) j["gbps"] = r.gbps.at(rank);
        emit(j);
      }
      for (const auto& [role, ms] : r.allreduce_ms) {
        emit({{"event", "group"}, {"role", role}, {"ranks", p.ranks_of(role).size()}, {"all_reduce_ms", ms}});
      }
      return;
    }
    out_ << "actors (first ping, round trip):\n";
    for (const auto& role : p.roles) {
      if (role == kNodeRole) continue;
      out_ << "  " << std::left << std::setw(9) << role;
      for (int rank : p.ranks_of(role)) {
        auto it = r.ping_us.find(role + "@" + std::to_string(rank));
        out_ << " rank " << rank << " " << (it == r.ping_us.end() ? "FAILED" : "ok " + fmt(it->second, 1) + " us")
             << ";";
      }
      out_ << "\n";
    }
    out_ << "\nfrom the driver (rank " << p.driver << ") to each rank: " << opt_.pings << " empty calls, "
         << (opt_.bandwidth_bytes >> 20) << " MiB transfers\n";
    out_ << "rank  rtt p50 us  rtt p99 us  bandwidth GB/s\n";
    for (const auto& [rank, v] : r.rtt_p50_us) {
      out_ << std::left << std::setw(6) << rank << std::setw(12) << fmt(v, 1) << std::setw(12)
           << fmt(r.rtt_p99_us.at(rank), 1) << (r.gbps.contains(rank) ? fmt(r.gbps.at(rank), 2) : "-") << "\n";
    }
    out_ << "\nrole groups (all-reduce of 1 MiB float32, checked against the serial sum):\n";
    for (const auto& [role, ms] : r.allreduce_ms) {
      out_ << "  " << std::left << std::setw(9) << role << p.ranks_of(role).size() << " rank(s)  " << fmt(ms, 3)
           << " ms\n";
    }
    out_ << "\n";
  }

  runtime::Cluster& cluster_;
  DoctorOptions opt_;
  std::ostream& out_;
  std::vector<runtime::ActorHandle<NodeProbe>> nodes_;
  std::map<std::string, std::vector<runtime::ActorHandle<RoleProbe>>> roles_;
};

}  // namespace

int run_doctor(runtime::Cluster& cluster, const DoctorOptions& options, std::ostream& out) {
  auto nodes = cluster.spawn<NodeProbe>(kNodeRole);
  std::map<std::string, std::vector<runtime::ActorHandle<RoleProbe>>> roles;
  for (const auto& role : cluster.placement().roles) {
    if (role != kNodeRole) roles[role] = cluster.spawn<RoleProbe>(role);
  }
  if (!cluster.is_driver()) return cluster.serve();
  try {
    return Doctor(cluster, options, out, std::move(nodes), std::move(roles)).run();
  } catch (const runtime::TimeoutError& e) {
    runtime::fail_job(std::string("doctor: ") + e.what());
  }
}

}  // namespace newsrl::actors

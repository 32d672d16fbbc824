// The actor runtime: MPI, the placement of roles on ranks, actors and the
// calls between them. Every rank runs the same program (SPMD): it builds the
// Cluster, spawns the same actors in the same order, then the driver runs the
// job while every other rank serves calls:
//
//   runtime::Cluster cluster(argc, argv, spec);
//   auto counters = cluster.spawn<Counter>("counter", 10);   // one per "counter" rank
//   if (!cluster.is_driver()) return cluster.serve();         // answer calls until shutdown
//   int n = counters[0].call(&Counter::add, 5).get();
//
// The driver's return (the Cluster going out of scope) ends the job on every
// rank. An exception escaping the driver, a crash or a dead rank ends the
// whole job with a message naming rank and role and a non-zero exit.
#pragma once

#include <mpi.h>

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/failure.h"
#include "runtime/future.h"
#include "runtime/group.h"
#include "runtime/methods.h"
#include "runtime/placement.h"
#include "runtime/transport.h"

namespace newsrl::runtime {

class Cluster;

// What an actor may take as its constructor's first argument: where it runs
// and its role group's collectives.
struct ActorContext {
  Cluster& cluster;
  const std::string& role;
  int rank;  // world rank
  Group& group;
};

template <class T>
class ActorHandle {
 public:
  ActorHandle(Cluster* cluster, std::uint32_t actor_id, int rank, const std::string* role)
      : cluster_(cluster), actor_id_(actor_id), rank_(rank), role_(role) {}

  int rank() const { return rank_; }
  const std::string& role() const { return *role_; }

  // Calls fn(args...) on the remote actor; the result arrives in the future.
  template <class F, class... A>
  auto call(F fn, A&&... args) const;

 private:
  Cluster* cluster_;
  std::uint32_t actor_id_;
  int rank_;
  const std::string* role_;  // the placement's copy
};

class Cluster {
 public:
  // Initialises MPI (finalised when the Cluster ends) and places the roles.
  // Every rank throws the same ConfigError for a bad placement.
  Cluster(int& argc, char**& argv, const PlacementSpec& spec);
  // Runs on an MPI the caller initialised (tests, embedding); `comm` is duplicated.
  Cluster(MPI_Comm comm, const PlacementSpec& spec);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int rank() const { return transport_->rank(); }
  int size() const { return transport_->size(); }
  bool is_driver() const { return rank() == placement_.driver; }
  const Placement& placement() const { return placement_; }
  // This rank's group for a role it hosts.
  Group& group(const std::string& role);
  bool in_role(const std::string& role) const { return placement_.hosts(rank(), role); }

  // Builds one T on every rank of `role` (from T(ActorContext&, args...) when
  // that exists, else T(args...)) and returns a handle per actor, in rank order.
  // Every rank must call spawn the same times in the same order.
  template <Actor T, class... A>
  std::vector<ActorHandle<T>> spawn(const std::string& role, A&&... args);
  // The actor of this rank built by the n-th spawn (null when it is elsewhere).
  template <class T>
  T* local(std::uint32_t spawn_index);

  // Non-driver ranks: answer calls until the driver ends the job; returns 0.
  int serve();
  // Driver: waits for the calls still in flight, then ends serve() on every
  // rank. The destructor does this; call it early to end the job sooner.
  void shutdown();

  // Internal: used by handles and futures.
  wire::Message new_call(std::uint32_t actor, std::uint32_t method) {
    return transport_->new_message(wire::Kind::call, next_call_id_++, actor, method);
  }
  CallRef submit(int rank, const std::string* role, const std::string* method, wire::Message&& m);
  void progress_once(bool& did_work);
  // Progresses (spinning, then backing off while idle) until done() holds.
  template <class Done>
  void drive_until(Done done);

 private:
  struct LocalActor {
    std::string role;
    std::string type_name;
    std::shared_ptr<void> instance;
    std::function<void(std::uint32_t method, wire::Message& call, wire::Message& reply)> invoke;
    std::function<std::string(std::uint32_t method)> method_name;
  };
  void start(const PlacementSpec& spec, MPI_Comm comm);
  void handle_call(Incoming& in);
  void handle_reply(Incoming& in);
  void abandon();
  void tell_workers_to_stop();
  [[noreturn]] void fatal(const std::string& what);

  bool owns_mpi_ = false;
  int uncaught_at_start_ = 0;
  bool shut_down_ = false;
  bool serving_ = false;
  bool served_ = false;
  Placement placement_;
  std::unique_ptr<Transport> transport_;
  std::unordered_map<std::string, std::unique_ptr<Group>> groups_;
  std::vector<std::unique_ptr<LocalActor>> actors_;  // by actor id; null where the actor is elsewhere
  std::vector<CallRef> in_flight_;                   // few at a time: a vector beats a map
  std::uint64_t next_call_id_ = 1;
};

// ---- templates --------------------------------------------------------------

template <Actor T, class... A>
std::vector<ActorHandle<T>> Cluster::spawn(const std::string& role, A&&... args) {
  const Methods<T>& methods = Methods<T>::get();
  const auto& ranks = placement_.ranks_of(role);
  const std::string* role_name = &placement_.ranks.find(role)->first;
  const auto id = static_cast<std::uint32_t>(actors_.size());
  actors_.emplace_back();
  if (placement_.hosts(rank(), role)) {
    std::shared_ptr<T> obj;
    try {
      if constexpr (std::constructible_from<T, ActorContext&, A...>) {
        ActorContext ctx{*this, role, rank(), group(role)};
        obj = std::make_shared<T>(ctx, std::forward<A>(args)...);
      } else {
        obj = std::make_shared<T>(std::forward<A>(args)...);
      }
    } catch (const std::exception& e) {
      throw std::runtime_error("rank " + std::to_string(rank()) + " (" + role + ") building " + methods.type_name() +
                               " failed: " + e.what());
    }
    auto local_actor = std::make_unique<LocalActor>();
    local_actor->role = role;
    local_actor->type_name = methods.type_name();
    local_actor->instance = obj;
    T* self = obj.get();
    local_actor->invoke = [self, &methods](std::uint32_t i, wire::Message& call, wire::Message& reply) {
      methods.invoke(i, *self, call, reply);
    };
    local_actor->method_name = [&methods](std::uint32_t i) {
      return i < methods.size() ? methods.name(i) : "#" + std::to_string(i);
    };
    actors_.back() = std::move(local_actor);
  }
  std::vector<ActorHandle<T>> handles;
  handles.reserve(ranks.size());
  for (int r : ranks) handles.emplace_back(this, id, r, role_name);
  return handles;
}

template <class T>
T* Cluster::local(std::uint32_t spawn_index) {
  if (spawn_index >= actors_.size() || !actors_[spawn_index]) return nullptr;
  return static_cast<T*>(actors_[spawn_index]->instance.get());
}

namespace detail {
// Converts an argument to the method's parameter type only when it differs.
template <class P, class A>
decltype(auto) as_param(A&& a) {
  if constexpr (std::is_same_v<std::decay_t<A>, P>)
    return static_cast<const P&>(a);
  else
    return P(std::forward<A>(a));
}
template <class... P, class... A>
void write_args(wire::Message& m, std::tuple<P...>*, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "call(): wrong number of arguments for this method");
  wire::write_body(m, as_param<P>(std::forward<A>(args))...);
}
}  // namespace detail

template <class T>
template <class F, class... A>
auto ActorHandle<T>::call(F fn, A&&... args) const {
  using Traits = method_traits<F>;
  static_assert(std::is_base_of_v<typename Traits::owner, T>, "call(): method of another type");
  using R = std::decay_t<typename Traits::result>;
  const Methods<T>& methods = Methods<T>::get();
  const std::uint32_t index = methods.index_of(fn);
  wire::Message m = cluster_->new_call(actor_id_, index);
  detail::write_args(m, static_cast<typename Traits::params*>(nullptr), std::forward<A>(args)...);
  wire::finish_message(m);
  return Future<R>(cluster_->submit(rank_, role_, &methods.qualified_name(index), std::move(m)));
}

}  // namespace newsrl::runtime

#include "runtime/cluster.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <sstream>

#include "runtime/failure.h"

namespace newsrl::runtime {

namespace {

// Spin first (a reply is usually microseconds away), then yield, then sleep
// in growing steps so that idle ranks leave the cores to busy ones — several
// ranks often share a core (mpirun --oversubscribe, a laptop).
class Backoff {
 public:
  void reset() { idle_ = 0; }
  void idle() {
    ++idle_;
    if (idle_ < 4000) return;
    if (idle_ < 8000) {
      sched_yield();
      return;
    }
    const long us = std::min<long>(1000, 10L << std::min<long>(6, (idle_ - 8000) / 64));
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
  }

 private:
  long idle_ = 0;
};

}  // namespace

template <class Done>
void Cluster::drive_until(Done done) {
  Backoff backoff;
  while (!done()) {
    bool did_work = false;
    progress_once(did_work);
    if (did_work)
      backoff.reset();
    else
      backoff.idle();
  }
}

Cluster::Cluster(int& argc, char**& argv, const PlacementSpec& spec) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    owns_mpi_ = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  try {
    start(spec, MPI_COMM_WORLD);
  } catch (...) {
    // Every rank resolves the same placement and fails the same way: leave
    // MPI cleanly so the caller can print the error and exit non-zero.
    transport_.reset();
    if (owns_mpi_) MPI_Finalize();
    throw;
  }
  install_failure_handlers(rank(), placement_);
  set_job_running(true);
}

Cluster::Cluster(MPI_Comm comm, const PlacementSpec& spec) { start(spec, comm); }

void Cluster::start(const PlacementSpec& spec, MPI_Comm comm) {
  uncaught_at_start_ = std::uncaught_exceptions();
  int world = 1;
  MPI_Comm_size(comm, &world);
  placement_ = Placement::resolve(spec, world);
  transport_ = std::make_unique<Transport>(comm);
  // One communicator per role, split in placement order on every rank.
  for (const std::string& role : placement_.roles) {
    MPI_Comm sub = MPI_COMM_NULL;
    const bool member = placement_.hosts(rank(), role);
    MPI_Comm_split(comm, member ? 0 : MPI_UNDEFINED, rank(), &sub);
    if (member) groups_[role] = std::make_unique<Group>(role, sub);
  }
}

Cluster::~Cluster() {
  // An exception leaving the driver's scope: tell the workers to stop without
  // waiting for calls in flight (one may be what failed), and keep MPI up so
  // whoever catches the exception can report it and end the job (fail_job).
  const bool unwinding = std::uncaught_exceptions() > uncaught_at_start_;
  if (owns_mpi_) set_job_running(false);
  try {
    if (is_driver()) {
      if (unwinding)
        abandon();
      else
        shutdown();
    } else if (!served_ && !unwinding) {
      // A worker whose program forgot serve() would leave the driver waiting
      // forever: serve here, until the driver ends the job.
      serve();
    }
  } catch (const std::exception& e) {
    fail_job("rank " + std::to_string(rank()) + " (" + placement_.describe_rank(rank()) +
             ") could not end the job cleanly: " + e.what());
  }
  actors_.clear();
  groups_.clear();
  transport_.reset();
  if (owns_mpi_ && !unwinding) {
    uninstall_failure_handlers();
    MPI_Finalize();
  }
}

Group& Cluster::group(const std::string& role) {
  auto it = groups_.find(role);
  if (it == groups_.end()) {
    throw std::logic_error("rank " + std::to_string(rank()) + " hosts no " + role + " actor, so it has no " + role +
                           " group");
  }
  return *it->second;
}

CallRef Cluster::submit(int dest, const std::string* role, const std::string* method, wire::Message&& m) {
  if (shut_down_) throw std::logic_error("call to " + *method + " after the job was shut down");
  CallRef s = CallRef::make();
  s->id = m.header.call_id;
  s->rank = dest;
  s->role = role;
  s->method = method;
  s->cluster = this;
  in_flight_.push_back(s);
  transport_->send(dest, std::move(m));
  return s;
}

void Cluster::progress_once(bool& did_work) {
  Incoming in;
  if (!transport_->poll(in)) {
    transport_->progress();
    // Pending sends count as work: a large message moves only while its
    // sender keeps calling into MPI, so a rank with sends in flight must not sleep.
    did_work = transport_->sending();
    return;
  }
  did_work = true;
  switch (in.message.header.kind) {
    case wire::Kind::call:
      handle_call(in);
      break;
    case wire::Kind::reply_ok:
    case wire::Kind::reply_error:
      handle_reply(in);
      break;
    case wire::Kind::shutdown:
      if (!serving_) fatal("shutdown message received outside serve()");
      shut_down_ = true;
      break;
  }
}

void Cluster::handle_call(Incoming& in) {
  const wire::Header& h = in.message.header;
  wire::Message reply = transport_->new_message(wire::Kind::reply_ok, h.call_id);
  LocalActor* actor = h.actor < actors_.size() ? actors_[h.actor].get() : nullptr;
  try {
    if (actor == nullptr) {
      throw std::runtime_error("no actor #" + std::to_string(h.actor) + " on rank " + std::to_string(rank()) +
                               " (do all ranks spawn the same actors in the same order?)");
    }
    actor->invoke(h.method, in.message, reply);
  } catch (const std::exception& e) {
    reply = wire::begin_message(wire::Kind::reply_error, h.call_id);
    wire::write_body(reply, std::string(e.what()));
  } catch (...) {
    reply = wire::begin_message(wire::Kind::reply_error, h.call_id);
    wire::write_body(reply, std::string("unknown exception"));
  }
  wire::finish_message(reply);
  transport_->send(in.source, std::move(reply));
  transport_->recycle(std::move(in.message.frame));
}

void Cluster::handle_reply(Incoming& in) {
  const std::uint64_t id = in.message.header.call_id;
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(), [id](const auto& s) { return s->id == id; });
  if (it == in_flight_.end()) fatal("reply to unknown call " + std::to_string(id));
  if (in.message.header.body_bytes == 0 && in.message.header.n_bulk == 0) {
    // A void result: the header says all, and the frame's storage is reused.
    (*it)->reply.header = in.message.header;
    transport_->recycle(std::move(in.message.frame));
  } else {
    (*it)->reply = std::move(in.message);
  }
  (*it)->ready = true;
  in_flight_.erase(it);
}

int Cluster::serve() {
  if (is_driver()) throw std::logic_error("serve() is for the ranks that are not the driver");
  serving_ = true;
  served_ = true;
  try {
    drive_until([this] { return shut_down_; });
    transport_->flush();
  } catch (const std::exception& e) {
    fatal(e.what());
  }
  serving_ = false;
  return 0;
}

void Cluster::shutdown() {
  if (shut_down_ || !is_driver()) return;
  // Calls still in flight finish first: their work may have side effects
  // (a checkpoint being written) that the user expects to have happened.
  drive_until([this] { return in_flight_.empty(); });
  tell_workers_to_stop();
  transport_->flush();
  shut_down_ = true;
}

void Cluster::abandon() {
  if (shut_down_) return;
  shut_down_ = true;
  tell_workers_to_stop();
  transport_->flush();  // small frames: the sends complete at once
  if (owns_mpi_) set_workers_stopping();
}

void Cluster::tell_workers_to_stop() {
  for (int r = 0; r < size(); ++r) {
    if (r == rank()) continue;
    wire::Message m = transport_->new_message(wire::Kind::shutdown, 0);
    wire::finish_message(m);
    transport_->send(r, std::move(m));
  }
}

void Cluster::fatal(const std::string& what) {
  fail_job("rank " + std::to_string(rank()) + " (" + placement_.describe_rank(rank()) + ") " + what);
}

namespace detail {

void await_one(CallState* state, Timeout timeout) {
  if (timeout) {
    await({state}, 1, timeout);
    return;
  }
  // The hot path of a synchronous call: no clock, no allocation.
  state->cluster->drive_until([state] { return state->ready; });
}

void await(std::vector<CallState*> states, std::size_t need, Timeout timeout) {
  auto count_ready = [&] {
    std::size_t n = 0;
    for (const CallState* s : states) n += s->ready ? 1 : 0;
    return n;
  };
  if (count_ready() >= need) return;
  Cluster* cluster = states.front()->cluster;
  const auto start = timeout ? Clock::now() : Clock::time_point{};
  Backoff backoff;
  while (count_ready() < need) {
    bool did_work = false;
    cluster->progress_once(did_work);
    if (did_work) {
      backoff.reset();
      continue;
    }
    if (timeout && Clock::now() - start >= *timeout) {
      std::ostringstream os;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout).count();
      os << "timed out after " << ms << " ms waiting for";
      int listed = 0;
      for (const CallState* s : states) {
        if (s->ready) continue;
        if (listed++ == 4) {
          os << " and more";
          break;
        }
        os << (listed > 1 ? ";" : "") << " rank " << s->rank << " (" << *s->role << ") " << *s->method;
      }
      throw TimeoutError(os.str());
    }
    backoff.idle();
  }
}

void throw_remote_error(const CallState& s) {
  std::string message;
  try {
    message = std::get<0>(wire::read_body<std::string>(const_cast<wire::Message&>(s.reply)));
  } catch (const std::exception& e) {
    message = std::string("(unreadable error message: ") + e.what() + ")";
  }
  throw RemoteError(s.rank, *s.role, *s.method, message);
}

}  // namespace detail

}  // namespace newsrl::runtime

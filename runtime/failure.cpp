#include "runtime/failure.h"

#include <mpi.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>

#include "runtime/placement.h"

namespace newsrl::runtime {

namespace {

// Formatted before any signal arrives: a handler may only write().
char g_crash_prefix[256];  // "newsrl: rank 3 (learner) "
char g_stopped_message[2048];

void write_all(const char* s) {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void on_crash(int sig) {
  write_all(g_crash_prefix);
  write_all("crashed: ");
  write_all(strsignal(sig));  // not async-signal-safe in theory; glibc's is a table lookup
  write_all("\n");
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void on_stop(int sig) {
  write_all(g_stopped_message);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

const int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

void on_terminate() {
  std::string what = "terminated";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = std::string("uncaught exception: ") + ex.what();
    } catch (...) {
      what = "uncaught exception of unknown type";
    }
  }
  std::signal(SIGABRT, SIG_DFL);
  fail_job(std::string(g_crash_prefix + std::strlen("newsrl: ")) + what);
}

bool g_job_running = false;
bool g_workers_stopping = false;

void at_exit() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return;
  if (g_job_running) {
    // exit() in the middle of the job (a library gave up, say): the other
    // ranks must not wait for this one.
    fail_job(std::string(g_crash_prefix + std::strlen("newsrl: ")) + "called exit() while the job was running");
  }
  MPI_Finalize();  // a program that caught the driver's exception and returned
}

}  // namespace

void set_job_running(bool running) { g_job_running = running; }
void set_workers_stopping() { g_workers_stopping = true; }

void fail_job(const std::string& message) {
  g_job_running = false;
  std::cerr << "newsrl: " << message << std::endl;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    int world = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (world > 1 && g_workers_stopping) {
      alarm(60);  // its default action ends this process, and mpirun then the job
      MPI_Finalize();
      std::_Exit(1);
    }
    if (world > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
  }
  std::_Exit(1);
}

void install_failure_handlers(int rank, const Placement& placement) {
  std::snprintf(g_crash_prefix, sizeof g_crash_prefix, "newsrl: rank %d (%s) ", rank,
                placement.describe_rank(rank).c_str());
  std::string ranks;
  for (int r = 0; r < placement.world_size && ranks.size() < 1500; ++r) {
    ranks += (r ? "; " : "") + std::to_string(r) + " = " + placement.describe_rank(r);
  }
  std::snprintf(g_stopped_message, sizeof g_stopped_message,
                "newsrl: rank %d (%s) was stopped by the launcher, which usually means another rank failed "
                "(see the launcher's message for which). Ranks: %s\n",
                rank, placement.describe_rank(rank).c_str(), ranks.c_str());
  for (int sig : kCrashSignals) std::signal(sig, on_crash);
  std::signal(SIGTERM, on_stop);
  std::set_terminate(on_terminate);
  static bool registered = false;
  if (!registered) std::atexit(at_exit);
  registered = true;
}

void uninstall_failure_handlers() {
  for (int sig : kCrashSignals) std::signal(sig, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace newsrl::runtime

// Ending a job that has failed, so that it never hangs: one line naming the
// rank and role, then the whole MPI job ends with a non-zero exit.
#pragma once

#include <string>

namespace newsrl::runtime {

struct Placement;

// Prints "newsrl: <message>" and ends the job: MPI_Abort when other ranks may
// be running, else exit(1). Never returns.
[[noreturn]] void fail_job(const std::string& message);

// Crash signals (SIGSEGV, SIGABRT, ...) print the rank and its roles before
// the process dies; SIGTERM from the launcher (mpirun/srun end the job when a
// rank dies) prints which rank hosts which roles, so the launcher's "rank N
// exited" line can be read. std::terminate reports the exception and fails the job.
void install_failure_handlers(int rank, const Placement& placement);
void uninstall_failure_handlers();

// While true (a Cluster is up), exit() on this rank ends the whole job with a
// message instead of leaving the other ranks waiting.
void set_job_running(bool running);

// The driver has told every other rank to leave serve() (an exception is
// leaving the driver): fail_job then ends the job by finalising with them and
// exiting 1, not by MPI_Abort, which raced the other ranks' own exit and left
// mpirun hung about once in twenty runs. A rank that does not finalise within
// 60 s still ends the job (SIGALRM).
void set_workers_stopping();

}  // namespace newsrl::runtime

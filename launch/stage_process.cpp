#include "launch/stage_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string_view>

extern char** environ;

namespace newsrl::launch {

namespace {

std::string self_path() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot find the newsrl binary (/proc/self/exe)");
  return std::string(buf, static_cast<std::size_t>(n));
}

// The environment without the launcher's variables: the child is one process.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    bool launcher = false;
    for (std::string_view prefix : {"OMPI_", "PMIX_", "PMI_", "SLURM_", "MPI_LOCALNRANKS"}) {
      launcher = launcher || v.substr(0, prefix.size()) == prefix;
    }
    if (!launcher) env.emplace_back(v);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

int run_newsrl_child(const std::vector<std::string>& args, const std::string& log_path,
                     const std::function<void(const std::string& line)>& on_line) {
  std::ofstream log(log_path, std::ios::app);
  if (!log) throw std::runtime_error("cannot write " + log_path);
  std::vector<std::string> argv_strings = {self_path()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  log << "$ newsrl";
  for (const std::string& a : args) log << " " << a;
  log << "\n" << std::flush;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<std::string> env_strings = child_environment();
  std::vector<char*> argv = pointers(argv_strings), envp = pointers(env_strings);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + argv_strings[0] + ": " + std::strerror(rc));
  }
  std::string line;
  char buf[4096];
  while (true) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log.write(buf, n);
    log.flush();
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n' || buf[i] == '\r') {
        if (!line.empty() && on_line) on_line(line);
        line.clear();
      } else {
        line += buf[i];
      }
    }
  }
  if (!line.empty() && on_line) on_line(line);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace newsrl::launch

// The bookkeeping of a job made of resumable stages (`newsrl run`, `newsrl
// experiment`): stages.json with each stage's status and seconds, the live
// progress line on a terminal, and the command line that started the job.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace newsrl::launch {

// "12.3s" below a minute, else "4m05s".
std::string human_seconds(double seconds);

// This process's command line, as the shell would take it back.
std::string command_line();

// The live line on a terminal (only for the process that speaks), and the
// stage lines for logs.
class Progress {
 public:
  explicit Progress(bool speaks);
  void stage_line(const std::string& text);
  void live(const std::string& text);
  void clear();

 private:
  bool speaks_, tty_, shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// stages.json: each stage's status ("running", "done", "failed", ...) and
// seconds, rewritten (to a temporary file, then renamed) after every change.
class StageLog {
 public:
  explicit StageLog(std::filesystem::path path);
  // The command line that started (or resumed) the job, for the report.
  void set_command(const std::string& command);
  bool done(const std::string& name) const;
  void set(const std::string& name, const std::string& status, double seconds);
  const nlohmann::json& json() const { return json_; }

 private:
  void write() const;
  std::filesystem::path path_;
  nlohmann::json json_;
};

}  // namespace newsrl::launch

// stages.json, the progress line and the command line of a staged job.
#include "launch/stage_log.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

namespace newsrl::launch {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string human_seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  }
  return buf;
}

std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string text, arg;
  while (std::getline(in, arg, '\0')) {
    const bool plain = !arg.empty() && arg.find_first_of(" \t\"'$\\") == std::string::npos;
    text += (text.empty() ? "" : " ") + (plain ? arg : "'" + arg + "'");
  }
  return text;
}

Progress::Progress(bool speaks) : speaks_(speaks), tty_(speaks && isatty(STDERR_FILENO)) {}

void Progress::stage_line(const std::string& text) {
  if (!speaks_) return;
  clear();
  std::cerr << text << "\n" << std::flush;
}

void Progress::live(const std::string& text) {
  if (!tty_) return;
  const auto now = Clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  std::cerr << "\r" << text.substr(0, 150) << "\033[K" << std::flush;
  shown_ = true;
}

void Progress::clear() {
  if (tty_ && shown_) std::cerr << "\r\033[K" << std::flush;
  shown_ = false;
}

StageLog::StageLog(fs::path path) : path_(std::move(path)) {
  if (fs::exists(path_)) {
    std::ifstream in(path_);
    json_ = nlohmann::json::parse(in, nullptr, false);
    if (json_.is_discarded() || !json_.contains("stages")) json_ = {{"stages", nlohmann::json::array()}};
  } else {
    json_ = {{"stages", nlohmann::json::array()}};
  }
}

void StageLog::set_command(const std::string& command) {
  json_["command"] = command;
  write();
}

bool StageLog::done(const std::string& name) const {
  for (const auto& s : json_["stages"]) {
    if (s.value("name", "") == name && s.value("status", "") == "done") return true;
  }
  return false;
}

void StageLog::set(const std::string& name, const std::string& status, double seconds) {
  for (auto& s : json_["stages"]) {
    if (s.value("name", "") == name) {
      s["status"] = status;
      s["seconds"] = seconds;
      write();
      return;
    }
  }
  json_["stages"].push_back({{"name", name}, {"status", status}, {"seconds", seconds}});
  write();
}

void StageLog::write() const {
  fs::create_directories(path_.parent_path());
  const fs::path tmp = path_.string() + ".tmp";
  std::ofstream(tmp) << json_.dump(1) << "\n";
  fs::rename(tmp, path_);
}

}  // namespace newsrl::launch

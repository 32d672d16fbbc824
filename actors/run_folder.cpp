#include "actors/run_folder.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/checkpoint.h"

namespace newsrl::actors {

std::int64_t kill_at_step() {
  const char* v = std::getenv("NEWSRL_KILL_AT_STEP");
  return v ? std::atoll(v) : -1;
}

void truncate_metrics(const std::string& path, std::int64_t step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      if (nlohmann::json::parse(line).at("step").get<std::int64_t>() > step) break;
    } catch (const nlohmann::json::exception&) {
      break;  // a line cut short by the crash
    }
    kept += line + "\n";
  }
  in.close();
  runtime::write_file_atomically(path, kept);
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  out << (s % 3600) / 60 << "m" << s % 60 << "s";
  return out.str();
}

}  // namespace newsrl::actors

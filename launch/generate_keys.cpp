#include "launch/generate_keys.h"

#include "launch/config.h"
#include "runtime/errors.h"

namespace newsrl::launch {

actors::GenerateConfig read_generate_config(const toml::table& root, const std::string& where, toml::table* resolved) {
  actors::GenerateConfig c;
  Section s(root, "generate", where);
  s.get("n", c.n);
  if (s.node("temperature") != nullptr) {
    double t = 0;
    s.get("temperature", t);
    c.temperature = t;
  }
  s.get("top_p", c.top_p);
  s.get("top_k", c.top_k);
  s.get("max_new_tokens", c.max_new_tokens);
  s.get("seed", c.seed);
  s.get("batch", c.batch);
  s.get("k", c.k);
  s.get("length", c.length);
  s.get("fallback", c.fallback);
  s.get("salvage", c.salvage);
  s.get("max_users", c.max_users);
  s.get("select", c.select);
  s.finish();
  if (const std::string p = c.problem(); !p.empty()) throw runtime::ConfigError(where + " " + p);
  if (resolved != nullptr) {
    *resolved = s.resolved();
    resolved->insert_or_assign("temperature", c.temperature_in_effect());
  }
  return c;
}

}  // namespace newsrl::launch

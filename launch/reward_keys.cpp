#include "launch/reward_keys.h"

#include <stdexcept>

#include "launch/config.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace {

const char* const kTables[] = {"ret", "cov", "spec", "div", "struct", "judge"};

// [[rewards.judge.criteria]]: an array of tables {reward, question, weight}.
std::vector<news::RubricCriterion> read_criteria(const toml::array& list, const std::string& where) {
  std::vector<news::RubricCriterion> out;
  int n = 0;
  for (const toml::node& item : list) {
    ++n;
    const std::string name = where + " [rewards.judge.criteria " + std::to_string(n) + "]";
    const toml::table* t = item.as_table();
    if (t == nullptr) throw runtime::ConfigError(name + ": should be a table {reward, question, weight}");
    news::RubricCriterion c;
    for (const auto& [key, node] : *t) {
      const std::string k(key.str());
      if (k == "reward" && node.is_string()) {
        c.reward = node.value<std::string>().value();
      } else if (k == "question" && node.is_string()) {
        c.question = node.value<std::string>().value();
      } else if (k == "weight" && node.is_number()) {
        c.weight = node.value<double>().value();
      } else if (k == "reward" || k == "question" || k == "weight") {
        throw runtime::ConfigError(name + " " + k + ": " + (k == "weight" ? "should be a number" : "should be a string"));
      } else {
        throw runtime::ConfigError(name + " " + k + ": unknown key (known: reward, question, weight)");
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

news::RewardConfig read_reward_config(const toml::table& root, const std::string& where, toml::table* resolved) {
  news::RewardConfig c;
  if (const toml::node* r = root.get("rewards")) {
    const toml::table* rewards = r->as_table();
    if (rewards == nullptr) throw runtime::ConfigError(where + ": rewards should be a table");
    for (const auto& [key, node] : *rewards) {
      bool known = false;
      for (const char* t : kTables) known = known || key.str() == t;
      if (!known || !node.is_table()) {
        throw runtime::ConfigError(where + " [rewards] " + std::string(key.str()) +
                                   ": unknown table (known: ret, cov, spec, div, struct, judge)");
      }
    }
  }
  Section ret(root, "rewards.ret", where), cov(root, "rewards.cov", where), spec(root, "rewards.spec", where),
      div(root, "rewards.div", where), structure(root, "rewards.struct", where), judge(root, "rewards.judge", where);
  ret.get("weight", c.ret.weight);
  ret.get("k", c.ret.k);
  cov.get("weight", c.cov.weight);
  cov.get("tau", c.cov.tau);
  cov.get("max_clusters", c.cov.max_clusters);
  spec.get("weight", c.spec.weight);
  spec.get("generic_words", c.spec.generic_words);
  spec.get("generic_penalty", c.spec.generic_penalty);
  div.get("weight", c.div.weight);
  structure.get("weight", c.structure.weight);
  judge.get("mode", c.judge.mode);
  judge.get("checkpoint", c.judge.checkpoint);
  judge.get("tokenizer", c.judge.tokenizer);
  judge.get("max_prompt_tokens", c.judge.max_prompt_tokens);
  if (const toml::node* n = judge.node("criteria")) {
    if (!n->is_array()) throw runtime::ConfigError(where + " [rewards.judge] criteria: should be a list of tables");
    c.judge.criteria = read_criteria(*n->as_array(), where);
  }
  for (const Section* s : {&ret, &cov, &spec, &div, &structure, &judge}) s->finish();
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw runtime::ConfigError(where + " " + e.what());
  }
  if (resolved != nullptr) {
    toml::table out;
    out.insert("ret", ret.resolved());
    out.insert("cov", cov.resolved());
    out.insert("spec", spec.resolved());
    out.insert("div", div.resolved());
    out.insert("struct", structure.resolved());
    toml::table j = judge.resolved();
    toml::array crit;
    for (const news::RubricCriterion& r : c.judge.criteria) {
      crit.push_back(toml::table{{"reward", r.reward}, {"question", r.question}, {"weight", r.weight}});
    }
    j.insert_or_assign("criteria", crit);
    out.insert("judge", j);
    *resolved = std::move(out);
  }
  return c;
}

}  // namespace newsrl::launch

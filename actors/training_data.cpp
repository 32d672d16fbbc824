#include "actors/training_data.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "kernels/ops.h"

namespace newsrl::actors {

namespace {

std::vector<std::int32_t> ids_of(const nlohmann::json& ids, std::int64_t vocab, const std::string& where) {
  if (!ids.is_array()) throw std::invalid_argument(where + "not an array of token ids");
  std::vector<std::int32_t> out;
  out.reserve(ids.size());
  for (const nlohmann::json& id : ids) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= vocab) {
      throw std::invalid_argument(where + "token " + id.dump() + " is not an id below the vocabulary size " +
                                  std::to_string(vocab));
    }
    out.push_back(id.get<std::int32_t>());
  }
  return out;
}

}  // namespace

TrainingData TrainingData::load(const std::string& path, std::int64_t vocab, std::int64_t seq) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot read the data file");
  TrainingData d;
  d.seq_ = seq;
  bool first = true;
  std::string line;
  for (std::int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument(where + "not JSON (want an array of token ids, or {\"prompt\": [...], \"target\": [...]})");
    }
    if (first) d.examples_ = j.is_object();
    first = false;
    if (d.examples_) {
      if (!j.is_object() || !j.contains("prompt") || !j.contains("target")) {
        throw std::invalid_argument(where + "an SFT example needs \"prompt\" and \"target\" (as the first line had)");
      }
      d.prompts_.push_back(ids_of(j["prompt"], vocab, where + "prompt: "));
      d.targets_.push_back(ids_of(j["target"], vocab, where + "target: "));
      if (d.targets_.back().empty()) throw std::invalid_argument(where + "an empty target");
      d.tokens_ += static_cast<std::int64_t>(d.prompts_.back().size() + d.targets_.back().size());
    } else {
      const std::vector<std::int32_t> ids = ids_of(j, vocab, where);
      d.stream_.insert(d.stream_.end(), ids.begin(), ids.end());
      d.tokens_ += static_cast<std::int64_t>(ids.size());
    }
  }
  return d;
}

std::int64_t TrainingData::items() const {
  return examples_ ? static_cast<std::int64_t>(targets_.size()) : static_cast<std::int64_t>(stream_.size()) / seq_;
}

void TrainingData::batch(const std::vector<std::int64_t>& items, kernels::Tensor& ids, kernels::Tensor& labels,
                         std::int64_t& targets) const {
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  if (!examples_) {
    ids = kernels::Tensor::empty({n, seq_}, kernels::DType::i32);
    std::int32_t* dst = ids.data<std::int32_t>();
    for (std::int64_t b = 0; b < n; ++b) {
      std::copy_n(stream_.begin() + items[static_cast<std::size_t>(b)] * seq_, seq_, dst + b * seq_);
    }
    labels = ids;
    targets = n * seq_;
    return;
  }
  // Each example as it fits in seq: the whole target if it can (keeping one
  // prompt token to predict its first token from), the prompt's newest tokens.
  std::vector<std::pair<std::int64_t, std::int64_t>> kept(items.size());  // prompt, target lengths
  std::int64_t t = 0;
  for (std::size_t b = 0; b < items.size(); ++b) {
    const auto& p = prompts_[static_cast<std::size_t>(items[b])];
    const auto& y = targets_[static_cast<std::size_t>(items[b])];
    const std::int64_t ty = std::min<std::int64_t>(static_cast<std::int64_t>(y.size()), seq_ - 1);
    const std::int64_t tp = std::min<std::int64_t>(static_cast<std::int64_t>(p.size()), seq_ - ty);
    kept[b] = {tp, ty};
    t = std::max(t, tp + ty);
  }
  ids = kernels::Tensor::zeros({n, t}, kernels::DType::i32);
  labels = kernels::Tensor::empty({n, t}, kernels::DType::i32);
  std::int32_t *pi = ids.data<std::int32_t>(), *pl = labels.data<std::int32_t>();
  std::fill(pl, pl + n * t, kernels::kIgnoreIndex);
  targets = 0;
  for (std::size_t b = 0; b < items.size(); ++b) {
    const auto& p = prompts_[static_cast<std::size_t>(items[b])];
    const auto& y = targets_[static_cast<std::size_t>(items[b])];
    const auto [tp, ty] = kept[b];
    std::int32_t* row = pi + static_cast<std::int64_t>(b) * t;
    std::int32_t* lab = pl + static_cast<std::int64_t>(b) * t;
    std::copy(p.end() - tp, p.end(), row);
    std::copy_n(y.begin(), ty, row + tp);
    std::copy_n(y.begin(), ty, lab + tp);
    targets += ty;
  }
}

}  // namespace newsrl::actors

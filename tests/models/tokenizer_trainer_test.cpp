// The BPE trainer: incremental pair counts give the merges a full recount
// gives; the same texts give the same file; and the file it writes reads
// back in Hugging Face's tokenizers and in @lenml/tokenizers with the same
// ids as in our loader (fixtures/tokenizer_trained*.ids.jsonl, see
// tests/reference/tokenizer_reference.mjs).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "models/bpe_trainer.h"
#include "models/byte_level.h"
#include "models/tokenizer.h"
#include "models/unicode_text.h"

namespace newsrl::models {
namespace {

const std::string kFixtures = NEWSRL_TEST_FIXTURES;

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

// What `newsrl tokenizer train --input tokenizer_corpus.txt --vocab-size 500` writes.
std::string train_corpus() {
  BpeTrainerOptions options;
  options.vocab_size = 500;
  BpeTrainer trainer(options);
  for (const std::string& line : split_lines(read_bytes(kFixtures + "/tokenizer_corpus.txt")))
    trainer.add_text(line + "\n");
  return trainer.train().dump(2) + "\n";
}

TEST(BpeTrainer, TheCorpusGivesTheCommittedFileByteForByte) {
  const std::string once = train_corpus();
  EXPECT_EQ(once, train_corpus());
  EXPECT_EQ(once, read_bytes(kFixtures + "/tokenizer_trained.json"))
      << "the trainer's output changed: if on purpose, regenerate the fixture (docs/huggingface.md)";
}

// The trained file read by a reference gave these ids (one JSON array per
// corpus line, then the whole corpus); so must our loader.
void expect_reference_ids(const std::string& ids_fixture, bool skip_javascript_whitespace) {
  const Tokenizer t = Tokenizer::load(kFixtures + "/tokenizer_trained.json");
  EXPECT_EQ(t.vocab_size(), 500);
  EXPECT_EQ(t.token_to_id("<|im_end|>"), 499);
  const std::string corpus = read_bytes(kFixtures + "/tokenizer_corpus.txt");
  const std::vector<std::string> lines = split_lines(corpus);
  const std::vector<std::string> expected = split_lines(read_bytes(kFixtures + "/" + ids_fixture));
  ASSERT_EQ(expected.size(), lines.size() + 1) << ids_fixture << " is stale: regenerate it";
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    const std::string& text = i < lines.size() ? lines[i] : corpus;
    if (skip_javascript_whitespace &&
        (text.find("\xEF\xBB\xBF") != std::string::npos || text.find("\xC2\x85") != std::string::npos)) {
      continue;  // U+FEFF and U+0085: JavaScript's \s differs from Hugging Face's
    }
    const auto want = nlohmann::json::parse(expected[i]).get<std::vector<std::int32_t>>();
    const std::vector<std::int32_t> ids = t.encode(text);
    EXPECT_EQ(ids, want) << ids_fixture << ", corpus line " << i + 1 << ": " << text.substr(0, 80);
    EXPECT_EQ(t.decode(ids), nfc(text));
  }
}

TEST(BpeTrainer, ItsFileGivesHuggingFacesIds) { expect_reference_ids("tokenizer_trained.ids.jsonl", false); }

TEST(BpeTrainer, ItsFileGivesTheJavaScriptReferencesIds) {
  expect_reference_ids("tokenizer_trained.lenml.ids.jsonl", true);
}

// A plain BPE trainer that recounts every pair after each merge.
std::vector<std::pair<std::string, std::string>> recount_merges(const std::vector<std::string>& texts, int merges) {
  PreTokenizer pre(BpeTrainer::split_pattern(), true);
  std::map<std::string, std::int64_t> counts;
  for (const std::string& t : texts) pre.for_each_word(t, [&](std::string_view w) { ++counts[std::string(w)]; });
  std::vector<std::string> tokens;
  std::map<std::string, int> id_of;
  for (int b = 0; b < 256; ++b) {
    tokens.emplace_back(1, static_cast<char>(b));
    id_of[tokens.back()] = b;
  }
  std::vector<std::pair<std::vector<int>, std::int64_t>> words;
  for (const auto& [w, c] : counts) words.push_back({std::vector<int>(w.begin(), w.end()), c});
  for (auto& [w, c] : words) {
    for (int& s : w) s = static_cast<unsigned char>(s);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (int m = 0; m < merges; ++m) {
    std::map<std::pair<int, int>, std::int64_t> pairs;
    for (const auto& [w, c] : words) {
      for (std::size_t i = 0; i + 1 < w.size(); ++i) pairs[{w[i], w[i + 1]}] += c;
    }
    std::pair<int, int> best{-1, -1};
    std::int64_t best_count = 1;  // min frequency 2
    for (const auto& [p, c] : pairs) {
      if (c > best_count) {  // the map is in pair order: the first of the most frequent wins
        best = p;
        best_count = c;
      }
    }
    if (best.first < 0) break;
    const std::string joined =
        tokens[static_cast<std::size_t>(best.first)] + tokens[static_cast<std::size_t>(best.second)];
    if (!id_of.contains(joined)) {
      id_of[joined] = static_cast<int>(tokens.size());
      tokens.push_back(joined);
    }
    const int merged = id_of[joined];
    out.push_back({ByteLevel::encode(tokens[static_cast<std::size_t>(best.first)]),
                   ByteLevel::encode(tokens[static_cast<std::size_t>(best.second)])});
    for (auto& [w, c] : words) {
      std::vector<int> next;
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == best.first && w[i + 1] == best.second) {
          next.push_back(merged);
          ++i;
        } else {
          next.push_back(w[i]);
        }
      }
      w = next;
    }
  }
  return out;
}

TEST(BpeTrainer, IncrementalCountsGiveTheMergesOfAFullRecount) {
  std::vector<std::string> texts;
  for (const std::string& line : split_lines(read_bytes(kFixtures + "/tokenizer_corpus.txt")))
    texts.push_back(line + "\n");
  texts.push_back("aaaaaaa aaaa aaa abababab ababa bbbb");  // overlapping pairs
  BpeTrainerOptions options;
  options.vocab_size = 256 + 150 + 3;
  BpeTrainer trainer(options);
  for (const std::string& t : texts) trainer.add_text(t);
  const nlohmann::ordered_json j = trainer.train();
  std::vector<std::string> pieces;  // the texts with the special tokens cut out, as the trainer does
  for (const std::string& t : texts) {
    std::size_t start = 0;
    while (true) {
      std::size_t at = std::string::npos, length = 0;
      for (const std::string& special : options.special_tokens) {
        const std::size_t p = t.find(special, start);
        if (p < at) {
          at = p;
          length = special.size();
        }
      }
      pieces.push_back(t.substr(start, at == std::string::npos ? std::string::npos : at - start));
      if (at == std::string::npos) break;
      start = at + length;
    }
  }
  ASSERT_GT(pieces.size(), texts.size() + 5);
  const auto want = recount_merges(pieces, 150);
  ASSERT_EQ(j["model"]["merges"].size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(j["model"]["merges"][i][0].get<std::string>(), want[i].first) << "merge " << i;
    EXPECT_EQ(j["model"]["merges"][i][1].get<std::string>(), want[i].second) << "merge " << i;
  }
}

TEST(BpeTrainer, SpecialTokensAreNotLearnedFrom) {
  BpeTrainerOptions options;
  options.vocab_size = 300;
  options.special_tokens = {"<|endoftext|>", "<sep>"};
  BpeTrainer trainer(options);
  for (int i = 0; i < 50; ++i) trainer.add_text("xy<|endoftext|>xy<sep>");
  const nlohmann::ordered_json j = trainer.train();
  ASSERT_EQ(j["model"]["merges"].size(), 1u);  // only x+y: nothing else repeats
  EXPECT_EQ(j["model"]["merges"][0], nlohmann::ordered_json::array({"x", "y"}));
  const Tokenizer t = Tokenizer::from_json(nlohmann::json::parse(j.dump()), "trained");
  EXPECT_EQ(t.encode("xy<sep>xy"), (std::vector<std::int32_t>{256, 258, 256}));
}

TEST(BpeTrainer, RejectsImpossibleOptions) {
  BpeTrainerOptions options;
  options.vocab_size = 258;
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
  options.vocab_size = 1000;
  options.special_tokens = {"<a>", "<a>"};
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
  options.special_tokens = {"\xFF"};
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::models

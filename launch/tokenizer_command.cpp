// `newsrl tokenizer encode|decode|train`, see tokenizer_command.h.
#include "launch/tokenizer_command.h"

#include <omp.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "models/bpe_trainer.h"
#include "models/tokenizer.h"

namespace newsrl::launch {

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string tokenizer;
  std::string input;  // empty: stdin
  std::vector<std::string> inputs;
  std::string out;
  std::int32_t vocab_size = 1024;
  std::int64_t min_frequency = 2;
  std::vector<std::string> special = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  int threads = 0;
  bool stats = false;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Reads lines (split on '\n' only; the bytes of each line are kept as they
// are, '\r' included) in blocks, so that a large input never sits in memory whole.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : name_(path.empty() ? "<stdin>" : path) {
    if (!path.empty()) {
      file_ = std::make_unique<std::ifstream>(path, std::ios::binary);
      if (!*file_) throw std::invalid_argument(path + ": cannot read");
    }
  }
  std::istream& in() { return file_ ? *file_ : std::cin; }
  const std::string& name() const { return name_; }
  // Up to `n` more lines into `lines`; false when the input is exhausted.
  bool next(std::size_t n, std::vector<std::string>& lines) {
    lines.clear();
    std::string line;
    while (lines.size() < n && std::getline(in(), line)) lines.push_back(std::move(line));
    return !lines.empty();
  }

 private:
  std::string name_;
  std::unique_ptr<std::ifstream> file_;
};

void append_ids(std::string& out, const std::vector<std::int32_t>& ids) {
  out += '[';
  char buffer[16];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, ids[i]).ptr;
    out.append(buffer, end);
  }
  out += "]\n";
}

int encode(const Options& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const auto t0 = Clock::now();
  const models::Tokenizer tokenizer = models::Tokenizer::load(o.tokenizer);
  const double load_s = seconds_since(t0);
  LineReader reader(o.input);
  std::vector<std::string> lines;
  std::string out;
  std::size_t line_count = 0, token_count = 0, byte_count = 0;
  double encode_s = 0;
  while (reader.next(4096, lines)) {
    const auto t1 = Clock::now();
    const auto batch = tokenizer.encode_batch(lines);
    encode_s += seconds_since(t1);
    out.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      append_ids(out, batch[i]);
      token_count += batch[i].size();
      byte_count += lines[i].size();
    }
    line_count += lines.size();
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  }
  std::cout.flush();
  if (o.stats) {
    std::cerr << "tokenizer encode: " << line_count << " lines, " << byte_count << " bytes, " << token_count
              << " tokens in " << encode_s
              << " s: " << static_cast<std::int64_t>(token_count / std::max(encode_s, 1e-9)) << " tokens/s on "
              << omp_get_max_threads() << " threads (loading the tokenizer took " << load_s << " s)\n";
  }
  return 0;
}

int decode(const Options& o) {
  const models::Tokenizer tokenizer = models::Tokenizer::load(o.tokenizer);
  LineReader reader(o.input);
  std::vector<std::string> lines;
  std::size_t line_number = 0;
  while (reader.next(4096, lines)) {
    std::string out;
    for (const std::string& line : lines) {
      ++line_number;
      const std::string where = reader.name() + ":" + std::to_string(line_number) + ": ";
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::parse_error& e) {
        std::cout << out << std::flush;  // what came before the bad line is kept
        throw std::invalid_argument(where + "not valid JSON (" + e.what() + ")");
      }
      std::vector<std::int32_t> ids;
      bool list = j.is_array();
      for (const auto& v : j) {
        if (!list || !v.is_number_integer()) break;
        const bool in_range = v.is_number_unsigned() ? v.get<std::uint64_t>() < std::uint64_t(tokenizer.vocab_size())
                                                     : v.get<std::int64_t>() >= 0;  // negative ones are signed
        if (!in_range) {
          std::cout << out << std::flush;
          throw std::invalid_argument(where + "token id " + v.dump() + " is outside the vocabulary of " +
                                      std::to_string(tokenizer.vocab_size()));
        }
        ids.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
      }
      if (!list || ids.size() != j.size()) {
        std::cout << out << std::flush;
        throw std::invalid_argument(where + "not a JSON list of token ids");
      }
      try {
        out += tokenizer.decode(ids);
      } catch (const std::out_of_range& e) {
        std::cout << out << std::flush;
        throw std::invalid_argument(where + e.what());
      }
      out += '\n';
    }
    std::cout << out;
  }
  std::cout.flush();
  return 0;
}

int train(const Options& o) {
  models::BpeTrainerOptions options;
  options.vocab_size = o.vocab_size;
  options.special_tokens = o.special;
  options.min_frequency = o.min_frequency;
  models::BpeTrainer trainer(options);
  std::size_t line_count = 0;
  for (const std::string& path : o.inputs) {
    LineReader reader(path);
    std::vector<std::string> lines;
    while (reader.next(4096, lines)) {
      for (std::string& line : lines) {
        line += '\n';  // newlines are text too
        trainer.add_text(line);
      }
      line_count += lines.size();
    }
  }
  const nlohmann::ordered_json j = trainer.train();
  const std::string text = j.dump(2) + "\n";
  const std::string tmp = o.out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    f.flush();
    if (!f) throw std::invalid_argument(tmp + ": cannot write");
  }
  std::error_code error;
  std::filesystem::rename(tmp, o.out, error);
  if (error) throw std::invalid_argument(o.out + ": cannot write (" + error.message() + ")");
  const std::size_t merges = j["model"]["merges"].size();
  std::cout << "wrote " << o.out << ": " << j["model"]["vocab"].size() + o.special.size() << " ids (256 bytes, "
            << merges << " merges, " << o.special.size() << " special tokens) from " << line_count << " lines\n";
  return 0;
}

}  // namespace

Runner add_tokenizer_commands(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* group =
      app.add_subcommand("tokenizer", "Byte-level BPE (Hugging Face tokenizer.json): encode, decode, train");
  group->require_subcommand(1);

  CLI::App* enc = group->add_subcommand("encode", "Print one JSON array of token ids per line of text");
  enc->add_option("--tokenizer", o->tokenizer, "A Hugging Face tokenizer.json")->required()->check(CLI::ExistingFile);
  enc->add_option("--input", o->input, "Text file (default: stdin); each line is encoded without its \\n")
      ->check(CLI::ExistingFile);
  enc->add_option("--threads", o->threads, "OpenMP threads (0: OpenMP's default)")->check(CLI::Range(0, 1024));
  enc->add_flag("--stats", o->stats, "Print lines, tokens and tokens/s to stderr");

  CLI::App* dec = group->add_subcommand("decode", "Print the text of each line's JSON array of token ids");
  dec->add_option("--tokenizer", o->tokenizer, "A Hugging Face tokenizer.json")->required()->check(CLI::ExistingFile);
  dec->add_option("--input", o->input, "File of JSON arrays, one per line (default: stdin)")->check(CLI::ExistingFile);

  CLI::App* tr = group->add_subcommand("train", "Train a byte-level BPE vocabulary; writes a tokenizer.json");
  tr->add_option("--input", o->inputs, "Text files; every line is a text")->required()->check(CLI::ExistingFile);
  tr->add_option("--vocab-size", o->vocab_size, "Ids in all: 256 bytes + merges + special tokens")
      ->check(CLI::Range(1, 1 << 24));
  tr->add_option("--min-frequency", o->min_frequency, "Merge only pairs seen at least this often")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  tr->add_option("--special", o->special, "Special tokens, added after the merges")->capture_default_str();
  tr->add_option("--out", o->out, "The tokenizer.json to write")->required();

  return [=]() -> std::optional<int> {
    if (*enc) return encode(*o);
    if (*dec) return decode(*o);
    if (*tr) return train(*o);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch

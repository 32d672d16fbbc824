// Regex splitting with PCRE2 (UTF + UCP, JIT-compiled), see tokenizer_pretokenizer.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "models/tokenizer_pretokenizer.h"

#include <pcre2.h>

#include <stdexcept>

#include "models/unicode_text.h"

namespace newsrl::models {

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int error) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(error, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

// One match-data block per thread, grown to fit the pattern it is used with.
struct MatchData {
  pcre2_match_data* data = nullptr;
  ~MatchData() { pcre2_match_data_free(data); }
};

pcre2_match_data* thread_match_data() {
  thread_local MatchData md;
  if (md.data == nullptr) md.data = pcre2_match_data_create(32, nullptr);
  return md.data;
}

// A larger JIT stack than PCRE2's default 32 KiB, for long whitespace runs.
struct JitStack {
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  JitStack() {
    context = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~JitStack() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
  }
};

pcre2_match_context* thread_match_context() {
  thread_local JitStack js;
  return js.context;
}

}  // namespace

PreTokenizer::PreTokenizer(const std::string& pattern, bool nfc)
    : pattern_(pattern), nfc_(nfc), regex_(std::make_unique<Regex>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                               &error, &offset, nullptr);
  if (regex_->code == nullptr) {
    throw std::invalid_argument("split regex does not compile at offset " + std::to_string(offset) + ": " +
                                pcre2_message(error));
  }
  pcre2_jit_compile(regex_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
}

PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::split_valid(std::string_view valid, const std::function<void(std::string_view)>& word) const {
  pcre2_match_data* md = thread_match_data();
  pcre2_match_context* context = thread_match_context();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(valid.data());
  std::size_t start = 0;    // where the next search starts
  std::size_t emitted = 0;  // bytes already handed out
  while (start < valid.size()) {
    int rc = pcre2_match(regex_->code, subject, valid.size(), start, PCRE2_NO_UTF_CHECK, md, context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw std::runtime_error("split regex failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
    std::size_t begin = ovector[0], end = ovector[1];
    if (end == begin) {  // an empty match splits nothing; step over one character
      start = begin + utf8_char_length(valid, begin);
      continue;
    }
    if (begin > emitted) word(valid.substr(emitted, begin - emitted));
    word(valid.substr(begin, end - begin));
    emitted = start = end;
  }
  if (emitted < valid.size()) word(valid.substr(emitted));
}

void PreTokenizer::for_each_word(std::string_view text, const std::function<void(std::string_view)>& word) const {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t valid = valid_utf8_prefix(text.substr(i));
    if (valid > 0) {
      const std::string_view run = text.substr(i, valid);
      if (nfc_) {
        const std::string normalized = models::nfc(run);
        split_valid(normalized, word);
      } else {
        split_valid(run, word);
      }
      i += valid;
      continue;
    }
    std::size_t j = i + 1;  // a maximal run of bytes that start no valid character
    while (j < text.size() && utf8_char_length(text, j) == 0) ++j;
    word(text.substr(i, j - i));
    i = j;
  }
}

}  // namespace newsrl::models

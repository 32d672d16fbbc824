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

// Unicode's White_Space property, which Hugging Face's regex engine
// (Oniguruma) means by \s. PCRE2's \s differs: it also takes U+180E
// MONGOLIAN VOWEL SEPARATOR (a format character since Unicode 6.3).
constexpr const char* kWhiteSpace =
    R"(\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// The pattern with \s and \S spelled out as kWhiteSpace, in and outside
// character classes. Throws for \S inside a class (no way to spell it).
std::string spell_out_whitespace(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
      } else if (next == 'S') {
        if (in_class) throw std::invalid_argument("split regex: \\S inside a character class is not supported");
        out += "[^" + std::string(kWhiteSpace) + "]";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];  // a leading ] is literal
      continue;
    }
    if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {  // [:alpha:]
      const std::size_t end = pattern.find(":]", i + 2);
      if (end != std::string::npos) {
        out.append(pattern, i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

PreTokenizer::PreTokenizer(const std::string& pattern, bool nfc)
    : pattern_(pattern), nfc_(nfc), regex_(std::make_unique<Regex>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  const std::string spelled = spell_out_whitespace(pattern);
  regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(spelled.data()), spelled.size(), PCRE2_UTF | PCRE2_UCP,
                               &error, &offset, nullptr);
  if (regex_->code == nullptr) {
    const std::string where = spelled == pattern ? " at offset " + std::to_string(offset) : "";
    throw std::invalid_argument("split regex does not compile" + where + ": " + pcre2_message(error));
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

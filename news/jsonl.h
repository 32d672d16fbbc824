// JSONL I/O: a line reader that never holds a line longer than its limit
// (an oversized line is reported and skipped), a writer that replaces its
// file only when complete, and a fast writer of JSON strings for the
// generators, which write millions of lines.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace newsrl::news {

class JsonlReader {
 public:
  enum class Status { line, oversized, end };

  // Throws std::invalid_argument "PATH: cannot read (reason)" when the file cannot be opened.
  JsonlReader(const std::string& path, std::size_t max_line_bytes);
  ~JsonlReader();
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  // The next line without its "\n" (and without a "\r" before it). `oversized`
  // means the line was longer than the limit: it was skipped and `line` is
  // empty. A read error throws std::invalid_argument.
  Status next(std::string& line);
  std::int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  std::size_t max_line_bytes() const { return max_; }
  std::uint64_t bytes_read() const { return bytes_read_; }  // from the file so far (for progress)

 private:
  bool fill();  // more bytes into the buffer; false at end of file

  std::string path_;
  std::size_t max_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  std::int64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
};

// A file written under PATH.tmp and renamed to PATH by commit(), so that an
// interrupted writer never leaves a half file where a whole one was.
// Destroyed without commit(), it removes the temporary file.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);  // throws std::invalid_argument when it cannot write
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  void line(std::string_view text);  // text and "\n"
  void text(std::string_view text);
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
};

// Appends `text` as a JSON string literal (quotes included), escaping what JSON requires.
void append_json_string(std::string& out, std::string_view text);

}  // namespace newsrl::news

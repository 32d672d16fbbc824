#include "news/jsonl.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace newsrl::news {

namespace {
constexpr std::size_t kChunk = std::size_t{1} << 20;
}

JsonlReader::JsonlReader(const std::string& path, std::size_t max_line_bytes)
    : path_(path), max_(max_line_bytes), buffer_(kChunk) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw std::invalid_argument(path + ": cannot read (" + std::strerror(errno) + ")");
}

JsonlReader::~JsonlReader() {
  if (file_) std::fclose(file_);
}

bool JsonlReader::fill() {
  if (begin_ > 0) {  // keep the unread tail at the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
  if (got == 0 && std::ferror(file_)) throw std::invalid_argument(path_ + ": read error (" + std::strerror(errno) + ")");
  end_ += got;
  bytes_read_ += got;
  return got > 0;
}

JsonlReader::Status JsonlReader::next(std::string& line) {
  line.clear();
  bool oversized = false;
  std::size_t scanned = begin_;
  for (;;) {
    const char* start = buffer_.data() + scanned;
    const void* nl = std::memchr(start, '\n', end_ - scanned);
    if (nl) {
      const std::size_t stop = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data());
      ++line_number_;
      if (!oversized && stop - begin_ > max_) oversized = true;
      if (!oversized) {
        std::size_t len = stop - begin_;
        if (len > 0 && buffer_[begin_ + len - 1] == '\r') --len;
        line.assign(buffer_.data() + begin_, len);
      }
      begin_ = stop + 1;
      return oversized ? Status::oversized : Status::line;
    }
    if (end_ - begin_ > max_) {  // too long already: drop what we hold and keep looking for its end
      oversized = true;
      begin_ = end_ = 0;
    }
    scanned = end_ - begin_;  // where the search goes on once fill() has moved the unread bytes to 0
    if (!fill()) {
      if (end_ == begin_ && !oversized) return Status::end;
      ++line_number_;  // a last line without "\n"
      if (!oversized) {
        std::size_t len = end_ - begin_;
        if (len > 0 && buffer_[begin_ + len - 1] == '\r') --len;
        line.assign(buffer_.data() + begin_, len);
      }
      begin_ = end_;
      return oversized ? Status::oversized : Status::line;
    }
  }
}

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path), tmp_(path + ".tmp") {
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) throw std::invalid_argument(tmp_ + ": cannot write (" + std::strerror(errno) + ")");
  std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 20);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(tmp_.c_str());
  }
}

void AtomicFileWriter::text(std::string_view t) {
  if (std::fwrite(t.data(), 1, t.size(), file_) != t.size())
    throw std::invalid_argument(tmp_ + ": write failed (" + std::strerror(errno) + ")");
}

void AtomicFileWriter::line(std::string_view t) {
  text(t);
  if (std::fputc('\n', file_) == EOF) throw std::invalid_argument(tmp_ + ": write failed (" + std::strerror(errno) + ")");
}

void AtomicFileWriter::commit() {
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) throw std::invalid_argument(tmp_ + ": write failed (" + std::strerror(errno) + ")");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw std::invalid_argument(path_ + ": cannot rename into place (" + std::strerror(errno) + ")");
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace newsrl::news

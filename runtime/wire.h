// The wire format of one runtime message: a frame (header, Boost.Serialization
// binary archive of the arguments or result, byte counts of the bulk buffers)
// followed by one raw MPI message per bulk buffer. Archives are binary, with
// no header and object tracking off, and live only as long as one message.
#pragma once

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/array.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/optional.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unordered_map.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/variant.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <span>
#include <streambuf>
#include <tuple>
#include <vector>

#include "runtime/bulk.h"

namespace newsrl::runtime::wire {

enum class Kind : std::uint32_t { call = 1, reply_ok = 2, reply_error = 3, shutdown = 4 };

struct Header {
  Kind kind = Kind::call;
  std::uint32_t body_apart = 0;  // 1: the body travels as its own message (too big for the inbox)
  std::uint32_t actor = 0;       // which actor on the target rank (call)
  std::uint32_t method = 0;      // index in the actor type's method table (call)
  std::uint32_t n_bulk = 0;
  std::uint64_t call_id = 0;
  std::uint64_t body_bytes = 0;
};

// What the receiver needs to know of a bulk buffer before it arrives.
struct BulkSpec {
  std::uint64_t bytes = 0;
  std::uint64_t align = 0;  // the sender's address mod 64
};

// A message being built or one received.
struct Message {
  Header header;
  std::vector<char> frame;  // header | body | n_bulk × BulkSpec
  std::vector<Bulk> bulks;  // sent or received beside the frame, in order

  std::span<const char> body() const {
    return {frame.data() + sizeof(Header), static_cast<std::size_t>(header.body_bytes)};
  }
};

constexpr unsigned archive_flags = boost::archive::no_header | boost::archive::no_codecvt | boost::archive::no_tracking;

// Collects the Bulks serialised into a body (sending) or hands out the
// received ones in order (receiving). One per thread, set for the duration of
// one archive: see Bulk::save/load.
struct BulkChannel {
  std::vector<Bulk>* outgoing = nullptr;
  std::vector<Bulk>* incoming = nullptr;
  std::size_t next_incoming = 0;
};
BulkChannel& bulk_channel();

// Starts a frame: reserves the header. `buffer` (optional) is reused storage.
Message begin_message(Kind kind, std::uint64_t call_id, std::uint32_t actor = 0, std::uint32_t method = 0,
                      std::vector<char>&& buffer = {});
// Appends the bulk byte counts and writes the header; the frame is then ready to send.
void finish_message(Message& m);
// Parses a received frame's header and bulk specs; throws on a malformed frame.
std::vector<BulkSpec> parse_frame(Message& m);

// Appends an archive of `values` (and collects their Bulks) to the body.
template <class... T>
void write_body(Message& m, const T&... values) {
  if constexpr (sizeof...(T) > 0) {
    struct Sink : std::streambuf {
      explicit Sink(std::vector<char>& v) : out(v) {}
      std::streamsize xsputn(const char* s, std::streamsize n) override {
        out.insert(out.end(), s, s + n);
        return n;
      }
      int_type overflow(int_type c) override {
        if (c != traits_type::eof()) out.push_back(static_cast<char>(c));
        return c;
      }
      std::vector<char>& out;
    } sink(m.frame);
    BulkChannel& ch = bulk_channel();
    BulkChannel saved = ch;
    ch = BulkChannel{&m.bulks, nullptr, 0};
    try {
      boost::archive::binary_oarchive ar(sink, archive_flags);
      ((ar << values), ...);
    } catch (...) {
      ch = saved;
      throw;
    }
    ch = saved;
  }
}

// Reads the body back as a tuple of values (its Bulks from the message's received buffers).
template <class... T>
std::tuple<T...> read_body(Message& m) {
  std::tuple<T...> values;
  if constexpr (sizeof...(T) > 0) {
    struct Source : std::streambuf {
      explicit Source(std::span<const char> s) {
        char* b = const_cast<char*>(s.data());
        setg(b, b, b + s.size());
      }
    } source(m.body());
    BulkChannel& ch = bulk_channel();
    BulkChannel saved = ch;
    ch = BulkChannel{nullptr, &m.bulks, 0};
    try {
      boost::archive::binary_iarchive ar(source, archive_flags);
      std::apply([&](auto&... v) { ((ar >> v), ...); }, values);
    } catch (...) {
      ch = saved;
      throw;
    }
    ch = saved;
  }
  return values;
}

}  // namespace newsrl::runtime::wire

#include "runtime/wire.h"

#include <cstring>
#include <stdexcept>

namespace newsrl::runtime::wire {

BulkChannel& bulk_channel() {
  thread_local BulkChannel channel;
  return channel;
}

Message begin_message(Kind kind, std::uint64_t call_id, std::uint32_t actor, std::uint32_t method,
                      std::vector<char>&& buffer) {
  Message m;
  m.frame = std::move(buffer);
  m.frame.clear();
  m.header.kind = kind;
  m.header.call_id = call_id;
  m.header.actor = actor;
  m.header.method = method;
  if (m.frame.capacity() < 256) m.frame.reserve(256);
  m.frame.resize(sizeof(Header));  // finish_message writes the header
  return m;
}

void finish_message(Message& m) {
  m.header.body_bytes = m.frame.size() - sizeof(Header);
  m.header.n_bulk = static_cast<std::uint32_t>(m.bulks.size());
  for (const Bulk& b : m.bulks) {
    const BulkSpec spec{b.bytes(), reinterpret_cast<std::uintptr_t>(b.data()) % 64};
    const char* p = reinterpret_cast<const char*>(&spec);
    m.frame.insert(m.frame.end(), p, p + sizeof spec);
  }
  std::memcpy(m.frame.data(), &m.header, sizeof(Header));
}

std::vector<BulkSpec> parse_frame(Message& m) {
  if (m.frame.size() < sizeof(Header)) throw std::runtime_error("malformed message: frame shorter than its header");
  std::memcpy(&m.header, m.frame.data(), sizeof(Header));
  const std::size_t need = sizeof(Header) + m.header.body_bytes + m.header.n_bulk * sizeof(BulkSpec);
  if (m.frame.size() != need) throw std::runtime_error("malformed message: frame size does not match its header");
  std::vector<BulkSpec> specs(m.header.n_bulk);
  if (!specs.empty()) {
    std::memcpy(specs.data(), m.frame.data() + sizeof(Header) + m.header.body_bytes, specs.size() * sizeof(BulkSpec));
  }
  return specs;
}

}  // namespace newsrl::runtime::wire

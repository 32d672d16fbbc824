#include "runtime/transport.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace newsrl::runtime {

namespace {
constexpr int kFrameTag = 1;
constexpr int kBulkTag = 2;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw std::runtime_error(std::string(what) + ": " + std::string(text, static_cast<std::size_t>(len)));
  }
}

void send_bytes(const char* data, std::size_t n, int dest, MPI_Comm comm, std::vector<MPI_Request>& requests) {
  for (std::size_t off = 0; off < n; off += kBulkChunkBytes) {
    const std::size_t len = std::min(kBulkChunkBytes, n - off);
    MPI_Request r;
    check(MPI_Isend(data + off, static_cast<int>(len), MPI_BYTE, dest, kBulkTag, comm, &r), "MPI_Isend");
    requests.push_back(r);
  }
}

void recv_bytes(char* data, std::size_t n, int source, MPI_Comm comm) {
  for (std::size_t off = 0; off < n; off += kBulkChunkBytes) {
    const std::size_t len = std::min<std::size_t>(kBulkChunkBytes, n - off);
    check(MPI_Recv(data + off, static_cast<int>(len), MPI_BYTE, source, kBulkTag, comm, MPI_STATUS_IGNORE),
          "MPI_Recv");
  }
}
}  // namespace

Transport::Transport(MPI_Comm parent) {
  check(MPI_Comm_dup(parent, &frames_), "MPI_Comm_dup");
  check(MPI_Comm_dup(parent, &bulks_), "MPI_Comm_dup");
  MPI_Comm_rank(frames_, &rank_);
  MPI_Comm_size(frames_, &size_);
  inbox_.resize(kInboxBytes);
  check(MPI_Recv_init(inbox_.data(), static_cast<int>(inbox_.size()), MPI_BYTE, MPI_ANY_SOURCE, kFrameTag, frames_,
                      &inbox_request_),
        "MPI_Recv_init");
  check(MPI_Start(&inbox_request_), "MPI_Start");
}

Transport::~Transport() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (inbox_request_ != MPI_REQUEST_NULL) {
    MPI_Cancel(&inbox_request_);
    MPI_Wait(&inbox_request_, MPI_STATUS_IGNORE);
    MPI_Request_free(&inbox_request_);
  }
  if (frames_ != MPI_COMM_NULL) MPI_Comm_free(&frames_);
  if (bulks_ != MPI_COMM_NULL) MPI_Comm_free(&bulks_);
}

wire::Message Transport::new_message(wire::Kind kind, std::uint64_t call_id, std::uint32_t actor,
                                     std::uint32_t method) {
  std::vector<char> buffer;
  if (!spare_frames_.empty()) {
    buffer = std::move(spare_frames_.back());
    spare_frames_.pop_back();
  }
  return wire::begin_message(kind, call_id, actor, method, std::move(buffer));
}

void Transport::recycle(std::vector<char>&& frame) {
  frame.clear();
  if (spare_frames_.size() < 64 && frame.capacity() <= kInboxBytes) spare_frames_.push_back(std::move(frame));
}

void Transport::send(int dest, wire::Message&& m) {
  if (m.bulks.empty() && m.frame.size() <= kInboxBytes && pending_.empty()) {
    // The common small message: an eager send completes at once, and then
    // nothing needs remembering.
    MPI_Request r;
    check(MPI_Isend(m.frame.data(), static_cast<int>(m.frame.size()), MPI_BYTE, dest, kFrameTag, frames_, &r),
          "MPI_Isend");
    int done = 0;
    check(MPI_Test(&r, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) {
      recycle(std::move(m.frame));
      return;
    }
    pending_.push_back(Pending{std::move(m), {r}});
    return;
  }
  Pending p{std::move(m), {}};
  wire::Message& msg = p.message;
  p.requests.reserve(2 + msg.bulks.size());
  MPI_Request r;
  if (msg.frame.size() <= kInboxBytes) {
    check(MPI_Isend(msg.frame.data(), static_cast<int>(msg.frame.size()), MPI_BYTE, dest, kFrameTag, frames_, &r),
          "MPI_Isend");
    p.requests.push_back(r);
  } else {
    // Too big for the inbox: the frame goes as header | bulk counts, the body
    // as the first message on the bulk communicator.
    wire::Header h = msg.header;
    h.body_apart = 1;
    std::memcpy(msg.frame.data(), &h, sizeof h);
    const std::size_t body_end = sizeof(wire::Header) + msg.header.body_bytes;
    std::vector<char> head(msg.frame.begin(), msg.frame.begin() + sizeof(wire::Header));
    head.insert(head.end(), msg.frame.begin() + static_cast<long>(body_end), msg.frame.end());
    wire::Message head_msg;
    head_msg.frame = std::move(head);
    pending_.push_back(Pending{std::move(head_msg), {}});
    check(MPI_Isend(pending_.back().message.frame.data(), static_cast<int>(pending_.back().message.frame.size()),
                    MPI_BYTE, dest, kFrameTag, frames_, &r),
          "MPI_Isend");
    pending_.back().requests.push_back(r);
    send_bytes(msg.frame.data() + sizeof(wire::Header), msg.header.body_bytes, dest, bulks_, p.requests);
  }
  for (const Bulk& b : msg.bulks) send_bytes(static_cast<const char*>(b.data()), b.bytes(), dest, bulks_, p.requests);
  pending_.push_back(std::move(p));
  retire();
}

void Transport::retire() {
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    int done = 0;
    check(MPI_Testall(static_cast<int>(p.requests.size()), p.requests.data(), &done, MPI_STATUSES_IGNORE),
          "MPI_Testall");
    if (!done) return;
    recycle(std::move(p.message.frame));
    pending_.pop_front();
  }
}

void Transport::flush() {
  for (Pending& p : pending_) {
    check(MPI_Waitall(static_cast<int>(p.requests.size()), p.requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  }
  pending_.clear();
}

std::optional<Incoming> Transport::poll() {
  int arrived = 0;
  MPI_Status status;
  check(MPI_Test(&inbox_request_, &arrived, &status), "MPI_Test");
  if (!arrived) return std::nullopt;
  int bytes = 0;
  MPI_Get_count(&status, MPI_BYTE, &bytes);
  Incoming in;
  in.source = status.MPI_SOURCE;
  wire::Header h;
  if (static_cast<std::size_t>(bytes) < sizeof h) throw std::runtime_error("malformed message: frame shorter than its header");
  std::memcpy(&h, inbox_.data(), sizeof h);
  std::vector<char>& frame = in.message.frame;
  if (h.body_apart) {
    const std::size_t counts = static_cast<std::size_t>(bytes) - sizeof h;
    frame.resize(sizeof h + h.body_bytes + counts);
    std::memcpy(frame.data(), inbox_.data(), sizeof h);
    std::memcpy(frame.data() + sizeof h + h.body_bytes, inbox_.data() + sizeof h, counts);
    check(MPI_Start(&inbox_request_), "MPI_Start");
    recv_bytes(frame.data() + sizeof h, h.body_bytes, in.source, bulks_);
  } else {
    if (!spare_frames_.empty()) {
      frame = std::move(spare_frames_.back());
      spare_frames_.pop_back();
    }
    frame.assign(inbox_.data(), inbox_.data() + bytes);
    check(MPI_Start(&inbox_request_), "MPI_Start");
  }
  const std::vector<wire::BulkSpec> specs = wire::parse_frame(in.message);
  in.message.bulks.reserve(specs.size());
  for (const wire::BulkSpec& spec : specs) {
    Bulk b = Bulk::allocate_like(spec.bytes, spec.align);
    recv_bytes(static_cast<char*>(b.data()), spec.bytes, in.source, bulks_);
    in.message.bulks.push_back(std::move(b));
  }
  return in;
}

}  // namespace newsrl::runtime

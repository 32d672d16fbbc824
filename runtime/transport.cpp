#include "runtime/transport.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/mpi_error.h"

namespace newsrl::runtime {

namespace {
constexpr int kFrameTag = 1;
constexpr int kBulkTag = 2;
// Far below the eager limit of any MPI transport (shared memory 4 KiB,
// InfiniBand 12 KiB, TCP 64 KiB).
constexpr std::size_t kSendNowBytes = 2048;

void send_bytes(const char* data, std::size_t n, int dest, MPI_Comm comm, std::vector<MPI_Request>& requests) {
  for (std::size_t off = 0; off < n; off += kBulkChunkBytes) {
    const std::size_t len = std::min(kBulkChunkBytes, n - off);
    MPI_Request r;
    check_mpi(MPI_Isend(data + off, static_cast<int>(len), MPI_BYTE, dest, kBulkTag, comm, &r), "MPI_Isend");
    requests.push_back(r);
  }
}

void recv_bytes(char* data, std::size_t n, int source, MPI_Comm comm) {
  for (std::size_t off = 0; off < n; off += kBulkChunkBytes) {
    const std::size_t len = std::min<std::size_t>(kBulkChunkBytes, n - off);
    check_mpi(MPI_Recv(data + off, static_cast<int>(len), MPI_BYTE, source, kBulkTag, comm, MPI_STATUS_IGNORE),
              "MPI_Recv");
  }
}
}  // namespace

Transport::Transport(MPI_Comm parent) {
  check_mpi(MPI_Comm_dup(parent, &frames_), "MPI_Comm_dup");
  check_mpi(MPI_Comm_dup(parent, &bulks_), "MPI_Comm_dup");
  MPI_Comm_rank(frames_, &rank_);
  MPI_Comm_size(frames_, &size_);
  for (Inbox& box : inboxes_) {
    box.buffer.resize(kInboxBytes);
    check_mpi(MPI_Recv_init(box.buffer.data(), static_cast<int>(box.buffer.size()), MPI_BYTE, MPI_ANY_SOURCE, kFrameTag,
                            frames_, &box.request),
              "MPI_Recv_init");
  }
  n_posted_ = 0;
  repost();
}

Transport::~Transport() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  for (Inbox& box : inboxes_) {
    if (box.request == MPI_REQUEST_NULL) continue;
    if (box.posted) {
      MPI_Cancel(&box.request);
      MPI_Wait(&box.request, MPI_STATUS_IGNORE);
    }
    MPI_Request_free(&box.request);
  }
  if (frames_ != MPI_COMM_NULL) MPI_Comm_free(&frames_);
  if (bulks_ != MPI_COMM_NULL) MPI_Comm_free(&bulks_);
}

wire::Message Transport::new_message(wire::Kind kind, std::uint64_t call_id, std::uint32_t actor,
                                     std::uint32_t method) {
  return wire::begin_message(kind, call_id, actor, method, spare_frame());
}

std::vector<char> Transport::spare_frame() {
  if (spare_frames_.empty()) return {};
  std::vector<char> frame = std::move(spare_frames_.back());
  spare_frames_.pop_back();
  return frame;
}

void Transport::recycle(std::vector<char>&& frame) {
  frame.clear();
  if (spare_frames_.size() < 64 && frame.capacity() <= kInboxBytes) spare_frames_.push_back(std::move(frame));
}

void Transport::send(int dest, wire::Message&& m) {
  if (dest == rank_) {
    // Bulk buffers may be borrowed from the caller's memory: the receiving
    // actor gets copies it owns, as it would from another rank.
    for (Bulk& b : m.bulks) {
      Bulk own = Bulk::allocate_like(b.bytes(), reinterpret_cast<std::uintptr_t>(b.data()) % 64);
      if (b.bytes() > 0) std::memcpy(own.data(), b.data(), b.bytes());
      b = std::move(own);
    }
    loopback_.push_back(std::move(m));
    return;
  }
  if (m.bulks.empty() && m.frame.size() <= kSendNowBytes) {
    // Small frames go by the eager protocol of every MPI transport: the send
    // returns once the bytes are copied out, and costs half a nonblocking one.
    check_mpi(MPI_Send(m.frame.data(), static_cast<int>(m.frame.size()), MPI_BYTE, dest, kFrameTag, frames_),
              "MPI_Send");
    recycle(std::move(m.frame));
    return;
  }
  // Nothing here waits or tests: completion is checked while the rank is
  // idle (progress), off the path between a message and its answer.
  Pending p{std::move(m), {}, MPI_REQUEST_NULL, {}};
  wire::Message& msg = p.message;
  if (msg.frame.size() <= kInboxBytes) {
    check_mpi(
        MPI_Isend(msg.frame.data(), static_cast<int>(msg.frame.size()), MPI_BYTE, dest, kFrameTag, frames_, &p.frame),
        "MPI_Isend");
  } else {
    // Too big for the inbox: the frame goes as header | bulk specs, the body
    // as the first message on the bulk communicator.
    wire::Header h = msg.header;
    h.body_apart = 1;
    const std::size_t specs = msg.frame.size() - sizeof h - msg.header.body_bytes;
    p.head.resize(sizeof h + specs);
    std::memcpy(p.head.data(), &h, sizeof h);
    std::memcpy(p.head.data() + sizeof h, msg.frame.data() + sizeof h + msg.header.body_bytes, specs);
    check_mpi(MPI_Isend(p.head.data(), static_cast<int>(p.head.size()), MPI_BYTE, dest, kFrameTag, frames_, &p.frame),
              "MPI_Isend");
    send_bytes(msg.frame.data() + sizeof h, msg.header.body_bytes, dest, bulks_, p.rest);
  }
  for (const Bulk& b : msg.bulks) send_bytes(static_cast<const char*>(b.data()), b.bytes(), dest, bulks_, p.rest);
  pending_.push_back(std::move(p));
}

void Transport::retire() {
  std::size_t done = 0;
  for (; done < pending_.size(); ++done) {
    Pending& p = pending_[done];
    int complete = 0;
    check_mpi(MPI_Test(&p.frame, &complete, MPI_STATUS_IGNORE), "MPI_Test");
    if (complete && !p.rest.empty()) {
      check_mpi(MPI_Testall(static_cast<int>(p.rest.size()), p.rest.data(), &complete, MPI_STATUSES_IGNORE),
                "MPI_Testall");
    }
    if (!complete) break;
    recycle(std::move(p.message.frame));
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(done));
}

void Transport::flush() {
  for (Pending& p : pending_) {
    check_mpi(MPI_Wait(&p.frame, MPI_STATUS_IGNORE), "MPI_Wait");
    check_mpi(MPI_Waitall(static_cast<int>(p.rest.size()), p.rest.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  }
  pending_.clear();
}

void Transport::repost() {
  for (int i = 0; i < 2; ++i) {
    Inbox& box = inboxes_[i];
    if (box.posted) continue;
    check_mpi(MPI_Start(&box.request), "MPI_Start");
    box.posted = true;
    order_[n_posted_++] = i;
  }
}

bool Transport::poll(Incoming& in) {
  if (!loopback_.empty()) {
    in.source = rank_;
    in.message = std::move(loopback_.front());
    loopback_.pop_front();
    return true;
  }
  if (n_posted_ == 0) repost();
  Inbox& box = inboxes_[order_[0]];
  int arrived = 0;
  MPI_Status status;
  check_mpi(MPI_Test(&box.request, &arrived, &status), "MPI_Test");
  if (!arrived) return false;
  box.posted = false;
  order_[0] = order_[1];
  --n_posted_;
  const std::vector<char>& inbox = box.buffer;
  int bytes = 0;
  MPI_Get_count(&status, MPI_BYTE, &bytes);
  in.source = status.MPI_SOURCE;
  wire::Header h;
  if (static_cast<std::size_t>(bytes) < sizeof h)
    throw std::runtime_error("malformed message: frame shorter than its header");
  std::memcpy(&h, inbox.data(), sizeof h);
  std::vector<char>& frame = in.message.frame;
  if (h.body_apart) {
    const std::size_t specs_bytes = static_cast<std::size_t>(bytes) - sizeof h;
    frame.resize(sizeof h + h.body_bytes + specs_bytes);
    std::memcpy(frame.data(), inbox.data(), sizeof h);
    std::memcpy(frame.data() + sizeof h + h.body_bytes, inbox.data() + sizeof h, specs_bytes);
    recv_bytes(frame.data() + sizeof h, h.body_bytes, in.source, bulks_);
  } else {
    frame = spare_frame();
    frame.assign(inbox.data(), inbox.data() + bytes);
  }
  if (h.n_bulk == 0 && !h.body_apart && static_cast<std::size_t>(bytes) == sizeof h + h.body_bytes) {
    in.message.header = h;  // the common case: nothing more to parse or receive
    return true;
  }
  const std::vector<wire::BulkSpec> specs = wire::parse_frame(in.message);
  in.message.bulks.reserve(specs.size());
  for (const wire::BulkSpec& spec : specs) {
    Bulk b = Bulk::allocate_like(spec.bytes, spec.align);
    recv_bytes(static_cast<char*>(b.data()), spec.bytes, in.source, bulks_);
    in.message.bulks.push_back(std::move(b));
  }
  return true;
}

}  // namespace newsrl::runtime

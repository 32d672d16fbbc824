// Moves runtime messages between ranks over MPI. A frame (header, archive,
// bulk specs) lands in one of two persistent receives, the inboxes, so that
// an idle rank polls with one MPI_Test, and re-posting the inbox just emptied
// waits until the rank is idle (off the path between a message and its
// answer) while the other inbox catches the next frame. A frame too big for
// an inbox sends its body apart. Bulk buffers follow as raw messages on a second communicator, sent
// from the caller's memory and received straight into their own storage.
#pragma once

#include <mpi.h>

#include <deque>
#include <vector>

#include "runtime/wire.h"

namespace newsrl::runtime {

struct Incoming {
  int source = -1;
  wire::Message message;
};

class Transport {
 public:
  explicit Transport(MPI_Comm parent);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // A message to fill, on recycled frame storage.
  wire::Message new_message(wire::Kind kind, std::uint64_t call_id, std::uint32_t actor = 0, std::uint32_t method = 0);
  // Starts sending a finished message; its frame and buffers stay alive here until sent.
  void send(int dest, wire::Message&& m);
  // Fills `in` with the next arrived message, its bulk buffers received;
  // false when none has arrived.
  bool poll(Incoming& in);
  // Idle-time work: re-posts the emptied inbox, retires completed sends.
  void progress() {
    if (n_posted_ < 2) repost();
    if (!pending_.empty()) retire();
  }
  // Waits for every pending send.
  void flush();
  bool sending() const { return !pending_.empty(); }
  // Hands a received frame's storage back for reuse.
  void recycle(std::vector<char>&& frame);

 private:
  struct Pending {
    wire::Message message;   // alive until MPI is done with it
    std::vector<char> head;  // the frame sent instead, when the body goes apart
    MPI_Request frame;
    std::vector<MPI_Request> rest;  // body apart, bulk buffers
  };
  void retire();
  // Messages a rank sends itself (the driver calling its own actors) skip
  // MPI: a blocking send to oneself waits for a posted receive, and both
  // inboxes may be full while the rank is busy sending (a deadlock seen
  // with 2 KiB frames). They wait here, in order, for poll().
  std::deque<wire::Message> loopback_;
  std::vector<char> spare_frame();  // recycled storage, or an empty vector

  MPI_Comm frames_ = MPI_COMM_NULL;
  MPI_Comm bulks_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  void repost();

  struct Inbox {
    std::vector<char> buffer;
    MPI_Request request = MPI_REQUEST_NULL;
    bool posted = false;
  };
  Inbox inboxes_[2];
  // Indices of the posted inboxes in the order they were posted: MPI fills
  // posted receives in that order, so frames are read in the order sent.
  int order_[2] = {0, 1};
  int n_posted_ = 0;
  std::vector<Pending> pending_;  // in send order; usually 0 to 2
  std::vector<std::vector<char>> spare_frames_;
};

// Frames up to this size arrive in an inbox in one message.
inline constexpr std::size_t kInboxBytes = 256 * 1024;
// Bulk buffers above this size travel as several MPI messages (counts are int).
inline constexpr std::size_t kBulkChunkBytes = std::size_t{1} << 30;

}  // namespace newsrl::runtime

// Moves runtime messages between ranks over MPI. A frame (header, archive,
// bulk byte counts) lands in a persistent receive, the inbox, so that an idle
// rank polls with one MPI_Test; a frame too big for the inbox sends its body
// apart. Bulk buffers follow as raw messages on a second communicator, sent
// from the caller's memory and received straight into their own storage.
#pragma once

#include <optional>
#include <vector>

#include <mpi.h>

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
  // The next arrived message with its bulk buffers received, or nothing.
  std::optional<Incoming> poll();
  // Retires completed sends.
  void progress() {
    if (!pending_.empty()) retire();
  }
  // Waits for every pending send.
  void flush();
  bool sending() const { return !pending_.empty(); }
  // Hands a received frame's storage back for reuse.
  void recycle(std::vector<char>&& frame);

 private:
  struct Pending {
    wire::Message message;          // alive until MPI is done with it
    std::vector<char> head;         // the frame sent instead, when the body goes apart
    MPI_Request frame;
    std::vector<MPI_Request> rest;  // body apart, bulk buffers
  };
  void retire();

  MPI_Comm frames_ = MPI_COMM_NULL;
  MPI_Comm bulks_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  std::vector<char> inbox_;
  MPI_Request inbox_request_ = MPI_REQUEST_NULL;
  std::vector<Pending> pending_;  // in send order; usually 0 to 2
  std::vector<std::vector<char>> spare_frames_;
};

// Frames up to this size arrive in the inbox in one message.
inline constexpr std::size_t kInboxBytes = 256 * 1024;
// Bulk buffers above this size travel as several MPI messages (counts are int).
inline constexpr std::size_t kBulkChunkBytes = std::size_t{1} << 30;

}  // namespace newsrl::runtime

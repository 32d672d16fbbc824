#include "runtime/group_checkpoint.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "runtime/mpi_error.h"

namespace newsrl::runtime {

namespace {

constexpr int kTag = 7301;
constexpr std::int64_t kSliceBytes = 4 << 20;

struct Block {
  std::int64_t row0, rows;
};

}  // namespace

GroupCheckpointWriter::GroupCheckpointWriter(Group& group, std::string path) : group_(group) {
  if (is_writer()) writer_ = std::make_unique<CheckpointWriter>(std::move(path));
}

GroupCheckpointWriter::~GroupCheckpointWriter() = default;

void GroupCheckpointWriter::set_attribute(const std::string& object, const std::string& name,
                                          const std::string& value) {
  if (writer_) writer_->set_attribute(object, name, value);
}

void GroupCheckpointWriter::write_shard(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape,
                                        std::int64_t row0, std::int64_t rows, const void* data) {
  const int size = group_.size(), me = group_.rank();
  std::vector<Block> blocks(static_cast<std::size_t>(size));
  Block mine{row0, rows};
  check_mpi(MPI_Allgather(&mine, 2, MPI_INT64_T, blocks.data(), 2, MPI_INT64_T, group_.comm()), "MPI_Allgather");
  // The blocks, in row order, must tile [0, total).
  const std::int64_t total = row_count(shape);
  std::vector<int> order(static_cast<std::size_t>(size));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return blocks[a].row0 < blocks[b].row0; });
  std::int64_t next = 0;
  for (int r : order) {
    const Block& b = blocks[static_cast<std::size_t>(r)];
    if (b.rows == 0) continue;
    if (b.rows < 0 || b.row0 != next) {
      throw std::invalid_argument(dataset + ": the members' blocks of rows do not tile the tensor (member " +
                                  std::to_string(r) + " holds rows " + std::to_string(b.row0) + ".." +
                                  std::to_string(b.row0 + b.rows) + ", expected to start at " + std::to_string(next) + ")");
    }
    next += b.rows;
  }
  if (next != total) {
    throw std::invalid_argument(dataset + ": the members' blocks cover " + std::to_string(next) + " of " +
                                std::to_string(total) + " rows");
  }
  const std::size_t row_bytes = static_cast<std::size_t>(row_elements(shape)) * h5_type_size(type);
  const std::int64_t slice_rows = std::max<std::int64_t>(1, kSliceBytes / static_cast<std::int64_t>(std::max<std::size_t>(1, row_bytes)));
  if (row_bytes > static_cast<std::size_t>(INT_MAX)) throw std::invalid_argument(dataset + ": a row over 2 GiB");
  // The pieces of a block the writer asks for: its intersections with the slices.
  auto for_each_piece = [&](std::int64_t from, std::int64_t count, auto&& fn) {
    for (std::int64_t r = from; r < from + count;) {
      const std::int64_t slice_end = (r / slice_rows + 1) * slice_rows;
      const std::int64_t end = std::min(from + count, slice_end);
      fn(r, end - r);
      r = end;
    }
  };
  if (!is_writer()) {
    for_each_piece(row0, rows, [&](std::int64_t r, std::int64_t n) {
      const auto* p = static_cast<const unsigned char*>(data) + static_cast<std::size_t>(r - row0) * row_bytes;
      check_mpi(MPI_Send(p, static_cast<int>(static_cast<std::size_t>(n) * row_bytes), MPI_BYTE, 0, kTag,
                         group_.comm()),
                "MPI_Send");
    });
    return;
  }
  writer_->write_rows(dataset, type, shape, slice_rows, [&](std::int64_t r0, std::int64_t n, void* out) {
    for (int r : order) {
      const Block& b = blocks[static_cast<std::size_t>(r)];
      const std::int64_t lo = std::max(r0, b.row0), hi = std::min(r0 + n, b.row0 + b.rows);
      if (lo >= hi) continue;
      auto* dst = static_cast<unsigned char*>(out) + static_cast<std::size_t>(lo - r0) * row_bytes;
      const std::size_t bytes = static_cast<std::size_t>(hi - lo) * row_bytes;
      if (r == me) {
        std::memcpy(dst, static_cast<const unsigned char*>(data) + static_cast<std::size_t>(lo - row0) * row_bytes,
                    bytes);
      } else {
        check_mpi(MPI_Recv(dst, static_cast<int>(bytes), MPI_BYTE, r, kTag, group_.comm(), MPI_STATUS_IGNORE),
                  "MPI_Recv");
      }
    }
  });
}

void GroupCheckpointWriter::commit() {
  if (writer_) {
    writer_->commit();
    writer_.reset();
  }
  check_mpi(MPI_Barrier(group_.comm()), "MPI_Barrier");
}

}  // namespace newsrl::runtime

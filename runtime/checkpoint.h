// The checkpoint store: one HDF5 file per checkpoint, written atomically and
// checksummed, and run folders that keep the latest and the best ones.
//
// A checkpoint is written into a temporary file beside its target; commit()
// flushes, fsyncs, renames it into place and fsyncs the folder, so a crash at
// any moment leaves either the old file or the new one, never half of one.
// Every dataset carries a `checksum` attribute, "crc32:xxxxxxxx" (zlib's
// CRC-32 of its bytes as stored, little-endian, in row order), and the root
// a `format` attribute. The layout of what newsrl stores inside is
// docs/checkpoint-format.md; this file knows nothing of models.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/h5_file.h"

namespace newsrl::runtime {

inline constexpr const char* kCheckpointFormat = "newsrl-checkpoint/1";

class CheckpointWriter {
 public:
  explicit CheckpointWriter(std::string path);
  ~CheckpointWriter();  // without commit(): the temporary file is removed, the target untouched
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // A whole dataset from memory.
  void write(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape, const void* data);
  // A dataset written slice by slice: fill(row0, rows, out) puts rows
  // [row0, row0 + rows) into out (rows_per_slice rows at most), so a tensor
  // never has to be whole in memory.
  using FillRows = std::function<void(std::int64_t row0, std::int64_t rows, void* out)>;
  void write_rows(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape,
                  std::int64_t rows_per_slice, const FillRows& fill);
  // A string attribute; a missing object is created as a group.
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void commit();

 private:
  std::string path_, tmp_;
  std::unique_ptr<H5File> file_;
};

// Reads a whole dataset and checks its checksum: a mismatch throws H5Error
// "<file>: dataset <name> is damaged (checksum ...)".
void read_verified(const H5File& file, const std::string& dataset, H5Type type, void* out, std::int64_t numel);

// Reads a dataset slice by slice (about 4 MiB of rows at a time) and checks
// its checksum once the last slice is read: next() returns the rows it put
// into the buffer, 0 at the end, and throws H5Error "... is damaged" when the
// bytes do not match. For checking, statistics and diffs of tensors of any size.
class DatasetReader {
 public:
  DatasetReader(const H5File& file, std::string dataset);
  H5Type type() const { return type_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  std::int64_t row_elements() const { return per_row_; }
  std::int64_t next(std::vector<unsigned char>& buffer);

 private:
  const H5File& file_;
  std::string dataset_;
  H5Type type_;
  std::vector<std::int64_t> shape_;
  std::int64_t per_row_, rows_, slice_rows_, row_ = 0;
  std::uint32_t sum_ = 0;
  std::string recorded_;
};

// Every dataset under `group` (recursively), as full paths, sorted.
std::vector<std::string> list_datasets(const H5File& file, const std::string& group = "/");

// Recomputes every checksum (reading in slices) and checks the root's format
// attribute. Returns nullopt when intact, otherwise one line naming the file
// and the first damaged dataset or what is missing. Never throws on damage.
std::optional<std::string> verify_checkpoint(const std::string& path);

// Writes a small text file atomically (temporary file, fsync, rename, fsync of the folder).
void write_file_atomically(const std::string& path, const std::string& text);

// A run folder's checkpoints: <folder>/checkpoints/step-00000100.h5, a
// `latest` file naming the newest complete one (updated only after a
// complete write), and retention: the last `keep_last` plus the best by a
// metric (when given) are kept, the others deleted.
class RunCheckpoints {
 public:
  struct Options {
    int keep_last = 3;
    bool higher_is_better = true;  // for the best-by-metric checkpoint
  };
  RunCheckpoints(std::string folder, Options options);

  std::string path_for(std::int64_t step) const;
  // Call after a CheckpointWriter for path_for(step) has committed: records
  // the metric, moves `latest`, applies retention.
  void committed(std::int64_t step, std::optional<double> metric = std::nullopt);
  // The newest complete checkpoint, or nullopt when there is none.
  std::optional<std::string> latest() const;
  std::optional<std::string> best() const;

 private:
  struct Entry {
    std::int64_t step;
    std::optional<double> metric;
  };
  std::vector<Entry> load_index() const;
  std::string folder_, dir_;
  Options options_;
};

}  // namespace newsrl::runtime

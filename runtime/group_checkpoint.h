// A checkpoint written by a whole role group (e.g. the learners), each member
// holding a block of rows of every tensor (its shard). The group's first
// member writes the file (atomically, checksummed: runtime/checkpoint.h); the
// others send their rows to it a slice of about 4 MiB at a time, so no rank
// ever holds a whole tensor and the file is the same, byte for byte, as one
// written from a single rank.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/checkpoint.h"
#include "runtime/group.h"

namespace newsrl::runtime {

class GroupCheckpointWriter {
 public:
  // Collective over the group.
  GroupCheckpointWriter(Group& group, std::string path);
  ~GroupCheckpointWriter();

  // Collective: every member passes its rows [row0, row0 + rows) of the
  // tensor of `shape` (rows = 0 for a member that holds none); the blocks
  // must tile the rows exactly, else every member throws the same
  // std::invalid_argument.
  void write_shard(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape, std::int64_t row0,
                   std::int64_t rows, const void* data);
  // Only the writer's call counts (an attribute is small: give it on every member).
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  // Collective: returns on every member once the file is in place.
  void commit();
  bool is_writer() const { return group_.rank() == 0; }

 private:
  Group& group_;
  std::unique_ptr<CheckpointWriter> writer_;  // on the group's first member
};

}  // namespace newsrl::runtime

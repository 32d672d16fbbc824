// A checkpoint written by a role group from shards of rows: the file equals,
// byte for byte and checksum for checksum, the one a single rank writes;
// blocks that do not tile a tensor are one clear error on every member.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "runtime/cluster.h"
#include "runtime/group_checkpoint.h"

using namespace newsrl::runtime;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The test's tensors, the same on every rank: values from their index.
std::vector<float> big() {
  std::vector<float> v(40000 * 37);  // 5.9 MB: more than one 4 MiB slice
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 9973) * 0.5f - 7.0f;
  return v;
}
const std::vector<std::uint16_t> kSmall = {1, 2, 3, 4, 5, 6, 7};
const std::int64_t kStep = 42;

// This member's block of `rows` rows: an uneven split, the last member gets the rest.
std::pair<std::int64_t, std::int64_t> block(std::int64_t rows, int member, int members) {
  const std::int64_t each = rows / members;
  const std::int64_t row0 = member * each;
  return {row0, member == members - 1 ? rows - row0 : each};
}

class ShardWriter {
 public:
  explicit ShardWriter(ActorContext& ctx) : group_(ctx.group) {}

  std::string write(std::string path, bool break_tiling) {
    try {
      GroupCheckpointWriter w(group_, path);
      const std::vector<float> b = big();
      auto [r0, n] = block(40000, group_.rank(), group_.size());
      if (break_tiling && group_.rank() == 0 && n > 0) n -= 1;  // a hole
      w.write_shard("/model/big", H5Type::f32, {40000, 37}, r0, n, b.data() + r0 * 37);
      auto [s0, sn] = block(7, group_.rank(), group_.size());
      w.write_shard("/model/small", H5Type::bf16, {7}, s0, sn, kSmall.data() + s0);
      // A scalar: one row, held by the last member.
      const bool last = group_.rank() == group_.size() - 1;
      w.write_shard("/state/global_step", H5Type::i64, {}, 0, last ? 1 : 0, &kStep);
      w.set_attribute("/", "config", "{}");
      w.commit();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }
  static void expose(Methods<ShardWriter>& m) { m.def("write", &ShardWriter::write); }

 private:
  Group& group_;
};

}  // namespace

TEST(GroupCheckpoint, ShardsMakeTheSameFileAsOneWriter) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add_all("learner"));
  auto learners = cluster.spawn<ShardWriter>("learner");
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  const fs::path dir = fs::temp_directory_path() / ("newsrl-group-ckpt-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::vector<Future<std::string>> f;
  for (auto& h : learners) f.push_back(h.call(&ShardWriter::write, (dir / "group.h5").string(), false));
  for (const std::string& error : get_all(f, 120s)) EXPECT_EQ(error, "");
  {  // the same tensors from one writer
    CheckpointWriter one((dir / "one.h5").string());
    const std::vector<float> b = big();
    one.write("/model/big", H5Type::f32, {40000, 37}, b.data());
    one.write("/model/small", H5Type::bf16, {7}, kSmall.data());
    one.write("/state/global_step", H5Type::i64, {}, &kStep);
    one.commit();
  }
  EXPECT_EQ(verify_checkpoint((dir / "group.h5").string()), std::nullopt);
  const H5File a((dir / "group.h5").string(), H5File::Mode::read), b((dir / "one.h5").string(), H5File::Mode::read);
  for (const char* name : {"/model/big", "/model/small", "/state/global_step"}) {
    EXPECT_EQ(a.attribute(name, "checksum"), b.attribute(name, "checksum")) << name;
  }
  std::vector<float> back(40000 * 37);
  read_verified(a, "/model/big", H5Type::f32, back.data(), 40000 * 37);
  EXPECT_EQ(back, big());

  // A hole in the tiling: every member reports it, and nothing is written.
  f.clear();
  for (auto& h : learners) f.push_back(h.call(&ShardWriter::write, (dir / "bad.h5").string(), true));
  for (const std::string& error : get_all(f, 120s)) {
    EXPECT_NE(error.find("/model/big: the members' blocks"), std::string::npos) << error;
  }
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));
  fs::remove_all(dir);
}

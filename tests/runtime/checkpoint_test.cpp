// The checkpoint store: checksums find damage, writes are atomic even when the
// writer is killed mid-file, slices equal whole writes, run folders keep the
// latest and the best.
#include "runtime/checkpoint.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

using namespace newsrl::runtime;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/newsrl-ckpt-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::vector<float> ramp(std::size_t n, float from = 0) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

void write_small(const std::string& path, float from) {
  CheckpointWriter w(path);
  const std::vector<float> a = ramp(12, from);
  const std::vector<std::int64_t> step = {7};
  w.write("/model/a", H5Type::f32, {3, 4}, a.data());
  w.write("/state/global_step", H5Type::i64, {}, step.data());
  w.commit();
}

// Overwrites one byte of a file at `offset` with its complement.
void flip_byte(const std::string& path, std::streamoff offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(~c));
}

// Where a float's bytes sit in the file: the first occurrence of the pattern.
std::streamoff find_bytes(const std::string& path, const void* pattern, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return static_cast<std::streamoff>(all.find(std::string(static_cast<const char*>(pattern), n)));
}

}  // namespace

TEST(Checkpoint, AnIntactFileVerifiesAndReadsBack) {
  TempDir dir;
  write_small(dir / "a.h5", 0);
  EXPECT_EQ(verify_checkpoint(dir / "a.h5"), std::nullopt);
  const H5File f(dir / "a.h5", H5File::Mode::read);
  EXPECT_EQ(list_datasets(f), (std::vector<std::string>{"/model/a", "/state/global_step"}));
  std::vector<float> a(12);
  read_verified(f, "/model/a", H5Type::f32, a.data(), 12);
  EXPECT_EQ(a, ramp(12));
  std::int64_t step = 0;
  read_verified(f, "/state/global_step", H5Type::i64, &step, 1);
  EXPECT_EQ(step, 7);
  EXPECT_EQ(f.attribute("/", "format"), kCheckpointFormat);
}

TEST(Checkpoint, AFlippedByteNamesTheDamagedDataset) {
  TempDir dir;
  write_small(dir / "a.h5", 1000);  // values unlikely to occur in HDF5's own metadata
  const float probe[3] = {1005, 1006, 1007};
  const std::streamoff at = find_bytes(dir / "a.h5", probe, sizeof probe);
  ASSERT_GT(at, 0);
  flip_byte(dir / "a.h5", at + 5);
  const auto damage = verify_checkpoint(dir / "a.h5");
  ASSERT_TRUE(damage.has_value());
  EXPECT_NE(damage->find("dataset /model/a is damaged (checksum"), std::string::npos) << *damage;
  const H5File f(dir / "a.h5", H5File::Mode::read);
  std::vector<float> a(12);
  EXPECT_THROW(read_verified(f, "/model/a", H5Type::f32, a.data(), 12), H5Error);
}

TEST(Checkpoint, TruncatedOrForeignFilesAreOneLineNotACrash) {
  TempDir dir;
  write_small(dir / "a.h5", 0);
  fs::resize_file(dir / "a.h5", fs::file_size(dir / "a.h5") / 2);
  auto damage = verify_checkpoint(dir / "a.h5");
  ASSERT_TRUE(damage.has_value());
  EXPECT_EQ(damage->find('\n'), std::string::npos);
  EXPECT_EQ(damage->rfind(dir / "a.h5", 0), 0u) << *damage;
  std::ofstream(dir / "text.h5") << "hello";
  damage = verify_checkpoint(dir / "text.h5");
  ASSERT_TRUE(damage.has_value());
  EXPECT_NE(damage->find("not an HDF5 file"), std::string::npos) << *damage;
  EXPECT_TRUE(verify_checkpoint(dir / "missing.h5").has_value());
  {  // an HDF5 file that is no checkpoint
    H5File plain(dir / "plain.h5", H5File::Mode::create);
    const float x = 1;
    plain.write_f32("/x", {1}, &x);
  }
  damage = verify_checkpoint(dir / "plain.h5");
  ASSERT_TRUE(damage.has_value());
  EXPECT_NE(damage->find("not a newsrl checkpoint"), std::string::npos) << *damage;
}

TEST(Checkpoint, SlicesOfRowsEqualAWholeWrite) {
  TempDir dir;
  const std::vector<float> data = ramp(7 * 5);
  {
    CheckpointWriter w(dir / "whole.h5");
    w.write("/t", H5Type::f32, {7, 5}, data.data());
    w.commit();
  }
  {
    CheckpointWriter w(dir / "sliced.h5");
    w.write_rows("/t", H5Type::f32, {7, 5}, 3, [&](std::int64_t row0, std::int64_t rows, void* out) {
      std::copy_n(data.begin() + row0 * 5, rows * 5, static_cast<float*>(out));
    });
    w.commit();
  }
  const H5File a(dir / "whole.h5", H5File::Mode::read), b(dir / "sliced.h5", H5File::Mode::read);
  EXPECT_EQ(a.attribute("/t", "checksum"), b.attribute("/t", "checksum"));
  std::vector<float> back(35), rows(10);
  read_verified(b, "/t", H5Type::f32, back.data(), 35);
  EXPECT_EQ(back, data);
  b.read_rows("/t", H5Type::f32, 4, 2, rows.data());
  EXPECT_EQ(rows, std::vector<float>(data.begin() + 20, data.begin() + 30));
}

TEST(Checkpoint, BFloat16IsUint16WithADtypeAttribute) {
  TempDir dir;
  const std::vector<std::uint16_t> bits = {0x3f80, 0xc000, 0x0000};  // 1, -2, 0
  {
    CheckpointWriter w(dir / "b.h5");
    w.write("/w", H5Type::bf16, {3}, bits.data());
    w.commit();
  }
  const H5File f(dir / "b.h5", H5File::Mode::read);
  EXPECT_EQ(f.type("/w"), H5Type::bf16);
  EXPECT_EQ(f.attribute("/w", "dtype"), "bfloat16");
  std::vector<std::uint16_t> back(3);
  read_verified(f, "/w", H5Type::bf16, back.data(), 3);
  EXPECT_EQ(back, bits);
  std::vector<float> wrong(3);
  EXPECT_THROW(f.read("/w", H5Type::f32, wrong.data(), 3), H5Error);
}

TEST(Checkpoint, AnUncommittedWriterLeavesNothingBehind) {
  TempDir dir;
  write_small(dir / "a.h5", 0);
  {
    CheckpointWriter w(dir / "a.h5");
    const std::vector<float> other = ramp(12, 50);
    w.write("/model/a", H5Type::f32, {3, 4}, other.data());
  }  // no commit
  EXPECT_EQ(verify_checkpoint(dir / "a.h5"), std::nullopt);
  std::vector<float> a(12);
  read_verified(H5File(dir / "a.h5", H5File::Mode::read), "/model/a", H5Type::f32, a.data(), 12);
  EXPECT_EQ(a, ramp(12));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
}

TEST(Checkpoint, AWriterKilledMidFileLeavesThePreviousCheckpointAndLatest) {
  TempDir dir;
  RunCheckpoints run(dir.path.string(), {});
  write_small(run.path_for(1), 0);
  run.committed(1);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a writer that dies half way through a 64 MiB tensor
    RunCheckpoints again(dir.path.string(), {});
    CheckpointWriter w(again.path_for(2));
    w.write_rows("/model/big", H5Type::f32, {4096, 4096}, 256, [&](std::int64_t row0, std::int64_t rows, void* out) {
      std::fill_n(static_cast<float*>(out), rows * 4096, 1.0f);
      if (row0 >= 2048) raise(SIGKILL);
    });
    w.commit();
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(run.latest(), run.path_for(1));
  EXPECT_FALSE(fs::exists(run.path_for(2)));
  EXPECT_EQ(verify_checkpoint(*run.latest()), std::nullopt);
}

TEST(Checkpoint, RunFoldersKeepTheLastKAndTheBest) {
  TempDir dir;
  RunCheckpoints run(dir.path.string(), {.keep_last = 2, .higher_is_better = true});
  EXPECT_EQ(run.latest(), std::nullopt);
  const double metrics[] = {0.1, 0.9, 0.3, 0.2, 0.4};
  for (int step = 1; step <= 5; ++step) {
    write_small(run.path_for(step * 10), static_cast<float>(step));
    run.committed(step * 10, metrics[step - 1]);
  }
  EXPECT_EQ(run.latest(), run.path_for(50));
  EXPECT_EQ(run.best(), run.path_for(20));
  for (int step = 1; step <= 5; ++step) {
    EXPECT_EQ(fs::exists(run.path_for(step * 10)), step == 2 || step >= 4) << "step " << step * 10;
  }
}

TEST(Checkpoint, TheSameContentGivesTheSameBytes) {
  // No modification times in the file: reproducible runs give identical files.
  TempDir dir;
  write_small(dir / "a.h5", 3);
  sleep(1);
  write_small(dir / "b.h5", 3);
  std::ifstream a(dir / "a.h5", std::ios::binary), b(dir / "b.h5", std::ios::binary);
  const std::string sa((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  const std::string sb((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
  EXPECT_EQ(sa, sb);
}

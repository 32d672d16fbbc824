// Hugging Face folders in and out: the PyTorch twin's weights written as
// safetensors by tests/reference/qwen2_reference.py (sharded float32; one
// file of BF16 matrices and F16 vectors) import exactly and give the twin's
// logits; export and import again round-trips; bad folders are one line.
#include "models/hf_interop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture.h"
#include "models/model_file.h"
#include "models/safetensors.h"
#include "runtime/checkpoint.h"

using namespace newsrl;
using namespace newsrl::models;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = NEWSRL_TEST_FIXTURES;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/newsrl-hf-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void expect_equal(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.numel(), want.numel()) << what;
  EXPECT_EQ(std::memcmp(got.raw(), want.raw(), want.bytes()), 0) << what << " differs";
}

std::string import_error(const std::string& folder, const std::string& out) {
  std::ostringstream quiet;
  try {
    import_hf(folder, out, "auto", quiet);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HfInterop, ShardedFloat32ImportsExactlyAndGivesTheTwinsLogits) {
  TempDir dir;
  std::ostringstream quiet;
  const HfImportSummary s = import_hf(kFixtures + "/hf_tiny_f32", dir / "m.h5", "auto", quiet);
  EXPECT_EQ(s.ignored, 1);  // the tied model's lm_head.weight
  EXPECT_EQ(runtime::verify_checkpoint(dir / "m.h5"), std::nullopt);
  CausalLM m = load_model(dir / "m.h5");
  const newsrl::testing::Fixture fx(kFixtures + "/qwen2_tiny.bin");
  for (Parameter* p : m.parameters()) expect_equal(p->value, fx.tensor("param/" + p->name), p->name);
  Graph g;
  const Tensor logits = m.logits(g, fx.tensor("input_ids"), false).tensor();
  const Tensor want = fx.tensor("logits");
  ASSERT_EQ(logits.numel(), want.numel());
  for (std::int64_t i = 0; i < want.numel(); ++i) {
    ASSERT_NEAR(logits.data<float>()[i], want.data<float>()[i], 2e-5 + 1e-4 * std::abs(want.data<float>()[i])) << i;
  }
}

TEST(HfInterop, BFloat16AndFloat16ImportAsTheirRoundedValues) {
  TempDir dir;
  std::ostringstream quiet;
  import_hf(kFixtures + "/hf_tiny_bf16", dir / "m.h5", "auto", quiet);
  {
    const runtime::H5File f(dir / "m.h5", runtime::H5File::Mode::read);
    EXPECT_EQ(f.type("/model/model.embed_tokens.weight"), runtime::H5Type::bf16);
    EXPECT_EQ(f.type("/model/model.norm.weight"), runtime::H5Type::f32);  // F16 widens to float32
  }
  CausalLM m = load_model(dir / "m.h5");
  const newsrl::testing::Fixture fx(kFixtures + "/qwen2_tiny.bin");
  for (Parameter* p : m.parameters()) expect_equal(p->value, fx.tensor("hf_mixed/" + p->name), p->name);
}

TEST(HfInterop, ExportThenImportRoundTrips) {
  TempDir dir;
  std::ostringstream quiet;
  import_hf(kFixtures + "/hf_tiny_f32", dir / "m.h5", "auto", quiet);
  export_hf(dir / "m.h5", dir / "hf", "auto", 5'000'000'000ull, quiet);
  EXPECT_TRUE(fs::exists(dir / "hf/model.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "hf/model.safetensors.index.json"));
  import_hf(dir / "hf", dir / "again.h5", "auto", quiet);
  const CausalLM a = load_model(dir / "m.h5"), b = load_model(dir / "again.h5");
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    expect_equal(b.parameters()[i]->value, a.parameters()[i]->value, a.parameters()[i]->name);
  }
  // bfloat16 in small shards: an index, several files, values rounded once.
  export_hf(dir / "m.h5", dir / "hf16", "bfloat16", 10'000, quiet);
  EXPECT_TRUE(fs::exists(dir / "hf16/model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(dir / "hf16/model-00002-of-00005.safetensors") ||
              fs::exists(dir / "hf16/model-00002-of-00006.safetensors") ||
              fs::exists(dir / "hf16/model-00002-of-00004.safetensors"));
  import_hf(dir / "hf16", dir / "16.h5", "auto", quiet);
  const CausalLM c = load_model(dir / "16.h5");
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    const Tensor& w = a.parameters()[i]->value;
    for (std::int64_t k = 0; k < w.numel(); ++k) {
      ASSERT_EQ(c.parameters()[i]->value.data<float>()[k], kernels::bf16::from_float(w.data<float>()[k]).to_float());
    }
  }
}

TEST(HfInterop, BadFoldersAreOneClearLine) {
  TempDir dir;
  const std::string src = kFixtures + "/hf_tiny_bf16";
  EXPECT_NE(import_error(dir / "nowhere", dir / "x.h5").find("not a folder"), std::string::npos);
  // No weights.
  fs::create_directories(dir / "a");
  fs::copy_file(src + "/config.json", dir / "a/config.json");
  EXPECT_NE(import_error(dir / "a", dir / "x.h5").find("no model.safetensors"), std::string::npos);
  // A truncated safetensors file.
  {
    std::ifstream in(src + "/model.safetensors", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir / "a/model.safetensors", std::ios::binary) << all.substr(0, all.size() / 2);
  }
  EXPECT_NE(import_error(dir / "a", dir / "x.h5").find("outside the file (truncated?)"), std::string::npos)
      << import_error(dir / "a", dir / "x.h5");
  // Not a safetensors file at all.
  std::ofstream(dir / "a/model.safetensors", std::ios::binary) << "this is not a safetensors file";
  EXPECT_NE(import_error(dir / "a", dir / "x.h5").find("model.safetensors: "), std::string::npos);
  // A config that disagrees with the tensors' shapes.
  fs::create_directories(dir / "b");
  fs::copy_file(src + "/model.safetensors", dir / "b/model.safetensors");
  {
    std::ifstream in(src + "/config.json");
    nlohmann::json c = nlohmann::json::parse(in);
    c["intermediate_size"] = 64;
    std::ofstream(dir / "b/config.json") << c.dump();
  }
  EXPECT_NE(import_error(dir / "b", dir / "x.h5").find("tensor model.layers.0.mlp.gate_proj.weight has shape [48, 32], the config needs [64, 32]"),
            std::string::npos)
      << import_error(dir / "b", dir / "x.h5");
  // A missing tensor: more layers in the config than in the file.
  {
    std::ifstream in(src + "/config.json");
    nlohmann::json c = nlohmann::json::parse(in);
    c["num_hidden_layers"] = 3;
    std::ofstream(dir / "b/config.json") << c.dump();
  }
  EXPECT_NE(import_error(dir / "b", dir / "x.h5").find("missing tensor model.layers.2."), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "x.h5"));  // nothing written by a failed import
}

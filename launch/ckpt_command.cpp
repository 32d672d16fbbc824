#include "launch/ckpt_command.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/encoder_classifier_file.h"
#include "models/hf_interop.h"
#include "models/model_file.h"
#include "runtime/checkpoint.h"

namespace newsrl::launch {

namespace {

using runtime::DatasetReader;
using runtime::H5File;
using runtime::H5Type;

struct Flags {
  std::string file, other, out, dtype = "auto";
  double max_shard_gb = 5;
  bool json = false, stats = false;
};

// The values of a slice as doubles, whatever the stored type.
double value_at(H5Type type, const unsigned char* p, std::int64_t i) {
  switch (type) {
    case H5Type::f32:
      return reinterpret_cast<const float*>(p)[i];
    case H5Type::bf16:
      return kernels::bf16{reinterpret_cast<const std::uint16_t*>(p)[i]}.to_float();
    case H5Type::i32:
      return reinterpret_cast<const std::int32_t*>(p)[i];
    case H5Type::i64:
      return static_cast<double>(reinterpret_cast<const std::int64_t*>(p)[i]);
    case H5Type::u64:
      return static_cast<double>(reinterpret_cast<const std::uint64_t*>(p)[i]);
    case H5Type::u8:
      return p[i];
  }
  return 0;
}

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  return runtime::row_count(shape) * runtime::row_elements(shape);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Opens a file that must be a newsrl checkpoint.
const H5File& open_checkpoint(std::unique_ptr<H5File>& holder, const std::string& path) {
  holder = std::make_unique<H5File>(path, H5File::Mode::read);
  if (!holder->has_attribute("/", "format") || holder->attribute("/", "format") != runtime::kCheckpointFormat) {
    throw runtime::H5Error(path + ": not a newsrl checkpoint (no format attribute " +
                           std::string(runtime::kCheckpointFormat) + " on /)");
  }
  return *holder;
}

nlohmann::json stats_of(const H5File& f, const std::string& dataset) {
  DatasetReader reader(f, dataset);
  std::vector<unsigned char> buffer;
  double sum = 0, sum_sq = 0, lo = INFINITY, hi = -INFINITY;
  std::int64_t finite = 0, nan = 0, inf = 0;
  for (std::int64_t rows; (rows = reader.next(buffer)) > 0;) {
    for (std::int64_t i = 0; i < rows * reader.row_elements(); ++i) {
      const double v = value_at(reader.type(), buffer.data(), i);
      if (std::isnan(v)) {
        ++nan;
      } else if (std::isinf(v)) {
        ++inf;
      } else {
        ++finite;
        sum += v;
        sum_sq += v * v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  const double mean = finite ? sum / static_cast<double>(finite) : NAN;
  const double var = finite ? std::max(0.0, sum_sq / static_cast<double>(finite) - mean * mean) : NAN;
  return {{"mean", mean}, {"std", std::sqrt(var)}, {"min", finite ? lo : NAN}, {"max", finite ? hi : NAN},
          {"nan", nan},   {"inf", inf}};
}

std::int64_t scalar_or(const H5File& f, const std::string& dataset, std::int64_t fallback) {
  if (!f.has(dataset)) return fallback;
  std::int64_t v = 0;
  runtime::read_verified(f, dataset, H5Type::i64, &v, 1);
  return v;
}

int ls(const Flags& o) {
  std::unique_ptr<H5File> holder;
  const H5File& f = open_checkpoint(holder, o.file);
  nlohmann::json out;
  out["file"] = o.file;
  std::int64_t model_params = 0;
  const bool classifier = f.has_attribute("/", "model_kind") && f.attribute("/", "model_kind") == "encoder_classifier";
  if (f.has_attribute("/", "model_kind")) out["model_kind"] = f.attribute("/", "model_kind");
  if (f.has_attribute("/", "config")) {
    out["config"] = classifier ? models::read_classifier_config(f).to_json() : models::read_config(f).to_json();
  }
  out["step"] = scalar_or(f, "/state/global_step", -1);
  if (f.has("/run") && f.has_attribute("/run", "created")) {
    out["created"] = f.attribute("/run", "created");
    out["version"] = f.attribute("/run", "version");
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& name : runtime::list_datasets(f)) {
    const std::vector<std::int64_t> shape = f.shape(name);
    const H5Type type = f.type(name);
    nlohmann::json r = {{"name", name},
                        {"shape", shape},
                        {"dtype", runtime::h5_type_name(type)},
                        {"bytes", numel(shape) * static_cast<std::int64_t>(runtime::h5_type_size(type))}};
    if (name.rfind("/model/", 0) == 0) model_params += numel(shape);
    if (o.stats) r["stats"] = stats_of(f, name);
    rows.push_back(r);
  }
  out["parameters"] = model_params;
  out["tensors"] = rows;
  if (o.json) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << o.file << "\n";
  if (out.contains("config") && classifier) {
    const nlohmann::json& c = out["config"];
    std::cout << "  encoder classifier: " << c["num_hidden_layers"] << " layers, hidden " << c["hidden_size"]
              << ", heads " << c["num_attention_heads"] << ", vocab " << c["vocab_size"] << ", " << c["num_labels"]
              << " labels\n";
  } else if (out.contains("config")) {
    const nlohmann::json& c = out["config"];
    std::cout << "  model: " << c["num_hidden_layers"] << " layers, hidden " << c["hidden_size"] << ", heads "
              << c["num_attention_heads"] << "/" << c["num_key_value_heads"] << ", vocab " << c["vocab_size"]
              << (c["tie_word_embeddings"].get<bool>() ? ", tied embeddings" : "") << "\n";
  }
  std::cout << "  parameters: " << model_params << "\n";
  if (out["step"].get<std::int64_t>() >= 0) std::cout << "  step: " << out["step"] << "\n";
  if (out.contains("created")) std::cout << "  written: " << out["created"].get<std::string>() << " by newsrl " << out["version"].get<std::string>() << "\n";
  std::size_t width = 4;
  for (const auto& r : rows) width = std::max(width, r["name"].get<std::string>().size());
  std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << "name" << "  " << std::setw(16) << "shape"
            << std::setw(10) << "dtype" << std::right << std::setw(12) << "bytes";
  if (o.stats) std::cout << std::setw(12) << "mean" << std::setw(12) << "std" << std::setw(12) << "min" << std::setw(12) << "max" << std::setw(6) << "nan" << std::setw(6) << "inf";
  std::cout << "\n";
  for (const auto& r : rows) {
    std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << r["name"].get<std::string>() << "  "
              << std::setw(16) << shape_text(r["shape"].get<std::vector<std::int64_t>>()) << std::setw(10)
              << r["dtype"].get<std::string>() << std::right << std::setw(12) << r["bytes"].get<std::int64_t>();
    if (o.stats) {
      const nlohmann::json& s = r["stats"];
      auto num = [](const nlohmann::json& v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.4g", v.is_number() ? v.get<double>() : NAN);
        return std::string(buf);
      };
      std::cout << std::setw(12) << num(s["mean"]) << std::setw(12) << num(s["std"]) << std::setw(12) << num(s["min"])
                << std::setw(12) << num(s["max"]) << std::setw(6) << s["nan"].get<std::int64_t>() << std::setw(6)
                << s["inf"].get<std::int64_t>();
    }
    std::cout << "\n";
  }
  return 0;
}

int diff(const Flags& o) {
  std::unique_ptr<H5File> ha, hb;
  const H5File& a = open_checkpoint(ha, o.file);
  const H5File& b = open_checkpoint(hb, o.other);
  const std::vector<std::string> na = runtime::list_datasets(a), nb = runtime::list_datasets(b);
  nlohmann::json rows = nlohmann::json::array(), only_a = nlohmann::json::array(), only_b = nlohmann::json::array();
  for (const std::string& n : na) {
    if (!std::binary_search(nb.begin(), nb.end(), n)) only_a.push_back(n);
  }
  for (const std::string& n : nb) {
    if (!std::binary_search(na.begin(), na.end(), n)) only_b.push_back(n);
  }
  bool identical = only_a.empty() && only_b.empty();
  std::vector<unsigned char> ba, bb;
  for (const std::string& n : na) {
    if (!std::binary_search(nb.begin(), nb.end(), n)) continue;
    DatasetReader ra(a, n), rb(b, n);
    if (ra.shape() != rb.shape()) {
      rows.push_back({{"name", n}, {"shape_a", ra.shape()}, {"shape_b", rb.shape()}});
      identical = false;
      continue;
    }
    double diff_sq = 0, base_sq = 0, max_abs = 0;
    for (std::int64_t rows_a; (rows_a = ra.next(ba)) > 0;) {
      rb.next(bb);
      for (std::int64_t i = 0; i < rows_a * ra.row_elements(); ++i) {
        const double x = value_at(ra.type(), ba.data(), i), y = value_at(rb.type(), bb.data(), i);
        const double d = y - x;
        diff_sq += d * d;
        base_sq += x * x;
        if (!(std::fabs(d) <= max_abs)) max_abs = std::fabs(d);  // NaN wins
      }
    }
    rb.next(bb);  // b's checksum
    const double rel = base_sq > 0 ? std::sqrt(diff_sq / base_sq) : (diff_sq > 0 ? INFINITY : 0.0);
    if (max_abs != 0) identical = false;
    rows.push_back({{"name", n}, {"rel_l2", rel}, {"max_abs", max_abs}});
  }
  if (o.json) {
    std::cout << nlohmann::json{{"a", o.file}, {"b", o.other}, {"identical", identical}, {"tensors", rows},
                                {"only_in_a", only_a}, {"only_in_b", only_b}}
                     .dump()
              << "\n";
    return 0;
  }
  std::size_t width = 4;
  for (const auto& r : rows) width = std::max(width, r["name"].get<std::string>().size());
  std::cout << std::left << std::setw(static_cast<int>(width)) << "name" << std::right << std::setw(14) << "rel L2"
            << std::setw(14) << "max |b-a|" << "\n";
  for (const auto& r : rows) {
    std::cout << std::left << std::setw(static_cast<int>(width)) << r["name"].get<std::string>() << std::right;
    if (r.contains("shape_a")) {
      std::cout << "  shapes differ: " << shape_text(r["shape_a"]) << " vs " << shape_text(r["shape_b"]) << "\n";
      continue;
    }
    char rel[32], mx[32];
    std::snprintf(rel, sizeof rel, "%.3e", r["rel_l2"].is_number() ? r["rel_l2"].get<double>() : NAN);
    std::snprintf(mx, sizeof mx, "%.3e", r["max_abs"].is_number() ? r["max_abs"].get<double>() : NAN);
    std::cout << std::setw(14) << rel << std::setw(14) << mx << "\n";
  }
  for (const auto& n : only_a) std::cout << "only in " << o.file << ": " << n.get<std::string>() << "\n";
  for (const auto& n : only_b) std::cout << "only in " << o.other << ": " << n.get<std::string>() << "\n";
  std::cout << (identical ? "identical\n" : "different\n");
  return 0;
}

int verify(const Flags& o) {
  if (const auto damage = runtime::verify_checkpoint(o.file)) {
    std::cerr << "newsrl: " << *damage << "\n";
    return 1;
  }
  {  // the model's layout: a config, and every parameter it needs
    const H5File f(o.file, H5File::Mode::read);
    if (f.has_attribute("/", "model_kind") && f.attribute("/", "model_kind") == "encoder_classifier") {
      models::EncoderClassifier model(models::read_classifier_config(f));
      models::read_classifier(f, model);
    } else if (f.has_attribute("/", "config")) {
      models::CausalLM model(models::read_config(f));
      models::read_model(f, model);
    }
  }
  std::cout << o.file << ": intact\n";
  return 0;
}

// Per-tensor progress on a terminal only; logs get the summary line.
std::ostream& progress_stream() {
  static std::ostringstream discard;
  discard.str("");
  return isatty(STDERR_FILENO) ? std::cerr : discard;
}

int import_hf(const Flags& o) {
  const models::HfImportSummary s = models::import_hf(o.file, o.out, o.dtype, progress_stream());
  std::cout << "wrote " << o.out << ": " << s.tensors << " tensors, " << s.parameters << " parameters";
  if (s.ignored > 0) std::cout << " (" << s.ignored << " tensors of the folder unused, e.g. a tied lm_head)";
  std::cout << "\n";
  return 0;
}

int export_hf(const Flags& o) {
  if (const auto damage = runtime::verify_checkpoint(o.file)) throw runtime::H5Error(*damage);
  models::export_hf(o.file, o.out, o.dtype, static_cast<std::uint64_t>(o.max_shard_gb * 1e9), progress_stream());
  std::cout << "wrote " << o.out << " (config.json, safetensors)\n";
  return 0;
}

}  // namespace

Runner add_ckpt_commands(CLI::App& app) {
  CLI::App* ckpt = app.add_subcommand(
      "ckpt", "Checkpoints: ls, diff, verify, and Hugging Face import-hf/export-hf (docs/checkpoint-format.md)");
  ckpt->require_subcommand(1);
  auto f = std::make_shared<Flags>();
  CLI::App* ls_cmd = ckpt->add_subcommand("ls", "Config summary, step, parameter count, one row per tensor");
  ls_cmd->add_option("file", f->file, "Checkpoint (.h5)")->required();
  ls_cmd->add_flag("--stats", f->stats, "Also mean, std, min, max and NaN/Inf counts per tensor (reads everything)");
  ls_cmd->add_flag("--json", f->json, "One JSON object");
  CLI::App* diff_cmd = ckpt->add_subcommand("diff", "Per tensor: relative L2 change and max absolute change, A to B");
  diff_cmd->add_option("a", f->file, "Checkpoint A")->required();
  diff_cmd->add_option("b", f->other, "Checkpoint B")->required();
  diff_cmd->add_flag("--json", f->json, "One JSON object");
  CLI::App* verify_cmd = ckpt->add_subcommand(
      "verify", "Recompute every checksum and check the layout; exit 0 when intact, else one line and exit 1");
  verify_cmd->add_option("file", f->file, "Checkpoint (.h5)")->required();
  CLI::App* imp = ckpt->add_subcommand(
      "import-hf", "A Hugging Face Qwen2/Qwen2.5 folder (config.json + safetensors, sharded or not) into a checkpoint");
  imp->add_option("folder", f->file, "The Hugging Face model folder")->required();
  imp->add_option("--out", f->out, "Checkpoint to write (.h5)")->required();
  imp->add_option("--dtype", f->dtype, "auto (BF16 stays bfloat16, F32/F16 become float32), float32 or bfloat16")
      ->check(CLI::IsMember({"auto", "float32", "bfloat16"}));
  CLI::App* exp = ckpt->add_subcommand("export-hf", "A checkpoint's model as a Hugging Face folder that transformers loads");
  exp->add_option("file", f->file, "Checkpoint (.h5)")->required();
  exp->add_option("--out", f->out, "Folder to write")->required();
  exp->add_option("--dtype", f->dtype, "auto (as stored), float32 or bfloat16")
      ->check(CLI::IsMember({"auto", "float32", "bfloat16"}));
  exp->add_option("--max-shard-gb", f->max_shard_gb, "Largest safetensors file; more tensors go to further shards")
      ->check(CLI::PositiveNumber);
  return [=]() -> std::optional<int> {
    if (*imp) return import_hf(*f);
    if (*exp) return export_hf(*f);
    if (*ls_cmd) return ls(*f);
    if (*diff_cmd) return diff(*f);
    if (*verify_cmd) return verify(*f);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch

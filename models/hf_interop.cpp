#include "models/hf_interop.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <stdexcept>

#include "kernels/dtype.h"
#include "models/model_file.h"
#include "models/qwen2_config.h"
#include "models/safetensors.h"
#include "runtime/checkpoint.h"

namespace newsrl::models {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kSliceElements = 1 << 20;  // 4 MiB of float32 per slice

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) bad(path.string() + ": cannot read");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    bad(path.string() + ": not JSON (" + e.what() + ")");
  }
}

std::int64_t slice_rows(const std::vector<std::int64_t>& shape) {
  return std::max<std::int64_t>(1, kSliceElements / std::max<std::int64_t>(1, runtime::row_elements(shape)));
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

HfImportSummary import_hf(const std::string& folder, const std::string& out_file, const std::string& dtype,
                          std::ostream& progress) {
  if (dtype != "auto" && dtype != "float32" && dtype != "bfloat16") bad("--dtype must be auto, float32 or bfloat16");
  const fs::path dir(folder);
  if (!fs::is_directory(dir)) bad(folder + ": not a folder");
  const nlohmann::json raw = read_json_file(dir / "config.json");
  if (raw.contains("model_type") && raw["model_type"] != "qwen2") {
    bad((dir / "config.json").string() + ": model_type " + raw["model_type"].dump() + ", newsrl imports qwen2");
  }
  if (raw.contains("hidden_act") && raw["hidden_act"] != "silu") {
    bad((dir / "config.json").string() + ": hidden_act " + raw["hidden_act"].dump() + ", Qwen2 uses silu");
  }
  const Qwen2Config config = Qwen2Config::from_json(raw, (dir / "config.json").string());

  // The files that hold tensors, and which tensor lives in which.
  std::vector<fs::path> files;
  if (fs::exists(dir / "model.safetensors.index.json")) {
    const nlohmann::json index = read_json_file(dir / "model.safetensors.index.json");
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
      bad((dir / "model.safetensors.index.json").string() + ": no weight_map");
    }
    std::set<std::string> names;
    for (const auto& [tensor, file] : index["weight_map"].items()) {
      if (!file.is_string()) bad((dir / "model.safetensors.index.json").string() + ": weight_map." + tensor + " is not a file name");
      names.insert(file.get<std::string>());
    }
    for (const std::string& n : names) files.push_back(dir / n);
  } else if (fs::exists(dir / "model.safetensors")) {
    files.push_back(dir / "model.safetensors");
  } else {
    bad(folder + ": no model.safetensors or model.safetensors.index.json");
  }
  std::vector<std::unique_ptr<SafetensorsReader>> readers;
  std::map<std::string, std::pair<SafetensorsReader*, const SafeTensor*>> where;
  for (const fs::path& f : files) {
    if (!fs::exists(f)) bad(f.string() + ": listed by the index but missing");
    readers.push_back(std::make_unique<SafetensorsReader>(f.string()));
    for (const auto& [name, t] : readers.back()->tensors()) where[name] = {readers.back().get(), &t};
  }

  HfImportSummary summary;
  const std::vector<Qwen2Config::ParameterShape> wanted = config.parameter_shapes();
  for (const auto& p : wanted) {  // every check before any writing
    auto it = where.find(p.name);
    if (it == where.end()) bad(folder + ": missing tensor " + p.name + " (the config needs it)");
    const SafeTensor& t = *it->second.second;
    if (t.shape != p.shape) {
      bad(it->second.first->path() + ": tensor " + p.name + " has shape " + shape_text(t.shape) +
          ", the config needs " + shape_text(p.shape));
    }
    if (t.dtype != "F32" && t.dtype != "BF16" && t.dtype != "F16") {
      bad(it->second.first->path() + ": tensor " + p.name + " is " + t.dtype + "; newsrl reads F32, BF16 and F16");
    }
  }
  summary.ignored = static_cast<std::int64_t>(where.size()) - static_cast<std::int64_t>(wanted.size());

  runtime::CheckpointWriter out(out_file);
  out.set_attribute("/", "config", config.to_json().dump());
  std::vector<float> f32;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const auto& p = wanted[i];
    auto [reader, t] = where.at(p.name);
    const bool as_bf16 = dtype == "bfloat16" || (dtype == "auto" && t->dtype == "BF16");
    const std::int64_t per_row = runtime::row_elements(p.shape);
    const std::string dataset = "/model/" + p.name;
    if (as_bf16) {
      out.write_rows(dataset, runtime::H5Type::bf16, p.shape, slice_rows(p.shape),
                     [&, r = reader, tt = t](std::int64_t row0, std::int64_t rows, void* to) {
                       auto* o = static_cast<std::uint16_t*>(to);
                       if (tt->dtype == "BF16") {
                         r->read_rows_bf16(*tt, row0, rows, o);
                         return;
                       }
                       f32.resize(static_cast<std::size_t>(rows * per_row));
                       r->read_rows_f32(*tt, row0, rows, f32.data());
                       for (std::size_t k = 0; k < f32.size(); ++k) o[k] = kernels::bf16::from_float(f32[k]).bits;
                     });
    } else {
      out.write_rows(dataset, runtime::H5Type::f32, p.shape, slice_rows(p.shape),
                     [&, r = reader, tt = t](std::int64_t row0, std::int64_t rows, void* to) {
                       r->read_rows_f32(*tt, row0, rows, static_cast<float*>(to));
                     });
    }
    summary.parameters += runtime::row_count(p.shape) * per_row;
    ++summary.tensors;
    progress << "\rimported " << (i + 1) << "/" << wanted.size() << " tensors" << std::flush;
  }
  progress << "\n";
  out.commit();
  return summary;
}

void export_hf(const std::string& checkpoint, const std::string& folder, const std::string& dtype,
               std::uint64_t max_shard_bytes, std::ostream& progress) {
  if (dtype != "auto" && dtype != "float32" && dtype != "bfloat16") bad("--dtype must be auto, float32 or bfloat16");
  const runtime::H5File file(checkpoint, runtime::H5File::Mode::read);
  const Qwen2Config config = read_config(file);
  const std::vector<Qwen2Config::ParameterShape> params = config.parameter_shapes();

  // Each tensor's dtype in the export, and the shards (consecutive tensors up to max_shard_bytes).
  std::vector<SafeTensor> entries;
  std::vector<std::vector<std::size_t>> shards(1);
  std::uint64_t shard_bytes = 0, total_bytes = 0;
  bool any_bf16 = false;
  for (const auto& p : params) {
    const std::string dataset = "/model/" + p.name;
    if (!file.has(dataset)) throw runtime::H5Error(checkpoint + ": missing dataset " + dataset);
    if (file.shape(dataset) != p.shape) throw runtime::H5Error(checkpoint + ": dataset " + dataset + " has the wrong shape");
    const runtime::H5Type stored = file.type(dataset);
    const bool bf16 = dtype == "bfloat16" || (dtype == "auto" && stored == runtime::H5Type::bf16);
    any_bf16 = any_bf16 || bf16;
    SafeTensor t{p.name, bf16 ? "BF16" : "F32", p.shape, 0, 0};
    const std::uint64_t bytes =
        static_cast<std::uint64_t>(runtime::row_count(p.shape) * runtime::row_elements(p.shape)) * (bf16 ? 2 : 4);
    if (shard_bytes > 0 && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(entries.size());
    shard_bytes += bytes;
    total_bytes += bytes;
    entries.push_back(std::move(t));
  }
  fs::create_directories(folder);
  nlohmann::json cfg = config.to_json();
  cfg["torch_dtype"] = any_bf16 ? "bfloat16" : "float32";
  cfg["hidden_act"] = "silu";
  cfg["use_sliding_window"] = false;
  {
    std::ofstream out(fs::path(folder) / "config.json");
    out << cfg.dump(2) << "\n";
    if (!out) bad(folder + "/config.json: cannot write");
  }
  nlohmann::json weight_map = nlohmann::json::object();
  std::vector<unsigned char> buffer;
  std::vector<std::uint16_t> half;
  std::size_t done = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    if (shards.size() == 1) {
      std::snprintf(name, sizeof name, "model.safetensors");
    } else {
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    }
    std::vector<SafeTensor> in_shard;
    for (std::size_t i : shards[s]) in_shard.push_back(entries[i]);
    SafetensorsWriter writer((fs::path(folder) / name).string(), in_shard);
    for (const SafeTensor& t : in_shard) {
      runtime::DatasetReader reader(file, "/model/" + t.name);  // checks the checksum as it goes
      const bool want_bf16 = t.dtype == "BF16";
      for (std::int64_t rows; (rows = reader.next(buffer)) > 0;) {
        const std::size_t n = static_cast<std::size_t>(rows * reader.row_elements());
        if (reader.type() == runtime::H5Type::bf16 && !want_bf16) {  // widen
          const auto* h = reinterpret_cast<const std::uint16_t*>(buffer.data());
          std::vector<float> wide(n);
          for (std::size_t k = 0; k < n; ++k) wide[k] = kernels::bf16{h[k]}.to_float();
          writer.append(wide.data(), n * 4);
        } else if (reader.type() == runtime::H5Type::f32 && want_bf16) {  // round
          const auto* f = reinterpret_cast<const float*>(buffer.data());
          half.resize(n);
          for (std::size_t k = 0; k < n; ++k) half[k] = kernels::bf16::from_float(f[k]).bits;
          writer.append(half.data(), n * 2);
        } else {
          writer.append(buffer.data(), n * runtime::h5_type_size(reader.type()));
        }
      }
      weight_map[t.name] = name;
      progress << "\rexported " << ++done << "/" << entries.size() << " tensors" << std::flush;
    }
    writer.finish();
  }
  progress << "\n";
  if (shards.size() > 1) {
    std::ofstream out(fs::path(folder) / "model.safetensors.index.json");
    out << nlohmann::json{{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}}.dump(2) << "\n";
  }
}

}  // namespace newsrl::models

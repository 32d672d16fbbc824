#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace newsrl::runtime {

static_assert(std::endian::native == std::endian::little, "checksums are of little-endian bytes as stored");

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kSliceBytes = 4 << 20;

std::uint32_t crc(std::uint32_t running, const void* data, std::size_t bytes) {
  const auto* p = static_cast<const Bytef*>(data);
  while (bytes > 0) {  // zlib takes uInt lengths
    const uInt n = static_cast<uInt>(std::min<std::size_t>(bytes, 1u << 30));
    running = static_cast<std::uint32_t>(crc32(running, p, n));
    p += n;
    bytes -= n;
  }
  return running;
}

std::string checksum_text(std::uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "crc32:%08x", value);
  return buf;
}

// fsync of a file or folder by path; throws with the path on failure.
void sync_path(const std::string& path, bool folder) {
  const int fd = ::open(path.c_str(), folder ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw H5Error(path + ": cannot open to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw H5Error(path + ": fsync failed");
}

std::string folder_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

std::int64_t rows_per_slice(H5Type type, const std::vector<std::int64_t>& shape) {
  const std::int64_t row_bytes = std::max<std::int64_t>(1, row_elements(shape) * static_cast<std::int64_t>(h5_type_size(type)));
  return std::max<std::int64_t>(1, kSliceBytes / row_bytes);
}

}  // namespace

CheckpointWriter::CheckpointWriter(std::string path) : path_(std::move(path)) {
  const fs::path p(path_);
  tmp_ = (p.parent_path() / ("." + p.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
  if (!p.parent_path().empty()) fs::create_directories(p.parent_path());
  file_ = std::make_unique<H5File>(tmp_, H5File::Mode::create);
  file_->set_attribute("/", "format", kCheckpointFormat);
}

CheckpointWriter::~CheckpointWriter() {
  if (file_) {
    file_.reset();
    std::error_code ignored;
    fs::remove(tmp_, ignored);
  }
}

void CheckpointWriter::write(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape,
                             const void* data) {
  file_->write(dataset, type, shape, data);
  const std::size_t bytes =
      static_cast<std::size_t>(row_count(shape) * row_elements(shape)) * h5_type_size(type);
  file_->set_attribute(dataset, "checksum", checksum_text(crc(0, data, bytes)));
}

void CheckpointWriter::write_rows(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape,
                                  std::int64_t slice_rows, const FillRows& fill) {
  file_->create(dataset, type, shape);
  const std::int64_t rows = row_count(shape), per_row = row_elements(shape);
  const std::size_t row_bytes = static_cast<std::size_t>(per_row) * h5_type_size(type);
  slice_rows = std::max<std::int64_t>(1, std::min(slice_rows, rows));
  std::vector<unsigned char> buffer(static_cast<std::size_t>(slice_rows) * row_bytes);
  std::uint32_t sum = 0;
  for (std::int64_t r = 0; r < rows && per_row > 0; r += slice_rows) {
    const std::int64_t n = std::min(slice_rows, rows - r);
    fill(r, n, buffer.data());
    file_->write_rows(dataset, r, n, buffer.data());
    sum = crc(sum, buffer.data(), static_cast<std::size_t>(n) * row_bytes);
  }
  file_->set_attribute(dataset, "checksum", checksum_text(sum));
}

void CheckpointWriter::set_attribute(const std::string& object, const std::string& name, const std::string& value) {
  if (!file_->has(object)) file_->create_group(object);
  file_->set_attribute(object, name, value);
}

void CheckpointWriter::commit() {
  if (!file_) throw H5Error(path_ + ": already committed");
  file_->flush();
  file_.reset();  // closes the file: HDF5 writes its last metadata
  sync_path(tmp_, false);
  fs::rename(tmp_, path_);
  sync_path(folder_of(path_), true);
}

void read_verified(const H5File& file, const std::string& dataset, H5Type type, void* out, std::int64_t numel) {
  file.read(dataset, type, out, numel);
  if (!file.has_attribute(dataset, "checksum")) {
    throw H5Error(file.path() + ": dataset " + dataset + " is damaged (no checksum attribute)");
  }
  const std::string want = file.attribute(dataset, "checksum");
  const std::string got = checksum_text(crc(0, out, static_cast<std::size_t>(numel) * h5_type_size(type)));
  if (got != want) {
    throw H5Error(file.path() + ": dataset " + dataset + " is damaged (checksum " + got + ", recorded " + want + ")");
  }
}

DatasetReader::DatasetReader(const H5File& file, std::string dataset)
    : file_(file), dataset_(std::move(dataset)), type_(file.type(dataset_)), shape_(file.shape(dataset_)) {
  per_row_ = runtime::row_elements(shape_);
  rows_ = per_row_ == 0 ? 0 : row_count(shape_);
  slice_rows_ = rows_per_slice(type_, shape_);
  if (!file.has_attribute(dataset_, "checksum")) {
    throw H5Error(file.path() + ": dataset " + dataset_ + " is damaged (no checksum attribute)");
  }
  recorded_ = file.attribute(dataset_, "checksum");
}

std::int64_t DatasetReader::next(std::vector<unsigned char>& buffer) {
  if (row_ >= rows_) {
    if (row_ == rows_ && checksum_text(sum_) != recorded_) {
      throw H5Error(file_.path() + ": dataset " + dataset_ + " is damaged (checksum " + checksum_text(sum_) +
                    ", recorded " + recorded_ + ")");
    }
    row_ = rows_ + 1;  // checked once
    return 0;
  }
  const std::int64_t n = std::min(slice_rows_, rows_ - row_);
  const std::size_t bytes = static_cast<std::size_t>(n * per_row_) * h5_type_size(type_);
  if (buffer.size() < bytes) buffer.resize(bytes);
  file_.read_rows(dataset_, type_, row_, n, buffer.data());
  sum_ = crc(sum_, buffer.data(), bytes);
  row_ += n;
  return n;
}

std::vector<std::string> list_datasets(const H5File& file, const std::string& group) {
  std::vector<std::string> out;
  const std::string prefix = group == "/" ? "/" : group + "/";
  for (const std::string& name : file.list(group)) {
    const std::string path = prefix + name;
    if (file.is_group(path)) {
      for (std::string& inner : list_datasets(file, path)) out.push_back(std::move(inner));
    } else {
      out.push_back(path);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> verify_checkpoint(const std::string& path) {
  try {
    const H5File file(path, H5File::Mode::read);
    if (!file.has_attribute("/", "format")) return path + ": not a newsrl checkpoint (no format attribute on /)";
    const std::string format = file.attribute("/", "format");
    if (format != kCheckpointFormat) return path + ": format " + format + ", this newsrl reads " + kCheckpointFormat;
    std::vector<unsigned char> buffer;
    for (const std::string& dataset : list_datasets(file)) {
      DatasetReader reader(file, dataset);
      while (reader.next(buffer) > 0) {
      }
    }
  } catch (const H5Error& e) {
    return std::string(e.what());
  } catch (const std::exception& e) {
    return path + ": " + e.what();
  }
  return std::nullopt;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw H5Error(tmp + ": cannot write");
  }
  sync_path(tmp, false);
  fs::rename(tmp, path);
  sync_path(folder_of(path), true);
}

// ---- run folders ---------------------------------------------------------------

RunCheckpoints::RunCheckpoints(std::string folder, Options options)
    : folder_(std::move(folder)), dir_((fs::path(folder_) / "checkpoints").string()), options_(options) {
  if (options_.keep_last < 1) throw std::invalid_argument("keep_last must be at least 1");
  fs::create_directories(dir_);
}

std::string RunCheckpoints::path_for(std::int64_t step) const {
  char name[40];
  std::snprintf(name, sizeof name, "step-%08lld.h5", static_cast<long long>(step));
  return (fs::path(dir_) / name).string();
}

// The index: one line per kept checkpoint, "step metric" ("-" when none).
std::vector<RunCheckpoints::Entry> RunCheckpoints::load_index() const {
  std::vector<Entry> entries;
  std::ifstream in(fs::path(dir_) / "index");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::int64_t step;
    std::string metric;
    if (!(fields >> step >> metric)) continue;
    entries.push_back({step, metric == "-" ? std::nullopt : std::optional<double>(std::stod(metric))});
  }
  return entries;
}

void RunCheckpoints::committed(std::int64_t step, std::optional<double> metric) {
  std::vector<Entry> entries = load_index();
  std::erase_if(entries, [&](const Entry& e) { return e.step == step; });
  entries.push_back({step, metric});
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.step < b.step; });
  // `latest` moves first: from here on a crash leaves at worst an extra file.
  write_file_atomically((fs::path(dir_) / "latest").string(), fs::path(path_for(step)).filename().string() + "\n");
  // Retention: the last keep_last, plus the best by metric.
  const Entry* best = nullptr;
  for (const Entry& e : entries) {
    if (!e.metric) continue;
    if (!best || (options_.higher_is_better ? *e.metric > *best->metric : *e.metric < *best->metric)) best = &e;
  }
  const std::int64_t best_step = best ? best->step : -1;
  std::vector<Entry> kept;
  const std::size_t first_recent = entries.size() > static_cast<std::size_t>(options_.keep_last)
                                       ? entries.size() - static_cast<std::size_t>(options_.keep_last)
                                       : 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i >= first_recent || entries[i].step == best_step) {
      kept.push_back(entries[i]);
    } else {
      std::error_code ignored;
      fs::remove(path_for(entries[i].step), ignored);
    }
  }
  std::ostringstream index;
  index.precision(17);
  for (const Entry& e : kept) {
    index << e.step << " ";
    if (e.metric) {
      index << *e.metric;
    } else {
      index << "-";
    }
    index << "\n";
  }
  write_file_atomically((fs::path(dir_) / "index").string(), index.str());
}

std::optional<std::string> RunCheckpoints::latest() const {
  std::ifstream in(fs::path(dir_) / "latest");
  std::string name;
  if (!(in >> name)) return std::nullopt;
  const fs::path p = fs::path(dir_) / name;
  if (!fs::exists(p)) return std::nullopt;
  return p.string();
}

std::optional<std::string> RunCheckpoints::best() const {
  std::optional<Entry> best;
  for (const Entry& e : load_index()) {
    if (!e.metric) continue;
    if (!best || (options_.higher_is_better ? *e.metric > *best->metric : *e.metric < *best->metric)) best = e;
  }
  if (!best) return std::nullopt;
  return path_for(best->step);
}

}  // namespace newsrl::runtime

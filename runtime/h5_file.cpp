#include "runtime/h5_file.h"

#include <hdf5.h>

#include <algorithm>

namespace newsrl::runtime {

namespace {

// Closes an HDF5 handle when it goes out of scope.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Handle() {
    if (id >= 0) close(id);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

void quiet_hdf5() {
  static bool done = false;
  if (!done) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  done = true;
}

}  // namespace

H5File::H5File(const std::string& path, Mode mode) : path_(path) {
  quiet_hdf5();
  if (mode == Mode::create) {
    id_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (id_ < 0) fail("cannot create the file");
  } else {
    if (H5Fis_hdf5(path.c_str()) <= 0) fail("no such HDF5 file, or not an HDF5 file");
    id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id_ < 0) fail("cannot open the file");
  }
}

H5File::~H5File() {
  if (id_ >= 0) H5Fclose(id_);
}

void H5File::fail(const std::string& what) const { throw H5Error(path_ + ": " + what); }

bool H5File::has(const std::string& dataset) const {
  // Every group on the way must exist before H5Lexists may be asked about the next link.
  std::string prefix;
  std::size_t at = dataset.front() == '/' ? 1 : 0;
  while (true) {
    const std::size_t slash = dataset.find('/', at);
    prefix = dataset.substr(0, slash);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    at = slash + 1;
  }
}

std::vector<std::string> H5File::list(const std::string& group) const {
  std::vector<std::string> names;
  if (!has(group)) return names;
  Handle g(H5Gopen2(id_, group.c_str(), H5P_DEFAULT), H5Gclose);
  if (g.id < 0) fail(group + " is not a group");
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->push_back(name);
    return 0;
  };
  H5Literate(g.id, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {
void write_any(hid_t file, const std::string& path, const std::string& dataset, const std::vector<std::int64_t>& shape,
               hid_t type, const void* data) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.id, 1);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  if (!dims.empty() && total > 0) {
    // Chunks of whole rows up to about 1 MiB, so that slices read without the whole tensor.
    std::vector<hsize_t> chunk = dims;
    hsize_t elements = total;
    for (std::size_t i = 0; i < chunk.size() && elements > (1u << 18); ++i) {
      const hsize_t keep = std::max<hsize_t>(1, chunk[i] * (1u << 18) / elements);
      elements = elements / chunk[i] * keep;
      chunk[i] = keep;
    }
    H5Pset_chunk(props.id, static_cast<int>(chunk.size()), chunk.data());
  }
  Handle set(H5Dcreate2(file, dataset.c_str(), type, space.id, links.id, props.id, H5P_DEFAULT), H5Dclose);
  if (set.id < 0) throw H5Error(path + ": cannot create dataset " + dataset);
  if (total > 0 && H5Dwrite(set.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw H5Error(path + ": cannot write dataset " + dataset);
  }
}
}  // namespace

void H5File::write_f32(const std::string& dataset, const std::vector<std::int64_t>& shape, const float* data) {
  write_any(id_, path_, dataset, shape, H5T_IEEE_F32LE, data);
}

void H5File::write_i32(const std::string& dataset, const std::vector<std::int64_t>& shape, const std::int32_t* data) {
  write_any(id_, path_, dataset, shape, H5T_STD_I32LE, data);
}

std::vector<std::int64_t> H5File::shape(const std::string& dataset) const {
  if (!has(dataset)) fail("missing dataset " + dataset);
  Handle set(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (set.id < 0) fail(dataset + " is not a dataset");
  Handle space(H5Dget_space(set.id), H5Sclose);
  const int n = H5Sget_simple_extent_ndims(space.id);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(n, 0)));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

namespace {
void read_any(hid_t file, const std::string& path, const std::string& dataset, H5T_class_t want_class,
              std::size_t want_size, hid_t mem_type, void* out, std::int64_t numel, const char* type_name) {
  Handle set(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (set.id < 0) throw H5Error(path + ": missing dataset " + dataset);
  Handle type(H5Dget_type(set.id), H5Tclose);
  if (H5Tget_class(type.id) != want_class || H5Tget_size(type.id) != want_size) {
    throw H5Error(path + ": dataset " + dataset + " is not " + type_name);
  }
  Handle space(H5Dget_space(set.id), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.id) != numel) {
    throw H5Error(path + ": dataset " + dataset + " holds " + std::to_string(H5Sget_simple_extent_npoints(space.id)) +
                  " elements, expected " + std::to_string(numel));
  }
  if (numel > 0 && H5Dread(set.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
    throw H5Error(path + ": cannot read dataset " + dataset + " (damaged?)");
  }
}
}  // namespace

void H5File::read_f32(const std::string& dataset, float* out, std::int64_t numel) const {
  if (!has(dataset)) fail("missing dataset " + dataset);
  read_any(id_, path_, dataset, H5T_FLOAT, 4, H5T_NATIVE_FLOAT, out, numel, "float32");
}

void H5File::read_i32(const std::string& dataset, std::int32_t* out, std::int64_t numel) const {
  if (!has(dataset)) fail("missing dataset " + dataset);
  read_any(id_, path_, dataset, H5T_INTEGER, 4, H5T_NATIVE_INT32, out, numel, "int32");
}

void H5File::set_attribute(const std::string& object, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id, std::max<std::size_t>(1, value.size()));
  H5Tset_strpad(type.id, H5T_STR_NULLPAD);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
    H5Adelete_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT);
  }
  Handle attr(
      H5Acreate_by_name(id_, object.c_str(), name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  if (attr.id < 0 || H5Awrite(attr.id, type.id, value.data()) < 0) fail("cannot write attribute " + name);
}

bool H5File::has_attribute(const std::string& object, const std::string& name) const {
  return H5Aexists_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string H5File::attribute(const std::string& object, const std::string& name) const {
  if (!has_attribute(object, name)) fail("missing attribute " + name + " on " + object);
  Handle attr(H5Aopen_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id), H5Tclose);
  if (H5Tget_class(type.id) != H5T_STRING) fail("attribute " + name + " on " + object + " is not a string");
  if (H5Tis_variable_str(type.id) > 0) {
    char* s = nullptr;
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    if (H5Aread(attr.id, mem.id, &s) < 0) fail("cannot read attribute " + name);
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  std::string out(H5Tget_size(type.id), '\0');
  if (H5Aread(attr.id, type.id, out.data()) < 0) fail("cannot read attribute " + name);
  out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
  return out;
}

}  // namespace newsrl::runtime

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

hid_t file_type(H5Type t) {
  switch (t) {
    case H5Type::f32:
      return H5T_IEEE_F32LE;
    case H5Type::bf16:
      return H5T_STD_U16LE;
    case H5Type::i32:
      return H5T_STD_I32LE;
    case H5Type::i64:
      return H5T_STD_I64LE;
    case H5Type::u64:
      return H5T_STD_U64LE;
    case H5Type::u8:
      return H5T_STD_U8LE;
  }
  return -1;
}

hid_t memory_type(H5Type t) {
  switch (t) {
    case H5Type::f32:
      return H5T_NATIVE_FLOAT;
    case H5Type::bf16:
      return H5T_NATIVE_UINT16;
    case H5Type::i32:
      return H5T_NATIVE_INT32;
    case H5Type::i64:
      return H5T_NATIVE_INT64;
    case H5Type::u64:
      return H5T_NATIVE_UINT64;
    case H5Type::u8:
      return H5T_NATIVE_UINT8;
  }
  return -1;
}

}  // namespace

const char* h5_type_name(H5Type t) {
  switch (t) {
    case H5Type::f32:
      return "float32";
    case H5Type::bf16:
      return "bfloat16";
    case H5Type::i32:
      return "int32";
    case H5Type::i64:
      return "int64";
    case H5Type::u64:
      return "uint64";
    case H5Type::u8:
      return "uint8";
  }
  return "unknown";
}

std::size_t h5_type_size(H5Type t) {
  switch (t) {
    case H5Type::bf16:
      return 2;
    case H5Type::f32:
    case H5Type::i32:
      return 4;
    case H5Type::i64:
    case H5Type::u64:
      return 8;
    case H5Type::u8:
      return 1;
  }
  return 0;
}

std::int64_t row_elements(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

std::int64_t row_count(const std::vector<std::int64_t>& shape) { return shape.empty() ? 1 : shape[0]; }

H5File::H5File(const std::string& path, Mode mode) : path_(path) {
  quiet_hdf5();
  if (mode == Mode::create) {
    id_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (id_ < 0) fail("cannot create the file");
  } else {
    if (H5Fis_hdf5(path.c_str()) <= 0) fail("no such HDF5 file, or not an HDF5 file");
    id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id_ < 0) fail("cannot open the file (damaged?)");
  }
}

H5File::~H5File() {
  if (id_ >= 0) H5Fclose(id_);
}

void H5File::fail(const std::string& what) const { throw H5Error(path_ + ": " + what); }

void H5File::flush() {
  if (H5Fflush(id_, H5F_SCOPE_GLOBAL) < 0) fail("cannot flush the file");
}

bool H5File::has(const std::string& object) const {
  if (object == "/") return true;
  // Every group on the way must exist before H5Lexists may be asked about the next link.
  std::size_t at = object.front() == '/' ? 1 : 0;
  while (true) {
    const std::size_t slash = object.find('/', at);
    if (H5Lexists(id_, object.substr(0, slash).c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos || slash + 1 == object.size()) return true;
    at = slash + 1;
  }
}

bool H5File::is_group(const std::string& object) const {
  if (!has(object)) return false;
  H5O_info_t info;  // HDF5 1.10's API (Debian 12)
  if (H5Oget_info_by_name2(id_, object.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
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
  if (H5Literate(g.id, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0) {
    fail("cannot list " + group + " (damaged?)");
  }
  std::sort(names.begin(), names.end());
  return names;
}

void H5File::create(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose);
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.id, 1);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(props.id, 0);  // no modification times: the same data gives the same bytes
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  if (!dims.empty() && total > 0) {
    // Chunks of whole rows up to about 1 MiB (more rows while they fit), so
    // that slices of rows read and write without the whole tensor.
    const hsize_t budget = (1u << 20) / h5_type_size(type);
    std::vector<hsize_t> chunk = dims;
    hsize_t elements = total;
    for (std::size_t i = 0; i < chunk.size() && elements > budget; ++i) {
      const hsize_t keep = std::max<hsize_t>(1, chunk[i] * budget / elements);
      elements = elements / chunk[i] * keep;
      chunk[i] = keep;
    }
    H5Pset_chunk(props.id, static_cast<int>(chunk.size()), chunk.data());
  }
  Handle set(H5Dcreate2(id_, dataset.c_str(), file_type(type), space.id, links.id, props.id, H5P_DEFAULT), H5Dclose);
  if (set.id < 0) fail("cannot create dataset " + dataset);
  if (type == H5Type::bf16) set_attribute(dataset, "dtype", "bfloat16");
}

namespace {
// The file and memory selections of rows [row0, row0 + rows) of a dataset.
struct RowSlab {
  Handle file_space{-1, H5Sclose}, mem_space{-1, H5Sclose};
  RowSlab(hid_t set, std::int64_t row0, std::int64_t rows, const std::string& where) {
    file_space.id = H5Dget_space(set);
    const int n = H5Sget_simple_extent_ndims(file_space.id);
    if (n == 0) {  // a scalar
      if (row0 != 0 || rows != 1) throw H5Error(where + ": a scalar has one row");
      mem_space.id = H5Screate(H5S_SCALAR);
      return;
    }
    std::vector<hsize_t> dims(static_cast<std::size_t>(n)), start(dims.size(), 0), count;
    H5Sget_simple_extent_dims(file_space.id, dims.data(), nullptr);
    if (row0 < 0 || rows < 0 || static_cast<hsize_t>(row0 + rows) > dims[0]) {
      throw H5Error(where + ": rows " + std::to_string(row0) + ".." + std::to_string(row0 + rows) + " of " +
                    std::to_string(dims[0]));
    }
    count = dims;
    start[0] = static_cast<hsize_t>(row0);
    count[0] = static_cast<hsize_t>(rows);
    H5Sselect_hyperslab(file_space.id, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    mem_space.id = H5Screate_simple(n, count.data(), nullptr);
  }
};
}  // namespace

void H5File::write_rows(const std::string& dataset, std::int64_t row0, std::int64_t rows, const void* data) {
  if (rows == 0) return;
  Handle set(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (set.id < 0) fail("missing dataset " + dataset);
  Handle type(H5Dget_type(set.id), H5Tclose);
  Handle mem(H5Tget_native_type(type.id, H5T_DIR_ASCEND), H5Tclose);
  RowSlab slab(set.id, row0, rows, path_ + ": " + dataset);
  if (H5Dwrite(set.id, mem.id, slab.mem_space.id, slab.file_space.id, H5P_DEFAULT, data) < 0) {
    fail("cannot write dataset " + dataset);
  }
}

void H5File::write(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape, const void* data) {
  create(dataset, type, shape);
  if (row_count(shape) * row_elements(shape) > 0) write_rows(dataset, 0, row_count(shape), data);
}

std::vector<std::int64_t> H5File::shape(const std::string& dataset) const {
  if (!has(dataset)) fail("missing dataset " + dataset);
  Handle set(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (set.id < 0) fail(dataset + " is not a dataset");
  Handle space(H5Dget_space(set.id), H5Sclose);
  const int n = H5Sget_simple_extent_ndims(space.id);
  if (n < 0) fail("cannot read the shape of " + dataset + " (damaged?)");
  std::vector<hsize_t> dims(static_cast<std::size_t>(n));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

H5Type H5File::type(const std::string& dataset) const {
  if (!has(dataset)) fail("missing dataset " + dataset);
  Handle set(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (set.id < 0) fail(dataset + " is not a dataset");
  Handle t(H5Dget_type(set.id), H5Tclose);
  const H5T_class_t cls = H5Tget_class(t.id);
  const std::size_t size = H5Tget_size(t.id);
  if (cls == H5T_FLOAT && size == 4) return H5Type::f32;
  if (cls == H5T_INTEGER) {
    const bool sign = H5Tget_sign(t.id) == H5T_SGN_2;
    if (size == 2 && !sign && has_attribute(dataset, "dtype") && attribute(dataset, "dtype") == "bfloat16") {
      return H5Type::bf16;
    }
    if (size == 4 && sign) return H5Type::i32;
    if (size == 8 && sign) return H5Type::i64;
    if (size == 8 && !sign) return H5Type::u64;
    if (size == 1 && !sign) return H5Type::u8;
  }
  fail("dataset " + dataset + " has an element type newsrl does not read");
}

void H5File::read_rows(const std::string& dataset, H5Type type, std::int64_t row0, std::int64_t rows,
                       void* out) const {
  if (rows == 0) return;
  if (this->type(dataset) != type) fail("dataset " + dataset + " is not " + h5_type_name(type));
  Handle set(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  RowSlab slab(set.id, row0, rows, path_ + ": " + dataset);
  if (H5Dread(set.id, memory_type(type), slab.mem_space.id, slab.file_space.id, H5P_DEFAULT, out) < 0) {
    fail("cannot read dataset " + dataset + " (damaged?)");
  }
}

void H5File::read(const std::string& dataset, H5Type type, void* out, std::int64_t numel) const {
  const std::vector<std::int64_t> dims = shape(dataset);
  if (this->type(dataset) != type) fail("dataset " + dataset + " is not " + h5_type_name(type));
  if (row_count(dims) * row_elements(dims) != numel) {
    fail("dataset " + dataset + " holds " + std::to_string(row_count(dims) * row_elements(dims)) +
         " elements, expected " + std::to_string(numel));
  }
  if (numel > 0) read_rows(dataset, type, 0, row_count(dims), out);
}

void H5File::create_group(const std::string& group) {
  if (has(group)) return;
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.id, 1);
  Handle props(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(props.id, 0);
  Handle g(H5Gcreate2(id_, group.c_str(), links.id, props.id, H5P_DEFAULT), H5Gclose);
  if (g.id < 0) fail("cannot create group " + group);
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

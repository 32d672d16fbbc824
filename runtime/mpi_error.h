// MPI calls return error codes (communicators use MPI_ERRORS_RETURN): turn a
// failed call into an exception naming the call and MPI's own explanation.
#pragma once

#include <mpi.h>

#include <stdexcept>
#include <string>

namespace newsrl::runtime {

inline void check_mpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw std::runtime_error(std::string(what) + ": " + std::string(text, static_cast<std::size_t>(len)));
  }
}

}  // namespace newsrl::runtime

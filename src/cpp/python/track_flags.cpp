#include "track_flags.hpp"

#include <pybind11/native_enum.h>

namespace corosync::python {

void bind_track_flags(py::module_& m) {
  py::native_enum<TrackFlags>(m, "TrackFlags", "enum.IntFlag",
                              "What quorum and votequorum tracking reports (CS_TRACK_*): "
                              "CURRENT, the state now, once; CHANGES, every change; "
                              "CHANGES_ONLY, the changes without the current state.")
      .value("CURRENT", TrackFlags::Current)
      .value("CHANGES", TrackFlags::Changes)
      .value("CHANGES_ONLY", TrackFlags::ChangesOnly)
      .finalize();
}

}  // namespace corosync::python

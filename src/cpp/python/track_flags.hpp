// TrackFlags (corosync's CS_TRACK_*), the tracking flags quorum and votequorum take: one
// class, bound once, for every service that tracks.
#pragma once

#include "enum_args.hpp"

#include <corosync/corotypes.h>

#include <pybind11/pybind11.h>

namespace corosync::python {
namespace py = pybind11;

enum class TrackFlags : unsigned int {
  Current = CS_TRACK_CURRENT,
  Changes = CS_TRACK_CHANGES,
  ChangesOnly = CS_TRACK_CHANGES_ONLY,
};

void bind_track_flags(py::module_& m);

}  // namespace corosync::python

COROSYNC_INT_ENUM_ARG(corosync::python::TrackFlags, "flags", "TrackFlags", CS_TRACK_CURRENT,
                      CS_TRACK_CURRENT | CS_TRACK_CHANGES | CS_TRACK_CHANGES_ONLY)

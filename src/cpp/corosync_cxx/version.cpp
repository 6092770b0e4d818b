#include "corosync_cxx/version.hpp"

namespace corosync {

const char* abi_tag() noexcept { return COROSYNC_CXX_ABI_TAG; }

}  // namespace corosync

#include "corosync_cxx/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace corosync {

namespace {
constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

bool same_namespace(int fd_a, int fd_b) {
  struct stat a {}, b {};
  if (fstat(fd_a, &a) != 0 || fstat(fd_b, &b) != 0) return true;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
}  // namespace

// Without /proc there is nothing to pin and every connection opens where it is called.
NetnsPin::NetnsPin() : fd_(open(kThreadNetns, O_RDONLY | O_CLOEXEC)) {}

NetnsPin::~NetnsPin() {
  if (fd_ >= 0) close(fd_);
}

NetnsPin::Visit::Visit(const NetnsPin& pin) {
  if (pin.fd_ < 0) return;
  int here = open(kThreadNetns, O_RDONLY | O_CLOEXEC);
  if (here < 0) return;
  if (same_namespace(here, pin.fd_)) {
    close(here);
    return;
  }
  if (setns(pin.fd_, CLONE_NEWNET) != 0) {
    int err = errno;
    close(here);
    throw std::system_error(err, std::generic_category(),
                            "setns into the namespace the handle was opened in");
  }
  home_fd_ = here;
}

NetnsPin::Visit::~Visit() {
  if (home_fd_ < 0) return;
  // Going home cannot fail for a thread that could leave it; nothing to do if it did.
  [[maybe_unused]] int rc = setns(home_fd_, CLONE_NEWNET);
  close(home_fd_);
}

}  // namespace corosync

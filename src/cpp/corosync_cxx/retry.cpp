#include "corosync_cxx/retry.hpp"

#include <algorithm>
#include <thread>

namespace corosync {

RetryPolicy::Backoff::Backoff(std::chrono::duration<double> timeout)
    : deadline_(std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout)) {}

bool RetryPolicy::Backoff::sleep() {
  auto now = std::chrono::steady_clock::now();
  if (now >= deadline_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now);
  std::this_thread::sleep_for(std::min(delay_, left + std::chrono::milliseconds(1)));
  delay_ = std::min(delay_ * 2, std::chrono::milliseconds(100));
  return true;
}

}  // namespace corosync

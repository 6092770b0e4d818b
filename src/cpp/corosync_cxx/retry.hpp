// The TRY_AGAIN retry policy: corosync answers CS_ERR_TRY_AGAIN during membership sync and
// under flow control; the call is repeated with backoff until it succeeds or the handle's
// retry timeout runs out.
#pragma once

#include <corosync/corotypes.h>

#include <algorithm>
#include <chrono>

namespace corosync {

class RetryPolicy {
 public:
  // timeout <= 0 disables retrying: the first TRY_AGAIN is returned.
  // Longer timeouts are cut to a century: the deadline must fit the steady clock.
  explicit RetryPolicy(std::chrono::duration<double> timeout = std::chrono::seconds(3))
      : timeout_(std::min(timeout, std::chrono::duration<double>(kLongest))) {}

  std::chrono::duration<double> timeout() const noexcept { return timeout_; }

  // Calls `call()` until it returns something other than CS_ERR_TRY_AGAIN or the timeout
  // expires; returns the last result. Sleeps 1 ms, doubling to 100 ms between attempts.
  template <class Call>
  cs_error_t run(Call&& call) const {
    cs_error_t rc = call();
    if (rc != CS_ERR_TRY_AGAIN || timeout_.count() <= 0) return rc;
    Backoff backoff(timeout_);
    while (rc == CS_ERR_TRY_AGAIN && backoff.sleep()) rc = call();
    return rc;
  }

 private:
  class Backoff {
   public:
    explicit Backoff(std::chrono::duration<double> timeout);
    // Sleeps before the next attempt; false when the deadline has passed.
    bool sleep();

   private:
    std::chrono::steady_clock::time_point deadline_;
    std::chrono::milliseconds delay_{1};
  };

  static constexpr std::chrono::hours kLongest{24 * 365 * 100};
  std::chrono::duration<double> timeout_;
};

}  // namespace corosync

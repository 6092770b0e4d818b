#include "corosync_cxx/service_handle.hpp"

namespace corosync {

ServiceHandle::ServiceHandle(const ServiceOps& ops, RetryPolicy retry) : Handle(ops, retry) {}

// close() here, while finalize_connections is still this class's.
ServiceHandle::~ServiceHandle() { close(); }

bool ServiceHandle::dispatch_event() {
  // One event per C call (corosync's ALL cannot be stopped by a callback), so that the
  // events behind a callback that throws stay queued.
  return consumed_event(*connection_,
                        state().ops.dispatch(connection_->handle, CS_DISPATCH_ONE_NONBLOCKING));
}

void ServiceHandle::finalize_connections() noexcept {
  if (!connection_) return;
  unwatch(*connection_);
  connection_->finalize(state().ops);
}

}  // namespace corosync

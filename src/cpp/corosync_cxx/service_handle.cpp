#include "corosync_cxx/service_handle.hpp"

namespace corosync {

ServiceHandle::ServiceHandle(const ServiceOps& ops, RetryPolicy retry) : Handle(ops, retry) {}

// close() here, while finalize_connections is still this class's.
ServiceHandle::~ServiceHandle() { close(); }

int ServiceHandle::poll_fd() const { return connection_->fd; }

bool ServiceHandle::dispatch_event() {
  // One event per C call (corosync's ALL cannot be stopped by a callback), so that the
  // events behind a callback that throws stay queued.
  const ServiceOps& ops = state().ops;
  cs_error_t rc = ops.dispatch(connection_->handle, CS_DISPATCH_ONE_NONBLOCKING);
  if (rc == CS_OK) return true;
  if (rc == CS_ERR_TRY_AGAIN || closed()) return false;
  fail(rc, ops.dispatch_name);
}

void ServiceHandle::finalize_connections() noexcept {
  if (connection_) connection_->finalize(state().ops);
}

}  // namespace corosync

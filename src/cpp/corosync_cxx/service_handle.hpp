// corosync::ServiceHandle: a handle over exactly one corosync connection, which is what
// CMAP, quorum, votequorum and CFG are, and what CPG's control connection is.
#pragma once

#include "corosync_cxx/handle.hpp"

#include <memory>
#include <utility>

namespace corosync {

class ServiceHandle : public Handle {
 public:
  ServiceHandle(ServiceHandle&&) noexcept = default;
  ServiceHandle& operator=(ServiceHandle&&) noexcept = default;
  ~ServiceHandle() override;

 protected:
  ServiceHandle(const ServiceOps& ops, RetryPolicy retry);

  // Connects (see Handle::connect) and keeps `connection` as this handle's connection;
  // `adopt` runs too, under the handle's mutex, before it is kept.
  template <class Init, class Adopt>
  void open(std::shared_ptr<Connection> connection, const char* function, Init&& initialize,
            Adopt&& adopt) {
    connect(connection, function, std::forward<Init>(initialize), [&] {
      adopt();
      watch(*connection, connection.get());
      connection_ = std::move(connection);
    });
  }
  template <class Init>
  void open(std::shared_ptr<Connection> connection, const char* function, Init&& initialize) {
    open(std::move(connection), function, std::forward<Init>(initialize), [] {});
  }
  // A corosync call on the connection (see Handle::call).
  template <class Call>
  void call(const char* function, Call&& c) const {
    Handle::call(*connection_, function, std::forward<Call>(c));
  }
  using Handle::call;
  Connection& connection() const { return *connection_; }

  bool dispatch_event() override;
  void finalize_connections() noexcept override;

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace corosync

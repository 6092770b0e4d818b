// corosync::NetnsPin: remembers the network namespace a handle connected in.
//
// A corosync client reaches the daemon of the network namespace it is in when it connects
// (libqb IPC uses abstract unix sockets, which are per namespace). A Cpg opens further
// connections later, when it joins more groups, possibly from a thread that is now in
// another namespace (a test harness holding handles on several nodes does exactly that),
// so those connections are opened back in the pinned namespace.
#pragma once

namespace corosync {

class NetnsPin {
 public:
  // Pins the calling thread's current network namespace.
  NetnsPin();
  ~NetnsPin();
  NetnsPin(const NetnsPin&) = delete;
  NetnsPin& operator=(const NetnsPin&) = delete;

  // Runs `call` in the pinned namespace. Enters it only when the calling thread is
  // elsewhere (setns needs CAP_SYS_ADMIN, which an ordinary client never needs this way).
  template <class Call>
  auto run_inside(Call&& call) {
    Visit visit(*this);
    return call();
  }

 private:
  class Visit {
   public:
    explicit Visit(const NetnsPin& pin);
    ~Visit();
    Visit(const Visit&) = delete;
    Visit& operator=(const Visit&) = delete;

   private:
    int home_fd_ = -1;  // the thread's own namespace while visiting the pinned one
  };

  int fd_ = -1;
};

}  // namespace corosync

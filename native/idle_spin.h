#pragma once
// Waiting for a client's next request by spinning on its socket for a moment before sleeping:
// at one request in flight a client sends the next a few microseconds after our reply, and
// sleeping until then costs a context switch and a wake-up per request (qemu-nbd's event loop
// polls the same way before it blocks). main/nbd/idle-poll.ts explains the budget's rule; this
// is the same rule for the connection loop's thread.
#include <stdint.h>

// Spins (poll with a zero timeout) until `fd` is readable or maxNs have passed: 1 readable,
// 0 not, -errno on failure.
int SpinUntilReadable(int fd, int64_t maxNs);

class IdleSpin {
 public:
  static constexpr int64_t MAX_NS = 50000;
  static constexpr int64_t MIN_NS = 2000;

  // Everything is answered and the connection waits for its client on `fd`: spins for up to
  // the budget; true once the client has sent something.
  bool Idle(int fd);
  // Bytes came from the client: how long they took says whether spinning pays.
  void Arrived();

 private:
  int64_t budget_ = MAX_NS;  // -1: the socket failed, no more spinning
  int64_t idleSince_ = -1;
};

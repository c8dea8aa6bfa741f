#include "idle_spin.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

namespace {

int64_t NowNs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

}  // namespace

int SpinUntilReadable(int fd, int64_t maxNs) {
  if (fd < 0) return -EBADF;
  struct pollfd p = {fd, POLLIN, 0};
  const int64_t start = NowNs();
  for (;;) {
    int r = poll(&p, 1, 0);
    if (r < 0 && errno != EINTR) return -errno;
    if (r > 0) return p.revents & POLLNVAL ? -EBADF : 1;
    if (NowNs() - start >= maxNs) return 0;
  }
}

bool IdleSpin::Idle(int fd) {
  idleSince_ = NowNs();
  if (budget_ <= 0) return false;
  const int r = SpinUntilReadable(fd, budget_);
  if (r < 0) budget_ = -1;
  return r > 0;
}

void IdleSpin::Arrived() {
  if (idleSince_ < 0) return;
  const int64_t waited = NowNs() - idleSince_;
  idleSince_ = -1;
  if (budget_ < 0) return;
  if (waited <= MAX_NS) budget_ = MAX_NS;
  else budget_ = budget_ / 2 >= MIN_NS ? budget_ / 2 : 0;
}

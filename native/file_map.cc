#include "file_map.h"

#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int DataRunsOf(int fd, off_t pos, off_t end, size_t maxRuns, std::vector<uint64_t>* runs) {
  size_t found = 0;
  while (pos < end && found < maxRuns) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) return errno == ENXIO ? 0 : -errno;
    if (data >= end) break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) {
      if (errno != ENXIO) return -errno;
      hole = end;
    }
    if (hole > end) hole = end;
    runs->push_back(static_cast<uint64_t>(data));
    runs->push_back(static_cast<uint64_t>(hole));
    found++;
    pos = hole;
  }
  return 0;
}

// No FIEMAP_FLAG_SYNC: flushing the file on every map query would cost more than it tells,
// and the callers only trust these ranges where SEEK_DATA already reports a hole.
int UnwrittenRunsOf(int fd, uint64_t start, uint64_t end, size_t maxRuns, std::vector<uint64_t>* runs) {
  constexpr size_t kBatch = 256;
  // uint64_t storage keeps the struct suitably aligned for the kernel.
  std::vector<uint64_t> storage((sizeof(struct fiemap) + kBatch * sizeof(struct fiemap_extent) + 7) / 8);
  auto* fm = reinterpret_cast<struct fiemap*>(storage.data());
  const size_t first = runs->size();
  uint64_t pos = start;
  bool done = false;
  while (!done && pos < end) {
    memset(fm, 0, sizeof(struct fiemap));
    fm->fm_start = pos;
    fm->fm_length = end - pos;
    fm->fm_extent_count = kBatch;
    if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) return -errno;
    if (fm->fm_mapped_extents == 0) break;
    uint64_t next = pos;
    for (uint32_t i = 0; i < fm->fm_mapped_extents; i++) {
      const struct fiemap_extent& e = fm->fm_extents[i];
      uint64_t s = e.fe_logical;
      uint64_t t = e.fe_logical + e.fe_length;
      if (t > next) next = t;
      if (e.fe_flags & FIEMAP_EXTENT_LAST) done = true;
      if (!(e.fe_flags & FIEMAP_EXTENT_UNWRITTEN)) continue;
      if (s < start) s = start;
      if (t > end) t = end;
      if (s >= t) continue;
      if (runs->size() > first && runs->back() == s) {
        runs->back() = t;
      } else {
        if ((runs->size() - first) / 2 >= maxRuns) {
          done = true;
          break;
        }
        runs->push_back(s);
        runs->push_back(t);
      }
    }
    if (next <= pos) break;  // a filesystem that maps nothing new: stop rather than spin
    pos = next;
  }
  return 0;
}

bool IsUnsupported(int error) {
  return error == EOPNOTSUPP || error == ENOTSUP || error == ENOSYS || error == EINVAL || error == ENOTTY;
}

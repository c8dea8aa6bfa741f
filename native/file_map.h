#pragma once
// Where a file has data, holes and unwritten (allocated, zero-reading) extents: the file
// plugin's extents (dataRuns and unwrittenRuns in blockscope_io.cc) and the connection loop's
// BLOCK_STATUS answers come from these two, so both say the same.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vector>

// The data runs overlapping [pos, end) by SEEK_DATA/SEEK_HOLE, at most maxRuns, clipped to
// end, as start/end pairs appended to `runs`: 0, or -errno.
int DataRunsOf(int fd, off_t pos, off_t end, size_t maxRuns, std::vector<uint64_t>* runs);

// The ranges in [start, end) that FIEMAP maps to extents flagged UNWRITTEN, clipped, touching
// ones merged, at most maxRuns, as start/end pairs appended to `runs`: 0, or -errno
// (-EOPNOTSUPP on tmpfs).
int UnwrittenRunsOf(int fd, uint64_t start, uint64_t end, size_t maxRuns, std::vector<uint64_t>* runs);

// Whether an errno means the file system lacks the call (the file plugin's isUnsupported).
bool IsUnsupported(int error);

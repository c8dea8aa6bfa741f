// Small Linux I/O primitives Node's fs module lacks: SEEK_DATA/SEEK_HOLE, FIEMAP, hole
// punching, range zeroing, block device sizes and fadvise, and sendfile for READ replies.
// Every call is synchronous and cheap (metadata, or no more than a socket takes at once),
// except compareFileRanges and populateAsync, which run on a pool thread and return a Promise,
// and SerialWriter (serial_writer.cc), a thread of its own for one file's writes.
// Errors come back as negative errno values so the JS side keeps one error type (BlockError).
#include <napi.h>
#include "serial_writer.h"
#include "connection_loop.h"
#include "file_map.h"
#include "idle_spin.h"
#include "quiet_deferred.h"
#include "tls_records.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/uio.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <algorithm>
#include <string>
#include <vector>

namespace {

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::Number>().DoubleValue());
}

// start/end pairs as a Float64Array, or [-errno] when `r` is one.
Napi::Float64Array RunsArray(Napi::Env env, int r, const std::vector<uint64_t>& runs) {
  if (r < 0) {
    Napi::Float64Array failed = Napi::Float64Array::New(env, 1);
    failed[0] = r;
    return failed;
  }
  Napi::Float64Array arr = Napi::Float64Array::New(env, runs.size());
  for (size_t i = 0; i < runs.size(); i++) arr[i] = static_cast<double>(runs[i]);
  return arr;
}

// seek(fd, offset, whence) -> new offset, or -errno (ENXIO means "no more data/holes").
Napi::Value Seek(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  off_t r = lseek(fd, static_cast<off_t>(ArgInt(info, 1)), static_cast<int>(ArgInt(info, 2)));
  return Napi::Number::New(info.Env(), r < 0 ? -static_cast<double>(errno) : static_cast<double>(r));
}

// dataRuns(fd, offset, end, maxRuns) -> Float64Array [start0, end0, start1, end1, ...] of the
// data runs overlapping [offset, end), or a one-element array [-errno] on failure. One call
// walks the whole range so a 20,000-extent map costs one JS->C++ crossing, not 40,000.
Napi::Value DataRuns(const Napi::CallbackInfo& info) {
  std::vector<uint64_t> runs;
  const int r = DataRunsOf(static_cast<int>(ArgInt(info, 0)), static_cast<off_t>(ArgInt(info, 1)), static_cast<off_t>(ArgInt(info, 2)),
                           static_cast<size_t>(ArgInt(info, 3)), &runs);
  return RunsArray(info.Env(), r, runs);
}

// unwrittenRuns(fd, offset, end, maxRuns) -> Float64Array [start0, end0, ...] of the ranges
// in [offset, end) that FIEMAP maps to extents flagged UNWRITTEN (allocated, reads as zero),
// clipped and with touching ranges merged; [-errno] on failure (EOPNOTSUPP on tmpfs).
Napi::Value UnwrittenRuns(const Napi::CallbackInfo& info) {
  std::vector<uint64_t> runs;
  const int r = UnwrittenRunsOf(static_cast<int>(ArgInt(info, 0)), static_cast<uint64_t>(ArgInt(info, 1)),
                                static_cast<uint64_t>(ArgInt(info, 2)), static_cast<size_t>(ArgInt(info, 3)), &runs);
  return RunsArray(info.Env(), r, runs);
}

// blockDeviceSize(fd) -> size in bytes, or -errno (ENOTTY for anything but a block device).
// fstat reports 0 for block devices, so the size has to come from the driver.
// readNoWait(fd, buffer, offset) -> bytes read, or -errno. preadv2 with RWF_NOWAIT reads only
// what is already in the page cache (EAGAIN otherwise), so the server can answer small cached
// reads at once on its own thread and send only real disk reads to the thread pool.
Napi::Value ReadNoWait(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  Napi::Buffer<uint8_t> buf = info[1].As<Napi::Buffer<uint8_t>>();
  off_t offset = static_cast<off_t>(ArgInt(info, 2));
#ifdef RWF_NOWAIT
  struct iovec iov = {buf.Data(), buf.Length()};
  ssize_t r = preadv2(fd, &iov, 1, offset, RWF_NOWAIT);
  return Napi::Number::New(info.Env(), r < 0 ? -static_cast<double>(errno) : static_cast<double>(r));
#else
  (void)fd; (void)buf; (void)offset;
  return Napi::Number::New(info.Env(), -static_cast<double>(ENOSYS));
#endif
}

// Sends what a non-blocking socket takes of `data` now: the count (short when the socket
// filled), or -errno when it took none for another reason than a full socket.
ssize_t SendSome(int sock, const uint8_t* data, size_t length, int flags) {
  size_t sent = 0;
  while (sent < length) {
    ssize_t r = send(sock, data + sent, length - sent, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sent > 0 || errno == EAGAIN || errno == EWOULDBLOCK ? static_cast<ssize_t>(sent) : -errno;
    sent += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(sent);
}

// sendReply(socketFd, bytes) -> how many bytes the socket took, or -errno when it took none.
// A small reply with nothing queued before it goes out in one syscall this way, without the
// write request, stream state and callback of a write through Node (which cost more than the
// syscall when a client keeps one request in flight).
Napi::Value SendReply(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> bytes = info[1].As<Napi::Buffer<uint8_t>>();
  ssize_t sent = SendSome(static_cast<int>(ArgInt(info, 0)), bytes.Data(), bytes.Length(), 0);
  return Napi::Number::New(info.Env(), static_cast<double>(sent));
}

// sendFileReply(socketFd, header, fileFd, offset, length) -> how many bytes of header and
// payload the socket took, or -errno when it took none. The payload goes from the page cache
// to the socket inside the kernel (sendfile) and never becomes a JavaScript buffer; measured
// against pread + write this halves the server's CPU per byte. The socket is libuv's, so
// non-blocking: a full send buffer (EAGAIN) ends the call early and the caller sends the rest
// its ordinary way rather than this call stalling the event loop. (On a pool thread, waiting
// for room, it was slower: one reply per connection at a time, and a hop per reply.)
Napi::Value SendFileReply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = static_cast<int>(ArgInt(info, 0));
  Napi::Buffer<uint8_t> header = info[1].As<Napi::Buffer<uint8_t>>();
  int fd = static_cast<int>(ArgInt(info, 2));
  off_t offset = static_cast<off_t>(ArgInt(info, 3));
  size_t length = static_cast<size_t>(ArgInt(info, 4));
  // MSG_MORE: the header waits for its payload instead of leaving in a packet of its own.
  ssize_t sent = SendSome(sock, header.Data(), header.Length(), MSG_MORE);
  if (sent < 0 || static_cast<size_t>(sent) < header.Length()) return Napi::Number::New(env, static_cast<double>(sent));
  size_t done = 0;
  while (done < length) {
    ssize_t r = sendfile(sock, fd, &offset, length - done);
    if (r < 0 && errno == EINTR) continue;
    // EAGAIN, a real error or end of file (r == 0): the caller's ordinary path sends or fails
    // the rest, and sees the error itself.
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  return Napi::Number::New(env, static_cast<double>(sent + done));
}

// allCached(fd, offset, length) -> 1 if every page of the range is in the page cache, 0 if
// not, -errno when the kernel cannot tell (ENOSYS before Linux 6.5). sendFileReply reads the
// file on the event loop, so a READ of data still on the disk goes the ordinary way (a pool
// thread) instead of stalling every connection.
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
Napi::Value AllCached(const Napi::CallbackInfo& info) {
  struct { uint64_t off, len; } range = {static_cast<uint64_t>(ArgInt(info, 1)), static_cast<uint64_t>(ArgInt(info, 2))};
  struct { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; } stat = {};
  if (syscall(__NR_cachestat, static_cast<int>(ArgInt(info, 0)), &range, &stat, 0) != 0) {
    return Napi::Number::New(info.Env(), -static_cast<double>(errno));
  }
  uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t pages = (range.off + range.len + page - 1) / page - range.off / page;
  return Napi::Number::New(info.Env(), stat.nr_cache >= pages ? 1 : 0);
}

// awaitReadable(fd, maxNs) -> 1 once the fd has bytes to read, 0 if none came within maxNs
// nanoseconds, -errno on failure. It spins (poll with a zero timeout) rather than sleeps: at
// one request in flight a client's next request often comes a few microseconds after our
// reply, and sleeping in epoll until then costs a context switch and a wake-up per request
// (qemu-nbd's event loop polls the same way before it blocks).
Napi::Value AwaitReadable(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), SpinUntilReadable(static_cast<int>(ArgInt(info, 0)), ArgInt(info, 1)));
}

Napi::Value BlockDeviceSize(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  uint64_t size = 0;
  int r = ioctl(fd, BLKGETSIZE64, &size);
  return Napi::Number::New(info.Env(), r < 0 ? -static_cast<double>(errno) : static_cast<double>(size));
}

// fadvise(fd, offset, length, advice) -> 0 or -errno.
Napi::Value Fadvise(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  int r = posix_fadvise(fd, static_cast<off_t>(ArgInt(info, 1)), static_cast<off_t>(ArgInt(info, 2)),
                        static_cast<int>(ArgInt(info, 3)));
  return Napi::Number::New(info.Env(), r == 0 ? 0 : -static_cast<double>(r));
}

// adviseHugePages(view) -> 0 or -errno: madvise(MADV_HUGEPAGE) over the 2 MiB-aligned interior
// of a typed array's memory. A large zero-filled array comes from fresh mmap'd pages, and
// touching it first costs a page fault per 4 KiB: filling a 128 MB Float64Array took 490 ms
// here the first time and 20 ms the second (this VM's nested paging makes faults dear). With
// transparent huge pages in "madvise" mode (Debian's default) this asks for 2 MiB pages.
constexpr uintptr_t kHugePage = 2u << 20;

// The whole `align`-sized pages inside the typed array passed as info[0], as [start, end)
// (empty when none fits), or false after throwing a TypeError that names `fn`.
bool PagesInside(const Napi::CallbackInfo& info, const char* fn, uintptr_t align, uintptr_t* start, uintptr_t* end) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(info.Env(), std::string(fn) + ": a typed array is required").ThrowAsJavaScriptException();
    return false;
  }
  auto view = info[0].As<Napi::TypedArray>();
  auto base = reinterpret_cast<uintptr_t>(view.ArrayBuffer().Data()) + view.ByteOffset();
  *start = (base + align - 1) & ~(align - 1);
  *end = std::max(*start, (base + view.ByteLength()) & ~(align - 1));
  return true;
}

Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uintptr_t start, end;
  if (!PagesInside(info, "adviseHugePages", kHugePage, &start, &end)) return env.Undefined();
  if (end == start) return Napi::Number::New(env, 0);
  int r = madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
  return Napi::Number::New(env, r < 0 ? -static_cast<double>(errno) : 0);
}

// populateAsync(view) -> a Promise of 0 or -errno: the pages under a typed array, faulted in
// writable on a pool thread (MADV_POPULATE_WRITE, Linux 5.14; -EINVAL before). A 10 M-extent
// scan fills 120 MB of fresh columns, and here the kernel's zeroing of each new page was a
// fifth of the UI host's CPU in that scan, all of it on the event loop as the scan reached
// each page. Populating writes no data, so the event loop may fill the array meanwhile; the
// worker holds the array until it is done, so the memory cannot go away under it.
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

class PopulateWorker : public Napi::AsyncWorker {
 public:
  PopulateWorker(Napi::Env env, Napi::TypedArray view, void* start, size_t length)
      : Napi::AsyncWorker(env, "blockscope:populateAsync"), deferred_(env),
        keep_(Napi::Persistent(view)), start_(start), length_(length) {}
  Napi::Value Promise() const { return deferred_.Promise(Env()); }
  void Execute() override {
    int r;
    do r = madvise(start_, length_, MADV_POPULATE_WRITE);
    while (r < 0 && errno == EINTR);
    result_ = r < 0 ? -errno : 0;
  }
  void OnOK() override {
    keep_.Reset();
    deferred_.Resolve(Env(), result_);
  }

 private:
  QuietDeferred deferred_;
  Napi::Reference<Napi::TypedArray> keep_;
  void* start_;
  size_t length_;
  int result_ = 0;
};

Napi::Value PopulateAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uintptr_t start, end;
  // Whole pages only: a page the array shares with other memory is left alone.
  if (!PagesInside(info, "populateAsync", static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), &start, &end)) return env.Undefined();
  auto* worker = new PopulateWorker(env, info[0].As<Napi::TypedArray>(), reinterpret_cast<void*>(start), end - start);
  Napi::Value promise = worker->Promise();
  worker->Queue();  // deletes itself once it has resolved the promise
  return promise;
}

// fallocate(fd, mode, offset, length) -> 0 or -errno.
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  int mode = static_cast<int>(ArgInt(info, 1));
  int r = fallocate(fd, mode, static_cast<off_t>(ArgInt(info, 2)), static_cast<off_t>(ArgInt(info, 3)));
  return Napi::Number::New(info.Env(), r < 0 ? -static_cast<double>(errno) : 0);
}

// peerCredentials(fd) -> [pid, uid, gid] of the process at the other end of a Unix socket
// (SO_PEERCRED: the kernel records them at connect, so the peer cannot lie), or [-errno].
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(ArgInt(info, 0));
  struct ucred cred;
  socklen_t len = sizeof cred;
  Napi::Array out = Napi::Array::New(env);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    out.Set(0u, Napi::Number::New(env, -static_cast<double>(errno)));
    return out;
  }
  out.Set(0u, Napi::Number::New(env, cred.pid));
  out.Set(1u, Napi::Number::New(env, cred.uid));
  out.Set(2u, Napi::Number::New(env, cred.gid));
  return out;
}

// dupFd(fd) -> a second descriptor for the same socket (close-on-exec), or -errno. STARTTLS
// hands a connection to a TLS worker thread this way: the main thread closes its own handle
// and the connection lives on in the worker.
Napi::Value DupFd(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return Napi::Number::New(info.Env(), copy >= 0 ? copy : -static_cast<double>(errno));
}

// peerSecurity(fd) -> the peer's security label (SO_PEERSEC), or -errno (ENOPROTOOPT when
// no security module labels sockets).
Napi::Value PeerSecurity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(ArgInt(info, 0));
  std::vector<char> label(256);
  socklen_t len = label.size();
  if (getsockopt(fd, SOL_SOCKET, SO_PEERSEC, label.data(), &len) != 0 && errno == ERANGE) {
    label.resize(len);
    len = label.size();
  }
  if (getsockopt(fd, SOL_SOCKET, SO_PEERSEC, label.data(), &len) != 0) {
    return Napi::Number::New(env, -static_cast<double>(errno));
  }
  // The kernel may or may not count a trailing NUL.
  while (len > 0 && label[len - 1] == '\0') len--;
  return Napi::String::New(env, label.data(), len);
}

// compareFileRanges(fdA, offsetA, fdB, offsetB, length) -> a Promise of the offset (from the
// start of the ranges) of the first byte that differs, -1 when the ranges are equal, or -errno
// (-ENODATA when a file ends early). Runs on a libuv pool thread, so two calls in flight keep
// both cores busy while the event loop stays free. Reads both ranges in step into two buffers
// per pool thread (2 MiB, kept for reuse), and compares them with memcmp: the bytes never
// cross into JavaScript. pread rather than mmap: on two cached 2 GiB files here, pread into
// 64 KiB-2 MiB buffers took 0.7 s of CPU whatever the size, mmap + MADV_SEQUENTIAL (with or
// without MAP_POPULATE) 2.7-3.2 s (a TLB miss per 4 KiB page under the VM's nested paging);
// and a file truncated meanwhile makes pread return 0 where a mapping would raise SIGBUS.
constexpr size_t kCompareBuffer = 1 << 20;

// Reads exactly `length` bytes or returns -errno (-ENODATA at end of file).
int64_t ReadExactly(int fd, uint8_t* into, size_t length, off_t offset) {
  size_t done = 0;
  while (done < length) {
    ssize_t r = pread(fd, into + done, length - done, offset + static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -static_cast<int64_t>(errno);
    if (r == 0) return -static_cast<int64_t>(ENODATA);
    done += static_cast<size_t>(r);
  }
  return 0;
}

int64_t FirstDifference(int fdA, off_t offA, int fdB, off_t offB, uint64_t length) {
  thread_local std::vector<uint8_t> bufA(kCompareBuffer), bufB(kCompareBuffer);
  for (uint64_t pos = 0; pos < length; pos += kCompareBuffer) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kCompareBuffer, length - pos));
    int64_t r = ReadExactly(fdA, bufA.data(), n, offA + static_cast<off_t>(pos));
    if (r == 0) r = ReadExactly(fdB, bufB.data(), n, offB + static_cast<off_t>(pos));
    if (r < 0) return r;
    if (memcmp(bufA.data(), bufB.data(), n) == 0) continue;
    for (size_t i = 0; i < n; i++) {
      if (bufA[i] != bufB[i]) return static_cast<int64_t>(pos + i);
    }
  }
  return -1;
}

class CompareWorker : public Napi::AsyncWorker {
 public:
  CompareWorker(Napi::Env env, int fdA, off_t offA, int fdB, off_t offB, uint64_t length)
      : Napi::AsyncWorker(env, "blockscope:compareFileRanges"), deferred_(env),
        fdA_(fdA), offA_(offA), fdB_(fdB), offB_(offB), length_(length) {}
  Napi::Value Promise() const { return deferred_.Promise(Env()); }
  void Execute() override { result_ = FirstDifference(fdA_, offA_, fdB_, offB_, length_); }
  void OnOK() override { deferred_.Resolve(Env(), static_cast<double>(result_)); }

 private:
  QuietDeferred deferred_;
  int fdA_;
  off_t offA_;
  int fdB_;
  off_t offB_;
  uint64_t length_;
  int64_t result_ = 0;
};

Napi::Value CompareFileRanges(const Napi::CallbackInfo& info) {
  auto* worker = new CompareWorker(info.Env(), static_cast<int>(ArgInt(info, 0)), static_cast<off_t>(ArgInt(info, 1)),
                                   static_cast<int>(ArgInt(info, 2)), static_cast<off_t>(ArgInt(info, 3)),
                                   static_cast<uint64_t>(ArgInt(info, 4)));
  Napi::Value promise = worker->Promise();
  worker->Queue();  // the worker deletes itself once it has resolved the promise
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials));
  exports.Set("peerSecurity", Napi::Function::New(env, PeerSecurity));
  exports.Set("dupFd", Napi::Function::New(env, DupFd));
  exports.Set("seek", Napi::Function::New(env, Seek));
  exports.Set("dataRuns", Napi::Function::New(env, DataRuns));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate));
  exports.Set("unwrittenRuns", Napi::Function::New(env, UnwrittenRuns));
  exports.Set("blockDeviceSize", Napi::Function::New(env, BlockDeviceSize));
  exports.Set("fadvise", Napi::Function::New(env, Fadvise));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages));
  exports.Set("populateAsync", Napi::Function::New(env, PopulateAsync));
  exports.Set("readNoWait", Napi::Function::New(env, ReadNoWait));
  exports.Set("sendFileReply", Napi::Function::New(env, SendFileReply));
  exports.Set("sendReply", Napi::Function::New(env, SendReply));
  exports.Set("allCached", Napi::Function::New(env, AllCached));
  exports.Set("awaitReadable", Napi::Function::New(env, AwaitReadable));
  exports.Set("compareFileRanges", Napi::Function::New(env, CompareFileRanges));
  InitSerialWriter(env, exports);
  InitTlsRecords(env, exports);
  InitConnectionLoop(env, exports);
  exports.Set("EAGAIN", Napi::Number::New(env, EAGAIN));
  exports.Set("SEEK_DATA", Napi::Number::New(env, SEEK_DATA));
  exports.Set("SEEK_HOLE", Napi::Number::New(env, SEEK_HOLE));
  exports.Set("FALLOC_FL_KEEP_SIZE", Napi::Number::New(env, FALLOC_FL_KEEP_SIZE));
  exports.Set("FALLOC_FL_PUNCH_HOLE", Napi::Number::New(env, FALLOC_FL_PUNCH_HOLE));
  exports.Set("FALLOC_FL_ZERO_RANGE", Napi::Number::New(env, FALLOC_FL_ZERO_RANGE));
  exports.Set("ENXIO", Napi::Number::New(env, ENXIO));
  exports.Set("EOPNOTSUPP", Napi::Number::New(env, EOPNOTSUPP));
  exports.Set("ENOSYS", Napi::Number::New(env, ENOSYS));
  exports.Set("EINVAL", Napi::Number::New(env, EINVAL));
  exports.Set("POSIX_FADV_NORMAL", Napi::Number::New(env, POSIX_FADV_NORMAL));
  exports.Set("POSIX_FADV_RANDOM", Napi::Number::New(env, POSIX_FADV_RANDOM));
  exports.Set("POSIX_FADV_SEQUENTIAL", Napi::Number::New(env, POSIX_FADV_SEQUENTIAL));
  exports.Set("POSIX_FADV_WILLNEED", Napi::Number::New(env, POSIX_FADV_WILLNEED));
  exports.Set("POSIX_FADV_DONTNEED", Napi::Number::New(env, POSIX_FADV_DONTNEED));
  return exports;
}

}  // namespace

NODE_API_MODULE(blockscope_io, Init)

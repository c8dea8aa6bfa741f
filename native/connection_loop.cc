// ConnectionLoop: serves one connection's READ, WRITE and FLUSH requests on a thread
// of its own, as nbdkit's connection threads do, for a chain that passes them to one file
// unchanged (LayerContext.passThroughFile), and BLOCK_STATUS with REQ_ONE (what qemu sends)
// where the chain's extents are that file's too (LayerContext.passThroughExtents). No
// JavaScript runs per request: the event loop only hears, in batches, what was served (for the
// stats, the activity map and the allocation map). One JavaScript thread carrying every
// connection's socket I/O was what held the server back: the loop uses half the CPU per byte
// of the path through JavaScript.
//
// Over TLS 1.3 (Settings.tls, tls_session.h) it opens the requests' records and seals its
// replies' itself; a long READ is then read into its records' places and sealed and sent by
// the second thread.
//
// The loop serves only requests that are valid as they stand and stops at the first one it
// does not serve (another command, a flag, a range or a size the JavaScript path judges),
// handing its header back; at end of file, a failure or stop(). A WRITE or FLUSH that the
// file refuses is handed back with its errno, for the JavaScript path to answer and log.
#include "connection_loop.h"

#include "file_map.h"
#include "idle_spin.h"
#include "tls_records.h"
#include "tls_session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t REQUEST_MAGIC = 0x25609513;
constexpr uint32_t SIMPLE_REPLY_MAGIC = 0x67446698;
constexpr uint32_t STRUCTURED_REPLY_MAGIC = 0x668e33ef;
constexpr uint16_t CMD_READ = 0, CMD_WRITE = 1, CMD_FLUSH = 3, CMD_BLOCK_STATUS = 7;
constexpr uint16_t FLAG_FUA = 1, FLAG_DF = 4, FLAG_REQ_ONE = 8;
constexpr uint16_t REPLY_FLAG_DONE = 1, REPLY_TYPE_OFFSET_DATA = 1, REPLY_TYPE_BLOCK_STATUS = 5;
constexpr uint32_t EXTENT_ZERO = 2, EXTENT_HOLE_ZERO = 3;
// What the outermost layer keeps extent edges on (backend/sector-align.ts).
constexpr uint64_t SECTOR = 512;
constexpr size_t HEADER = 28;
constexpr uint32_t MAX_PAYLOAD = 32 * 1024 * 1024;
// Served requests reach the event loop at most this often, and no later than this after they
// were served: a client that sends one request at a time (qemu's block status) would
// otherwise cost the event loop a call per request, which the loop is there to save.
constexpr auto EVENT_INTERVAL = std::chrono::milliseconds(20);
// Numbers per served request in an events array: command, offset, length, latency in ms.
constexpr size_t EVENT_FIELDS = 4;
// Received bytes read at once: many headers of small requests per system call.
constexpr size_t IN_BUFFER = 64 * 1024;
// Replies held until the client would wait, or until they are this large.
constexpr size_t OUT_FLUSH = 256 * 1024;
// WRITE payloads received ahead of the writer thread, at most (and always one).
constexpr size_t WRITES_AHEAD_BYTES = 8 * 1024 * 1024;
// READs this long go from the page cache by sendfile; shorter ones are copied (fast-read.ts's FILE_REPLY_MIN).
constexpr uint32_t SENDFILE_MIN = 64 * 1024;

// Why the loop ended (connection-loop.ts has the same list).
enum Reason { HANDED_BACK = 0, END_OF_FILE = 1, FAILED = 2, STOPPED = 3, REQUEST_FAILED = 4 };

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
uint64_t Be64(const uint8_t* p) { return static_cast<uint64_t>(Be32(p)) << 32 | Be32(p + 4); }
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  Put16(p, static_cast<uint16_t>(v >> 16));
  Put16(p + 2, static_cast<uint16_t>(v));
}
void Put64(uint8_t* p, uint64_t v) {
  Put32(p, static_cast<uint32_t>(v >> 32));
  Put32(p + 4, static_cast<uint32_t>(v));
}

struct Settings {
  int sock = -1;  // the loop's own duplicate of the connection's socket
  int file = -1;
  uint64_t size = 0;
  bool writable = false;
  bool structured = false;
  bool fua = false;    // FUA is valid on every command (the export advertises it)
  bool flush = false;  // the export can flush
  // READs of this many bytes or more without DF are left to JavaScript, which answers them with
  // hole chunks where the file has holes (sparse-read.ts); 0: none are.
  uint32_t holeLookupMin = 0;
  // The id of base:allocation when it is the one meta context and the chain's extents are the
  // file's: BLOCK_STATUS with REQ_ONE is served then. -1: never.
  int64_t blockStatusContext = -1;
  // Spin for the next request before sleeping (idle_spin.h); off with BLOCKSCOPE_IDLE_POLL=0.
  bool spin = true;
  // A TLS 1.3 connection's record layer (tls-records.ts): every byte received is opened and
  // every byte sent sealed by it. Null on a plaintext connection.
  blockscope::TlsSession* tls = nullptr;
};

// What the thread hands the event loop: served requests, then (once) how it ended.
struct Message {
  std::vector<double> events;
  Reason reason = STOPPED;
  int error = 0;
  // Said instead of the errno's name when set (a TLS failure).
  std::string message;
  std::vector<uint8_t> leftover;
};

// A WRITE received and waiting for (or in) the second thread; over TLS also a long READ,
// read into its records' places (`data`) and waiting to be sealed and sent there.
struct WriteJob {
  uint16_t type = CMD_WRITE;
  uint8_t header[HEADER];
  std::vector<uint8_t> data;
  uint64_t offset = 0;
  uint32_t length = 0;
  bool fua = false;
  Clock::time_point started;
};

struct Loop {
  Settings s;
  int wake = -1;  // eventfd: stop() makes it readable
  std::atomic<bool> stopping{false};
  Napi::ThreadSafeFunction deliver;
  std::thread thread;
  // Keeps the TlsRecords object that owns s.tls alive while the loop runs.
  Napi::ObjectReference tlsRecords;

  // One sender at a time on the socket: the loop's replies or the writer's.
  std::mutex sendMutex;

  // WRITEs go to a second thread, so that one connection's payloads are received while the
  // one before is written (nbdkit's threads overlap the two likewise): serving one client's
  // writes with both in one thread was a third slower. Over TLS long READs go there too, to be
  // sealed and sent while the next is read. Guarded by writeMutex.
  std::mutex writeMutex;
  std::condition_variable writeWake, writeDone;
  std::deque<WriteJob*> writeQueue;
  std::vector<WriteJob*> spareJobs;
  size_t writesAhead = 0, bytesAhead = 0;  // queued or being written
  bool writerQuit = false;
  // The first WRITE the file refused (its errno): the writer takes no more, the loop ends.
  std::atomic<int> writeFailed{0};
  WriteJob* failedJob = nullptr;
  int sendFailed = 0;  // the writer's reply could not be sent (errno, or -1 stopped)
  std::thread writer;

  ~Loop() {
    for (WriteJob* job : writeQueue) delete job;
    for (WriteJob* job : spareJobs) delete job;
    delete failedJob;
  }

  std::mutex mutex;  // guards pending and posted
  std::vector<double> pending;
  bool posted = false;
  Clock::time_point lastPost = Clock::now();

  // Waits until the socket can do `events`; false once stop() was called or poll fails.
  // `betweenRequests`: a WRITE that failed meanwhile ends the wait too (the loop ends, so that
  // its reply is not left waiting for the client's next request), and served requests not yet
  // told reach the event loop when due.
  bool Await(short events, bool betweenRequests = false) {
    struct pollfd p[2] = {{s.sock, events, 0}, {wake, POLLIN, 0}};
    for (;;) {
      if (stopping.load() || (betweenRequests && writeFailed.load())) return false;
      int r = poll(p, 2, betweenRequests ? MsUntilPostDue() : -1);
      if (r == 0) {
        Post(false);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return false;
      if (p[1].revents) {
        if (stopping.load() || (betweenRequests && writeFailed.load())) return false;
        // The writer's signal, for a wait it does not end: clear it.
        uint64_t count;
        ssize_t ignored = read(wake, &count, sizeof count);
        (void)ignored;
        continue;
      }
      if (p[0].revents) return true;
    }
  }

  // Received bytes not yet used are in[inAt, inEnd). At least one whole header's room.
  std::vector<uint8_t> in = std::vector<uint8_t>(IN_BUFFER);
  size_t inAt = 0, inEnd = 0;
  // Replies not yet sent: many small replies leave in one send.
  std::vector<uint8_t> out;
  // How long to spin for the client's next request before sleeping.
  IdleSpin spin;

  size_t Buffered() const { return inEnd - inAt; }

  // Over TLS: plaintext opened and not yet taken is plain[plainAt, end); ciphertext is received
  // into `sealedIn`. tlsClosed: the client's close_notify came (after what is in `plain`).
  std::vector<uint8_t> plain;
  size_t plainAt = 0;
  bool tlsClosed = false;
  std::vector<uint8_t> sealedIn;
  std::string tlsError;

  // recv() of the connection's plaintext: straight from the socket, or opened from TLS records.
  // Over TLS, -1 with EAGAIN means no whole record has come; EBADMSG that the TLS session
  // failed (tlsError says how), after the alert for the client went.
  ssize_t ReceiveSome(uint8_t* into, size_t room) {
    if (!s.tls) return recv(s.sock, into, room, 0);
    for (;;) {
      if (plainAt < plain.size()) {
        const size_t n = std::min(room, plain.size() - plainAt);
        std::memcpy(into, plain.data() + plainAt, n);
        plainAt += n;
        if (plainAt == plain.size()) {
          plain.clear();
          plainAt = 0;
        }
        return static_cast<ssize_t>(n);
      }
      if (tlsClosed) return 0;
      if (sealedIn.empty()) sealedIn.resize(IN_BUFFER);
      const ssize_t r = recv(s.sock, sealedIn.data(), sealedIn.size(), 0);
      if (r <= 0) return r;
      std::vector<uint8_t> reply;
      const auto status = s.tls->Receive(sealedIn.data(), static_cast<size_t>(r), &plain, &reply, &tlsError);
      if (!reply.empty()) {
        // A KeyUpdate of ours (before anything sealed under the new key) or an alert.
        std::lock_guard<std::mutex> send(sendMutex);
        int ignored = 0;
        SendRaw(reply.data(), reply.size(), 0, &ignored);
      }
      if (status == blockscope::TlsSession::CLOSED) tlsClosed = true;
      if (status == blockscope::TlsSession::FAILED) {
        errno = EBADMSG;
        return -1;
      }
    }
  }

  // At least `n` (at most IN_BUFFER) bytes buffered: 1, or 0 at end of file, -1 failed or
  // stopped. Before it waits for the client it sends the replies it holds and tells the event
  // loop what was served: the client may be waiting for them.
  int Want(size_t n, int* error) {
    if (Buffered() >= n) return 1;
    if (inAt > 0) {
      std::memmove(in.data(), in.data() + inAt, Buffered());
      inEnd -= inAt;
      inAt = 0;
    }
    return RecvAtLeast(in.data(), &inEnd, n, in.size(), error, true);
  }

  // Exactly n bytes into `into`, what is buffered first, the rest straight from the socket: 1,
  // or 0 at end of file, -1 failed or stopped.
  int Take(uint8_t* into, size_t n, int* error) {
    size_t got = std::min(Buffered(), n);
    std::memcpy(into, in.data() + inAt, got);
    inAt += got;
    return RecvAtLeast(into, &got, n, n, error, false);
  }

  // Receives into `into` from *got on, up to `room`, until at least `least` bytes are there: 1,
  // or 0 at end of file, -1 failed or stopped. `betweenRequests` (no request is half read):
  // before waiting for the client, send the replies held and tell the event loop what was
  // served, as the client may be waiting for them; and let a failed WRITE end the wait.
  int RecvAtLeast(uint8_t* into, size_t* got, size_t least, size_t room, int* error, bool betweenRequests) {
    while (*got < least) {
      ssize_t r = ReceiveSome(into + *got, room - *got);
      if (r > 0) {
        *got += static_cast<size_t>(r);
        if (betweenRequests) spin.Arrived();
        continue;
      }
      if (r == 0) return 0;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        *error = errno;
        return -1;
      }
      if (betweenRequests) {
        if (!FlushReplies(error)) return -1;
        Post(true);
        // Not while WRITEs are being written: the client then waits for their replies, and the
        // writer thread and the client want the cores the spinning would take.
        if (s.spin && !WritesPending() && spin.Idle(s.sock)) continue;
      }
      if (!Await(POLLIN, betweenRequests)) return -1;
    }
    return 1;
  }

  bool FlushReplies(int* error) {
    if (out.empty()) return true;
    std::lock_guard<std::mutex> send(sendMutex);
    return FlushLocked(error);
  }

  // FlushReplies with sendMutex held.
  bool FlushLocked(int* error) {
    const bool ok = SendAll(out.data(), out.size(), 0, error);
    out.clear();
    return ok;
  }

  // Calls `step(done)`, a send of what is left after `done` bytes, until n bytes went, waiting
  // for room whenever the socket is full; `stalled` is the errno when a step sends nothing.
  template <typename Step>
  bool SendFully(size_t n, int stalled, int* error, Step step) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = step(done);
      if (r > 0) {
        done += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!Await(POLLOUT)) return false;
        continue;
      }
      *error = r < 0 ? errno : stalled;
      return false;
    }
    return true;
  }

  // Sends n bytes of the connection's plaintext: sealed into TLS records first over TLS.
  // With sendMutex held.
  bool SendAll(const uint8_t* from, size_t n, int flags, int* error) {
    if (!s.tls) return SendRaw(from, n, flags, error);
    // Not even an empty record: each costs the client a record to open.
    if (n == 0) return true;
    const size_t length = blockscope::TlsRecordsSize(n);
    if (sealedOut.size() < length) sealedOut.resize(length);
    if (!s.tls->Send(from, n, sealedOut.data())) {
      *error = EPROTO;
      return false;
    }
    return SendRaw(sealedOut.data(), length, 0, error);
  }
  // SendAll's records, kept for the next.
  std::vector<uint8_t> sealedOut;

  bool SendRaw(const uint8_t* from, size_t n, int flags, int* error) {
    return SendFully(n, EPIPE, error, [&](size_t done) { return send(s.sock, from + done, n - done, flags | MSG_NOSIGNAL); });
  }

  // The payload from the page cache to the socket inside the kernel (as fast-read.ts does). If
  // the file fails, or ends early (it shrank), after the header went, the reply cannot be
  // finished and the connection ends (as a fast READ's does in reply-writer.ts).
  bool SendFileAll(off_t offset, size_t n, int* error) {
    return SendFully(n, EIO, error, [&](size_t done) {
      off_t at = offset + static_cast<off_t>(done);
      return sendfile(s.sock, s.file, &at, n - done);
    });
  }

  bool Serves(uint16_t flags, uint16_t type, uint64_t offset, uint32_t length) const {
    const uint16_t fua = s.fua ? FLAG_FUA : 0;
    const bool inRange = length > 0 && offset <= s.size && length <= s.size - offset;
    switch (type) {
      case CMD_READ:
        if (flags & ~(fua | (s.structured ? FLAG_DF : 0))) return false;
        if (s.holeLookupMin && length >= s.holeLookupMin && !(flags & FLAG_DF)) return false;
        return inRange && length <= MAX_PAYLOAD;
      case CMD_WRITE:
        // FUA is always valid on a WRITE; the file plugin emulates it with a flush.
        return s.writable && !(flags & ~FLAG_FUA) && inRange && length <= MAX_PAYLOAD;
      case CMD_FLUSH:
        return s.flush && !(flags & ~fua);
      case CMD_BLOCK_STATUS:
        return s.blockStatusContext >= 0 && (flags & ~fua) == FLAG_REQ_ONE && inRange;
      default:
        return false;
    }
  }

  void Record(uint16_t type, uint64_t offset, uint32_t length, Clock::time_point started) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    std::lock_guard<std::mutex> lock(mutex);
    pending.insert(pending.end(), {static_cast<double>(type), static_cast<double>(offset), static_cast<double>(length), ms});
  }

  // Milliseconds until served requests not yet told are due to be (0: now), or -1 if none wait.
  int MsUntilPostDue() {
    std::lock_guard<std::mutex> lock(mutex);
    if (pending.empty() || posted) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(lastPost + EVENT_INTERVAL - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
  }

  // Hands the served requests to the event loop: when `due` only if EVENT_INTERVAL has passed.
  void Post(bool due) {
    std::lock_guard<std::mutex> lock(mutex);
    if (pending.empty() || posted) return;
    if (due && Clock::now() - lastPost < EVENT_INTERVAL) return;
    posted = true;
    deliver.NonBlockingCall(static_cast<Message*>(nullptr), [this](Napi::Env env, Napi::Function fn, Message*) {
      if (env == nullptr) return;
      std::vector<double> events;
      {
        std::lock_guard<std::mutex> l(mutex);
        events.swap(pending);
        posted = false;
        lastPost = Clock::now();
      }
      Call(env, fn, events, nullptr);
    });
  }

  static void Call(Napi::Env env, Napi::Function fn, const std::vector<double>& events, const Message* end) {
    Napi::Float64Array list = Napi::Float64Array::New(env, events.size());
    if (!events.empty()) std::memcpy(list.Data(), events.data(), events.size() * sizeof(double));
    Napi::Value ending = env.Null();
    if (end) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("reason", static_cast<double>(end->reason));
      o.Set("error", static_cast<double>(end->error));
      if (!end->message.empty()) o.Set("message", end->message);
      o.Set("leftover", Napi::Buffer<uint8_t>::Copy(env, end->leftover.data(), end->leftover.size()));
      ending = o;
    }
    fn.Call({list, ending});
  }

  void RunWriter() {
    for (;;) {
      WriteJob* job;
      {
        std::unique_lock<std::mutex> lock(writeMutex);
        writeWake.wait(lock, [&] { return writerQuit || (!writeQueue.empty() && !writeFailed); });
        if (writeQueue.empty() || writeFailed) return;
        job = writeQueue.front();
        writeQueue.pop_front();
      }
      const int failed = job->type == CMD_WRITE ? WritePayload(*job) : 0;
      int sendError = 0;
      bool sent = false;
      if (job->type == CMD_READ) {
        sent = SendReadRecords(*job, &sendError);
      } else if (!failed) {
        uint8_t reply[16];
        PutSimpleReply(reply, Be64(job->header + 8));
        std::lock_guard<std::mutex> send(sendMutex);
        sent = SendAll(reply, sizeof reply, 0, &sendError);
      }
      bool idle;
      {
        std::lock_guard<std::mutex> lock(writeMutex);
        idle = writeQueue.empty();
      }
      if (sent) {
        Record(job->type, job->offset, job->length, job->started);
        // With nothing more to write the event loop hears now: the loop's thread may be
        // waiting for the client already.
        Post(!idle);
      }
      std::lock_guard<std::mutex> lock(writeMutex);
      if (failed) {
        writeFailed = failed;
        failedJob = job;
        const uint64_t one = 1;
        ssize_t ignored = write(wake, &one, sizeof one);  // the loop may be waiting for the client
        (void)ignored;
      } else {
        if (!sent && !sendFailed) sendFailed = sendError ? sendError : -1;
        spareJobs.push_back(job);
      }
      writesAhead--;
      bytesAhead -= job->length;
      writeDone.notify_all();
    }
  }

  // A long READ's reply over TLS: its records are sealed, in place, and sent. Sealing numbers
  // the records, so it happens under sendMutex as the sending does.
  bool SendReadRecords(WriteJob& job, int* error) {
    const size_t hl = s.structured ? 28 : 16;
    uint8_t* payload = job.data.data() + blockscope::TlsRecordsSize(hl);
    std::lock_guard<std::mutex> send(sendMutex);
    if (!FlushLocked(error)) return false;
    if (!s.tls->SealInPlace(job.data.data(), hl) || !s.tls->SealInPlace(payload, job.length)) {
      *error = EPROTO;
      return false;
    }
    return SendRaw(job.data.data(), blockscope::TlsRecordsSize(hl) + blockscope::TlsRecordsSize(job.length), 0, error);
  }

  // 0 or errno.
  int WritePayload(const WriteJob& job) {
    size_t done = 0;
    while (done < job.length) {
      ssize_t r = pwrite(s.file, job.data.data() + done, job.length - done, static_cast<off_t>(job.offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return r < 0 ? errno : EIO;
      done += static_cast<size_t>(r);
    }
    return job.fua && fdatasync(s.file) != 0 ? errno : 0;
  }

  // A job with room for `length` bytes, once the writer is few enough payloads behind; null if
  // a WRITE failed meanwhile.
  WriteJob* SpareJob(size_t length) {
    std::unique_lock<std::mutex> lock(writeMutex);
    writeDone.wait(lock, [&] { return writeFailed || writesAhead == 0 || bytesAhead + length <= WRITES_AHEAD_BYTES; });
    if (writeFailed) return nullptr;
    if (!writer.joinable()) writer = std::thread([this] { RunWriter(); });
    WriteJob* job;
    if (spareJobs.empty()) {
      job = new WriteJob();
    } else {
      job = spareJobs.back();
      spareJobs.pop_back();
    }
    if (job->data.size() < length) job->data.resize(length);
    return job;
  }

  // The job for the request whose header is at `h` (which it consumes), with `size` bytes of
  // room; null if a WRITE failed meanwhile.
  WriteJob* TakeJob(uint16_t type, const uint8_t* h, size_t size, Clock::time_point started) {
    WriteJob* job = SpareJob(size);
    if (!job) return nullptr;
    std::memcpy(job->header, h, HEADER);
    inAt += HEADER;
    job->type = type;
    job->offset = Be64(h + 16);
    job->length = Be32(h + 24);
    job->started = started;
    return job;
  }

  void Queue(WriteJob* job) {
    {
      std::lock_guard<std::mutex> lock(writeMutex);
      writeQueue.push_back(job);
      writesAhead++;
      bytesAhead += job->length;
    }
    writeWake.notify_one();
  }

  bool WritesPending() {
    std::lock_guard<std::mutex> lock(writeMutex);
    return writesAhead > 0;
  }

  // Waits until every WRITE received is written and answered, or one failed; false then.
  bool WritesDone() {
    std::unique_lock<std::mutex> lock(writeMutex);
    writeDone.wait(lock, [&] { return writeFailed || writesAhead == 0; });
    return !writeFailed.load();
  }

  // The writer's end: what it did not write (after a failure) is left in the queue.
  void StopWriter() {
    {
      std::lock_guard<std::mutex> lock(writeMutex);
      writerQuit = true;
    }
    writeWake.notify_one();
    if (writer.joinable()) writer.join();
  }

  static void PutSimpleReply(uint8_t* r, uint64_t cookie) {
    Put32(r, SIMPLE_REPLY_MAGIC);
    Put32(r + 4, 0);
    Put64(r + 8, cookie);
  }

  // The 20-byte header of a structured reply's only (DONE) chunk, `length` bytes following it.
  static void PutLastChunkHeader(uint8_t* r, uint16_t type, uint64_t cookie, uint32_t length) {
    Put32(r, STRUCTURED_REPLY_MAGIC);
    Put16(r + 4, REPLY_FLAG_DONE);
    Put16(r + 6, type);
    Put64(r + 8, cookie);
    Put32(r + 16, length);
  }

  // Serves requests until one is not ours; returns how it ended, its replies all sent.
  Message Serve() {
    Message end;
    for (;;) {
      int r = Want(HEADER, &end.error);
      if (r != 1) {
        // A failed WRITE ended the wait: nothing of the next request is consumed (see below).
        end.reason = r == 0 ? END_OF_FILE : stopping ? STOPPED : writeFailed.load() ? HANDED_BACK : FAILED;
        break;
      }
      const uint8_t* h = in.data() + inAt;
      const uint32_t magic = Be32(h);
      const uint16_t flags = Be16(h + 4), type = Be16(h + 6);
      const uint64_t cookie = Be64(h + 8), offset = Be64(h + 16);
      const uint32_t length = Be32(h + 24);
      if (magic != REQUEST_MAGIC || !Serves(flags, type, offset, length)) {
        end.reason = HANDED_BACK;
        break;
      }
      // A request is consumed (inAt moves past it) only once it will be answered here.
      const Clock::time_point started = Clock::now();
      if (type == CMD_WRITE) {
        WriteJob* job = TakeJob(type, h, length, started);
        if (!job) {
          end.reason = HANDED_BACK;  // a WRITE failed: see below
          break;
        }
        job->fua = flags & FLAG_FUA;
        const int t = Take(job->data.data(), length, &end.error);
        if (t != 1) {
          std::lock_guard<std::mutex> lock(writeMutex);
          spareJobs.push_back(job);
          end.reason = t == 0 ? END_OF_FILE : stopping ? STOPPED : FAILED;
          break;
        }
        Queue(job);
        continue;
      }
      // Over TLS a long READ is read here and sealed and sent by the second thread, so that the
      // next one is read while this one is encrypted (nbdkit's threads overlap them likewise).
      if (type == CMD_READ && s.tls && length >= SENDFILE_MIN) {
        const size_t hl = s.structured ? 28 : 16;
        // The header in a record of its own and the payload in whole records after it, as
        // nbdkit's GnuTLS sends them.
        WriteJob* job = TakeJob(type, h, blockscope::TlsRecordsSize(hl) + blockscope::TlsRecordsSize(length), started);
        if (!job) {
          end.reason = HANDED_BACK;  // a WRITE failed: see below
          break;
        }
        uint8_t* plainStart = job->data.data() + blockscope::TLS_HEADER;
        if (s.structured) {
          PutLastChunkHeader(plainStart, REPLY_TYPE_OFFSET_DATA, cookie, length + 8);
          Put64(plainStart + 20, offset);
        } else {
          PutSimpleReply(plainStart, cookie);
        }
        const int failed = ReadIntoRecords(job->data.data() + blockscope::TlsRecordsSize(hl), 0, offset, length);
        if (failed) {
          {
            std::lock_guard<std::mutex> lock(writeMutex);
            spareJobs.push_back(job);
          }
          // The event loop answers it (errors.ts has the mapping) and logs it.
          end.reason = REQUEST_FAILED;
          end.error = failed;
          end.leftover.assign(in.data() + inAt - HEADER, in.data() + inAt);
          break;
        }
        Queue(job);
        continue;
      }
      // A map answer or a flush comes after the WRITEs received before it.
      if ((type == CMD_FLUSH || type == CMD_BLOCK_STATUS) && !WritesDone()) {
        end.reason = HANDED_BACK;  // a WRITE failed: see below
        break;
      }
      if (type == CMD_BLOCK_STATUS && !AppendBlockStatus(cookie, offset, length)) {
        end.reason = HANDED_BACK;  // the JavaScript path answers it
        break;
      }
      inAt += HEADER;
      int failed = 0;
      if (type == CMD_READ) {
        if (!Read(cookie, offset, length, &failed, &end.error)) {
          end.reason = stopping ? STOPPED : FAILED;
          break;
        }
      } else if (type == CMD_FLUSH) {
        if (fdatasync(s.file) != 0) failed = errno;
        else AppendSimpleReply(cookie);
      }
      if (failed) {
        // The event loop answers it (errors.ts has the mapping) and logs it.
        end.reason = REQUEST_FAILED;
        end.error = failed;
        end.leftover.assign(in.data() + inAt - HEADER, in.data() + inAt);
        break;
      }
      Record(type, offset, length, started);
      if (out.size() >= OUT_FLUSH && !FlushReplies(&end.error)) {
        end.reason = stopping ? STOPPED : FAILED;
        break;
      }
      Post(true);
    }
    // Whatever follows is the event loop's, after every reply of ours: the WRITEs received are
    // written and answered first.
    const bool dead = end.reason == FAILED || end.reason == STOPPED;
    if (!dead) WritesDone();
    StopWriter();
    if (!dead && !FlushReplies(&end.error)) end.reason = stopping ? STOPPED : FAILED;
    if (sendFailed && end.reason != STOPPED) {
      end.reason = stopping ? STOPPED : FAILED;
      if (sendFailed > 0) end.error = sendFailed;
    }
    if (end.reason == REQUEST_FAILED && writeFailed) {
      // A short READ refused while a WRITE failed too: nothing of the READ's went, so it is run
      // again by the event loop after the WRITE is answered.
      inAt -= HEADER;
      end.leftover.clear();
      end.reason = HANDED_BACK;
    }
    if (end.reason == REQUEST_FAILED) {
      // Its header was consumed; what follows it was not.
    } else if (writeFailed && end.reason != FAILED && end.reason != STOPPED) {
      // The refused WRITE is answered by the event loop, and the WRITEs received after it are
      // run there again, in order, before what was not consumed.
      end.reason = REQUEST_FAILED;
      end.error = writeFailed.load();
      end.leftover.assign(failedJob->header, failedJob->header + HEADER);
      for (WriteJob* job : writeQueue) {
        end.leftover.insert(end.leftover.end(), job->header, job->header + HEADER);
        if (job->type == CMD_WRITE) end.leftover.insert(end.leftover.end(), job->data.data(), job->data.data() + job->length);
      }
    }
    end.leftover.insert(end.leftover.end(), in.data() + inAt, in.data() + inEnd);
    // Over TLS, what was opened and not yet taken follows (a partial record stays in the session).
    end.leftover.insert(end.leftover.end(), plain.begin() + static_cast<ptrdiff_t>(plainAt), plain.end());
    if (end.reason == FAILED && !tlsError.empty()) end.message = tlsError;
    return end;
  }

  // The first extent of [offset, offset + length), as the file plugin's extents and the
  // outermost layer's sector rule (context.ts sectorExtents) give it for REQ_ONE: the plugin
  // looks from the sector `offset` is in to the sector the range ends in, finds one data run
  // (DataRunsOf) and, in the gap before it, one unwritten run (UnwrittenRunsOf), which
  // reads as zero; a hole is everything else. False where the JavaScript path would answer
  // otherwise than this (an extent ending inside a sector, which it settles with what
  // follows; a call that fails): it answers then.
  bool AppendBlockStatus(uint64_t cookie, uint64_t offset, uint32_t length) {
    const uint64_t end = offset + length;
    const uint64_t from = offset - offset % SECTOR;
    const uint64_t to = std::min(s.size, (end + SECTOR - 1) / SECTOR * SECTOR);
    runs.clear();
    if (DataRunsOf(s.file, static_cast<off_t>(from), static_cast<off_t>(to), 1, &runs) < 0) return false;
    uint64_t stop;
    uint32_t flags;
    if (!runs.empty() && runs[0] == from) {
      stop = runs[1];
      flags = 0;
    } else {
      const uint64_t gapEnd = runs.empty() ? to : runs[0];
      runs.clear();
      const int r = UnwrittenRunsOf(s.file, from, gapEnd, 1, &runs);
      if (r < 0 && !IsUnsupported(-r)) return false;
      // Unsupported: no unwritten runs, as the plugin then takes it (whatever came before the failure).
      if (r < 0) runs.clear();
      if (runs.empty()) {
        stop = gapEnd;
        flags = EXTENT_HOLE_ZERO;
      } else if (runs[0] > from) {
        stop = runs[0];
        flags = EXTENT_HOLE_ZERO;
      } else {
        stop = runs[1];
        flags = EXTENT_ZERO;
      }
    }
    if (stop % SECTOR != 0 && stop != s.size) return false;
    const size_t at = out.size();
    out.resize(at + 32);
    uint8_t* r = &out[at];
    PutLastChunkHeader(r, REPLY_TYPE_BLOCK_STATUS, cookie, 12);
    Put32(r + 20, static_cast<uint32_t>(s.blockStatusContext));
    Put32(r + 24, static_cast<uint32_t>(std::min(stop, end) - offset));
    Put32(r + 28, flags);
    return true;
  }
  // AppendBlockStatus's runs, kept for the next.
  std::vector<uint64_t> runs;

  void AppendSimpleReply(uint64_t cookie) {
    const size_t at = out.size();
    out.resize(at + 16);
    PutSimpleReply(&out[at], cookie);
  }

  // A READ's reply: a short one read into the reply buffer (a copy costs less than two more
  // system calls), a long one sent from the page cache. False if the connection must end;
  // `failed`, an errno, if the file refused before any byte of the reply went.
  bool Read(uint64_t cookie, uint64_t offset, uint32_t length, int* failed, int* error) {
    uint8_t h[28];
    size_t hl = 16;
    if (s.structured) {
      PutLastChunkHeader(h, REPLY_TYPE_OFFSET_DATA, cookie, length + 8);
      Put64(h + 20, offset);
      hl = 28;
    } else {
      PutSimpleReply(h, cookie);
    }
    if (length < SENDFILE_MIN) {
      const size_t at = out.size();
      out.resize(at + hl + length);
      std::memcpy(&out[at], h, hl);
      *failed = ReadAll(&out[at + hl], offset, length);
      if (*failed) out.resize(at);
      return true;
    }
    // No reply of the writer's may come between the header and its payload.
    std::lock_guard<std::mutex> send(sendMutex);
    if (!FlushLocked(error)) return false;
    // MSG_MORE: the header waits for its payload instead of leaving in a packet of its own.
    return SendAll(h, hl, MSG_MORE, error) && SendFileAll(static_cast<off_t>(offset), length, error);
  }
  // preads [offset, offset + length) into the plaintext places of the records at `records`,
  // after `skip` bytes of the first (SealInPlace's layout): 0, or the errno (EIO if the file
  // ends first).
  int ReadIntoRecords(uint8_t* records, size_t skip, uint64_t offset, uint32_t length) {
    constexpr size_t STRIDE = blockscope::TLS_MAX_PLAIN + blockscope::TLS_OVERHEAD;
    constexpr int BATCH = 64;
    struct iovec iov[BATCH];
    size_t place = skip;  // into the plaintext, header included
    uint64_t done = 0;
    while (done < length) {
      int count = 0;
      size_t batch = 0;
      for (size_t at = place; count < BATCH && done + batch < length; count++) {
        const size_t room = blockscope::TLS_MAX_PLAIN - at % blockscope::TLS_MAX_PLAIN;
        const size_t n = std::min<uint64_t>(room, length - done - batch);
        iov[count].iov_base = records + (at / blockscope::TLS_MAX_PLAIN) * STRIDE + blockscope::TLS_HEADER + at % blockscope::TLS_MAX_PLAIN;
        iov[count].iov_len = n;
        at += n;
        batch += n;
      }
      ssize_t r = preadv(s.file, iov, count, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return r < 0 ? errno : EIO;
      // A short read goes on from where it stopped.
      place += static_cast<size_t>(r);
      done += static_cast<uint64_t>(r);
    }
    return 0;
  }

  // pread all of [offset, offset + length) into `into`: 0, or the errno (EIO if the file ends first).
  int ReadAll(uint8_t* into, uint64_t offset, uint32_t length) {
    size_t done = 0;
    while (done < length) {
      ssize_t r = pread(s.file, into + done, length - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return r < 0 ? errno : EIO;
      done += static_cast<size_t>(r);
    }
    return 0;
  }

  void Run() {
    Message end = Serve();
    close(s.sock);
    s.sock = -1;
    auto* message = new Message(std::move(end));
    // Blocking: the end must arrive, after every batch of served requests before it.
    deliver.BlockingCall(message, [this](Napi::Env env, Napi::Function fn, Message* m) {
      if (env != nullptr) {
        std::vector<double> events;
        {
          std::lock_guard<std::mutex> lock(mutex);
          events.swap(pending);
        }
        Call(env, fn, events, m);
      }
      delete m;
    });
    deliver.Release();
  }
};

// startLoop(socketFd, fileFd, {size, writable, structured, fua, flush, holeLookupMin,
// blockStatusContext, spin}, onMessage)
// -> stop(). onMessage(events, end) runs on the event loop: `events` a Float64Array of
// EVENT_FIELDS numbers per served request, `end` null until the last call, which brings
// {reason, error, leftover} once the thread has let go of both descriptors. stop() may be
// called any number of times until then, never after.
Napi::Value StartLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsObject() || !info[3].IsFunction()) {
    Napi::TypeError::New(env, "startLoop(socketFd, fileFd, settings, onMessage)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[2].As<Napi::Object>();
  auto* loop = new Loop();
  loop->s.file = info[1].As<Napi::Number>().Int32Value();
  loop->s.size = static_cast<uint64_t>(o.Get("size").As<Napi::Number>().DoubleValue());
  loop->s.writable = o.Get("writable").ToBoolean().Value();
  loop->s.structured = o.Get("structured").ToBoolean().Value();
  loop->s.fua = o.Get("fua").ToBoolean().Value();
  loop->s.flush = o.Get("flush").ToBoolean().Value();
  loop->s.holeLookupMin = o.Get("holeLookupMin").As<Napi::Number>().Uint32Value();
  loop->s.blockStatusContext = o.Get("blockStatusContext").As<Napi::Number>().Int64Value();
  loop->s.spin = o.Get("spin").ToBoolean().Value();
  Napi::Value tls = o.Get("tls");
  if (!tls.IsUndefined() && !tls.IsNull()) {
    loop->s.tls = TlsSessionOf(tls);
    if (!loop->s.tls) {
      delete loop;
      Napi::TypeError::New(env, "startLoop: settings.tls is not a TlsRecords").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    loop->tlsRecords = Napi::Persistent(tls.As<Napi::Object>());
    // Plaintext the connection had opened and not yet read: the loop's first bytes.
    Napi::Value received = o.Get("received");
    if (received.IsBuffer()) {
      auto b = received.As<Napi::Buffer<uint8_t>>();
      loop->plain.assign(b.Data(), b.Data() + b.Length());
    }
  }
  // Its own descriptor: the connection may close the socket's while the thread still uses it.
  loop->s.sock = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
  loop->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (loop->s.sock < 0 || loop->wake < 0) {
    const int e = errno;
    if (loop->s.sock >= 0) close(loop->s.sock);
    if (loop->wake >= 0) close(loop->wake);
    delete loop;
    Napi::Error::New(env, std::string("startLoop: ") + strerror(e)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  loop->deliver = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "blockscope:ConnectionLoop", 0, 1, loop,
                                                [](Napi::Env, Loop* l) {
                                                  // The thread's last act was to release the function.
                                                  if (l->thread.joinable()) l->thread.join();
                                                  l->tlsRecords.Reset();
                                                  close(l->wake);
                                                  delete l;
                                                });
  loop->thread = std::thread([loop] { loop->Run(); });
  return Napi::Function::New(
      env,
      [](const Napi::CallbackInfo& ci) {
        auto* l = static_cast<Loop*>(ci.Data());
        l->stopping.store(true);
        const uint64_t one = 1;
        // The eventfd cannot be full (it is written at most a few times), so this cannot fail.
        ssize_t ignored = write(l->wake, &one, sizeof one);
        (void)ignored;
        return ci.Env().Undefined();
      },
      "stop", loop);
}

}  // namespace

void InitConnectionLoop(Napi::Env env, Napi::Object exports) {
  exports.Set("startLoop", Napi::Function::New(env, StartLoop));
}

// SerialWriter: one thread that performs queued pwrites, one after another, and resolves each
// write's Promise on the event loop.
//
// Why not the libuv pool: buffered writes to one file are serialized by the kernel anyway
// (ext4 and xfs take the inode's rwsem for every buffered write), so when several pool threads
// write to one file they queue on that lock, spinning on its owner first, and every write wakes
// a sleeping thread. On this VM's paravirtual CPUs those wakeups and that spinning cost more
// than the copies: serving nbdcopy's 4-connection write of 2 GiB, the pool threads used as much
// CPU as nbdkit's whole process. One thread per file that drains its queue without sleeping
// between writes does the same work with neither.
#include "serial_writer.h"
#include "quiet_deferred.h"

#include <errno.h>
#include <unistd.h>
#include <uv.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace {

struct WriteItem {
  int fd;
  const char* data;
  size_t length;
  off_t offset;
  Napi::Reference<Napi::Buffer<char>> keep;  // the buffer must outlive the write
  QuietDeferred deferred;
  int result = 0;  // 0 or -errno
};

// The whole write, looping on short transfers; 0 or -errno.
int WriteFully(const WriteItem& item) {
  size_t done = 0;
  while (done < item.length) {
    ssize_t n = pwrite(item.fd, item.data + done, item.length - done, item.offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

// Shared by the JS object, the thread and the environment's cleanup hook; the last to let go
// frees it. The thread-safe function may be gone once the environment is being torn down (a
// worker ending), so the thread touches it only while `deliver` holds, under the mutex.
struct Queue {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<WriteItem*> items;
  bool closing = false;
  bool deliver = true;
  Napi::ThreadSafeFunction done;     // delivers finished items to the event loop
  size_t pending = 0;                // queued or unresolved writes; event loop only
  uv_prepare_t* beforePoll = nullptr;  // wakes the thread for the writes of a turn; event loop only
  bool hookRan = false;              // event loop only
  // Joined, never detached: a worker's environment unloads the addon when it ends, and a
  // thread still running its code then would crash the process.
  std::thread thread;

  // No more writes; the queued ones still complete, then the thread ends. Event loop only.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      closing = true;
    }
    wake.notify_one();
    if (beforePoll) {
      uv_close(reinterpret_cast<uv_handle_t*>(beforePoll), [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
      beforePoll = nullptr;
    }
  }
};

void Resolve(Napi::Env env, Napi::Function, Queue* queue, WriteItem* item) {
  if (env != nullptr) item->deferred.Resolve(env, item->result);
  // No env: the environment is going away and its references with it.
  else item->keep.SuppressDestruct();
  delete item;
  // Idle, the writer must not keep the process alive: only pending writes do.
  if (env != nullptr && --queue->pending == 0) queue->done.Unref(env);
}

// Runs before the thread-safe function's own hook (hooks run in reverse order of
// registration): from here on the thread leaves it alone, finishes the queued writes and ends.
void OnEnvCleanup(void* arg) {
  auto* queue = static_cast<Queue*>(arg);
  queue->hookRan = true;
  {
    std::lock_guard<std::mutex> lock(queue->mutex);
    queue->deliver = false;
  }
  queue->Close();
  if (queue->thread.joinable()) queue->thread.join();
}

void Run(std::shared_ptr<Queue> queue) {
  for (;;) {
    WriteItem* item;
    {
      std::unique_lock<std::mutex> lock(queue->mutex);
      queue->wake.wait(lock, [&] { return !queue->items.empty() || queue->closing; });
      if (queue->items.empty()) break;
      item = queue->items.front();
      queue->items.pop_front();
    }
    item->result = WriteFully(*item);
    std::lock_guard<std::mutex> lock(queue->mutex);
    if (queue->deliver) {
      queue->done.BlockingCall(item, [queue](Napi::Env env, Napi::Function fn, WriteItem* it) { Resolve(env, fn, queue.get(), it); });
    }
  }
  std::lock_guard<std::mutex> lock(queue->mutex);
  if (queue->deliver) queue->done.Release();
}

void WakeWriter(uv_prepare_t* handle) {
  uv_prepare_stop(handle);
  static_cast<Queue*>(handle->data)->wake.notify_one();
}

class SerialWriter : public Napi::ObjectWrap<SerialWriter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SerialWriter",
                       {InstanceMethod("write", &SerialWriter::Write), InstanceMethod("close", &SerialWriter::Close)});
  }

  explicit SerialWriter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SerialWriter>(info), queue_(std::make_shared<Queue>()) {
    Napi::Env env = info.Env();
    // The finalizer runs once the thread has released the function, its last act (or once the
    // environment has torn it down, after the hook): then the thread is joined at once, and
    // neither the hook nor the queue kept for it is needed.
    auto* keep = new std::shared_ptr<Queue>(queue_);
    queue_->done = Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "blockscope:SerialWriter", 0, 1, keep,
        [](Napi::Env env, std::shared_ptr<Queue>* kept) {
          Queue* queue = kept->get();
          if (queue->thread.joinable()) queue->thread.join();
          if (!queue->hookRan) napi_remove_env_cleanup_hook(env, OnEnvCleanup, queue);
          delete kept;
        });
    queue_->done.Unref(env);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    queue_->beforePoll = new uv_prepare_t;
    uv_prepare_init(loop, queue_->beforePoll);
    queue_->beforePoll->data = queue_.get();
    uv_unref(reinterpret_cast<uv_handle_t*>(queue_->beforePoll));
    // A worker's environment may end with the writer open: its handle must be closed by then
    // (Node checks that a worker's loop has none left) and the thread told to stop delivering.
    napi_add_env_cleanup_hook(env, OnEnvCleanup, queue_.get());
    queue_->thread = std::thread(Run, queue_);
  }

  ~SerialWriter() override { queue_->Close(); }

 private:
  // write(fd, buffer, offset) -> Promise of 0 or -errno, in the order of the calls.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "SerialWriter.write(fd, buffer, offset)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto buffer = info[1].As<Napi::Buffer<char>>();
    auto* item = new WriteItem{info[0].As<Napi::Number>().Int32Value(), buffer.Data(), buffer.Length(),
                               static_cast<off_t>(info[2].As<Napi::Number>().DoubleValue()), Napi::Persistent(buffer),
                               QuietDeferred(env)};
    Napi::Value promise = item->deferred.Promise(env);
    {
      std::lock_guard<std::mutex> lock(queue_->mutex);
      if (queue_->closing) {
        delete item;
        Napi::Error::New(env, "SerialWriter is closed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      queue_->items.push_back(item);
    }
    if (queue_->pending++ == 0) queue_->done.Ref(env);
    // The thread is woken once per turn of the event loop, before it waits for I/O, not once
    // per write: a turn often handles a dozen writes, and on this VM waking a thread cost
    // ~25 us of the event loop's time, as much as the whole rest of a 256 KiB WRITE.
    uv_prepare_t* beforePoll = queue_->beforePoll;
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(beforePoll))) uv_prepare_start(beforePoll, WakeWriter);
    return promise;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    queue_->Close();
    return info.Env().Undefined();
  }

  std::shared_ptr<Queue> queue_;
};

}  // namespace

void InitSerialWriter(Napi::Env env, Napi::Object exports) {
  exports.Set("SerialWriter", SerialWriter::Define(env));
}

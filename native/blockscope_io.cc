// Small Linux I/O primitives Node's fs module lacks: SEEK_DATA/SEEK_HOLE, hole punching
// and range zeroing. Every call is synchronous and cheap (metadata only). Errors come back
// as negative errno values so the JS side keeps one error type (BlockError) for everything.
#include <napi.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <vector>

namespace {

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::Number>().DoubleValue());
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
  Napi::Env env = info.Env();
  int fd = static_cast<int>(ArgInt(info, 0));
  off_t pos = static_cast<off_t>(ArgInt(info, 1));
  off_t end = static_cast<off_t>(ArgInt(info, 2));
  size_t maxRuns = static_cast<size_t>(ArgInt(info, 3));
  std::vector<double> out;
  while (pos < end && out.size() / 2 < maxRuns) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;
      out.assign(1, -static_cast<double>(errno));
      break;
    }
    if (data >= end) break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) {
      if (errno != ENXIO) { out.assign(1, -static_cast<double>(errno)); break; }
      hole = end;
    }
    if (hole > end) hole = end;
    out.push_back(static_cast<double>(data));
    out.push_back(static_cast<double>(hole));
    pos = hole;
  }
  Napi::Float64Array arr = Napi::Float64Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); i++) arr[i] = out[i];
  return arr;
}

// fallocate(fd, mode, offset, length) -> 0 or -errno.
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0));
  int mode = static_cast<int>(ArgInt(info, 1));
  int r = fallocate(fd, mode, static_cast<off_t>(ArgInt(info, 2)), static_cast<off_t>(ArgInt(info, 3)));
  return Napi::Number::New(info.Env(), r < 0 ? -static_cast<double>(errno) : 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("seek", Napi::Function::New(env, Seek));
  exports.Set("dataRuns", Napi::Function::New(env, DataRuns));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate));
  exports.Set("SEEK_DATA", Napi::Number::New(env, SEEK_DATA));
  exports.Set("SEEK_HOLE", Napi::Number::New(env, SEEK_HOLE));
  exports.Set("FALLOC_FL_KEEP_SIZE", Napi::Number::New(env, FALLOC_FL_KEEP_SIZE));
  exports.Set("FALLOC_FL_PUNCH_HOLE", Napi::Number::New(env, FALLOC_FL_PUNCH_HOLE));
  exports.Set("FALLOC_FL_ZERO_RANGE", Napi::Number::New(env, FALLOC_FL_ZERO_RANGE));
  exports.Set("ENXIO", Napi::Number::New(env, ENXIO));
  exports.Set("EOPNOTSUPP", Napi::Number::New(env, EOPNOTSUPP));
  return exports;
}

}  // namespace

NODE_API_MODULE(blockscope_io, Init)

// A Promise resolved from native code that may run while its environment is being torn down
// (a worker thread ending with a write or a pool job still to report). JavaScript cannot run
// then, so resolving fails; node-addon-api's Promise::Deferred turns that failure into a
// JavaScript throw, which fails too and aborts the whole process ("FATAL ERROR:
// Error::ThrowAsJavaScriptException napi_throw"). This one resolves through the C API and
// lets such a failure pass: no JavaScript is left to see the Promise.
#pragma once
#include <napi.h>

class QuietDeferred {
 public:
  explicit QuietDeferred(napi_env env) {
    if (napi_create_promise(env, &deferred_, &promise_) != napi_ok) deferred_ = nullptr;
  }

  // Valid only inside the call that made it (a local handle): return it from there.
  Napi::Value Promise(napi_env env) const { return Napi::Value(env, promise_); }

  void Resolve(napi_env env, double value) {
    napi_value v;
    if (deferred_ != nullptr && napi_create_double(env, value, &v) == napi_ok) napi_resolve_deferred(env, deferred_, v);
    deferred_ = nullptr;
  }

 private:
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
};

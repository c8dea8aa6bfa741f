// TlsRecords: a TLS 1.3 session's record layer (tls_session.h) as a JavaScript object, made
// from the traffic secrets Node's TLS socket logged during the handshake. tls-records.ts puts
// it between a connection's socket and the NBD session; the connection loop seals and opens
// records with the same object while it holds the connection.
#include "tls_records.h"

#include "tls_session.h"

#include <string.h>

#include <string>
#include <vector>

namespace {

using blockscope::TlsSession;
using blockscope::TlsSuite;

// Marks TlsRecords objects, so that no other wrapped object is ever taken for one.
const napi_type_tag TLS_RECORDS_TAG = {0x6b1c5e0f2a9d4e31, 0x9f07c3d2b58a6e14};

// A Buffer that owns `bytes` without copying them.
Napi::Buffer<uint8_t> Owned(Napi::Env env, std::vector<uint8_t>&& bytes) {
  if (bytes.empty()) return Napi::Buffer<uint8_t>::New(env, 0);
  auto* kept = new std::vector<uint8_t>(std::move(bytes));
  return Napi::Buffer<uint8_t>::New(env, kept->data(), kept->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, kept);
}

class TlsRecords : public Napi::ObjectWrap<TlsRecords> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TlsRecords",
                       {InstanceMethod("receive", &TlsRecords::Receive), InstanceMethod("seal", &TlsRecords::Seal),
                        InstanceMethod("alert", &TlsRecords::Alert), InstanceMethod("tryOpen", &TlsRecords::TryOpen),
                        InstanceMethod("sequence", &TlsRecords::Sequence)});
  }

  // new TlsRecords(suite, inSecret, inSeq, outSecret, outSeq): suite as TlsSuite numbers it;
  // an empty secret leaves that direction unused (a session that only checks records).
  explicit TlsRecords(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TlsRecords>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsNumber() || !info[3].IsBuffer() || !info[4].IsNumber()) {
      Napi::TypeError::New(env, "new TlsRecords(suite, inSecret, inSeq, outSecret, outSeq)").ThrowAsJavaScriptException();
      return;
    }
    const int suite = info[0].As<Napi::Number>().Int32Value();
    if (suite < 0 || suite > 2) {
      Napi::RangeError::New(env, "unknown TLS cipher suite").ThrowAsJavaScriptException();
      return;
    }
    napi_type_tag_object(env, info.This(), &TLS_RECORDS_TAG);
    auto in = info[1].As<Napi::Buffer<uint8_t>>(), out = info[3].As<Napi::Buffer<uint8_t>>();
    const auto s = static_cast<TlsSuite>(suite);
    const bool ok = (in.Length() == 0 || session_.in.Init(s, in.Data(), in.Length(), static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue())))
        && (out.Length() == 0 || session_.out.Init(s, out.Data(), out.Length(), static_cast<uint64_t>(info[4].As<Napi::Number>().DoubleValue())));
    if (!ok) Napi::Error::New(env, "TLS traffic keys could not be derived").ThrowAsJavaScriptException();
  }

  TlsSession* session() { return &session_; }

 private:
  // receive(ciphertext) -> { data, reply, status, error }: status 0 ok, 1 the client closed,
  // 2 failed (error says why); reply, when not empty, must be sent before anything else.
  Napi::Value Receive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto chunk = info[0].As<Napi::Buffer<uint8_t>>();
    std::vector<uint8_t> plain, reply;
    std::string error;
    const TlsSession::Status status = session_.Receive(chunk.Data(), chunk.Length(), &plain, &reply, &error);
    Napi::Object result = Napi::Object::New(env);
    result.Set("data", Owned(env, std::move(plain)));
    result.Set("reply", Owned(env, std::move(reply)));
    result.Set("status", Napi::Number::New(env, status));
    result.Set("error", Napi::String::New(env, error));
    return result;
  }

  // seal(out, ...plaintexts) -> bytes of `out` filled with the records that carry them, or -1
  // when `out` is too small (it needs sealedLength() of each plaintext, summed).
  Napi::Value Seal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto out = info[0].As<Napi::Buffer<uint8_t>>();
    size_t need = 0;
    for (size_t i = 1; i < info.Length(); i++) need += blockscope::TlsRecordsSize(info[i].As<Napi::Buffer<uint8_t>>().Length());
    if (need > out.Length()) return Napi::Number::New(env, -1);
    uint8_t* at = out.Data();
    for (size_t i = 1; i < info.Length(); i++) {
      auto chunk = info[i].As<Napi::Buffer<uint8_t>>();
      if (!session_.Send(chunk.Data(), chunk.Length(), at)) {
        Napi::Error::New(env, "TLS record sealing failed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      at += blockscope::TlsRecordsSize(chunk.Length());
    }
    return Napi::Number::New(env, static_cast<double>(need));
  }

  // alert(description) -> the alert's record (0: close_notify).
  Napi::Value Alert(const Napi::CallbackInfo& info) {
    std::vector<uint8_t> records;
    session_.Alert(static_cast<uint8_t>(info[0].As<Napi::Number>().Uint32Value()), &records);
    return Owned(info.Env(), std::move(records));
  }

  // tryOpen(record) -> the inner content type if the whole record is authentic under the
  // incoming direction's key at its next sequence number (which it then takes), else -1.
  // The record is left as it was.
  Napi::Value TryOpen(const Napi::CallbackInfo& info) {
    auto rec = info[0].As<Napi::Buffer<uint8_t>>();
    std::vector<uint8_t> copy(rec.Data(), rec.Data() + rec.Length());
    size_t length = 0;
    uint8_t type = 0;
    const bool ok = copy.size() >= blockscope::TLS_HEADER && session_.in.Open(copy.data(), copy.size(), &length, &type);
    return Napi::Number::New(info.Env(), ok ? type : -1);
  }

  // sequence() -> [in, out]: the next record numbers (for tests and diagnostics).
  Napi::Value Sequence(const Napi::CallbackInfo& info) {
    Napi::Array seqs = Napi::Array::New(info.Env(), 2);
    seqs.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(session_.in.seq())));
    seqs.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(session_.out.seq())));
    return seqs;
  }

  TlsSession session_;
};

}  // namespace

void InitTlsRecords(Napi::Env env, Napi::Object exports) {
  exports.Set("TlsRecords", TlsRecords::Define(env));
}

blockscope::TlsSession* TlsSessionOf(Napi::Value value) {
  bool tagged = false;
  if (!value.IsObject() || napi_check_object_type_tag(value.Env(), value, &TLS_RECORDS_TAG, &tagged) != napi_ok || !tagged) return nullptr;
  TlsRecords* records = Napi::ObjectWrap<TlsRecords>::Unwrap(value.As<Napi::Object>());
  return records ? records->session() : nullptr;
}

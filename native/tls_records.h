// The TLS record layer as JavaScript sees it (tls_records.cc, tls-records.ts).
#pragma once
#include <napi.h>

namespace blockscope {
class TlsSession;
}

void InitTlsRecords(Napi::Env env, Napi::Object exports);
// The session of a TlsRecords object, for the connection loop to use while it holds the
// connection (the event loop does not touch it then); null when `value` is not one.
blockscope::TlsSession* TlsSessionOf(Napi::Value value);

// A thread that performs one file's buffered writes in turn (serial_writer.cc).
#pragma once
#include <napi.h>

void InitSerialWriter(Napi::Env env, Napi::Object exports);

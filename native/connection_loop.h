#pragma once
#include <napi.h>

void InitConnectionLoop(Napi::Env env, Napi::Object exports);

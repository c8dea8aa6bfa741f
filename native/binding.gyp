{
  "targets": [
    {
      "target_name": "blockscope_io",
      "sources": ["blockscope_io.cc", "serial_writer.cc", "connection_loop.cc", "file_map.cc", "idle_spin.cc", "tls_session.cc", "tls_records.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: a call that throws while its environment is
      # being torn down (a worker ending mid-call) cannot throw; without it node-addon-api
      # aborts the whole process there.
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags_cc": ["-O2"]
    }
  ]
}

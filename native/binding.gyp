{
  "targets": [
    {
      "target_name": "blockscope_io",
      "sources": ["blockscope_io.cc", "serial_writer.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags_cc": ["-O2"]
    }
  ]
}

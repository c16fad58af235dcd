# The one native addon of fsm: SO_ORIGINAL_DST for the sandbox's probe agent (see its .cc file).
# `npm ci` builds it (package.json "install"); dist/ code loads build/Release/original_dst.node.
{
  "targets": [
    {
      "target_name": "original_dst",
      "sources": ["pkg/sandbox/agent/native/original_dst.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}

#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace chrysopedia::test {

/// A file in /tmp holding `content`, removed with this object (for the
/// binary's commands that read a file: import).
struct TempJsonl {
  std::string path;
  explicit TempJsonl(const std::string& content) {
    char name[] = "/tmp/chrysopedia-test-XXXXXX";
    ::close(mkstemp(name));
    path = name;
    std::ofstream(path) << content;
  }
  ~TempJsonl() { ::unlink(path.c_str()); }
  TempJsonl(const TempJsonl&) = delete;
  TempJsonl& operator=(const TempJsonl&) = delete;
};

}  // namespace chrysopedia::test

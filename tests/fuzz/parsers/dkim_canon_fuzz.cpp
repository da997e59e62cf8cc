// libFuzzer target: DKIM relaxed canonicalization (RFC 6376 §3.4.2, §3.4.4) of arbitrary bytes.
// Beyond "no crash", checks what the RFC promises of the output: it is a fixed point (canonical
// text canonicalizes to itself), has no tab and no run of spaces, no space before a line end,
// and (body) no empty lines at its end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/dkim/signer.hpp"

namespace {

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  std::string body = hk::dkim::relaxed_body(in);
  require(body.empty() || body.ends_with("\r\n"));
  require(!body.ends_with("\r\n\r\n") && body != "\r\n");
  require(body.find('\t') == std::string::npos);
  require(body.find("  ") == std::string::npos);
  require(body.find(" \r\n") == std::string::npos);
  require(hk::dkim::relaxed_body(body) == body);

  // Header fields as split from a message: a name of printable characters before the colon
  // (a name with spaces or line breaks cannot come out of the header splitter).
  size_t name_end = in.find(':');
  std::string_view name = in.substr(0, name_end);
  if (name_end == std::string_view::npos ||
      name.find_first_of(" \t\r\n") != std::string_view::npos) {
    return 0;
  }
  std::string header = hk::dkim::relaxed_header(in);
  require(header.ends_with("\r\n"));
  std::string_view line(header.data(), header.size() - 2);
  require(line.find_first_of("\r\n\t") == std::string_view::npos);
  size_t colon = line.find(':');
  require(colon != std::string_view::npos);
  std::string_view value = line.substr(colon + 1);
  require(value.find("  ") == std::string_view::npos);
  require(value.empty() || (value.front() != ' ' && value.back() != ' '));
  require(hk::dkim::relaxed_header(line) == header);
  return 0;
}

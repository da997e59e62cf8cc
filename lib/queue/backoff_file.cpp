// The back-off file's text form.
#include "lib/queue/backoff_file.hpp"

#include <charconv>
#include <cstdint>

namespace hk::queue {

namespace {

using std::chrono::system_clock;

int64_t unix_seconds(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The next space-separated word of `rest`, taken off it.
std::string_view word(std::string_view& rest) {
  size_t end = rest.find(' ');
  std::string_view w = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return w;
}

template <class T>
bool number(std::string_view w, T& out) {
  auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), out);
  return ec == std::errc() && p == w.data() + w.size() && !w.empty();
}

}  // namespace

std::string format_backoffs(const std::vector<Backoff>& list) {
  std::string out = "# hikyaku destinations backing off: destination level since until reply\n";
  for (const Backoff& b : list) {
    std::string reply = b.reply;
    for (char& c : reply) {
      if (c == '\r' || c == '\n') {
        c = ' ';
      }
    }
    out += b.destination + " " + std::to_string(b.level) + " " +
           std::to_string(unix_seconds(b.since)) + " " + std::to_string(unix_seconds(b.until)) +
           " " + reply + "\n";
  }
  return out;
}

std::vector<Backoff> parse_backoffs(std::string_view text) {
  std::vector<Backoff> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    Backoff b;
    int64_t since = 0;
    int64_t until = 0;
    b.destination = std::string(word(line));
    if (b.destination.empty() || !number(word(line), b.level) || !number(word(line), since) ||
        !number(word(line), until)) {
      continue;
    }
    b.since = system_clock::time_point(std::chrono::seconds(since));
    b.until = system_clock::time_point(std::chrono::seconds(until));
    b.reply = std::string(line);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace hk::queue

// Logging to stderr, one line per event.
#include "lib/base/log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace hk::base {
namespace {

std::atomic<LogLevel> g_level{LogLevel::Info};
std::atomic<bool> g_timestamps{true};
std::mutex g_write_mutex;  // log lines come from the I/O thread and from offloaded work

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
  }
  return "?";
}

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
void set_log_timestamps(bool on) { g_timestamps = on; }

void log_line(LogLevel level, std::string_view line) {
  std::string out;
  out.reserve(line.size() + 40);
  if (g_timestamps) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    char buf[40];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
    snprintf(buf + n, sizeof buf - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    out += buf;
  }
  out += level_name(level);
  out += ' ';
  out += line;
  out += '\n';
  std::lock_guard lock(g_write_mutex);
  fwrite(out.data(), 1, out.size(), stderr);
}

std::string log_quote(std::string_view v) {
  bool plain = !v.empty();
  for (char ch : v) {
    // Compared as octets, so that bytes >= 0x80 (UTF-8) count as printable.
    auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '\\' || c == 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) {
    return std::string(v);
  }
  std::string out = "\"";
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

bool log_internal_error(std::exception_ptr e, std::string_view prefix) {
  if (!e) {
    return false;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    log_error() << prefix << " result=internal-error error=" << log_quote(x.what());
  } catch (...) {
    log_error() << prefix << " result=internal-error";
  }
  return true;
}

}  // namespace hk::base

// The TLS memory's file format and its folder.
#include "lib/tls_memory/tls_memory.hpp"

#include <algorithm>
#include <charconv>

#include "lib/base/ascii.hpp"
#include "lib/base/domain_name.hpp"
#include "lib/base/files.hpp"

namespace hk::tls_memory {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHeader = "# hikyaku TLS memory: see `hikyaku-util domaininfo`\n";
constexpr std::string_view kUnreadable = "unreadable";

}  // namespace

std::string normalize(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') {
    domain.remove_suffix(1);
  }
  std::string lower = base::to_lower(domain);
  base::DomainSyntax syntax;
  syntax.chars = base::LabelChars::LdhLower;
  syntax.numeric_top_label = false;  // also keeps write_file_atomic's "<name>.tmp.<n>" out
  if (lower.empty() || !base::is_domain_name(lower, syntax)) {
    return "";
  }
  return lower;
}

std::string format(const Record& r) {
  std::string out(kHeader);
  out += "tls=" + r.method + "\n";
  out += "mx=" + r.mx + "\n";
  out += "since=" + std::to_string(r.since) + "\n";
  return out;
}

std::optional<Record> parse(std::string_view domain, std::string_view text) {
  Record r;
  r.domain = std::string(domain);
  bool have_tls = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    if (key == "tls") {
      if (value != "verified" && value != "dane") {
        return std::nullopt;
      }
      r.method = std::string(value);
      have_tls = true;
    } else if (key == "mx") {
      r.mx = std::string(value);
    } else if (key == "since") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), r.since);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }
  if (!have_tls) {
    return std::nullopt;
  }
  return r;
}

std::optional<Record> Store::get(std::string_view domain) const {
  std::string name = normalize(domain);
  if (name.empty() || dir_.empty()) {
    return std::nullopt;
  }
  std::string text;
  std::error_code ec = base::read_file(dir_ / name, text);
  if (ec == std::errc::no_such_file_or_directory) {
    return std::nullopt;
  }
  if (!ec) {
    if (std::optional<Record> r = parse(name, text)) {
      return r;
    }
  }
  // Present but unreadable or damaged: TLS stays required (the safe side) until removed.
  return Record{name, "", std::string(kUnreadable), 0};
}

std::error_code Store::put(const Record& r) const {
  std::string name = normalize(r.domain);
  if (name.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return ec;
  }
  return base::write_file_atomic(dir_ / name, format(r), 0640);
}

std::error_code Store::remove(std::string_view domain) const {
  std::string name = normalize(domain);
  if (name.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  std::error_code ec;
  if (!fs::remove(dir_ / name, ec)) {
    return ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory);
  }
  return base::fsync_dir(dir_);
}

std::vector<Record> Store::list() const {
  std::vector<Record> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (normalize(name) != name) {
      continue;  // a temporary file of write_file_atomic, or something not ours
    }
    if (std::optional<Record> r = get(name)) {
      out.push_back(std::move(*r));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Record& a, const Record& b) { return a.domain < b.domain; });
  return out;
}

}  // namespace hk::tls_memory

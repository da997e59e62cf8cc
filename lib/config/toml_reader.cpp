// TOML nodes to checked values, with file:line:key errors.
#include "lib/config/toml_reader.hpp"

#include <algorithm>
#include <stdexcept>

#include "lib/base/ascii.hpp"
#include "lib/config/config.hpp"

namespace hk::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date or time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

}  // namespace

void TomlReader::fail(const toml::source_region& where, std::string_view key,
                      std::string_view message) const {
  std::string out = file_;
  if (where.begin.line != 0) {
    out += ":" + std::to_string(where.begin.line);
  }
  out += ": ";
  if (!key.empty()) {
    out += std::string(key) + ": ";
  }
  out += message;
  throw ConfigError(out);
}

void TomlReader::fail(const toml::node& n, std::string_view key, std::string_view message) const {
  fail(n.source(), key, message);
}

void TomlReader::wrong_type(const toml::node& n, std::string_view key,
                            std::string_view expected) const {
  fail(n, key, "must be " + std::string(expected) + ", not " + std::string(type_name(n)));
}

void TomlReader::out_of_range(const toml::node& n, std::string_view key, const std::string& min,
                              const std::string& max, const std::string& got) const {
  fail(n, key, "must be between " + min + " and " + max + ", got " + got);
}

std::string TomlReader::string(const toml::node& n, std::string_view key) const {
  const auto* s = n.as_string();
  if (s == nullptr) {
    wrong_type(n, key, "a string");
  }
  try {
    return expand_env(s->get());
  } catch (const std::invalid_argument& e) {
    fail(n, key, e.what());
  }
}

bool TomlReader::boolean(const toml::node& n, std::string_view key) const {
  const auto* b = n.as_boolean();
  if (b == nullptr) {
    wrong_type(n, key, "true or false");
  }
  return b->get();
}

int64_t TomlReader::integer(const toml::node& n, std::string_view key, int64_t min,
                            int64_t max) const {
  const auto* i = n.as_integer();
  if (i == nullptr) {
    wrong_type(n, key, "an integer");
  }
  const int64_t v = i->get();
  if (v < min || v > max) {
    out_of_range(n, key, std::to_string(min), std::to_string(max), std::to_string(v));
  }
  return v;
}

uint64_t TomlReader::size(const toml::node& n, std::string_view key, uint64_t min,
                          uint64_t max) const {
  uint64_t v = 0;
  std::string written;  // for the message, as the user wrote it
  if (const auto* i = n.as_integer()) {
    if (i->get() < 0) {
      fail(n, key, "must not be negative, got " + std::to_string(i->get()));
    }
    v = static_cast<uint64_t>(i->get());
    written = std::to_string(v);
  } else if (n.is_string()) {
    written = string(n, key);
    try {
      v = parse_size(written);
    } catch (const std::invalid_argument& e) {
      fail(n, key, e.what());
    }
  } else {
    wrong_type(n, key, "a size such as \"50MiB\" or an integer number of bytes");
  }
  if (v < min || v > max) {
    out_of_range(n, key, format_size(min), format_size(max), written);
  }
  return v;
}

milliseconds TomlReader::duration(const toml::node& n, std::string_view key, milliseconds min,
                                  milliseconds max, bool allow_ms) const {
  milliseconds v{0};
  if (const auto* i = n.as_integer()) {
    if (i->get() < 0) {
      fail(n, key, "must not be negative, got " + std::to_string(i->get()));
    }
    if (i->get() > max.count() / 1000) {
      out_of_range(n, key, format_duration(min), format_duration(max),
                   std::to_string(i->get()) + "s");
    }
    v = seconds(i->get());
  } else if (n.is_string()) {
    const std::string text = string(n, key);
    try {
      v = allow_ms ? parse_duration_ms(text) : milliseconds(parse_duration(text));
    } catch (const std::invalid_argument& e) {
      fail(n, key, e.what());
    }
  } else {
    wrong_type(n, key, "a duration such as \"30m\" or an integer number of seconds");
  }
  if (v < min || v > max) {
    out_of_range(n, key, format_duration(min), format_duration(max), format_duration(v));
  }
  return v;
}

std::string TomlReader::domain(const toml::node& n, std::string_view key) const {
  std::string d = base::to_lower(string(n, key));
  if (!is_domain_name(d)) {
    fail(n, key, "not a valid domain name: \"" + d + "\"");
  }
  return d;
}

std::vector<std::string> TomlReader::domains(const toml::node& n, std::string_view key) const {
  std::vector<std::string> out;
  each(n, key, [&](const toml::node& e, const std::string& k) { out.push_back(domain(e, k)); });
  return out;
}

const toml::table& TomlReader::table(const toml::node& n, std::string_view key,
                                     std::string_view header) const {
  const auto* t = n.as_table();
  if (t == nullptr) {
    wrong_type(n, key, "a table (" + std::string(header) + ")");
  }
  return *t;
}

void TomlReader::check_keys(const toml::table& t, std::string_view prefix,
                            const std::vector<std::string_view>& known) const {
  for (auto&& [k, v] : t) {
    if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
      fail(k.source(),
           prefix.empty() ? std::string(k.str()) : std::string(prefix) + "." + std::string(k.str()),
           "unknown key");
    }
  }
}

}  // namespace hk::config

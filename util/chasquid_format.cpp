// Reading chasquid's users databases, chasquid.conf and aliases files.
#include "util/chasquid_format.hpp"

#include <limits>

#include "lib/base/text.hpp"

namespace hk::util::chasquid {
namespace {

using prototext::Field;
using prototext::Kind;

[[noreturn]] void fail(std::string_view file, int line, const std::string& msg) {
  throw FormatError(std::string(file) + ":" + std::to_string(line) + ": " + msg);
}

std::vector<Field> parse_text(std::string_view text, std::string_view file) {
  try {
    return prototext::parse(text);
  } catch (const prototext::ParseError& e) {
    fail(file, e.line, e.message);
  }
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::String:
      return "a string";
    case Kind::Number:
      return "a number";
    case Kind::Identifier:
      return "a name";
    case Kind::Message:
      return "a message";
  }
  return "?";
}

void expect_kind(std::string_view file, const Field& f, Kind want) {
  if (f.kind != want) {
    fail(file, f.line,
         "\"" + f.name + "\" should be " + std::string(kind_name(want)) + ", found " +
             std::string(kind_name(f.kind)));
  }
}

uint64_t number(std::string_view file, const Field& f) {
  unsigned long long v = 0;
  if (f.kind != Kind::Number || !prototext::to_uint64(f, v)) {
    fail(file, f.line, "\"" + f.name + "\" should be a non-negative integer");
  }
  return v;
}

int64_t int32(std::string_view file, const Field& f) {
  uint64_t v = number(file, f);
  if (v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    fail(file, f.line, "\"" + f.name + "\" out of range");
  }
  return static_cast<int64_t>(v);
}

Scrypt parse_scrypt(std::string_view file, const Field& msg) {
  Scrypt s;
  for (const Field& f : msg.fields) {
    if (f.name == "logN") {
      s.log_n = number(file, f);
    } else if (f.name == "r") {
      s.r = int32(file, f);
    } else if (f.name == "p") {
      s.p = int32(file, f);
    } else if (f.name == "keyLen") {
      s.key_len = int32(file, f);
    } else if (f.name == "salt") {
      expect_kind(file, f, Kind::String);
      s.salt = f.text;
    } else if (f.name == "encrypted") {
      expect_kind(file, f, Kind::String);
      s.encrypted = f.text;
    } else {
      fail(file, f.line, "unknown field \"" + f.name + "\" in scrypt");
    }
  }
  return s;
}

// One Password message (userdb.proto): a oneof of scrypt, plain and denied.
void parse_password(std::string_view file, const Field& msg, User& user) {
  for (const Field& f : msg.fields) {
    expect_kind(file, f, Kind::Message);
    if (user.scheme != Scheme::None) {
      fail(file, f.line, "user \"" + user.name + "\" has more than one password scheme");
    }
    if (f.name == "scrypt") {
      user.scheme = Scheme::Scrypt;
      user.scrypt = parse_scrypt(file, f);
    } else if (f.name == "plain") {
      user.scheme = Scheme::Plain;
      for (const Field& p : f.fields) {
        if (p.name != "password") {
          fail(file, p.line, "unknown field \"" + p.name + "\" in plain");
        }
        expect_kind(file, p, Kind::String);
        user.plain = p.text;
      }
    } else if (f.name == "denied") {
      user.scheme = Scheme::Denied;
    } else {
      fail(file, f.line, "unknown password scheme \"" + f.name + "\"");
    }
  }
}

std::string_view trim(std::string_view s) { return base::trim(s, " \t\r\v\f"); }

}  // namespace

std::vector<User> parse_users(std::string_view text, std::string_view file_name) {
  std::vector<User> out;
  for (const Field& entry : parse_text(text, file_name)) {
    if (entry.name != "users") {
      fail(file_name, entry.line, "unknown field \"" + entry.name + "\" (expected \"users\")");
    }
    expect_kind(file_name, entry, Kind::Message);
    User user;
    user.line = entry.line;
    bool has_key = false;
    const Field* value = nullptr;
    for (const Field& f : entry.fields) {
      if (f.name == "key") {
        expect_kind(file_name, f, Kind::String);
        user.name = f.text;
        has_key = true;
      } else if (f.name == "value") {
        expect_kind(file_name, f, Kind::Message);
        value = &f;
      } else {
        fail(file_name, f.line, "unknown field \"" + f.name + "\" in a users entry");
      }
    }
    if (!has_key) {
      fail(file_name, entry.line, "users entry without a key (user name)");
    }
    if (value != nullptr) {
      parse_password(file_name, *value, user);
    }
    out.push_back(std::move(user));
  }
  return out;
}

std::vector<Field> parse_config(std::string_view text, std::string_view file_name) {
  std::vector<Field> fields = parse_text(text, file_name);
  for (const Field& f : fields) {
    if (f.kind == Kind::Message) {
      fail(file_name, f.line, "\"" + f.name + "\" should be a single value, found a message");
    }
  }
  return fields;
}

std::vector<Alias> parse_aliases(std::string_view text, std::string_view file_name) {
  std::vector<Alias> out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail(file_name, line_no, "missing ':'");
    }
    Alias alias;
    alias.line = line_no;
    alias.name = std::string(trim(line.substr(0, colon)));
    std::string_view rhs = trim(line.substr(colon + 1));
    if (alias.name.empty() || rhs.empty()) {
      fail(file_name, line_no, "missing address or alias");
    }
    if (alias.name.find('@') != std::string::npos) {
      fail(file_name, line_no, "left side cannot contain '@'");
    }
    if (rhs.front() == '|') {
      alias.kind = AliasKind::Pipe;
      alias.command = std::string(trim(rhs.substr(1)));
      if (alias.command.empty()) {
        fail(file_name, line_no, "pipe alias without a command");
      }
    } else {
      while (!rhs.empty()) {
        size_t comma = rhs.find(',');
        std::string_view one = trim(rhs.substr(0, comma));
        rhs.remove_prefix(comma == std::string_view::npos ? rhs.size() : comma + 1);
        if (!one.empty()) {
          alias.targets.emplace_back(one);
        }
      }
      if (alias.targets.empty()) {
        fail(file_name, line_no, "no target addresses");
      }
    }
    out.push_back(std::move(alias));
  }
  return out;
}

bool parse_go_duration(std::string_view text, int64_t& seconds) {
  // Units as Go's time.ParseDuration; all converted to nanoseconds, then to seconds.
  struct Unit {
    std::string_view name;
    double ns;
  };
  static constexpr Unit kUnits[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
                                    {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  if (text == "0") {
    seconds = 0;
    return true;
  }
  if (text.empty() || text.front() == '-') {
    return false;
  }
  if (text.front() == '+') {
    text.remove_prefix(1);
  }
  double total = 0;
  bool any = false;
  while (!text.empty()) {
    size_t i = 0;
    double value = 0;
    bool digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      ++i;
      digits = true;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) {
      return false;
    }
    text.remove_prefix(i);
    const Unit* unit = nullptr;
    // Longest match first: "ms" before "m".
    for (const Unit& u : kUnits) {
      if (text.starts_with(u.name) && (unit == nullptr || u.name.size() > unit->name.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return false;
    }
    text.remove_prefix(unit->name.size());
    total += value * unit->ns;
    any = true;
    if (total > 1e18) {
      return false;
    }
  }
  if (!any) {
    return false;
  }
  seconds = static_cast<int64_t>(total / 1e9);
  return true;
}

}  // namespace hk::util::chasquid

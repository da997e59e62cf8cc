// A reader for the protocol buffers text format, enough for the files chasquid writes
// (chasquid.conf and the users databases): fields, nested messages, strings with their escapes,
// numbers and identifiers. It knows no schema: it returns the tree of fields as written, and the
// caller (chasquid_format.cpp) checks names and types. Written from the format's public
// specification (protobuf.dev, "Text Format Language Specification"); no code was copied.
//
// Accepted: `name: value`, `name { ... }` / `name: { ... }` / `name < ... >`, `name: [v, v]`
// (a repeated field, returned as one Field per value), '#' comments, ',' or ';' after a field,
// adjacent strings concatenated ("a" "b"), single or double quotes, the escapes \a \b \f \n \r
// \t \v \\ \' \" \?, octal \N..\NNN, hex \xH and \xHH, \uHHHH and \UHHHHHHHH (as UTF-8).
// Not accepted (chasquid never writes them): extension or Any names in brackets.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hk::util::prototext {

// A parse error at a line (1-based); what() is "line N: message".
struct ParseError : std::runtime_error {
  ParseError(int line, const std::string& message);
  int line;
  std::string message;
};

enum class Kind {
  String,      // `text` holds the decoded bytes (any byte, NUL included)
  Number,      // `text` as written: "14", "-1", "0x1f", "1.5"
  Identifier,  // `text` as written: "true", "FOO"
  Message,     // `fields` holds the nested fields
};

struct Field {
  std::string name;
  int line = 0;  // where the field's name stands
  Kind kind = Kind::Message;
  std::string text;
  std::vector<Field> fields;
};

// Messages nest at most this deep; deeper input is an error, so that no input can exhaust the
// stack.
constexpr int kMaxDepth = 64;

// The top-level fields of `text`, in file order. Throws ParseError.
std::vector<Field> parse(std::string_view text);

// A Number field as an unsigned integer (decimal, 0x hex or 0 octal, as the format allows);
// false when it is not one, is negative or does not fit.
bool to_uint64(const Field& field, unsigned long long& out);
// "true"/"True"/"t"/"1" and "false"/"False"/"f"/"0", as the format's bool rule; false when the
// field is neither.
bool to_bool(const Field& field, bool& out);

}  // namespace hk::util::prototext

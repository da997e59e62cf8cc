// Reading secrets for hikyaku-util: a line from stdin, or typed at the terminal without echo.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hk::util {

bool stdin_is_terminal();

// One line from stdin without its line end; nullopt at end of input before any character.
std::optional<std::string> read_stdin_line();

// Prints `prompt` on stderr and reads one line from the terminal with echo off (termios),
// restoring the terminal afterwards. nullopt at end of input.
std::optional<std::string> read_secret(std::string_view prompt);

}  // namespace hk::util

// What ha_pair and ha_client share on their console: the wall-clock stamp
// that lets their lines be read side by side, and the checked numbers of
// their command lines.
#pragma once

#include <string>

namespace ha {

// "HH:MM:SS.mmm", local time.
std::string wall_clock_stamp();

// TEXT as a whole decimal number within min..max; anything else ends the
// program with status 2 and a line naming the option ("PROGRAM: invalid WHAT").
long long option_number(const char* program, const char* text, const char* what, long long min, long long max);

}  // namespace ha

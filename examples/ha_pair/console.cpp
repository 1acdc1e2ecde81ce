#include "console.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ha {

std::string wall_clock_stamp() {
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    tm local;
    localtime_r(&now.tv_sec, &local);
    char hms[16], stamp[40];
    std::strftime(hms, sizeof hms, "%H:%M:%S", &local);
    std::snprintf(stamp, sizeof stamp, "%s.%03ld", hms, now.tv_nsec / 1000000);
    return stamp;
}

long long option_number(const char* program, const char* text, const char* what, long long min, long long max) {
    char* end;
    errno = 0;
    long long v = std::strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max) {
        std::fprintf(stderr, "%s: invalid %s '%s' (%lld..%lld)\n", program, what, text, min, max);
        std::exit(2);
    }
    return v;
}

}  // namespace ha

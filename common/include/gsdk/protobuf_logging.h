// protobuf writes its own complaints (e.g. invalid UTF-8 in a string field
// sent by a hostile client) straight to stderr. Our decoders already log one
// line naming the cause, so protobuf's go to our log at debug level.
// Header-only: the including target links protobuf.
#pragma once

#include <google/protobuf/stubs/logging.h>

#include "gsdk/log.h"

namespace gsdk {

inline void route_protobuf_logs() {
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char* file, int line, const std::string& message) {
            LOG_DEBUG("protobuf (%s:%d): %s", file, line, message.c_str());
        });
}

}  // namespace gsdk

#include "messaging_port.h"

#include <cerrno>

#include "gsdk/json_line.h"
#include "gsdk/json_quick.h"

namespace vmhost {

namespace {

// The splitter holds a partial line up to this; longer lines are discarded by
// the channel. Between kMaxMessagingLine and this, lines are read whole so
// that they can be refused with a reason.
constexpr std::size_t kSplitterLimit = 2 * kMaxMessagingLine;

bool address_ok(const nlohmann::json& value) {
    return value.is_string() && !value.get_ref<const std::string&>().empty() &&
           value.get_ref<const std::string&>().size() <= kMaxServiceAddress;
}

}  // namespace

bool decode_envelope(const nlohmann::json& line, Envelope* out, std::string* reason, std::string* msg_type) {
    auto data = line.find("data");
    if (data != line.end() && data->is_object()) {
        auto type = data->find("msg_type");
        if (type != data->end() && type->is_string()) *msg_type = gsdk::one_line(type->get<std::string>(), 64);
    }
    auto version = line.find("version");
    if (version == line.end() || !version->is_number_integer() || version->get<int64_t>() < 2) {
        *reason = "envelope version missing or not an integer >= 2";
        return false;
    }
    auto dest = line.find("dest_addr");
    if (dest == line.end() || !address_ok(*dest)) {
        *reason = "dest_addr missing or not a string of 1-16 bytes";
        return false;
    }
    // The guest's relay adds source_addr; a bare local service may not have.
    auto source = line.find("source_addr");
    if (source != line.end() && !address_ok(*source)) {
        *reason = "source_addr not a string of 1-16 bytes";
        return false;
    }
    if (data == line.end() || !data->is_object()) {
        *reason = "data missing or not a JSON object";
        return false;
    }
    out->dest_addr = dest->get<std::string>();
    out->source_addr = source != line.end() ? source->get<std::string>() : "";
    out->data = *data;
    return true;
}

std::string encode_envelope(const Envelope& e) {
    nlohmann::json line = {
        {"version", 2}, {"source_addr", e.source_addr}, {"dest_addr", e.dest_addr}, {"data", e.data}};
    // Strings we relay were validated UTF-8 on the way in; replace guards the rest.
    return gsdk::dump_compact(line) + "\n";
}

MessagingPort::MessagingPort(gsdk::EventLoop& loop, std::string vm, gsdk::ChannelAddress address,
                             const MessagingLimits& limits, Callbacks callbacks)
    : vm_(std::move(vm)), queue_bytes_(limits.queue_bytes), callbacks_(std::move(callbacks)),
      channel_(loop, std::move(address),
               gsdk::HostChannel::Callbacks{[this] {
                                                if (callbacks_.connected) callbacks_.connected();
                                            },
                                            [this](std::string_view line) { on_line(line); },
                                            [this](const std::string& cause) {
                                                if (callbacks_.disconnected) callbacks_.disconnected(cause);
                                            }},
               kSplitterLimit),
      bucket_(limits.messages_per_sec, limits.burst) {
    // A restarted VM (or server-groupd) should be picked up within a couple of seconds.
    channel_.set_max_retry(gsdk::Millis(2000));
}

void MessagingPort::on_line(std::string_view line) {
    ++counters_.lines_in;
    // Before any parsing: a flood costs the host one comparison per line.
    if (!bucket_.take(gsdk::Clock::now())) {
        ++counters_.rate_dropped;
        if (callbacks_.rate_limited) callbacks_.rate_limited();
        return;
    }
    std::string reason, msg_type;
    if (line.size() > kMaxMessagingLine) {
        ++counters_.rejected;
        callbacks_.rejected("line of " + std::to_string(line.size()) + " bytes is over the limit of " +
                                std::to_string(kMaxMessagingLine),
                            "");
        return;
    }
    auto object = gsdk::parse_json_object(line, &reason);
    Envelope envelope;
    if (!object || !decode_envelope(*object, &envelope, &reason, &msg_type)) {
        ++counters_.rejected;
        callbacks_.rejected(reason, msg_type);
        return;
    }
    callbacks_.envelope(std::move(envelope));
}

int MessagingPort::send_line(const std::string& line) {
    int rc = 0;
    if (!channel_.connected())
        rc = -ENOTCONN;
    else if (channel_.pending_output() + line.size() > queue_bytes_)
        rc = -ENOBUFS;
    else
        rc = channel_.send(line);
    if (rc < 0) {
        ++counters_.send_dropped;
        return rc;
    }
    ++counters_.lines_out;
    return 0;
}

}  // namespace vmhost

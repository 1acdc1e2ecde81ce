// One membership in the server group, driven by sg_client_process() from the
// application's own loop: the Welcome handshake, broadcasts both ways,
// notifications, and status answers collected until complete.
#include "client.h"

#include <unistd.h>
#include <algorithm>
#include <cerrno>

#include <cstring>

#include "payload_rule.h"
#include "server_group_ipc.pb.h"
#include "server_group_limits.h"

namespace ipc = gsdk::server_group::ipc;
using namespace std::chrono_literals;
using gsdk::sg::client::Clock;

namespace {

// A daemon that accepts a connection but never welcomes it is as good as gone.
constexpr auto kWelcomeTimeout = 5s;

std::string program_name() {
    // <errno.h> declares it (GNU); the daemon's log lines name the program.
    return program_invocation_short_name ? std::string(program_invocation_short_name).substr(0, 64) : std::string();
}

std::string joined_array(const std::vector<std::string>& members) {
    std::string out = "[";
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out += ",";
        out += members[i];
    }
    return out + "]";
}

}  // namespace

sg_client::sg_client(const sg_callbacks& cb, void* user_data, std::string path)
    : LibraryClient(gsdk::IpcClient::Options{std::move(path)},
                    gsdk::IpcClient::Callbacks{
                        [this] { say_hello(); },
                        [this](const char* data, std::size_t len, int) { handle_datagram(data, len); },
                        [this](const std::string& reason) { lost(reason); },
                        nullptr,
                        [this](int error) { return refused_by_mode(error); },
                    }),
      callbacks(cb), user(user_data) {}

int sg_client::open_and_connect() {
    if (int rc = ipc_.open(); rc < 0) return rc;
    std::lock_guard lock(mu_);
    if (int rc = ipc_.connect_now(); rc < 0 && !refused_by_mode(rc)) ipc_.connect_later();
    arm_timer();
    return 0;
}

// The socket's mode turned us away before the daemon could: as final as the
// daemon's own refusal, and said the same way.
bool sg_client::refused_by_mode(int error) {
    if (error != -EACCES && error != -EPERM) return false;
    Happening h;
    h.kind = Happening::Kind::Link;
    h.up = false;
    h.error = -EACCES;
    h.text = ipc_.refused_by_mode_text("server-groupd", error);
    ready_.push_back(std::move(h));
    link_ = Link::Refused;
    refused_error_ = EACCES;
    return true;
}

// A connection is up: say who we are and what we want.
void sg_client::say_hello() {
    ipc::ClientMessage msg;
    auto* hello = msg.mutable_hello();
    hello->set_client_name(program_name());
    hello->set_skip_broadcasts(!callbacks.broadcast);
    hello->set_skip_notifications(!callbacks.notification);
    ipc_.send(msg.SerializeAsString());
    link_ = Link::Awaiting;
    host_up_.reset();
    welcome_deadline_ = Clock::now() + kWelcomeTimeout;
}

void sg_client::lost(const std::string& reason) {
    if (link_ == Link::Refused) return;
    bool was_up = link_ == Link::Up;
    link_ = Link::Connecting;
    host_up_.reset();
    end_query(ECONNRESET, "server-groupd went away: " + reason);
    if (was_up) {
        Happening h;
        h.kind = Happening::Kind::Link;
        h.text = reason;
        ready_.push_back(std::move(h));
        ipc_.reset_backoff();
    }
    ipc_.connect_later();
}

void sg_client::end_query(int error, const std::string& reason) {
    if (!query_) return;
    Happening h;
    h.kind = Happening::Kind::Status;
    h.query_id = query_->id;
    h.error = -error;
    h.text = reason;
    query_.reset();
    ready_.push_back(std::move(h));
}

void sg_client::handle_datagram(const char* data, std::size_t len) {
    ipc::DaemonMessage msg;
    if (!msg.ParseFromArray(data, static_cast<int>(len))) return;  // nothing the daemon sends; ignored
    Happening h;
    switch (msg.body_case()) {
    case ipc::DaemonMessage::kWelcome: {
        const auto& w = msg.welcome();
        h.kind = Happening::Kind::Link;
        h.up = w.accepted();
        if (w.accepted()) {
            link_ = Link::Up;
            host_up_ = w.host_connected();
            ipc_.reset_backoff();
        } else {
            h.error = -(w.error() > 0 ? w.error() : EACCES);
            h.text = w.reason().empty() ? "refused by server-groupd" : w.reason();
            ipc_.disconnect();
            end_query(-h.error, h.text);
            if (h.error == -EACCES) {
                link_ = Link::Refused;
                refused_error_ = EACCES;
            } else {
                link_ = Link::Connecting;
                ipc_.connect_later();  // a quota may free up; the back-off keeps growing
            }
        }
        break;
    }
    case ipc::DaemonMessage::kHostLink:
        host_up_ = msg.host_link().connected();
        return;
    case ipc::DaemonMessage::kBroadcast:
        h.kind = Happening::Kind::Broadcast;
        h.source_instance = msg.broadcast().source_instance();
        h.text = msg.broadcast().payload();
        break;
    case ipc::DaemonMessage::kNotification:
        h.kind = Happening::Kind::Notification;
        h.text = msg.notification().json();
        break;
    case ipc::DaemonMessage::kStatusMember: {
        if (!query_ || msg.status_member().query_id() != query_->id) return;  // an older query's
        const std::string& json = msg.status_member().json();
        if (query_->members.size() >= gsdk::sg::kMaxStatusMembers ||
            query_->bytes + json.size() > gsdk::sg::kMaxStatusBytes) {
            end_query(EMSGSIZE, "the status answer is larger than this library accepts");
            return;
        }
        query_->members.push_back(json);
        query_->bytes += json.size();
        return;
    }
    case ipc::DaemonMessage::kStatusDone: {
        if (!query_ || msg.status_done().query_id() != query_->id) return;
        uint32_t expected = msg.status_done().member_count();
        if (expected != query_->members.size()) {
            end_query(EIO, std::to_string(expected - std::min<std::size_t>(expected, query_->members.size())) + " of " +
                               std::to_string(expected) +
                               " member statuses were lost (this client did not read in time)");
            return;
        }
        h.kind = Happening::Kind::Status;
        h.query_id = query_->id;
        h.members = std::move(query_->members);
        query_.reset();
        break;
    }
    case ipc::DaemonMessage::kStatusFailed: {
        if (!query_ || msg.status_failed().query_id() != query_->id) return;
        int error = msg.status_failed().error() > 0 ? msg.status_failed().error() : EIO;
        end_query(error, msg.status_failed().reason());
        return;
    }
    case ipc::DaemonMessage::kRefused:
        h.kind = Happening::Kind::Refused;
        h.error = -(msg.refused().error() > 0 ? msg.refused().error() : EPROTO);
        h.msg_type = msg.refused().msg_type();
        h.text = msg.refused().reason();
        break;
    case ipc::DaemonMessage::kMessagesLost:
        h.kind = Happening::Kind::Lost;
        h.count = msg.messages_lost().count();
        lost_total_ += h.count;
        break;
    case ipc::DaemonMessage::BODY_NOT_SET:
        return;
    }
    ready_.push_back(std::move(h));
}

// Why nothing can be sent now, or 0.
int sg_client::usable() const {
    if (link_ == Link::Refused) return -refused_error_;
    if (!ipc_.connected()) return -ENOTCONN;
    if (host_up_ == false) return -EHOSTDOWN;
    return 0;
}

int sg_client::broadcast(const void* payload, std::size_t len) {
    auto verdict = gsdk::sg::check_payload(payload, len);
    if (verdict != gsdk::sg::PayloadVerdict::Ok) return -gsdk::sg::payload_errno(verdict);
    std::lock_guard lock(mu_);
    if (int rc = usable(); rc < 0) return rc;
    ipc::ClientMessage msg;
    msg.mutable_broadcast()->set_payload(static_cast<const char*>(payload), len);
    int rc = ipc_.send(msg.SerializeAsString());
    arm_timer();
    return rc;
}

int sg_client::request_status(unsigned timeout_ms) {
    if (!callbacks.status) return -EINVAL;
    std::lock_guard lock(mu_);
    if (int rc = usable(); rc < 0) return rc;
    uint32_t id = next_query_id_;
    ipc::ClientMessage msg;
    msg.mutable_status_query()->set_query_id(id);
    int rc = ipc_.send(msg.SerializeAsString());
    if (rc < 0) return rc;
    next_query_id_ = id == INT32_MAX ? 1 : id + 1;
    end_query(ECANCELED, "a newer status query replaced it");
    query_ = gsdk::sg::client::PendingQuery{id, Clock::now() + std::chrono::milliseconds(timeout_ms), {}, 0};
    arm_timer();
    return static_cast<int>(id);
}

void sg_client::expire(TimePoint now) {
    if (link_ == Link::Awaiting && now >= welcome_deadline_) {
        ipc_.disconnect();
        lost("no welcome from server-groupd");
    }
    if (query_ && now >= query_->deadline) end_query(ETIMEDOUT, "no complete status answer within the query's timeout");
}

void sg_client::consider_deadlines(Deadlines& d) const {
    if (link_ == Link::Awaiting) d.consider(welcome_deadline_);
    if (query_) d.consider(query_->deadline);
}

bool sg_client::connected() {
    std::lock_guard lock(mu_);
    return link_ == Link::Up;
}

int64_t sg_client::messages_lost() {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(lost_total_);
}

// Runs with no lock held (CallbackDispatch), so callbacks may call back in.
void sg_client::deliver(Happening& h) {
    switch (h.kind) {
    case Happening::Kind::Link:
        if (callbacks.connected) callbacks.connected(this, h.up, h.text.c_str(), user);
        return;
    case Happening::Kind::Broadcast:
        if (callbacks.broadcast)
            callbacks.broadcast(this, h.source_instance.c_str(), h.text.c_str(), h.text.size(), user);
        return;
    case Happening::Kind::Notification:
        if (callbacks.notification) callbacks.notification(this, h.text.c_str(), h.text.size(), user);
        return;
    case Happening::Kind::Status: {
        if (!callbacks.status) return;
        std::vector<const char*> pointers;
        for (const auto& m : h.members) pointers.push_back(m.c_str());
        std::string array = h.error == 0 ? joined_array(h.members) : "[]";
        sg_status status{h.members.size(), pointers.data(), array.c_str(), h.error == 0 ? "" : h.text.c_str()};
        callbacks.status(this, h.query_id, h.error, &status, user);
        return;
    }
    case Happening::Kind::Refused:
        if (callbacks.refused) callbacks.refused(this, h.error, h.msg_type.c_str(), h.text.c_str(), user);
        return;
    case Happening::Kind::Lost:
        if (callbacks.messages_lost) callbacks.messages_lost(this, h.count, user);
        return;
    }
}

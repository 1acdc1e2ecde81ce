// The original libservergroup's way in: server-groupd binds the abstract
// datagram name "cgcs.messaging" as the original agent did, takes each
// sender's address from its datagram, checks the sender's credentials
// (SO_PASSCRED) and rate, and answers to "\0cgcs.server_grp". Binaries that
// bundle the original library so work unchanged beside libserver_group.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "gsdk/peer_access.h"
#include "legacy_datagram.h"
#include "send_allowance.h"

namespace gsdk::sg {

struct LegacySender {
    std::string name;
    PeerCredentials cred;
};

class LegacyDatagrams {
public:
    // A datagram from an allowed sender within its rate.
    using Handler = std::function<void(const LegacySender&, const sgwire::Envelope&)>;
    struct Counters {
        uint64_t received = 0;
        uint64_t refused = 0;  // credentials, rate, size, format
        uint64_t delivered = 0;
        uint64_t not_delivered = 0;
    };

    LegacyDatagrams(EventLoop& loop, const DaemonConfig& config, const PeerAccessPolicy& access, Handler handler,
                    std::string agent_name = "cgcs.messaging");
    ~LegacyDatagrams();

    // Binds the agent's name; retried with back-off while another process holds it.
    void start();
    void stop();
    bool bound() const { return fd_ >= 0; }

    // One JSON text to the abstract name `to`: 0 or a negative errno
    // (-ECONNREFUSED: nobody has bound it; -EAGAIN: its queue is full;
    // -EMSGSIZE: more than the original library can read).
    int send_to(const std::string& to, const std::string& text);
    // A nack to a sender whose datagram was refused (the original library
    // turns it into -1 from process_sg_msg, with log_msg as the error).
    void refuse(const LegacySender& sender, const std::string& reason);

    const Counters& counters() const { return counters_; }

private:
    void try_bind();
    void readable();
    void handle(const char* data, std::size_t len, const sockaddr_un& from, socklen_t from_len,
                const PeerCredentials* cred);

    EventLoop& loop_;
    const DaemonConfig& config_;
    const PeerAccessPolicy& access_;
    Handler handler_;
    std::string agent_name_;
    int fd_ = -1;
    std::unique_ptr<FdWatch> watch_;
    Timer retry_;
    Millis retry_delay_{100};
    bool stopped_ = true;
    std::unordered_map<uid_t, SendAllowance> allowances_;
    Counters counters_;
};

}  // namespace gsdk::sg

#include "legacy_datagrams.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gsdk/log.h"
#include "server_group_layer.h"
#include "server_group_limits.h"

namespace gsdk::sg {

namespace {
// Larger than any datagram we accept, so that MSG_TRUNC tells us the real size.
constexpr std::size_t kReceiveBuffer = 64 * 1024;
constexpr int kDatagramsPerWakeup = 64;
constexpr std::size_t kMaxSenders = 1024;
}  // namespace

LegacyDatagrams::LegacyDatagrams(EventLoop& loop, const DaemonConfig& config, const PeerAccessPolicy& access,
                                 Handler handler, std::string agent_name)
    : loop_(loop), config_(config), access_(access), handler_(std::move(handler)), agent_name_(std::move(agent_name)),
      retry_(loop, [this] { try_bind(); }) {}

LegacyDatagrams::~LegacyDatagrams() { stop(); }

void LegacyDatagrams::start() {
    stopped_ = false;
    retry_delay_ = Millis(100);
    try_bind();
}

void LegacyDatagrams::stop() {
    stopped_ = true;
    retry_.stop();
    watch_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void LegacyDatagrams::try_bind() {
    if (stopped_ || fd_ >= 0) return;
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        LOG_ERROR("legacy datagram socket: %s", std::strerror(errno));
        return;
    }
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    socklen_t len;
    sockaddr_un addr = abstract_address(agent_name_, &len);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
        int err = errno;
        ::close(fd);
        // Another agent (or a squatter) holds the name: say so once per
        // doubling of the wait, and keep trying.
        if (retry_delay_ == Millis(100) || retry_delay_ >= Millis(5000))
            LOG_ERROR("cannot bind the abstract name %s for the original library: %s (retrying)", agent_name_.c_str(),
                      std::strerror(err));
        retry_.start(retry_delay_);
        retry_delay_ = std::min(retry_delay_ * 2, Millis(10000));
        return;
    }
    fd_ = fd;
    watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { readable(); });
    watch_->enable();
    LOG_INFO("serving the original libservergroup on abstract datagram name %s", agent_name_.c_str());
}

void LegacyDatagrams::readable() {
    static char buf[kReceiveBuffer];
    for (int i = 0; i < kDatagramsPerWakeup && fd_ >= 0; ++i) {
        sockaddr_un from{};
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(4 * sizeof(int))];
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fd_, &msg, MSG_TRUNC | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) LOG_WARN("legacy datagram receive: %s", std::strerror(errno));
            return;
        }
        const PeerCredentials* cred = nullptr;
        PeerCredentials c;
        for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
            if (h->cmsg_level != SOL_SOCKET) continue;
            if (h->cmsg_type == SCM_CREDENTIALS && h->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
                ucred u;
                std::memcpy(&u, CMSG_DATA(h), sizeof u);
                c = PeerCredentials{u.pid, u.uid, u.gid, {}};
                cred = &c;
            } else if (h->cmsg_type == SCM_RIGHTS) {
                // Nobody passes descriptors here; do not keep what a peer pushed on us.
                std::size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t k = 0; k < count; ++k) {
                    int passed;
                    std::memcpy(&passed, CMSG_DATA(h) + k * sizeof(int), sizeof passed);
                    ::close(passed);
                }
            }
        }
        ++counters_.received;
        if (static_cast<std::size_t>(n) > kMaxHostLine) {
            ++counters_.refused;
            LOG_RATELIMITED(LogLevel::Warning, "size",
                            "dropped a %zd-byte datagram from pid %d: over the %zu-byte limit", n,
                            cred ? cred->pid : -1, kMaxHostLine);
            continue;
        }
        handle(buf, static_cast<std::size_t>(n), from, msg.msg_namelen, cred);
    }
}

void LegacyDatagrams::handle(const char* data, std::size_t len, const sockaddr_un& from, socklen_t from_len,
                             const PeerCredentials* cred) {
    if (!cred) {
        ++counters_.refused;
        LOG_RATELIMITED(LogLevel::Warning, "nocred", "dropped a datagram without sender credentials");
        return;
    }
    PeerCredentials peer = *cred;
    peer.groups = process_groups(peer.pid);  // SCM_CREDENTIALS carries the primary group only
    if (auto refusal = access_.refusal(peer)) {
        const std::string& why = *refusal;
        ++counters_.refused;
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(cred->uid), "original-library datagram refused: %s",
                        why.c_str());
        if (auto name = abstract_name(from, from_len)) refuse(LegacySender{*name, *cred}, "not allowed: " + why);
        return;
    }
    auto parsed = parse_legacy_datagram(from, from_len, std::string_view(data, len));
    if (auto* bad = std::get_if<LegacyDatagramError>(&parsed)) {
        ++counters_.refused;
        LOG_RATELIMITED(LogLevel::Warning, bad->detail, "dropped a datagram from pid %d uid %u: %s", cred->pid,
                        cred->uid, bad->detail.c_str());
        if (auto name = abstract_name(from, from_len); name && sgwire::valid_address(*name))
            refuse(LegacySender{*name, *cred}, "malformed message: " + bad->detail);
        return;
    }
    auto& datagram = std::get<LegacyDatagram>(parsed);
    LegacySender sender{datagram.sender, *cred};
    if (allowances_.size() >= kMaxSenders && !allowances_.count(cred->uid)) allowances_.clear();
    auto it = allowances_.try_emplace(cred->uid, config_.broadcast_rate, config_.broadcast_burst).first;
    if (!it->second.take()) {
        ++counters_.refused;
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(cred->uid),
                        "datagrams of uid %u over the rate limit (BROADCAST_RATE) dropped", cred->uid);
        refuse(sender, "over the rate limit of " + std::to_string(config_.broadcast_rate) + " messages a second");
        return;
    }
    handler_(sender, datagram.envelope);
}

int LegacyDatagrams::send_to(const std::string& to, const std::string& text) {
    if (fd_ < 0) return -ENOTCONN;
    if (text.size() > kLegacyLibraryDatagram) {
        ++counters_.not_delivered;
        return -EMSGSIZE;
    }
    socklen_t len;
    sockaddr_un addr = abstract_address(to, &len);
    ssize_t n;
    do {
        n = ::sendto(fd_, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                     len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        ++counters_.not_delivered;
        return -errno;
    }
    ++counters_.delivered;
    return 0;
}

void LegacyDatagrams::refuse(const LegacySender& sender, const std::string& reason) {
    nlohmann::json nack = sgwire::encode_host_message(sgwire::HostNack{reason, ""});
    send_to(sender.name, sgwire::encode_for_legacy_library(kServerGroupAddress, nack));
}

}  // namespace gsdk::sg

#include "fake_daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "gsdk/unix_socket.h"

namespace ghbtest {

namespace {

// Polls fd in short slices, running the pump between them.
bool wait_readable(int fd, std::chrono::milliseconds timeout, const Pump& pump) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, pump ? 5 : 20) > 0) return true;
        if (pump) pump();
        if (std::chrono::steady_clock::now() >= deadline) return false;
    }
}

}  // namespace

FakeDaemon::FakeDaemon(std::string path) : path_(std::move(path)) {
    if (!listen()) throw std::runtime_error("fake daemon cannot listen on " + path_);
}

FakeDaemon::~FakeDaemon() { stop(); }

bool FakeDaemon::listen() {
    if (listen_fd_ >= 0) return true;
    listen_fd_ = gsdk::seqpacket_listen(path_);
    return listen_fd_ >= 0;
}

void FakeDaemon::stop() {
    for (int fd : peers_) ::close(fd);
    peers_.clear();
    for (void* m : slots_) ::munmap(m, ipc::kAnswerSlotBytes);
    slots_.clear();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
    listen_fd_ = -1;
}

int FakeDaemon::accept(std::chrono::milliseconds timeout, const Pump& pump) {
    if (listen_fd_ < 0 || !wait_readable(listen_fd_, timeout, pump)) return -1;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) peers_.push_back(fd);
    return fd;
}

std::optional<ipc::ClientMessage> FakeDaemon::receive(int peer, std::chrono::milliseconds timeout, const Pump& pump) {
    static char buf[gsdk::kMaxIpcMessage];
    if (!wait_readable(peer, timeout, pump)) return std::nullopt;
    long n = gsdk::seqpacket_receive(peer, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    ipc::ClientMessage msg;
    if (!msg.ParseFromArray(buf, static_cast<int>(n))) return std::nullopt;
    return msg;
}

bool FakeDaemon::wait_closed(int peer, std::chrono::milliseconds timeout, const Pump& pump) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    static char buf[gsdk::kMaxIpcMessage];
    while (std::chrono::steady_clock::now() < deadline) {
        if (!wait_readable(peer, 20ms, pump)) continue;
        long n = gsdk::seqpacket_receive(peer, buf, sizeof buf);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return true;
    }
    return false;
}

bool FakeDaemon::send(int peer, const ipc::DaemonMessage& message) {
    return send_raw(peer, message.SerializeAsString());
}

bool FakeDaemon::send_raw(int peer, const std::string& bytes) {
    return ::send(peer, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

void FakeDaemon::close_peer(int peer) {
    auto it = std::find(peers_.begin(), peers_.end(), peer);
    if (it == peers_.end()) return;
    ::close(peer);
    peers_.erase(it);
}

int FakeDaemon::accept_register_message(const Pump& pump, ipc::Register* seen) {
    int peer = accept(5s, pump);
    if (peer < 0) return -1;
    auto msg = receive(peer, 5s, pump);
    if (!msg || !msg->has_register_()) return -1;
    *seen = msg->register_();
    return peer;
}

int FakeDaemon::accept_registration(bool accept_it, const std::string& reason, const Pump& pump, ipc::Register* seen) {
    ipc::Register reg;
    int peer = accept_register_message(pump, &reg);
    if (peer < 0) return -1;
    if (seen) *seen = reg;
    ipc::DaemonMessage answer;
    answer.mutable_register_result()->set_accepted(accept_it);
    answer.mutable_register_result()->set_reason(reason);
    answer.mutable_register_result()->set_min_interval_ms(100);
    if (!send(peer, answer)) return -1;
    return peer;
}

int FakeDaemon::accept_register_refusal(int error, const std::string& reason, const Pump& pump) {
    ipc::Register reg;
    int peer = accept_register_message(pump, &reg);
    if (peer < 0) return -1;
    ipc::DaemonMessage answer;
    answer.mutable_register_result()->set_accepted(false);
    answer.mutable_register_result()->set_reason(reason);
    answer.mutable_register_result()->set_error(error);
    if (!send(peer, answer)) return -1;
    return peer;
}

int FakeDaemon::accept_registration_with_slot(ipc::AnswerSlot** slot, bool sealed, const Pump& pump) {
    ipc::Register reg;
    int peer = accept_register_message(pump, &reg);
    if (peer < 0 || !reg.answer_slot()) return -1;
    int fd = ::memfd_create("fake-answer-slot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ::ftruncate(fd, ipc::kAnswerSlotBytes) < 0 ||
        (sealed && ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0))
        return -1;
    void* map = ::mmap(nullptr, ipc::kAnswerSlotBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        ::close(fd);
        return -1;
    }
    slots_.push_back(map);
    *slot = static_cast<ipc::AnswerSlot*>(map);
    ipc::DaemonMessage answer;
    answer.mutable_register_result()->set_accepted(true);
    answer.mutable_register_result()->set_min_interval_ms(100);
    answer.mutable_register_result()->set_answer_slot(true);
    std::string bytes = answer.SerializeAsString();
    int rc = gsdk::seqpacket_send_with_fd(peer, bytes.data(), bytes.size(), fd);
    ::close(fd);
    return rc == 0 ? peer : -1;
}

ipc::DaemonMessage FakeDaemon::challenge(uint64_t id) {
    ipc::DaemonMessage m;
    m.mutable_challenge()->set_challenge_id(id);
    return m;
}

ipc::DaemonMessage FakeDaemon::action(int32_t invocation_id, ipc::Event event, ipc::NotifyType type,
                                      uint32_t timeout_ms) {
    ipc::DaemonMessage m;
    auto* a = m.mutable_action_notify();
    a->set_invocation_id(invocation_id);
    a->set_event(event);
    a->set_notify_type(type);
    a->set_timeout_ms(timeout_ms);
    return m;
}

}  // namespace ghbtest

#include "host_test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hosttest {

bool eventually(const std::function<bool()>& pred, Millis timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

CommandResult run_command(const std::vector<std::string>& argv, Millis timeout) {
    // Spawned, not forked: these run from helper threads while the test
    // thread allocates, and a forked child of a multi-threaded process may
    // hang in malloc before it reaches exec (seen under ASan).
    TempDir tmp;
    CommandResult r;
    gsdk::test::Subprocess p;
    p.start(argv, tmp.file("out"), {}, tmp.file("err"));
    auto status = p.wait(timeout);
    p.kill_group();
    r.exit_code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    r.out = read_file(tmp.file("out"));
    r.err = read_file(tmp.file("err"));
    if (!status) r.err += "\n[test] killed after " + std::to_string(timeout.count()) + " ms";
    return r;
}

int listen_unix_stream(const std::string& path, const std::string& who) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ::unlink(path.c_str());
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(fd, 4) < 0)
        throw std::runtime_error(who + " cannot listen on " + path + ": " + std::strerror(errno));
    return fd;
}

int accept_within(int listen_fd, Millis timeout) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
    return ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
}

void send_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (fd >= 0 && done < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

std::string vmhostd_path() { return VMHOSTD_PATH; }
std::string vmhostctl_path() { return VMHOSTCTL_PATH; }

std::string marker_script(const TempDir& dir, const std::string& marker) {
    std::string path = dir.file("executor.sh");
    write_file(path,
               "#!/bin/sh\n"
               "# test executor: records what vmhostd asked for\n"
               "[ \"$1\" = \"$VMHOST_VM\" ] && [ \"$2\" = \"$VMHOST_ACTION\" ] || exit 3\n"
               "echo \"$1 $2\" >> '" +
                   marker + "'\n",
               true);
    return path;
}

VmhostdProcess::~VmhostdProcess() = default;  // the Subprocess kills its group

bool VmhostdProcess::start(const std::string& config_path, const std::string& control_socket,
                           const std::string& log_path) {
    log_path_ = log_path;
    ::unsetenv("NOTIFY_SOCKET");  // not under systemd here, whatever ran the tests
    process_ = std::make_unique<gsdk::test::Subprocess>();
    process_->start({VMHOSTD_PATH, "--config", config_path, "--log-level", "debug"}, log_path);
    return eventually([&] {
               struct stat st;
               return ::stat(control_socket.c_str(), &st) == 0 || !running();
           }) &&
           running();
}

bool VmhostdProcess::running() { return process_ && process_->running(); }

pid_t VmhostdProcess::pid() const { return process_ ? process_->pid() : -1; }

int VmhostdProcess::stop() {
    if (!process_) return -1;
    process_->signal(SIGTERM);
    auto status = process_->wait(kPatience);
    process_->kill_group();
    process_.reset();
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

FakeGuest::FakeGuest(std::string path) : path_(std::move(path)) {}

FakeGuest::~FakeGuest() {
    disconnect();
    close_listener();
}

void FakeGuest::listen() {
    close_listener();
    listen_fd_ = listen_unix_stream(path_, "fake guest");
}

bool FakeGuest::accept(Millis timeout) {
    conn_ = accept_within(listen_fd_, timeout);
    if (conn_ < 0) return false;
    buffer_.clear();
    lines_.clear();
    held_.clear();
    splitter_.reset();
    return conn_ >= 0;
}

void FakeGuest::disconnect() {
    if (conn_ >= 0) ::close(conn_);
    conn_ = -1;
}

void FakeGuest::close_listener() {
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
    listen_fd_ = -1;
}

void FakeGuest::send_raw(const std::string& bytes) { send_all(conn_, bytes); }

void FakeGuest::send(hb::Body body) { send_raw(hb::encode_line(hb::Message{++sequence_, std::move(body)})); }

bool FakeGuest::fill(Millis timeout) {
    pollfd p{conn_, POLLIN, 0};
    if (conn_ < 0 || ::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
    if (n <= 0) {
        disconnect();
        return false;
    }
    splitter_.feed(
        std::string_view(buf, n), [this](std::string_view l) { lines_.emplace_back(l); }, [](std::size_t) {});
    return true;
}

std::optional<hb::Message> FakeGuest::next(Millis timeout) {
    if (!held_.empty()) {
        hb::Message m = held_.front();
        held_.pop_front();
        return m;
    }
    return read_wire(timeout);
}

std::optional<hb::Message> FakeGuest::read_wire(Millis timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        while (!lines_.empty()) {
            std::string line = lines_.front();
            lines_.erase(lines_.begin());
            std::string error;
            auto obj = gsdk::parse_json_object(line, &error);
            if (!obj) continue;
            auto decoded = hb::decode(*obj);
            if (auto* m = std::get_if<hb::Message>(&decoded)) return *m;
        }
        auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !fill(left)) {
            if (!lines_.empty()) continue;
            return std::nullopt;
        }
    }
}

std::optional<hb::Message> FakeGuest::wait_for(const std::function<bool(const hb::Message&)>& want, Millis timeout) {
    for (auto it = held_.begin(); it != held_.end(); ++it) {
        if (want(*it)) {
            hb::Message m = *it;
            held_.erase(it);
            return m;
        }
    }
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto m = read_wire(left);
        if (!m) return std::nullopt;
        if (want(*m)) return m;
        if (auto* c = std::get_if<hb::Challenge>(&m->body); c && auto_answer)
            answer(*c);
        else
            held_.push_back(*m);
    }
}

std::optional<hb::InitAck> FakeGuest::init(int64_t interval_ms, hb::CorrectiveAction action, int64_t vote_secs,
                                           int64_t notice_secs, int64_t restart_secs) {
    init_ = hb::Init{++invocation_, "guest-of-test", interval_ms,  vote_secs, notice_secs,
                     notice_secs,   notice_secs,     restart_secs, action};
    send(init_);
    auto m = wait_for(is<hb::InitAck>());
    if (!m) return std::nullopt;
    auto ack = std::get<hb::InitAck>(m->body);
    if (ack.invocation_id != init_.invocation_id) return std::nullopt;
    return ack;
}

std::optional<hb::Challenge> FakeGuest::next_challenge(Millis timeout) {
    bool saved = auto_answer;
    auto_answer = false;
    auto m = wait_for(is<hb::Challenge>(), timeout);
    auto_answer = saved;
    if (!m) return std::nullopt;
    return std::get<hb::Challenge>(m->body);
}

void FakeGuest::answer(const hb::Challenge& c, bool healthy, hb::CorrectiveAction action, const std::string& log_msg,
                       std::optional<std::vector<hb::ApplicationStatus>> apps) {
    hb::ChallengeResponse r;
    r.heartbeat_response = c.heartbeat_challenge;
    r.healthy = healthy;
    r.corrective_action = action;
    r.log_msg = log_msg;
    r.applications = std::move(apps);
    send(r);
}

void FakeGuest::respond(const hb::ActionNotify& n, hb::VoteResult result, const std::string& log_msg) {
    send(hb::ActionResponse{n.invocation_id, n.event_type, n.notification_type, result, log_msg});
}

}  // namespace hosttest

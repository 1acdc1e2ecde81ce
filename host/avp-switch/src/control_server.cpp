#include "control_server.hpp"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "control_socket.hpp"

namespace avpsw {

struct ControlServer::Client {
    uint64_t id = 0;
    int fd = -1;
    uid_t uid = 0;
    pid_t pid = 0;
    std::string in, out;
    size_t sent = 0;
    bool answered = false;  // a line was taken: read no more
    std::unique_ptr<gsdk::FdWatch> read_watch, write_watch;
    std::unique_ptr<gsdk::Timer> deadline;
    ~Client() {
        read_watch.reset();
        write_watch.reset();
        if (fd >= 0) ::close(fd);
    }
};

namespace {
nlohmann::json error(const std::string& text) { return {{"ok", false}, {"error", text}}; }
}  // namespace

ControlServer::ControlServer(gsdk::EventLoop& loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)), reaper_(loop, [this] { doomed_.clear(); }) {}

ControlServer::~ControlServer() {
    acceptor_.reset();
    clients_.clear();
    doomed_.clear();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
}

std::string ControlServer::listen(const std::string& path) {
    std::string err;
    listen_fd_ = unix_listen_exclusive(path, 0600, err);
    if (listen_fd_ < 0) return err;
    path_ = path;
    acceptor_ =
        std::make_unique<Acceptor>(loop_, listen_fd_, "control socket " + path, [this](int fd) { accepted(fd); });
    return {};
}

void ControlServer::accepted(int fd) {
    auto c = std::make_unique<Client>();
    c->id = next_id_++;
    c->fd = fd;
    if (!peer_allowed(fd, &c->uid, &c->pid)) {
        counters_.refused_credentials++;
        gsdk::ratelimited_logf(refused_log_, "", gsdk::LogLevel::Warning,
                               "control socket: refused pid %d uid %u: only root or uid %u may control the switch",
                               static_cast<int>(c->pid), static_cast<unsigned>(c->uid),
                               static_cast<unsigned>(::geteuid()));
        std::string e = error("permission denied: only root or the switch's user may use this socket").dump() + "\n";
        (void)::send(fd, e.data(), e.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        return;  // c closes fd
    }
    if (clients_.size() >= kMaxControlClients) {
        counters_.refused_busy++;
        gsdk::ratelimited_logf(refused_log_, "", gsdk::LogLevel::Warning,
                               "control socket: refused pid %d: %zu clients connected already",
                               static_cast<int>(c->pid), clients_.size());
        std::string e = error("busy: too many control clients, try again").dump() + "\n";
        (void)::send(fd, e.data(), e.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        return;
    }
    counters_.accepted++;
    Client& r = *c;
    r.read_watch = std::make_unique<gsdk::FdWatch>(loop_, fd, EV_READ, [this, &r](short) { readable(r); });
    r.write_watch = std::make_unique<gsdk::FdWatch>(loop_, fd, EV_WRITE, [this, &r](short) { writable(r); });
    r.deadline = std::make_unique<gsdk::Timer>(loop_, [this, &r] {
        counters_.timed_out++;
        gsdk::ratelimited_logf(client_log_, "", gsdk::LogLevel::Notice,
                               "control socket: pid %d sent no complete request within %lld ms",
                               static_cast<int>(r.pid), static_cast<long long>(kControlClientTimeout.count()));
        drop(r.id);
    });
    r.read_watch->enable();
    r.deadline->start(kControlClientTimeout);
    clients_.emplace(r.id, std::move(c));
}

void ControlServer::readable(Client& c) {
    char buf[1024];
    ssize_t n = ::read(c.fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {  // gone before a whole line: nothing to answer
        drop(c.id);
        return;
    }
    size_t keep = std::min<size_t>(static_cast<size_t>(n), kMaxControlRequest + 1 - c.in.size());
    c.in.append(buf, keep);
    auto nl = c.in.find('\n');
    if (nl == std::string::npos) {
        if (c.in.size() > kMaxControlRequest) {
            counters_.oversize++;
            gsdk::ratelimited_logf(client_log_, "", gsdk::LogLevel::Notice,
                                   "control socket: pid %d sent a request over %zu bytes", static_cast<int>(c.pid),
                                   kMaxControlRequest);
            c.read_watch->disable();
            c.answered = true;
            send(c, error("expected one command line of at most " + std::to_string(kMaxControlRequest) + " bytes"));
        }
        return;
    }
    c.in.resize(nl);
    if (!c.in.empty() && c.in.back() == '\r') c.in.pop_back();
    c.read_watch->disable();
    c.answered = true;
    c.deadline->stop();
    uint64_t id = c.id;
    std::optional<nlohmann::json> r = handler_(id, c.in);
    if (r) reply(id, *r);
}

void ControlServer::reply(uint64_t client, const nlohmann::json& j) {
    auto it = clients_.find(client);
    if (it == clients_.end()) return;
    send(*it->second, j);
}

void ControlServer::send(Client& c, const nlohmann::json& j) {
    c.out = j.dump() + "\n";
    c.sent = 0;
    // Replies are small, the socket buffer takes them at once; a client that
    // does not read gets the deadline, not the loop.
    c.deadline->start(kControlClientTimeout);
    writable(c);
}

void ControlServer::writable(Client& c) {
    while (c.sent < c.out.size()) {
        ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            c.write_watch->enable();
            return;
        }
        break;  // peer gone
    }
    drop(c.id);
}

void ControlServer::drop(uint64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    it->second->read_watch->disable();
    it->second->write_watch->disable();
    it->second->deadline->stop();
    doomed_.push_back(std::move(it->second));
    clients_.erase(it);
    reaper_.start(gsdk::Millis(0));
}

}  // namespace avpsw

#include "qmp_executor.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "gsdk/json_line.h"
#include "gsdk/log.h"
#include "gsdk/unix_socket.h"

namespace vmhost {

namespace {
constexpr gsdk::Millis kConnectRetry{100};
}

std::vector<std::string> qmp_commands_for(const std::string& action) {
    if (action == "stop") return {"quit"};
    if (action == "reboot") return {"system_reset"};
    if (action == "pause" || action == "suspend") return {"stop"};
    if (action == "unpause" || action == "resume") return {"cont"};
    if (action == "live-migrate" || action == "resize") return {"stop", "cont"};
    if (action == "cold-migrate") return {"stop", "system_reset", "cont"};
    return {};
}

// One QMP conversation; reports through `done` and then asks to be reaped.
class QmpExecutor::Exchange {
public:
    Exchange(QmpExecutor& owner, uint64_t id, std::string action, Done done)
        : owner_(owner), id_(id), action_(std::move(action)), commands_(qmp_commands_for(action_)),
          done_(std::move(done)),
          deadline_(owner.loop_, [this] { finish(false, "no answer from QMP within the timeout"); }),
          retry_(owner.loop_, [this] { try_connect(); }) {}
    ~Exchange() {
        watch_.reset();
        connect_watch_.reset();
        if (fd_ >= 0) ::close(fd_);
    }

    void start() {
        deadline_.start(owner_.timeout_);
        if (commands_.empty()) {
            fail_soon("no QMP command carries out action " + action_);
            return;
        }
        try_connect();
    }

private:
    // Never a blocking connect: a stopped QEMU (SIGSTOP) leaves its monitor's
    // backlog full, and connect() would hang the whole daemon. EAGAIN is
    // retried until the exchange's deadline.
    void try_connect() {
        bool in_progress = false;
        int fd = gsdk::unix_stream_connect_nonblocking(owner_.socket_path_, &in_progress);
        if (fd == -EAGAIN) {
            failure_ =
                "QMP socket " + owner_.socket_path_ + " is not accepting connections (backlog full: is QEMU stopped?)";
            retry_.start(kConnectRetry);
            return;
        }
        if (fd < 0) {
            // Report from the loop, never from inside carry_out().
            fail_soon("cannot connect to QMP socket " + owner_.socket_path_ + ": " + std::strerror(-fd));
            return;
        }
        failure_.clear();
        fd_ = fd;
        watch_ = std::make_unique<gsdk::FdWatch>(owner_.loop_, fd_, EV_READ, [this](short) { readable(); });
        if (in_progress) {
            connect_watch_ =
                std::make_unique<gsdk::FdWatch>(owner_.loop_, fd_, EV_WRITE, [this](short) { connected(); });
            connect_watch_->enable();
            return;
        }
        watch_->enable();
    }

    void connected() {
        connect_watch_->disable();
        if (int err = gsdk::socket_error(fd_); err < 0) {
            finish(false, "cannot connect to QMP socket " + owner_.socket_path_ + ": " + std::strerror(-err));
            return;
        }
        watch_->enable();
    }

    void fail_soon(std::string why) {
        failure_ = std::move(why);
        deadline_.start(gsdk::Millis(0));
    }

    void readable() {
        char buf[4096];
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n > 0) {
            splitter_.feed(
                std::string_view(buf, n), [this](std::string_view line) { on_line(line); },
                [this](std::size_t) { finish(false, "QMP sent an oversized line"); });
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        // QEMU closes the monitor as it exits after "quit".
        if (sent_ && commands_[next_ - 1] == "quit") {
            finish(true, progress_ + " (QEMU closed the monitor)");
            return;
        }
        finish(false, "QMP socket closed" + (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    }

    void on_line(std::string_view line) {
        if (done_called_) return;
        std::string error;
        auto msg = gsdk::parse_json_object(line, &error);
        if (!msg) {
            finish(false, "unparsable QMP line: " + error);
            return;
        }
        if (msg->contains("event")) return;  // asynchronous events are not answers
        if (!greeted_) {
            if (!msg->contains("QMP")) {
                finish(false, "no QMP greeting on " + owner_.socket_path_);
                return;
            }
            greeted_ = true;
            send_command("qmp_capabilities");
            return;
        }
        if (auto err = msg->find("error"); err != msg->end()) {
            std::string desc = err->is_object() && err->contains("desc") && (*err)["desc"].is_string()
                                   ? (*err)["desc"].get<std::string>()
                                   : err->dump();
            finish(false, "QMP " + last_command_ + " failed: " + desc);
            return;
        }
        if (!msg->contains("return")) return;
        if (last_command_ != "qmp_capabilities") progress_ += (progress_.empty() ? "QMP " : ", ") + last_command_;
        if (next_ == commands_.size()) {
            finish(true, progress_ + " done");
            return;
        }
        sent_ = true;
        send_command(commands_[next_++]);
    }

    void send_command(const std::string& command) {
        last_command_ = command;
        std::string line = nlohmann::json{{"execute", command}}.dump() + "\n";
        // A few dozen bytes into an idle socket: they fit at once, or QEMU is
        // not reading and the action fails rather than waits.
        ssize_t n = ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(line.size()))
            finish(false, "cannot send " + command + " to QMP: " + (n < 0 ? std::strerror(errno) : "short write"));
    }

    void finish(bool ok, std::string detail) {
        if (done_called_) return;
        if (!failure_.empty()) {
            ok = false;
            detail = failure_;
        }
        done_called_ = true;
        deadline_.stop();
        retry_.stop();
        if (watch_) watch_->disable();
        if (connect_watch_) connect_watch_->disable();
        Done done = std::move(done_);
        uint64_t id = id_;
        QmpExecutor& owner = owner_;
        owner.finished(id);  // moves us to the reaper; still alive until the loop turns
        done(ExecutorResult{ok, std::move(detail)});
    }

    QmpExecutor& owner_;
    uint64_t id_;
    std::string action_;
    std::vector<std::string> commands_;
    Done done_;
    gsdk::Timer deadline_;
    gsdk::Timer retry_;
    int fd_ = -1;
    std::unique_ptr<gsdk::FdWatch> watch_;
    std::unique_ptr<gsdk::FdWatch> connect_watch_;
    gsdk::LineSplitter splitter_{64 * 1024};
    bool greeted_ = false;
    bool sent_ = false;
    bool done_called_ = false;
    std::size_t next_ = 0;
    std::string last_command_;
    std::string progress_;
    std::string failure_;
};

QmpExecutor::QmpExecutor(gsdk::EventLoop& loop, std::string socket_path, gsdk::Millis timeout)
    : loop_(loop), socket_path_(std::move(socket_path)), timeout_(timeout),
      reaper_(loop, [this] { finished_.clear(); }) {}

QmpExecutor::~QmpExecutor() = default;

std::string QmpExecutor::describe() const { return "QMP " + socket_path_; }

void QmpExecutor::carry_out(const std::string& action, Done done) {
    uint64_t id = next_id_++;
    auto exchange = std::make_unique<Exchange>(*this, id, action, std::move(done));
    Exchange* raw = exchange.get();
    exchanges_.emplace(id, std::move(exchange));
    raw->start();
}

void QmpExecutor::finished(uint64_t id) {
    auto node = exchanges_.extract(id);
    if (node.empty()) return;
    finished_.push_back(std::move(node.mapped()));
    reaper_.start(gsdk::Millis(0));
}

}  // namespace vmhost

#include "guest_scale/qmp_cpu_hotplug.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

#include "gsdk/unix_socket.h"

namespace vmhost {

QmpCpuHotplug::QmpCpuHotplug(gsdk::EventLoop& loop, std::string socket_path, gsdk::Millis timeout, bool add_one,
                             Done done)
    : loop_(loop), socket_path_(std::move(socket_path)), timeout_(timeout), add_one_(add_one), done_(std::move(done)),
      deadline_(loop, [this] { finish(false, "no answer from QMP " + socket_path_ + " within the timeout"); }),
      report_(loop, [this] {
          Done done = std::move(done_);
          done_ = nullptr;
          if (done) done(result_);  // may destroy this object: nothing after it
      }) {}

QmpCpuHotplug::~QmpCpuHotplug() {
    watch_.reset();
    if (fd_ >= 0) ::close(fd_);
}

void QmpCpuHotplug::start() {
    deadline_.start(timeout_);
    bool in_progress = false;
    // Never a blocking connect: a stopped QEMU leaves its monitor's backlog full.
    int fd = gsdk::unix_stream_connect_nonblocking(socket_path_, &in_progress);
    if (fd < 0) {
        finish(false, "cannot connect to QMP socket " + socket_path_ + ": " + std::strerror(-fd));
        return;
    }
    fd_ = fd;
    watch_ = std::make_unique<gsdk::FdWatch>(loop_, fd_, EV_READ, [this](short) { readable(); });
    watch_->enable();
}

void QmpCpuHotplug::readable() {
    char buf[4096];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
        splitter_.feed(
            std::string_view(buf, static_cast<std::size_t>(n)), [this](std::string_view line) { on_line(line); },
            [this](std::size_t) { finish(false, "QMP sent an oversized line"); });
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    finish(false, "QMP socket closed" + (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
}

void QmpCpuHotplug::execute(const std::string& command, const nlohmann::json& arguments) {
    last_command_ = command;
    nlohmann::json msg = {{"execute", command}};
    if (!arguments.is_null()) msg["arguments"] = arguments;
    std::string line = msg.dump() + "\n";
    // A few hundred bytes into an idle socket: they fit, or QEMU is not reading.
    ssize_t n = ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != static_cast<ssize_t>(line.size()))
        finish(false, "cannot send " + command + " to QMP: " + (n < 0 ? std::strerror(errno) : "short write"));
}

void QmpCpuHotplug::on_line(std::string_view line) {
    if (finished_) return;
    std::string error;
    auto msg = gsdk::parse_json_object(line, &error);
    if (!msg) return finish(false, "unparsable QMP line: " + error);
    if (msg->contains("event")) return;
    if (!greeted_) {
        if (!msg->contains("QMP")) return finish(false, "no QMP greeting on " + socket_path_);
        greeted_ = true;
        return execute("qmp_capabilities");
    }
    if (auto err = msg->find("error"); err != msg->end()) {
        std::string desc = err->is_object() && err->contains("desc") && (*err)["desc"].is_string()
                               ? (*err)["desc"].get<std::string>()
                               : err->dump();
        return finish(false, "QMP " + last_command_ + " failed: " + desc);
    }
    auto ret = msg->find("return");
    if (ret == msg->end()) return;
    if (last_command_ == "qmp_capabilities") return execute("query-hotpluggable-cpus");
    if (last_command_ == "query-hotpluggable-cpus") return slots_known(*ret);
    if (last_command_ == "device_add") {
        result_.added = true;
        ++result_.present;
        return finish(true, result_.detail);
    }
}

// Each entry is a slot; a plugged one has a qom-path. The free slot with the
// lowest socket/core/thread ids is filled first, as QEMU numbers CPUs.
void QmpCpuHotplug::slots_known(const nlohmann::json& cpus) {
    if (!cpus.is_array()) return finish(false, "query-hotpluggable-cpus did not return a list");
    const nlohmann::json* free = nullptr;
    // Read without value(): a field of another type must not throw.
    auto id = [](const nlohmann::json& props, const char* name) -> long long {
        if (!props.is_object()) return 0;
        auto it = props.find(name);
        return it != props.end() && it->is_number_integer() ? it->get<long long>() : 0;
    };
    auto key = [&id](const nlohmann::json& e) {
        static const nlohmann::json kNoProps = nlohmann::json::object();
        auto props = e.find("props");
        const nlohmann::json& p = props != e.end() ? *props : kNoProps;
        return std::make_tuple(id(p, "socket-id"), id(p, "die-id"), id(p, "core-id"), id(p, "thread-id"));
    };
    for (const auto& e : cpus) {
        if (!e.is_object()) continue;
        ++result_.slots;
        if (e.contains("qom-path")) {
            ++result_.present;
        } else if (!free || key(e) < key(*free)) {
            free = &e;
        }
    }
    if (!add_one_)
        return finish(true,
                      std::to_string(result_.present) + " of " + std::to_string(result_.slots) + " vCPUs present");
    if (!free || !free->contains("type") || !(*free)["type"].is_string() || !free->contains("props"))
        return finish(false, "no free vCPU slot (" + std::to_string(result_.present) + " of " +
                                 std::to_string(result_.slots) + " present; start QEMU with -smp N,maxcpus=M)");
    nlohmann::json args = (*free)["props"];
    if (!args.is_object()) return finish(false, "query-hotpluggable-cpus gave a slot without props");
    args["driver"] = (*free)["type"];
    args["id"] = "gsdk-vcpu-" + std::to_string(result_.present);
    result_.detail = "QMP device_add " + args["driver"].get<std::string>() + " " + args.dump();
    execute("device_add", args);
}

void QmpCpuHotplug::finish(bool ok, std::string detail) {
    if (finished_) return;
    finished_ = true;
    result_.ok = ok;
    result_.detail = std::move(detail);
    deadline_.stop();
    if (watch_) watch_->disable();
    report_.start(gsdk::Millis(0));
}

}  // namespace vmhost

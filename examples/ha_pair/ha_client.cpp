// ha_client: the HA pair's client. Sends a numbered stream of requests to the
// service address at a steady rate, sends again what is not answered in
// time, and counts what comes back:
//
//   sent        requests numbered so far (each number once, however often resent)
//   answered    numbers answered at least once
//   lost        numbers never answered (counted at the end, after draining)
//   duplicated  answers for a number already answered
//   longest gap the longest time between two answers in a row, e.g. across a handover
//
//   ha_client --service PATH [--rate PER_SEC] [--resend-ms MS] [--count N | --duration-s S]
//             [--drain-ms MS] [--report-ms MS] [--stream ID] [--json]
//
// Stops sending new requests at --count, --duration-s, SIGTERM or SIGINT,
// then drains (resends until every request is answered or --drain-ms has
// passed), listens a moment longer for late duplicates, and prints the
// summary (and with --json one JSON object). Exit status 0 when nothing was
// lost or duplicated, 1 otherwise, 2 for a bad command line.
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "console.h"
#include "service_wire.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

volatile std::sig_atomic_t stop_requested = 0;

// A client with more than this many requests unanswered waits before
// numbering new ones: the service tracks a window of 1024 numbers.
constexpr std::size_t kMaxOutstanding = 1000;

struct Options {
    std::string service;
    double rate = 100;
    std::chrono::milliseconds resend{100};
    uint64_t count = 0;  // 0: until told to stop
    std::chrono::milliseconds duration{0};
    std::chrono::milliseconds drain{10000};
    std::chrono::milliseconds report{1000};
    std::string stream;
    bool json = false;
};

struct Sent {
    Clock::time_point first{}, last{};
    unsigned answers = 0;
};

struct Switch {
    std::string from, to;
    uint64_t epoch = 0;
    uint64_t request = 0;
    long long gap_ms = 0;
};

struct Stats {
    uint64_t sent = 0, answered = 0, duplicated = 0, resent = 0, refused = 0, stray = 0;
    long long longest_gap_us = 0;
    uint64_t longest_gap_before = 0;  // the request whose answer ended it
    std::string longest_gap_nodes;
    long long worst_latency_us = 0;
    std::map<std::string, uint64_t> by_node;
    std::vector<Switch> switches;
};

void say(const char* format, ...) __attribute__((format(printf, 1, 2)));
void say(const char* format, ...) {
    char text[512];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(text, sizeof text, format, ap);
    va_end(ap);
    std::printf("%s ha_client: %s\n", ha::wall_clock_stamp().c_str(), text);
}

long long us(Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

class Client {
public:
    explicit Client(Options o) : opt_(std::move(o)) {}
    int run();

private:
    int open_socket();
    void send(uint64_t n, Clock::time_point now);
    void receive(Clock::time_point now);
    void resend_overdue(Clock::time_point now);
    void report(const char* prefix) const;
    void summary() const;

    Options opt_;
    int fd_ = -1;
    sockaddr_un service_{};
    std::vector<Sent> sent_;      // index n - 1
    std::set<uint64_t> pending_;  // numbers sent and not answered yet
    Stats stats_;
    bool sending_ = true;  // false once draining: gaps are only measured while sending
    Clock::time_point last_answer_{};
    std::string last_node_;
};

int Client::open_socket() {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return -errno;
    // An automatic abstract name, so the service can answer us.
    sa_family_t family = AF_UNIX;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&family), sizeof family) < 0) return -errno;
    service_.sun_family = AF_UNIX;
    if (opt_.service.size() >= sizeof service_.sun_path) return -ENAMETOOLONG;
    std::memcpy(service_.sun_path, opt_.service.c_str(), opt_.service.size() + 1);
    return 0;
}

void Client::send(uint64_t n, Clock::time_point now) {
    std::string datagram = ha::format_request({opt_.stream, n});
    Sent& s = sent_[n - 1];
    if (s.first == Clock::time_point{})
        s.first = now;
    else
        ++stats_.resent;
    s.last = now;
    // Refused (nobody holds the address: a takeover is under way) or the
    // service's queue is full: the request stays pending and goes again.
    if (::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&service_),
                 sizeof service_) < 0)
        ++stats_.refused;
}

void Client::receive(Clock::time_point now) {
    char buf[ha::kMaxDatagram + 1];
    for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_TRUNC);
        if (n < 0) return;
        auto a = static_cast<std::size_t>(n) < sizeof buf ? ha::parse_answer(buf, n) : std::nullopt;
        if (!a || a->stream != opt_.stream || a->n == 0 || a->n > sent_.size()) {
            ++stats_.stray;
            continue;
        }
        Sent& s = sent_[a->n - 1];
        if (++s.answers > 1) {
            ++stats_.duplicated;
            say("request %llu answered again, by %s", static_cast<unsigned long long>(a->n), a->node.c_str());
            continue;
        }
        ++stats_.answered;
        ++stats_.by_node[a->node];
        pending_.erase(a->n);
        stats_.worst_latency_us = std::max(stats_.worst_latency_us, us(now - s.first));
        long long gap = last_answer_ == Clock::time_point{} ? 0 : us(now - last_answer_);
        if (sending_ && gap > stats_.longest_gap_us) {
            stats_.longest_gap_us = gap;
            stats_.longest_gap_before = a->n;
            stats_.longest_gap_nodes = last_node_ == a->node ? a->node : last_node_ + " -> " + a->node;
        }
        if (!last_node_.empty() && last_node_ != a->node) {
            stats_.switches.push_back({last_node_, a->node, a->epoch, a->n, gap / 1000});
            say("answers now come from %s (epoch %llu), after a gap of %lld ms", a->node.c_str(),
                static_cast<unsigned long long>(a->epoch), gap / 1000);
        } else if (last_node_.empty()) {
            say("first answer, from %s (epoch %llu)", a->node.c_str(), static_cast<unsigned long long>(a->epoch));
        }
        last_node_ = a->node;
        last_answer_ = now;
    }
}

void Client::resend_overdue(Clock::time_point now) {
    for (uint64_t n : pending_)
        if (now - sent_[n - 1].last >= opt_.resend) send(n, now);
}

void Client::report(const char* prefix) const {
    say("%ssent %llu, answered %llu, pending %zu, duplicated %llu, resent %llu; longest gap %lld ms", prefix,
        static_cast<unsigned long long>(stats_.sent), static_cast<unsigned long long>(stats_.answered), pending_.size(),
        static_cast<unsigned long long>(stats_.duplicated), static_cast<unsigned long long>(stats_.resent),
        stats_.longest_gap_us / 1000);
}

void Client::summary() const {
    std::string nodes;
    for (const auto& [node, count] : stats_.by_node)
        nodes += (nodes.empty() ? "" : ", ") + node + " " + std::to_string(count);
    say("sent %llu, answered %llu, lost %zu, duplicated %llu (resent %llu, refused sends %llu); longest gap %lld ms "
        "(before request %llu, %s); slowest answer %lld ms; answered by %s",
        static_cast<unsigned long long>(stats_.sent), static_cast<unsigned long long>(stats_.answered), pending_.size(),
        static_cast<unsigned long long>(stats_.duplicated), static_cast<unsigned long long>(stats_.resent),
        static_cast<unsigned long long>(stats_.refused), stats_.longest_gap_us / 1000,
        static_cast<unsigned long long>(stats_.longest_gap_before),
        stats_.longest_gap_nodes.empty() ? "-" : stats_.longest_gap_nodes.c_str(), stats_.worst_latency_us / 1000,
        nodes.empty() ? "nobody" : nodes.c_str());
    if (!opt_.json) return;
    nlohmann::json switches = nlohmann::json::array();
    for (const auto& s : stats_.switches)
        switches.push_back(
            {{"from", s.from}, {"to", s.to}, {"epoch", s.epoch}, {"request", s.request}, {"gap_ms", s.gap_ms}});
    std::vector<uint64_t> lost(pending_.begin(), pending_.end());
    if (lost.size() > 100) lost.resize(100);
    std::printf("%s\n", nlohmann::json{{"sent", stats_.sent},
                                       {"answered", stats_.answered},
                                       {"lost", pending_.size()},
                                       {"lost_first", lost},
                                       {"duplicated", stats_.duplicated},
                                       {"resent", stats_.resent},
                                       {"refused_sends", stats_.refused},
                                       {"stray", stats_.stray},
                                       {"longest_gap_ms", stats_.longest_gap_us / 1000.0},
                                       {"longest_gap_before_request", stats_.longest_gap_before},
                                       {"slowest_answer_ms", stats_.worst_latency_us / 1000.0},
                                       {"by_node", stats_.by_node},
                                       {"switches", switches}}
                            .dump()
                            .c_str());
}

int Client::run() {
    if (int rc = open_socket(); rc < 0) {
        say("cannot open a socket: %s", std::strerror(-rc));
        return 2;
    }
    say("stream %s: %.0f requests per second to %s, resent after %lld ms", opt_.stream.c_str(), opt_.rate,
        opt_.service.c_str(), static_cast<long long>(opt_.resend.count()));
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / opt_.rate));
    const auto started = Clock::now();
    auto next_send = started, next_report = started + opt_.report;
    Clock::time_point drain_end{}, linger_end{};
    for (;;) {
        auto now = Clock::now();
        if (sending_ && (stop_requested || (opt_.count && stats_.sent >= opt_.count) ||
                         (opt_.duration.count() && now - started >= opt_.duration))) {
            sending_ = false;
            drain_end = now + opt_.drain;
            report("stopped sending: ");
        }
        if (!sending_) {
            if (linger_end == Clock::time_point{} && (pending_.empty() || now >= drain_end))
                linger_end = now + std::max<Clock::duration>(2 * opt_.resend, 200ms);  // late duplicates show up here
            if (linger_end != Clock::time_point{} && now >= linger_end) break;
        }
        while (sending_ && now >= next_send) {
            if (pending_.size() >= kMaxOutstanding) {
                next_send = now + period;  // wait for answers before numbering more
                break;
            }
            sent_.emplace_back();
            uint64_t n = ++stats_.sent;
            pending_.insert(n);
            send(n, now);
            next_send += period;
        }
        if (linger_end == Clock::time_point{}) resend_overdue(now);
        if (opt_.report.count() && now >= next_report) {
            report("");
            next_report += opt_.report;
        }
        auto wake = std::min({sending_ ? next_send : now + opt_.resend, next_report, now + opt_.resend / 2});
        int timeout = static_cast<int>(std::max<long long>(0, us(wake - now) / 1000));
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout) > 0) receive(Clock::now());
    }
    summary();
    return pending_.empty() && stats_.duplicated == 0 ? 0 : 1;
}

long long number(const char* text, const char* what, long long min, long long max) {
    return ha::option_number("ha_client", text, what, min, max);
}

Options parse(int argc, char** argv) {
    static const option options[] = {{"service", required_argument, nullptr, 's'},
                                     {"rate", required_argument, nullptr, 'r'},
                                     {"resend-ms", required_argument, nullptr, 'R'},
                                     {"count", required_argument, nullptr, 'c'},
                                     {"duration-s", required_argument, nullptr, 'd'},
                                     {"drain-ms", required_argument, nullptr, 'D'},
                                     {"report-ms", required_argument, nullptr, 'p'},
                                     {"stream", required_argument, nullptr, 'S'},
                                     {"json", no_argument, nullptr, 'j'},
                                     {"help", no_argument, nullptr, 'h'},
                                     {nullptr, 0, nullptr, 0}};
    const char* usage =
        "usage: ha_client --service PATH [--rate PER_SEC] [--resend-ms MS] [--count N | --duration-s S]\n"
        "                 [--drain-ms MS] [--report-ms MS (0: no progress lines)] [--stream ID] [--json]\n";
    Options o;
    for (int c; (c = getopt_long(argc, argv, "h", options, nullptr)) != -1;) {
        switch (c) {
        case 's':
            o.service = optarg;
            break;
        case 'r':
            o.rate = static_cast<double>(number(optarg, "rate", 1, 10000));
            break;
        case 'R':
            o.resend = std::chrono::milliseconds(number(optarg, "resend-ms", 1, 60000));
            break;
        case 'c':
            o.count = static_cast<uint64_t>(number(optarg, "count", 1, 10000000));
            break;
        case 'd':
            o.duration = std::chrono::seconds(number(optarg, "duration", 1, 86400));
            break;
        case 'D':
            o.drain = std::chrono::milliseconds(number(optarg, "drain-ms", 0, 600000));
            break;
        case 'p':
            o.report = std::chrono::milliseconds(number(optarg, "report-ms", 0, 3600000));
            break;
        case 'S':
            o.stream = optarg;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            std::fputs(usage, stdout);
            std::exit(0);
        default:
            std::fputs(usage, stderr);
            std::exit(2);
        }
    }
    if (o.stream.empty()) {
        char id[17];
        std::snprintf(id, sizeof id, "c%x", static_cast<unsigned>(getpid() ^ time(nullptr)));
        o.stream = id;
    }
    if (o.service.empty() || optind < argc || o.stream.size() > 16 ||
        o.stream.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos) {
        std::fputs(usage, stderr);
        std::exit(2);
    }
    if (o.report.count() == 0) o.report = std::chrono::hours(24 * 365);
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::signal(SIGTERM, [](int s) { stop_requested = s; });
    std::signal(SIGINT, [](int s) { stop_requested = s; });
    return Client(std::move(options)).run();
}

// vnf_modern: the ghb_ API in an epoll loop, with any number of registrations
// in one process (--count N), e.g. one per service of a larger VNF.
//
// Flags in --state-dir, each either global or for one registration
// ("<name>.<flag>"):
//   unhealthy          answer health checks "unhealthy" (content = log message)
//   reject-<event>     vote reject on that event (content = reason); reject-all for every event
//   hang               stop answering (the connection stays open)
// --hang-after-ms MS makes registration --hang-index stop answering MS after
// start (once registered) and prints the moment on stdout as
// "hang: stopped answering at realtime_ns=<CLOCK_REALTIME ns>".
// --complete-delay-ms answers notifications later, through ghb_client_respond.
#include <getopt.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "guest_heartbeat.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
    std::string name = "vnf-modern";
    int count = 1;
    ghb_registration fields{};
    std::string state_dir;
    std::string socket;
    bool quiet = false;
    long hang_after_ms = -1;
    int hang_index = 0;
    long complete_delay_ms = 0;
};

struct Application;

struct LaterAnswer {
    Application* app;
    int32_t invocation_id;
    Clock::time_point due;
};

struct Vnf {
    Options opt;
    std::vector<LaterAnswer> later;
    int registered = 0;
    bool announced_ready = false;
};

struct Application {
    Vnf* vnf;
    std::string name;
    ghb_client* client = nullptr;
    bool registered = false;
    bool hanging = false;
    bool hang_on_schedule = false;  // by --hang-after-ms: stays hung whatever the flag files say
    unsigned long health_checks = 0;
};

volatile std::sig_atomic_t stop_requested = 0;

long long realtime_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void say(const std::string& who, const char* format, ...) __attribute__((format(printf, 2, 3)));
void say(const std::string& who, const char* format, ...) {
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    tm local;
    localtime_r(&now.tv_sec, &local);
    char stamp[16];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
    char text[512];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(text, sizeof text, format, ap);
    va_end(ap);
    std::printf("%s.%03ld %s: %s\n", stamp, now.tv_nsec / 1000000, who.c_str(), text);
}

// A flag file for this application ("<name>.<flag>") or for all ("<flag>").
bool flag(const Application& app, const std::string& what, std::string* text, const char* fallback) {
    const std::string& dir = app.vnf->opt.state_dir;
    if (dir.empty()) return false;
    for (const std::string& file : {dir + "/" + app.name + "." + what, dir + "/" + what}) {
        std::ifstream in(file);
        if (!in) continue;
        if (text) {
            std::getline(in, *text);
            if (text->empty()) *text = fallback;
        }
        return true;
    }
    return false;
}

void on_registered(ghb_client*, bool registered, const char* reason, void* user) {
    auto* app = static_cast<Application*>(user);
    Vnf& vnf = *app->vnf;
    if (registered == app->registered) return;
    app->registered = registered;
    vnf.registered += registered ? 1 : -1;
    if (registered)
        say(app->name, "registered with the heartbeat daemon");
    else
        say(app->name, "not registered: %s", reason);
    if (!vnf.announced_ready && vnf.registered == vnf.opt.count) {
        vnf.announced_ready = true;
        say("vnf_modern", "all %d registrations registered at realtime_ns=%lld", vnf.opt.count, realtime_ns());
    }
}

void on_health_check(ghb_client*, ghb_health* health, void* user) {
    auto* app = static_cast<Application*>(user);
    ++app->health_checks;
    std::string why;
    if (flag(*app, "unhealthy", &why, "unhealthy flag set")) {
        health->healthy = false;
        std::snprintf(health->log_msg, sizeof health->log_msg, "%s", why.c_str());
        say(app->name, "health check #%lu -> unhealthy (%s)", app->health_checks, why.c_str());
    } else if (!app->vnf->opt.quiet) {
        say(app->name, "health check #%lu -> healthy", app->health_checks);
    }
}

void on_action_notify(ghb_client* client, const ghb_action_notice* notice, void* user) {
    auto* app = static_cast<Application*>(user);
    const char* event = ghb_event_str(notice->event);
    if (notice->notify_type == GHB_NOTIFY_REVOCABLE) {
        std::string reason;
        bool reject = flag(*app, std::string("reject-") + event, &reason, "rejected by the operator") ||
                      flag(*app, "reject-all", &reason, "rejected by the operator");
        ghb_vote_result vote = reject ? GHB_VOTE_REJECT : GHB_VOTE_ACCEPT;
        say(app->name, "vote on %s (invocation %d, %u ms to answer) -> %s%s%s", event, notice->invocation_id,
            notice->timeout_ms, ghb_vote_result_str(vote), reject ? ": " : "", reason.c_str());
        if (int rc = ghb_client_respond(client, notice->invocation_id, vote, reason.c_str()); rc < 0)
            say(app->name, "vote not sent: %s", std::strerror(-rc));
        return;
    }
    long delay = app->vnf->opt.complete_delay_ms;
    say(app->name, "notification of %s (invocation %d) -> complete%s", event, notice->invocation_id,
        delay > 0 ? " later" : "");
    if (delay > 0) {
        app->vnf->later.push_back({app, notice->invocation_id, Clock::now() + std::chrono::milliseconds(delay)});
    } else if (int rc = ghb_client_respond(client, notice->invocation_id, GHB_VOTE_COMPLETE, nullptr); rc < 0) {
        say(app->name, "completion not sent: %s", std::strerror(-rc));
    }
}

ghb_action parse_action(const char* text) {
    for (int a = GHB_ACTION_UNKNOWN; a <= GHB_ACTION_LOG; ++a)
        if (std::strcmp(text, ghb_action_str(static_cast<ghb_action>(a))) == 0) return static_cast<ghb_action>(a);
    std::fprintf(stderr, "unknown corrective action '%s' (none, reboot, stop, log)\n", text);
    std::exit(2);
}

long parse_number(const char* text, const char* what, long max) {
    char* end;
    errno = 0;
    long v = std::strtol(text, &end, 10);
    if (!*text || *end || errno || v < 0 || v > max) {
        std::fprintf(stderr, "invalid %s '%s'\n", what, text);
        std::exit(2);
    }
    return v;
}

Options parse(int argc, char** argv) {
    static const option options[] = {{"name", required_argument, nullptr, 'n'},
                                     {"count", required_argument, nullptr, 'c'},
                                     {"interval", required_argument, nullptr, 'i'},
                                     {"action", required_argument, nullptr, 'a'},
                                     {"vote-secs", required_argument, nullptr, 'v'},
                                     {"shutdown-secs", required_argument, nullptr, 'S'},
                                     {"suspend-secs", required_argument, nullptr, 'P'},
                                     {"resume-secs", required_argument, nullptr, 'R'},
                                     {"state-dir", required_argument, nullptr, 'd'},
                                     {"socket", required_argument, nullptr, 's'},
                                     {"quiet", no_argument, nullptr, 'q'},
                                     {"hang-after-ms", required_argument, nullptr, 'H'},
                                     {"hang-index", required_argument, nullptr, 'I'},
                                     {"complete-delay-ms", required_argument, nullptr, 'C'},
                                     {"help", no_argument, nullptr, 'h'},
                                     {nullptr, 0, nullptr, 0}};
    Options o;
    o.fields.heartbeat_interval_ms = 1000;
    o.fields.vote_secs = 8;
    o.fields.shutdown_notice_secs = 5;
    o.fields.suspend_notice_secs = 5;
    o.fields.resume_notice_secs = 5;
    o.fields.corrective_action = GHB_ACTION_REBOOT;
    const char* usage =
        "usage: vnf_modern [--name NAME] [--count N] [--interval MS] [--action none|reboot|stop|log]\n"
        "                  [--vote-secs S] [--shutdown-secs S] [--suspend-secs S] [--resume-secs S]\n"
        "                  [--state-dir DIR] [--socket PATH] [--quiet] [--complete-delay-ms MS]\n"
        "                  [--hang-after-ms MS [--hang-index I]]\n";
    int c;
    while ((c = getopt_long(argc, argv, "n:c:i:a:d:s:qh", options, nullptr)) != -1) {
        switch (c) {
        case 'n':
            o.name = optarg;
            break;
        case 'c':
            o.count = static_cast<int>(parse_number(optarg, "count", 100000));
            break;
        case 'i':
            o.fields.heartbeat_interval_ms = parse_number(optarg, "interval", 86400000);
            break;
        case 'a':
            o.fields.corrective_action = parse_action(optarg);
            break;
        case 'v':
            o.fields.vote_secs = parse_number(optarg, "vote-secs", 86400);
            break;
        case 'S':
            o.fields.shutdown_notice_secs = parse_number(optarg, "shutdown-secs", 86400);
            break;
        case 'P':
            o.fields.suspend_notice_secs = parse_number(optarg, "suspend-secs", 86400);
            break;
        case 'R':
            o.fields.resume_notice_secs = parse_number(optarg, "resume-secs", 86400);
            break;
        case 'd':
            o.state_dir = optarg;
            break;
        case 's':
            o.socket = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'H':
            o.hang_after_ms = parse_number(optarg, "hang-after-ms", 86400000);
            break;
        case 'I':
            o.hang_index = static_cast<int>(parse_number(optarg, "hang-index", 100000));
            break;
        case 'C':
            o.complete_delay_ms = parse_number(optarg, "complete-delay-ms", 86400000);
            break;
        case 'h':
            std::fputs(usage, stdout);
            std::exit(0);
        default:
            std::fputs(usage, stderr);
            std::exit(2);
        }
    }
    if (o.count < 1 || o.hang_index >= o.count) {
        std::fprintf(stderr, "--count must be >= 1 and --hang-index below it\n");
        std::exit(2);
    }
    return o;
}

std::string app_name(const Options& o, int i) {
    if (o.count == 1) return o.name;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "-%04d", i);
    return o.name + suffix;
}

// Each registration holds three descriptors (socket, epoll, timerfd).
void raise_descriptor_limit(int count) {
    rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0) return;
    rlim_t need = static_cast<rlim_t>(count) * 3 + 64;
    if (lim.rlim_cur >= need) return;
    lim.rlim_cur = std::min(need, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
}

void stop_answering(Application& app, int loop_fd) {
    epoll_ctl(loop_fd, EPOLL_CTL_DEL, ghb_client_fd(app.client), nullptr);
    app.hanging = true;
    say(app.name, "hang: stopped answering at realtime_ns=%lld", realtime_ns());
}

void answer_again(Application& app, int loop_fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &app;
    epoll_ctl(loop_fd, EPOLL_CTL_ADD, ghb_client_fd(app.client), &ev);
    app.hanging = false;
    say(app.name, "hang flag cleared: answering again");
}

}  // namespace

int main(int argc, char** argv) {
    Vnf vnf;
    vnf.opt = parse(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::signal(SIGTERM, [](int s) { stop_requested = s; });
    std::signal(SIGINT, [](int s) { stop_requested = s; });
    raise_descriptor_limit(vnf.opt.count);

    int loop_fd = epoll_create1(EPOLL_CLOEXEC);
    if (loop_fd < 0) {
        std::perror("epoll_create1");
        return 1;
    }
    ghb_callbacks callbacks{on_registered, on_health_check, on_action_notify};
    std::vector<Application> apps(vnf.opt.count);
    for (int i = 0; i < vnf.opt.count; ++i) {
        Application& app = apps[i];
        app.vnf = &vnf;
        app.name = app_name(vnf.opt, i);
        int rc =
            ghb_client_new(&app.client, &callbacks, &app, vnf.opt.socket.empty() ? nullptr : vnf.opt.socket.c_str());
        ghb_registration reg = vnf.opt.fields;
        reg.application_name = app.name.c_str();
        if (rc == 0) rc = ghb_client_register(app.client, &reg, 0);
        if (rc < 0) {
            say(app.name, "cannot register: %s", std::strerror(-rc));
            return 1;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &app;
        epoll_ctl(loop_fd, EPOLL_CTL_ADD, ghb_client_fd(app.client), &ev);
    }
    say("vnf_modern", "started %d registration(s) (pid %d)", vnf.opt.count, static_cast<int>(getpid()));

    const auto started = Clock::now();
    Application* hang_target = vnf.opt.hang_after_ms >= 0 ? &apps[vnf.opt.hang_index] : nullptr;
    auto next_flag_scan = Clock::now();
    std::vector<epoll_event> events(256);
    while (!stop_requested) {
        auto now = Clock::now();
        auto wake = now + 1s;
        if (hang_target && !hang_target->hanging) {
            auto at = started + std::chrono::milliseconds(vnf.opt.hang_after_ms);
            if (now >= at && hang_target->registered) {
                hang_target->hang_on_schedule = true;
                stop_answering(*hang_target, loop_fd);
                hang_target = nullptr;
            } else {
                wake = std::min(wake, std::max(at, now + 10ms));
            }
        }
        for (auto it = vnf.later.begin(); it != vnf.later.end();) {
            if (now >= it->due) {
                int rc = ghb_client_respond(it->app->client, it->invocation_id, GHB_VOTE_COMPLETE, nullptr);
                say(it->app->name, "invocation %d completed%s", it->invocation_id, rc < 0 ? " too late" : "");
                it = vnf.later.erase(it);
            } else {
                wake = std::min(wake, it->due);
                ++it;
            }
        }
        if (!vnf.opt.state_dir.empty() && now >= next_flag_scan) {
            next_flag_scan = now + 1s;
            for (auto& app : apps) {
                bool hang = flag(app, "hang", nullptr, nullptr);
                if (hang && !app.hanging)
                    stop_answering(app, loop_fd);
                else if (!hang && app.hanging && !app.hang_on_schedule)
                    answer_again(app, loop_fd);
            }
        }
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
        int n = epoll_wait(loop_fd, events.data(), static_cast<int>(events.size()),
                           static_cast<int>(std::max<long>(wait, 0)));
        if (n < 0 && errno != EINTR) {
            std::perror("epoll_wait");
            break;
        }
        for (int i = 0; i < n; ++i) ghb_client_process(static_cast<Application*>(events[i].data.ptr)->client);
    }

    for (auto& app : apps) {
        if (app.registered && !app.hanging) ghb_client_deregister(app.client, "vnf_modern exiting");
        ghb_client_free(app.client);
    }
    close(loop_fd);
    say("vnf_modern", "stopped");
    return 0;
}

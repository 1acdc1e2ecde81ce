// Many clients driven from several threads at once, with answers sent from a
// thread other than the one processing the client: every challenge and every
// action notice must be answered exactly once with the right id.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fake_daemon.h"
#include "gsdk/unix_socket.h"
#include "guest_heartbeat.h"

namespace ghbtest {
namespace {

constexpr int kThreads = 4;
constexpr int kClientsPerThread = 6;
constexpr int kClients = kThreads * kClientsPerThread;
constexpr int kRounds = 20;

struct Answers {
    std::mutex mu;
    std::deque<std::pair<ghb_client*, int32_t>> to_vote;  // answered by the voter thread
};

struct Shared {
    Answers answers;
    std::atomic<int> registered{0};
    std::atomic<bool> done{false};
};

void worker(Shared* shared, const std::string& path, int first, std::vector<ghb_client*>* out,
            std::atomic<int>* created) {
    ghb_callbacks cb{};
    cb.registered = [](ghb_client*, bool ok, const char*, void* user) {
        if (ok) static_cast<Shared*>(user)->registered++;
    };
    cb.action_notify = [](ghb_client* c, const ghb_action_notice* n, void* user) {
        auto* s = static_cast<Shared*>(user);
        std::lock_guard lock(s->answers.mu);
        s->answers.to_vote.emplace_back(c, n->invocation_id);
    };
    int loop = epoll_create1(EPOLL_CLOEXEC);
    std::vector<ghb_client*> mine;
    for (int i = 0; i < kClientsPerThread; ++i) {
        ghb_client* c = nullptr;
        if (ghb_client_new(&c, &cb, shared, path.c_str()) != 0) continue;
        std::string name = "t" + std::to_string(first + i);
        ghb_registration reg{name.c_str(), 500, 5, 5, 5, 5, GHB_ACTION_REBOOT};
        ghb_client_register(c, &reg, 0);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        epoll_ctl(loop, EPOLL_CTL_ADD, ghb_client_fd(c), &ev);
        mine.push_back(c);
        (*out)[first + i] = c;
    }
    (*created) += static_cast<int>(mine.size());
    epoll_event events[16];
    while (!shared->done) {
        int n = epoll_wait(loop, events, 16, 20);
        for (int i = 0; i < n; ++i) ghb_client_process(static_cast<ghb_client*>(events[i].data.ptr));
    }
    close(loop);
}

// The daemon end: accepts everyone, then sends rounds of challenges and votes.
struct DaemonResult {
    std::map<std::string, std::set<uint64_t>> health;
    std::map<std::string, std::set<int32_t>> votes;
    int accepted = 0;
};

void daemon_thread(const std::string& path, Shared* shared, DaemonResult* result) {
    int listener = gsdk::seqpacket_listen(path);
    std::map<int, std::string> peers;
    std::map<std::string, int> by_name;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    int round = 0;
    auto next_round = std::chrono::steady_clock::now();
    char buf[gsdk::kMaxIpcMessage];
    while (std::chrono::steady_clock::now() < deadline) {
        std::vector<pollfd> fds{{listener, POLLIN, 0}};
        for (auto& [fd, name] : peers) fds.push_back({fd, POLLIN, 0});
        ::poll(fds.data(), fds.size(), 5);
        if (fds[0].revents & POLLIN) {
            int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) peers[fd] = "";
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
            long n;
            while ((n = gsdk::seqpacket_receive(fds[i].fd, buf, sizeof buf)) > 0) {
                ipc::ClientMessage m;
                if (!m.ParseFromArray(buf, static_cast<int>(n))) continue;
                std::string& name = peers[fds[i].fd];
                if (m.has_register_()) {
                    name = m.register_().application_name();
                    by_name[name] = fds[i].fd;
                    ipc::DaemonMessage a;
                    a.mutable_register_result()->set_accepted(true);
                    std::string bytes = a.SerializeAsString();
                    gsdk::seqpacket_send(fds[i].fd, bytes.data(), bytes.size());
                    result->accepted++;
                } else if (m.has_health()) {
                    result->health[name].insert(m.health().challenge_id());
                } else if (m.has_action_response() && m.action_response().vote_result() == ipc::VOTE_ACCEPT) {
                    result->votes[name].insert(m.action_response().invocation_id());
                }
            }
        }
        if (shared->registered < kClients) continue;
        if (round < kRounds && std::chrono::steady_clock::now() >= next_round) {
            ++round;
            next_round = std::chrono::steady_clock::now() + 10ms;
            int idx = 0;
            for (auto& [name, fd] : by_name) {
                ipc::DaemonMessage m = round % 5 == 0 ? FakeDaemon::action(round * 1000 + idx, ipc::EVENT_STOP,
                                                                           ipc::NOTIFY_REVOCABLE, 20000)
                                                      : FakeDaemon::challenge(round * 1000 + idx);
                std::string bytes = m.SerializeAsString();
                gsdk::seqpacket_send(fd, bytes.data(), bytes.size());
                ++idx;
            }
        }
        if (round == kRounds) {
            size_t answers = 0;
            for (auto& [n, s] : result->health) answers += s.size();
            for (auto& [n, s] : result->votes) answers += s.size();
            if (answers == static_cast<size_t>(kClients * kRounds)) break;
        }
    }
    for (auto& [fd, name] : peers) ::close(fd);
    ::close(listener);
}

TEST(ThreadsTest, ClientsOnManyThreadsAnswerEverythingOnce) {
    TempDir dir;
    std::string path = dir.file("heartbeat.sock");
    Shared shared;
    DaemonResult result;
    std::thread daemon(daemon_thread, path, &shared, &result);
    ::usleep(50000);  // let it listen; a client that comes early just retries
    std::vector<ghb_client*> clients(kClients, nullptr);
    std::atomic<int> created{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t)
        workers.emplace_back(worker, &shared, path, t * kClientsPerThread, &clients, &created);
    // Other threads poke the clients while the workers process them.
    std::thread observer([&] {
        while (!shared.done) {
            if (created == kClients)
                for (ghb_client* c : clients) {
                    ghb_client_is_registered(c);
                    ghb_client_next_timeout_ms(c);
                }
            std::this_thread::sleep_for(1ms);
        }
    });
    std::thread voter([&] {
        while (!shared.done) {
            std::pair<ghb_client*, int32_t> job{nullptr, 0};
            {
                std::lock_guard lock(shared.answers.mu);
                if (!shared.answers.to_vote.empty()) {
                    job = shared.answers.to_vote.front();
                    shared.answers.to_vote.pop_front();
                }
            }
            if (job.first)
                EXPECT_EQ(ghb_client_respond(job.first, job.second, GHB_VOTE_ACCEPT, "ok"), 0);
            else
                std::this_thread::sleep_for(1ms);
        }
    });
    daemon.join();
    shared.done = true;
    for (auto& w : workers) w.join();
    observer.join();
    voter.join();
    for (ghb_client* c : clients) ghb_client_free(c);

    EXPECT_EQ(result.accepted, kClients);
    ASSERT_EQ(result.health.size(), static_cast<size_t>(kClients));
    for (auto& [name, ids] : result.health) EXPECT_EQ(ids.size(), static_cast<size_t>(kRounds - kRounds / 5)) << name;
    ASSERT_EQ(result.votes.size(), static_cast<size_t>(kClients));
    for (auto& [name, ids] : result.votes) EXPECT_EQ(ids.size(), static_cast<size_t>(kRounds / 5)) << name;
}

}  // namespace
}  // namespace ghbtest

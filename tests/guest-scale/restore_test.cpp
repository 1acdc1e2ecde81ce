// guest-scale-restore on a fake CPU tree: the offline set comes from the
// metadata service (played by the test over real HTTP on 127.0.0.1), else a
// config drive directory, else the last-known state; every source that is
// absent or malformed is logged and nothing is fatal.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "scale_fixture.h"

namespace {

using gsdk::test::FakeCpuTree;
using gsdk::test::read_file;
using gsdk::test::TempDir;
using gsdk::test::write_file;

// The metadata service: answers every GET with one status and body.
class MetadataService {
public:
    MetadataService(int status, std::string body) : status_(status), body_(std::move(body)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd_, 8) < 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) < 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~MetadataService() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/latest/meta-data/offline_cpuset"; }
    int requests() const { return requests_; }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            std::string request;
            char buf[1024];
            while (request.find("\r\n\r\n") == std::string::npos) {
                pollfd q{c, POLLIN, 0};
                if (::poll(&q, 1, 5000) <= 0) break;
                ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                request.append(buf, static_cast<std::size_t>(n));
            }
            ++requests_;
            std::string reply = "HTTP/1.1 " + std::to_string(status_) +
                                " X\r\nContent-Length: " + std::to_string(body_.size()) +
                                "\r\nConnection: close\r\n\r\n" + body_;
            (void)!::write(c, reply.data(), reply.size());
            ::close(c);
        }
    }
    int status_;
    std::string body_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

class RestoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        tree = std::make_unique<FakeCpuTree>(dir.file("sys"), 6);
        std::filesystem::create_directories(dir.file("drive"));
        write_file(dir.file("guest_scale.conf"), "METADATA_TIMEOUT_MS=3000\n");
    }
    // Runs the oneshot; its exit status (the log is in log()).
    int restore(const std::string& metadata_url) {
        std::string out;
        int rc = gsdk::test::run_command(
            {RESTORE, "--config", dir.file("guest_scale.conf"), "--sysfs-root", dir.file("sys"), "--state-file",
             dir.file("state/offline_cpus"), "--metadata-url", metadata_url, "--config-drive", dir.file("drive")},
            &out, std::chrono::seconds(60));
        log = out;
        return rc;
    }
    std::string unreachable() {
        // A port nobody listens on: bound, never listened, closed at once.
        MetadataService gone(200, "");
        return gone.url();
    }
    void drive_file(const std::string& name, const std::string& text) {
        std::filesystem::create_directories(std::filesystem::path(dir.file("drive/" + name)).parent_path());
        write_file(dir.file("drive/" + name), text);
    }

    TempDir dir;
    std::unique_ptr<FakeCpuTree> tree;
    std::string log;
};

TEST_F(RestoreTest, TheMetadataServicesSetIsTakenOfflineAndRemembered) {
    MetadataService md(200, "set([1, 2])");
    drive_file("openstack/latest/meta_data.json", R"j({"meta":{"offline_cpuset":"[5]"}})j");
    ASSERT_EQ(restore(md.url()), 0) << log;
    EXPECT_EQ(md.requests(), 1);
    EXPECT_EQ(tree->online_list(6), std::vector<unsigned>({0, 3, 4, 5})) << log;
    EXPECT_EQ(read_file(dir.file("state/offline_cpus")), "set([1, 2])\n");
    EXPECT_NE(log.find("offline set set([1, 2]) from metadata service"), std::string::npos) << log;
}

TEST_F(RestoreTest, WithoutMetadataTheConfigDriveIsRead) {
    MetadataService md(404, "not here");
    drive_file("openstack/latest/meta_data.json", R"j({"uuid":"x","meta":{"offline_cpuset":"set([4, 5])"}})j");
    ASSERT_EQ(restore(md.url()), 0) << log;
    EXPECT_EQ(tree->online_list(6), std::vector<unsigned>({0, 1, 2, 3})) << log;
    EXPECT_NE(log.find("absent (404)"), std::string::npos) << log;
    EXPECT_NE(log.find("from config drive openstack/latest/meta_data.json meta.offline_cpuset"), std::string::npos)
        << log;
}

TEST_F(RestoreTest, TheEc2FormOfTheDriveComesFirst) {
    drive_file("ec2/latest/meta-data.json", R"j({"offline_cpuset":"set([3])"})j");
    drive_file("openstack/latest/meta_data.json", R"j({"meta":{"offline_cpuset":"set([4, 5])"}})j");
    ASSERT_EQ(restore(unreachable()), 0) << log;
    EXPECT_EQ(tree->online_list(6), std::vector<unsigned>({0, 1, 2, 4, 5})) << log;
}

TEST_F(RestoreTest, MalformedSourcesAreLoggedAndTheLastKnownStateUsed) {
    MetadataService md(200, "set([1, two])");
    drive_file("ec2/latest/meta-data.json", "{not json");
    drive_file("openstack/latest/meta_data.json", R"j({"meta":{"offline_cpuset":"[-1]"}})j");
    std::filesystem::create_directories(dir.file("state"));
    write_file(dir.file("state/offline_cpus"), "set([2])\n");
    ASSERT_EQ(restore(md.url()), 0) << log;
    EXPECT_EQ(tree->online_list(6), std::vector<unsigned>({0, 1, 3, 4, 5})) << log;
    EXPECT_NE(log.find("is malformed"), std::string::npos) << log;
    EXPECT_NE(log.find("ec2/latest/meta-data.json is not a JSON object"), std::string::npos) << log;
    EXPECT_NE(log.find("meta.offline_cpuset is malformed"), std::string::npos) << log;
    EXPECT_NE(log.find("from last-known state"), std::string::npos) << log;
}

TEST_F(RestoreTest, NothingKnownLeavesEveryCpuOnline) {
    ASSERT_EQ(restore(unreachable()), 0) << log;
    EXPECT_EQ(tree->online_list(6), std::vector<unsigned>({0, 1, 2, 3, 4, 5}));
    EXPECT_NE(log.find("every CPU stays online"), std::string::npos) << log;
    EXPECT_NE(log.find("last-known state"), std::string::npos) << log;
}

TEST_F(RestoreTest, CpuZeroAndAbsentCpusAreNeverTaken) {
    MetadataService md(200, "set([0, 3, 9])");
    ASSERT_EQ(restore(md.url()), 0) << log;
    EXPECT_EQ(tree->online_list(6), std::vector<unsigned>({0, 1, 2, 4, 5})) << log;
    EXPECT_NE(log.find("CPU 0 is never taken offline"), std::string::npos) << log;
    EXPECT_NE(log.find("CPU 9 is not present"), std::string::npos) << log;
    EXPECT_EQ(read_file(dir.file("state/offline_cpus")), "set([3])\n");
}

}  // namespace

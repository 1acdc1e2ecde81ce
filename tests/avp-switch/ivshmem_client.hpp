// The client end of QEMU's ivshmem server protocol, as QEMU's
// ivshmem-doorbell speaks it: for testing the switch's doorbell without QEMU.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace avptest {

class IvshmemClient {
public:
    ~IvshmemClient();
    // Connects and reads version, own id and the shared memory descriptor;
    // empty string on success, else what went wrong.
    std::string connect(const std::string& path);
    // Reads setup messages until `n` of our own vectors came (own id, one
    // eventfd each); other peers' vectors met on the way are kept, as QEMU
    // keeps them for its Doorbell register.
    std::string read_vectors(uint32_t n);
    // What a guest's write of peer << 16 | vector into the Doorbell register
    // makes QEMU do: add 1 to that peer's eventfd. False if it has none.
    bool ring(int64_t peer, uint32_t vector);
    size_t peer_vectors(int64_t peer) const;
    // True when the server closes the connection without sending anything.
    bool refused();
    // Writes bytes the protocol has no place for (QEMU never sends any).
    bool send_junk(size_t n);
    void close();

    int64_t version() const { return version_; }
    int64_t id() const { return id_; }
    int shm_fd() const { return shm_fd_; }
    // What a guest maps: the descriptor QEMU would map as BAR2.
    std::string shm_path() const { return "/proc/self/fd/" + std::to_string(shm_fd_); }
    size_t vectors() const { return eventfds_.size(); }
    // Waits for vector v (5 s at most) and returns its count, as QEMU would
    // before raising MSI-X; 0 when nothing came.
    uint64_t wait(uint32_t v);
    // The count now, without waiting (0: not signalled since the last read).
    uint64_t take(uint32_t v);

private:
    // One message: the number, and the descriptor that came with it or -1.
    bool receive(int64_t& value, int& fd, std::string& error);

    int sock_ = -1;
    int64_t version_ = -1, id_ = -1;
    int shm_fd_ = -1;
    std::vector<int> eventfds_;
    std::map<int64_t, std::vector<int>> peers_;  // other peers' vectors
};

}  // namespace avptest

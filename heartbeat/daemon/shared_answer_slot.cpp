#include "shared_answer_slot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"

namespace gsdk::heartbeat {

std::unique_ptr<SharedAnswerSlot> SharedAnswerSlot::create(const std::string& application, int* fd_for_client) {
    *fd_for_client = -1;
    int fd = ::memfd_create("guest-heartbeat-answer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        LOG_WARN("no answer slot for %s: memfd_create: %s (it answers by message)", application.c_str(),
                 std::strerror(errno));
        return nullptr;
    }
    // Sealed before anyone else holds it: an application that could shrink
    // the file would make the daemon's next read of the slot a SIGBUS.
    if (::ftruncate(fd, ipc::kAnswerSlotBytes) < 0 ||
        ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        LOG_WARN("no answer slot for %s: cannot size and seal it: %s", application.c_str(), std::strerror(errno));
        ::close(fd);
        return nullptr;
    }
    void* map = ::mmap(nullptr, ipc::kAnswerSlotBytes, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        LOG_WARN("no answer slot for %s: mmap: %s", application.c_str(), std::strerror(errno));
        ::close(fd);
        return nullptr;
    }
    *fd_for_client = fd;
    return std::unique_ptr<SharedAnswerSlot>(new SharedAnswerSlot(static_cast<const ipc::AnswerSlot*>(map)));
}

SharedAnswerSlot::~SharedAnswerSlot() { ::munmap(const_cast<ipc::AnswerSlot*>(slot_), ipc::kAnswerSlotBytes); }

}  // namespace gsdk::heartbeat

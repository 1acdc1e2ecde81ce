// The daemon's end of one application's answer slot (heartbeat/proto/
// answer_slot.h): it creates the sealed memfd, keeps a read-only mapping for
// as long as the application is registered, and hands the descriptor out once.
#pragma once

#include <memory>
#include <string>

#include "answer_slot.h"

namespace gsdk::heartbeat {

class SharedAnswerSlot {
public:
    // A new zeroed slot; *fd_for_client is the descriptor to pass (the caller
    // closes it). Null with a logged reason if the kernel refuses.
    static std::unique_ptr<SharedAnswerSlot> create(const std::string& application, int* fd_for_client);
    ~SharedAnswerSlot();
    SharedAnswerSlot(const SharedAnswerSlot&) = delete;
    SharedAnswerSlot& operator=(const SharedAnswerSlot&) = delete;

    ipc::SlotAnswer read() const { return ipc::read_answer(*slot_); }

private:
    explicit SharedAnswerSlot(const ipc::AnswerSlot* slot) : slot_(slot) {}
    const ipc::AnswerSlot* slot_;
};

}  // namespace gsdk::heartbeat

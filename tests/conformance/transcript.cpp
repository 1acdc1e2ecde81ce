#include "transcript.h"

#include <gtest/gtest.h>

#include <fstream>

namespace conformance {

std::vector<TranscriptLine> read_transcript(const std::string& name) {
    std::string path = std::string(CONFORMANCE_DIR) + "/data/" + name + ".jsonl";
    std::ifstream in(path);
    EXPECT_TRUE(in) << "cannot read " << path;
    std::vector<TranscriptLine> out;
    int number = 0;
    for (std::string text; std::getline(in, text);) {
        ++number;
        if (text.empty()) continue;
        auto record = nlohmann::json::parse(text, nullptr, false);
        if (record.is_discarded() || !record.is_object() || !record.contains("line") || !record.contains("dir")) {
            ADD_FAILURE() << path << ":" << number << ": not a transcript record";
            continue;
        }
        std::string dir = record["dir"];
        EXPECT_TRUE(dir == "guest->host" || dir == "host->guest") << path << ":" << number;
        out.push_back({dir == "guest->host", record["line"], record.value("note", "")});
    }
    return out;
}

nlohmann::json transcript_line(const std::vector<TranscriptLine>& transcript, const std::string& msg_type,
                               bool from_guest) {
    for (const auto& t : transcript)
        if (t.from_guest == from_guest && t.line.value("msg_type", "") == msg_type) return t.line;
    return nullptr;
}

}  // namespace conformance

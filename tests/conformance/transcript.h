// The captured reference lines of tests/conformance/data/*.jsonl
// (docs/protocols/README.md#reference-lines).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace conformance {

struct TranscriptLine {
    bool from_guest;  // "dir": "guest->host"
    nlohmann::json line;
    std::string note;
};

// Every record of data/<name>.jsonl; fails the calling test on a bad record.
std::vector<TranscriptLine> read_transcript(const std::string& name);

// The first line of the transcript with that msg_type sent from that side;
// null when there is none.
nlohmann::json transcript_line(const std::vector<TranscriptLine>& transcript, const std::string& msg_type,
                               bool from_guest);

}  // namespace conformance

// A file the switch creates, sizes and maps shared (Boost.Interprocess), and
// removes again when the port goes away.
#pragma once

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>

#include <cstdint>
#include <string>

namespace avpsw {

class SharedFile {
public:
    SharedFile() = default;
    SharedFile(SharedFile&&) = default;
    SharedFile& operator=(SharedFile&&) = default;
    ~SharedFile();

    // Creates `path` with `size` zero bytes; refuses an existing file unless
    // `replace`. Returns false and sets `error` on failure.
    bool create(const std::string& path, uint64_t size, bool replace, std::string& error);

    void* address() const { return region_.get_address(); }
    uint64_t size() const { return region_.get_size(); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    boost::interprocess::mapped_region region_;
    bool owned_ = false;
};

}  // namespace avpsw

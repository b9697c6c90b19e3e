// libFuzzer target for HTTP/1.1 request handling: any bytes from a client end in an answer
// or a closed connection — never a crash, a hang or a sanitizer report on the server.

#include "tests/fuzz/fuzzserver.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    edgesse::fuzz::exchange(QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size)));
    return 0;
}

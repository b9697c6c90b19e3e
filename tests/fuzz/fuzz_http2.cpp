// libFuzzer target for the HTTP/2 server session: the connection preface, then any frames.
// Inputs are framed by the fuzzer; the preface is added so each one reaches nghttp2.

#include "tests/fuzz/fuzzserver.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const QByteArray preface = QByteArrayLiteral("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    edgesse::fuzz::exchange(preface + QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size)));
    return 0;
}

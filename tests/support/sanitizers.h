#pragma once

// Test support: whether this build runs under AddressSanitizer (GCC defines
// __SANITIZE_ADDRESS__, clang answers __has_feature), and the memory a bound should read then.
// ASan's shadow memory, its redzones and its quarantine of freed blocks (up to 256 MB) are
// resident but not the program's: under ASan a memory bound reads the heap the program holds
// instead of the resident set.

#include "tests/support/processusage.h"

#if defined(__SANITIZE_ADDRESS__)
#define EDGESSE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGESSE_UNDER_ASAN 1
#endif
#endif

#if defined(EDGESSE_UNDER_ASAN)
#include <cstddef>
// The sanitizer runtime's own interface (GCC ships no header for it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace edgesse::testing {

#if defined(EDGESSE_UNDER_ASAN)
inline constexpr bool kUnderAsan = true;
#else
inline constexpr bool kUnderAsan = false;
#endif

// Under ASan, the bytes the program has allocated and not freed (blocks in quarantine count
// as freed); otherwise the resident set (VmRSS). -1 when unreadable.
inline qint64 programMemoryBytes()
{
#if defined(EDGESSE_UNDER_ASAN)
    return static_cast<qint64>(__sanitizer_get_current_allocated_bytes());
#else
    return residentBytes();
#endif
}

} // namespace edgesse::testing

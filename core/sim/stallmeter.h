#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

namespace edgesse::sim {

// Head-of-line cost of one browser's streams: the seconds its streams spent waiting behind
// a loss that another stream met ("stalled stream-seconds").
//
// An event is late on a stream when it arrives more than `lateAfter` beyond its intended
// arrival (publish + the path's one-way latency; a recovered loss costs at least a round
// trip). Late copies of one publish that arrive together (no gap above `together`) were
// released by one recovery: over TCP the stream whose bytes were lost and every stream
// written behind it on the connection, over QUIC the streams whose frames the lost datagram
// carried. One of them is taken to have met the loss; the lateness of the others counts as
// stalled. Streams on different connections (HTTP/1.1) are released by different
// recoveries, so they rarely count.
//
// Memory: a publish is settled once every stream has it, or when `kPending` newer publishes
// have arrived (a stream that never gets it was lost or had reconnected). Not thread-safe:
// one recorder thread.
class StallMeter final
{
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kPending = 64;

    StallMeter(int streams, std::chrono::microseconds lateAfter);

    void arrived(int stream, std::uint64_t seq, Clock::time_point intended, Clock::time_point at);
    // Stalled stream-seconds of every settled publish, plus what the unsettled ones show now.
    double stalledSeconds() const;

private:
    struct Publish {
        Clock::time_point intended;
        std::vector<Clock::time_point> arrivals; // by stream; time_point{} until it came
        int count = 0;
    };
    double stalledIn(const Publish &p) const;
    void settle(std::map<std::uint64_t, Publish>::iterator it);

    int m_streams;
    std::chrono::microseconds m_lateAfter;
    std::chrono::microseconds m_together;
    std::map<std::uint64_t, Publish> m_pending;
    double m_settled = 0;
};

} // namespace edgesse::sim

#pragma once

#include <QElapsedTimer>

namespace edgesse::gui {

// Where the GUI thread's time goes, for hunting stalls: with EDGESSE_GUI_TRACE set in the
// environment, every traced section that took 1 ms or more is written to stderr when it
// ends: when (monotonicSeconds()), how long on the wall clock and in the thread's own CPU
// time, and its name with its detail when given ("gui 5123.402 s   8.1 ms cpu 7.9  chart
// #2"). Unset, a section costs one flag test.
class StallTrace
{
public:
    explicit StallTrace(const char *section, int detail = -1);
    ~StallTrace();
    StallTrace(const StallTrace &) = delete;
    StallTrace &operator=(const StallTrace &) = delete;

    static bool enabled();
    // Seconds on the monotonic clock the traced sections are timed on.
    static double monotonicSeconds();
    // CPU time the calling thread has used, in nanoseconds.
    static qint64 threadCpuNs();

private:
    const char *m_section;
    int m_detail;
    QElapsedTimer m_timer;
    qint64 m_cpuStart = 0;
};

} // namespace edgesse::gui

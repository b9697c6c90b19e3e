#pragma once

#include <QWidget>

#include <chrono>

class QLabel;
class QProgressBar;

namespace edgesse::gui {

// The strip above the views: a progress bar with the current variant and the
// time left, and a banner for the reason a run failed (the app keeps working).
class RunPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunPanel)

public:
    explicit RunPanel(QWidget *parent = nullptr);

    void showIdle(const QString &message = {});
    void showStarting(int variants);
    void showProgress(double fraction, const QString &variant, int index, int count, std::chrono::seconds eta);
    void showFailed(const QString &reason);
    void clearFailure();

    QProgressBar *progressBar() const { return m_progress; }
    QLabel *statusLabel() const { return m_status; }
    QLabel *failureLabel() const { return m_failure; }

protected:
    void changeEvent(QEvent *event) override;

private:
    void applyColors();
    void setProgress(int value);

    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_failure = nullptr;
    QWidget *m_failureBox = nullptr;
};

} // namespace edgesse::gui

#include "app/gui/runpanel.h"

#include "app/gui/theme.h"

#include <QClipboard>
#include <QEvent>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace edgesse::gui {

namespace {

QString formatEta(std::chrono::seconds eta)
{
    const auto s = eta.count();
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

RunPanel::RunPanel(QWidget *parent)
    : QWidget(parent)
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(this))
    , m_failure(new QLabel(this))
    , m_failureBox(new QWidget(this))
{
    setObjectName(QStringLiteral("runPanel"));
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setFixedHeight(10);
    m_progress->setMinimumWidth(160);
    m_status->setObjectName(QStringLiteral("runStatus"));
    m_status->setTextFormat(Qt::PlainText);
    m_status->setMinimumWidth(200);

    m_failure->setObjectName(QStringLiteral("runFailure"));
    m_failure->setWordWrap(true);
    m_failure->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_failure->setTextFormat(Qt::PlainText);
    // Grows with its wrapped lines, so the last one is never cut.
    m_failure->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::MinimumExpanding);
    auto *copy = new QToolButton(m_failureBox);
    copy->setObjectName(QStringLiteral("copyFailure"));
    copy->setText(tr("Copy"));
    copy->setToolTip(tr("Copy the message to the clipboard"));
    connect(copy, &QToolButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_failure->text()); });
    auto *dismiss = new QToolButton(m_failureBox);
    dismiss->setText(QStringLiteral("✕"));
    dismiss->setAutoRaise(true);
    dismiss->setToolTip(tr("Dismiss"));
    auto *failureLayout = new QHBoxLayout(m_failureBox);
    failureLayout->setContentsMargins(10, 6, 4, 6);
    failureLayout->addWidget(m_failure, 1);
    failureLayout->addWidget(copy, 0, Qt::AlignTop);
    failureLayout->addWidget(dismiss, 0, Qt::AlignTop);
    m_failureBox->setObjectName(QStringLiteral("runFailureBox"));
    m_failureBox->setAttribute(Qt::WA_StyledBackground);
    applyColors();
    m_failureBox->hide();
    connect(dismiss, &QToolButton::clicked, this, &RunPanel::clearFailure);

    auto *row = new QHBoxLayout;
    row->setContentsMargins(8, 6, 8, 6);
    row->setSpacing(10);
    row->addWidget(m_status, 3);
    row->addWidget(m_progress, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(row);
    layout->addWidget(m_failureBox);
    showIdle();
}

// An opaque tint of the window colour towards the error colour, with the palette's own text
// colour on it: readable in the light and the dark palette alike.
void RunPanel::applyColors()
{
    const ThemeColors colors = themeColors(palette());
    const QColor window = palette().color(QPalette::Window);
    const QColor tint = QColor::fromRgbF(window.redF() * 0.85f + colors.error.redF() * 0.15f,
                                         window.greenF() * 0.85f + colors.error.greenF() * 0.15f,
                                         window.blueF() * 0.85f + colors.error.blueF() * 0.15f);
    m_failureBox->setStyleSheet(QStringLiteral("QWidget#runFailureBox { background: %1; border: 1px solid %2; border-radius: 4px; }"
                                               " QLabel#runFailure { color: %3; }")
                                    .arg(tint.name(), colors.error.name(), palette().color(QPalette::WindowText).name()));
}

void RunPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_failureBox)
        applyColors();
}

// QProgressBar::setValue() repaints at once when the bar moves a pixel, and a repaint paints
// every pending update of the window with it (the charts just refreshed, a tab just shown);
// set with updates off, the bar is drawn in the next frame with everything else.
void RunPanel::setProgress(int value)
{
    if (m_progress->value() == value)
        return;
    m_progress->setUpdatesEnabled(false);
    m_progress->setValue(value);
    m_progress->setUpdatesEnabled(true);
}

void RunPanel::showIdle(const QString &message)
{
    setProgress(0);
    m_progress->setEnabled(false);
    m_status->setText(message.isEmpty() ? tr("Ready") : message);
}

void RunPanel::showStarting(int variants)
{
    clearFailure();
    m_progress->setEnabled(true);
    setProgress(0);
    m_status->setText(variants == 1 ? tr("Starting 1 variant…") : tr("Starting %1 variants…").arg(variants));
}

void RunPanel::showProgress(double fraction, const QString &variant, int index, int count, std::chrono::seconds eta)
{
    m_progress->setEnabled(true);
    setProgress(int(std::clamp(fraction, 0.0, 1.0) * 1000));
    const QString position = count > 1 ? tr(" (%1 of %2)").arg(index + 1).arg(count) : QString();
    m_status->setText(tr("Running %1%2 · %3% · %4 left").arg(variant, position).arg(int(fraction * 100)).arg(formatEta(eta)));
}

void RunPanel::showFailed(const QString &reason)
{
    m_failure->setText(tr("The run failed: %1").arg(reason));
    m_failureBox->show();
    showIdle(tr("The run failed; the reason is below."));
}

void RunPanel::clearFailure()
{
    m_failure->clear();
    m_failureBox->hide();
}

} // namespace edgesse::gui

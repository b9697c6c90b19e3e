#include "app/gui/codeeditor.h"

#include "app/gui/theme.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QFontDatabase>
#include <QKeyEvent>
#include <QScrollBar>
#include <QStringListModel>
#include <QFileInfo>
#include <QHelpEvent>
#include <QMimeData>
#include <QPainter>
#include <QSet>
#include <QTextBlock>
#include <QToolTip>

namespace edgesse::gui {

class LineNumberArea final : public QWidget
{
public:
    explicit LineNumberArea(CodeEditor *editor) : QWidget(editor), m_editor(editor) {}
    QSize sizeHint() const override { return {m_editor->gutterWidth(), 0}; }

protected:
    void paintEvent(QPaintEvent *event) override { m_editor->paintGutter(event); }

private:
    CodeEditor *m_editor;
};

CodeEditor::CodeEditor(QWidget *parent)
    : QPlainTextEdit(parent)
    , m_gutter(new LineNumberArea(this))
{
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    mono.setPointSizeF(std::max(9.0, mono.pointSizeF()));
    setFont(mono);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setTabStopDistance(fontMetrics().horizontalAdvance(QLatin1Char(' ')) * 2);
    setMouseTracking(true);
    connect(this, &QPlainTextEdit::blockCountChanged, this, &CodeEditor::updateGutterWidth);
    connect(this, &QPlainTextEdit::updateRequest, this, &CodeEditor::updateGutter);
    connect(this, &QPlainTextEdit::cursorPositionChanged, this, &CodeEditor::updateSelections);
    applyTheme();
    updateGutterWidth();
}

void CodeEditor::setCompletions(const QStringList &words)
{
    if (!m_completer) {
        m_completer = new QCompleter(this);
        m_completer->setWidget(this);
        m_completer->setCompletionMode(QCompleter::PopupCompletion);
        m_completer->setCaseSensitivity(Qt::CaseInsensitive);
        m_completer->setModel(new QStringListModel(m_completer));
        connect(m_completer, qOverload<const QString &>(&QCompleter::activated), this, &CodeEditor::insertCompletion);
    }
    static_cast<QStringListModel *>(m_completer->model())->setStringList(words);
}

QString CodeEditor::wordBeforeCursor() const
{
    const QTextCursor cursor = textCursor();
    const QString line = cursor.block().text().left(cursor.positionInBlock());
    qsizetype start = line.size();
    while (start > 0 && (line.at(start - 1).isLetterOrNumber() || line.at(start - 1) == QLatin1Char('_')
                         || line.at(start - 1) == QLatin1Char('-')))
        --start;
    return line.mid(start);
}

void CodeEditor::insertCompletion(const QString &word)
{
    QTextCursor cursor = textCursor();
    cursor.movePosition(QTextCursor::Left, QTextCursor::KeepAnchor, int(wordBeforeCursor().size()));
    cursor.insertText(word);
    setTextCursor(cursor);
}

void CodeEditor::keyPressEvent(QKeyEvent *event)
{
    const bool popupOpen = m_completer && m_completer->popup()->isVisible();
    if (popupOpen) {
        switch (event->key()) {
        case Qt::Key_Enter:
        case Qt::Key_Return:
        case Qt::Key_Escape:
        case Qt::Key_Tab:
        case Qt::Key_Backtab:
            event->ignore(); // the completer's popup takes these
            return;
        default:
            break;
        }
    }
    const bool forced = event->key() == Qt::Key_Space && (event->modifiers() & Qt::ControlModifier);
    if (!forced)
        QPlainTextEdit::keyPressEvent(event);
    if (!m_completer || isReadOnly())
        return;
    const QString prefix = wordBeforeCursor();
    const bool typedWord = !event->text().isEmpty() && (event->text().at(0).isLetterOrNumber() || event->text() == QLatin1String("_"));
    if (!forced && (!typedWord || prefix.size() < 2)) {
        m_completer->popup()->hide();
        return;
    }
    m_completer->setCompletionPrefix(prefix);
    if (m_completer->completionCount() == 0
        || (m_completer->completionCount() == 1 && m_completer->currentCompletion() == prefix)) {
        m_completer->popup()->hide();
        return;
    }
    m_completer->popup()->setCurrentIndex(m_completer->completionModel()->index(0, 0));
    QRect rect = cursorRect();
    rect.setWidth(m_completer->popup()->sizeHintForColumn(0) + m_completer->popup()->verticalScrollBar()->sizeHint().width());
    m_completer->complete(rect);
}

void CodeEditor::applyTheme()
{
    const ThemeColors colors = themeColors(palette());
    m_currentLine = colors.dark ? QColor(0x22, 0x2a, 0x35) : QColor(0xf2, 0xf6, 0xfc);
    m_errorColor = colors.error;
    m_gutterText = colors.mutedText;
    m_gutterBackground = palette().color(QPalette::Base).darker(colors.dark ? 90 : 102);
    updateSelections();
    m_gutter->update();
}

void CodeEditor::changeEvent(QEvent *event)
{
    QPlainTextEdit::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
}

int CodeEditor::gutterWidth() const
{
    const int digits = int(QString::number(std::max(1, blockCount())).size());
    return 22 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * std::max(3, digits);
}

void CodeEditor::updateGutterWidth()
{
    setViewportMargins(gutterWidth(), 0, 0, 0);
}

void CodeEditor::updateGutter(const QRect &rect, int dy)
{
    if (dy != 0)
        m_gutter->scroll(0, dy);
    else
        m_gutter->update(0, rect.y(), m_gutter->width(), rect.height());
    if (rect.contains(viewport()->rect()))
        updateGutterWidth();
}

void CodeEditor::resizeEvent(QResizeEvent *event)
{
    QPlainTextEdit::resizeEvent(event);
    const QRect cr = contentsRect();
    m_gutter->setGeometry(QRect(cr.left(), cr.top(), gutterWidth(), cr.height()));
}

void CodeEditor::paintGutter(QPaintEvent *event)
{
    QPainter painter(m_gutter);
    painter.fillRect(event->rect(), m_gutterBackground);
    QSet<int> markedLines;
    for (const TextMark &mark : std::as_const(m_marks))
        markedLines.insert(mark.line);
    const int current = textCursor().blockNumber();

    QTextBlock block = firstVisibleBlock();
    int blockNumber = block.blockNumber();
    int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
    int bottom = top + qRound(blockBoundingRect(block).height());
    const int lineHeight = fontMetrics().height();
    while (block.isValid() && top <= event->rect().bottom()) {
        if (block.isVisible() && bottom >= event->rect().top()) {
            if (markedLines.contains(blockNumber + 1)) {
                painter.setRenderHint(QPainter::Antialiasing);
                painter.setPen(Qt::NoPen);
                painter.setBrush(m_errorColor);
                const int d = std::min(10, lineHeight - 4);
                painter.drawEllipse(QRect(5, top + (lineHeight - d) / 2, d, d));
            }
            QFont f = font();
            f.setBold(blockNumber == current);
            painter.setFont(f);
            painter.setPen(blockNumber == current ? palette().color(QPalette::Text) : m_gutterText);
            painter.drawText(0, top, m_gutter->width() - 6, lineHeight, Qt::AlignRight | Qt::AlignVCenter,
                             QString::number(blockNumber + 1));
        }
        block = block.next();
        top = bottom;
        bottom = top + qRound(blockBoundingRect(block).height());
        ++blockNumber;
    }
}

void CodeEditor::setMarks(const QList<TextMark> &marks)
{
    m_marks = marks;
    updateSelections();
    m_gutter->update();
}

void CodeEditor::updateSelections()
{
    QList<QTextEdit::ExtraSelection> selections;
    QTextEdit::ExtraSelection line;
    line.format.setBackground(m_currentLine);
    line.format.setProperty(QTextFormat::FullWidthSelection, true);
    line.cursor = textCursor();
    line.cursor.clearSelection();
    selections.append(line);

    for (const TextMark &mark : std::as_const(m_marks)) {
        const QTextBlock block = document()->findBlockByNumber(mark.line - 1);
        if (!block.isValid())
            continue;
        QTextEdit::ExtraSelection s;
        s.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
        s.format.setUnderlineColor(m_errorColor);
        s.format.setToolTip(mark.message);
        s.cursor = QTextCursor(block);
        const int length = int(block.text().size());
        const int from = std::clamp(mark.column - 1, 0, std::max(0, length - 1));
        // Underline from the column to the end of the token (or the line when it is blank there).
        int to = from;
        while (to < length && !block.text().at(to).isSpace())
            ++to;
        if (to == from)
            to = length;
        if (to == from) {
            // An empty line: mark the whole line's width instead.
            s.format.setBackground(QColor(m_errorColor.red(), m_errorColor.green(), m_errorColor.blue(), 40));
            s.format.setProperty(QTextFormat::FullWidthSelection, true);
        } else {
            s.cursor.setPosition(block.position() + from);
            s.cursor.setPosition(block.position() + to, QTextCursor::KeepAnchor);
        }
        selections.append(s);
    }
    setExtraSelections(selections);
}

bool CodeEditor::replaceAt(int line, int column, const QString &wrong, const QString &replacement)
{
    const QTextBlock block = document()->findBlockByNumber(line - 1);
    if (!block.isValid() || isReadOnly())
        return false;
    const qsizetype at = block.text().indexOf(wrong, std::max(0, column - 1));
    if (at < 0)
        return false;
    QTextCursor cursor(block);
    cursor.setPosition(block.position() + int(at));
    cursor.setPosition(block.position() + int(at + wrong.size()), QTextCursor::KeepAnchor);
    cursor.insertText(replacement);
    setTextCursor(cursor);
    return true;
}

void CodeEditor::goTo(int line, int column)
{
    const QTextBlock block = document()->findBlockByNumber(std::max(0, line - 1));
    if (!block.isValid())
        return;
    QTextCursor cursor(block);
    cursor.setPosition(block.position() + std::clamp(column - 1, 0, int(block.text().size())));
    setTextCursor(cursor);
    centerCursor();
    setFocus(Qt::OtherFocusReason);
}

int CodeEditor::cursorLine() const
{
    return textCursor().blockNumber() + 1;
}

int CodeEditor::cursorColumn() const
{
    return textCursor().positionInBlock() + 1;
}

namespace {
QString droppedScenario(const QMimeData *source)
{
    if (!source->hasUrls() || source->urls().size() != 1 || !source->urls().first().isLocalFile())
        return {};
    const QString path = source->urls().first().toLocalFile();
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == QLatin1String("yaml") || suffix == QLatin1String("yml") ? path : QString();
}
} // namespace

bool CodeEditor::canInsertFromMimeData(const QMimeData *source) const
{
    return !droppedScenario(source).isEmpty() || QPlainTextEdit::canInsertFromMimeData(source);
}

void CodeEditor::insertFromMimeData(const QMimeData *source)
{
    const QString path = droppedScenario(source);
    if (!path.isEmpty()) {
        emit fileDropped(path);
        return;
    }
    QPlainTextEdit::insertFromMimeData(source);
}

bool CodeEditor::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QPoint inViewport = viewport()->mapFromGlobal(help->globalPos());
        const int line = cursorForPosition(inViewport).blockNumber() + 1;
        QStringList messages;
        for (const TextMark &mark : std::as_const(m_marks))
            if (mark.line == line)
                messages << mark.message;
        if (!messages.isEmpty()) {
            QToolTip::showText(help->globalPos(), messages.join(QLatin1Char('\n')), this);
            return true;
        }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QPlainTextEdit::event(event);
}

} // namespace edgesse::gui

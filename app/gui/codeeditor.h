#pragma once

#include <QPlainTextEdit>

namespace edgesse::gui {

// A place in the text a diagnostic points at; line and column count from 1.
struct TextMark
{
    int line = 1;
    int column = 1;
    QString message;
};

// The scenario editor: a plain-text editor with line numbers, the current line shaded and
// diagnostics drawn as wavy underlines (and a marker in the gutter) at their lines.
class CodeEditor final : public QPlainTextEdit
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CodeEditor)

public:
    explicit CodeEditor(QWidget *parent = nullptr);

    void setMarks(const QList<TextMark> &marks);
    const QList<TextMark> &marks() const { return m_marks; }

    // Moves the cursor to line:column (from 1), scrolls it into view and focuses the editor.
    void goTo(int line, int column);
    int cursorLine() const;
    int cursorColumn() const;

    void applyTheme();

signals:
    // A .yaml file was dropped on the editor: it means "open this", not "insert its path".
    void fileDropped(const QString &path);

protected:
    bool canInsertFromMimeData(const QMimeData *source) const override;
    void insertFromMimeData(const QMimeData *source) override;
    void resizeEvent(QResizeEvent *event) override;
    bool event(QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    friend class LineNumberArea;
    int gutterWidth() const;
    void paintGutter(QPaintEvent *event);
    void updateGutterWidth();
    void updateGutter(const QRect &rect, int dy);
    void updateSelections();

    QWidget *m_gutter = nullptr;
    QList<TextMark> m_marks;
    QColor m_currentLine;
    QColor m_errorColor;
    QColor m_gutterText;
    QColor m_gutterBackground;
};

} // namespace edgesse::gui

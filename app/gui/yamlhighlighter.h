#pragma once

#include <QRegularExpression>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace edgesse::gui {

// Highlights the YAML the scenario language uses: keys (block and flow), comments, strings,
// numbers with their units (250ms, 4KB, 1Gbps, 20/s), booleans, anchors and list dashes.
class YamlHighlighter final : public QSyntaxHighlighter
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(YamlHighlighter)

public:
    explicit YamlHighlighter(QTextDocument *document, bool dark = false);

    void setDark(bool dark);

protected:
    void highlightBlock(const QString &text) override;

private:
    struct Rule
    {
        QRegularExpression pattern;
        QTextCharFormat format;
        int group = 0;
    };
    void buildRules(bool dark);

    std::vector<Rule> m_rules;
    QTextCharFormat m_commentFormat;
};

} // namespace edgesse::gui

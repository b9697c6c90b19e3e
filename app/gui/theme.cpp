#include "app/gui/theme.h"

#include <QApplication>
#include <QStyleFactory>

namespace edgesse::gui {

namespace {

QPalette lightPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0xf3, 0xf4, 0xf6));
    p.setColor(QPalette::WindowText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Base, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::AlternateBase, QColor(0xf6, 0xf8, 0xfa));
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::ToolTipText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x95, 0x9f));
    p.setColor(QPalette::Text, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Button, QColor(0xf6, 0xf8, 0xfa));
    p.setColor(QPalette::ButtonText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Light, Qt::white);
    p.setColor(QPalette::Midlight, QColor(0xea, 0xee, 0xf2));
    p.setColor(QPalette::Mid, QColor(0xd0, 0xd7, 0xde));
    p.setColor(QPalette::Dark, QColor(0xaf, 0xb8, 0xc1));
    p.setColor(QPalette::Shadow, QColor(0x8c, 0x95, 0x9f));
    p.setColor(QPalette::Highlight, QColor(0x21, 0x6e, 0xdf));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x09, 0x69, 0xda));
    p.setColor(QPalette::LinkVisited, QColor(0x82, 0x50, 0xdf));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x8c, 0x95, 0x9f));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x8c, 0x95, 0x9f));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x8c, 0x95, 0x9f));
    return p;
}

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x1e, 0x22, 0x28));
    p.setColor(QPalette::WindowText, QColor(0xe6, 0xed, 0xf3));
    p.setColor(QPalette::Base, QColor(0x16, 0x1a, 0x1f));
    p.setColor(QPalette::AlternateBase, QColor(0x21, 0x26, 0x2d));
    p.setColor(QPalette::ToolTipBase, QColor(0x2d, 0x33, 0x3b));
    p.setColor(QPalette::ToolTipText, QColor(0xe6, 0xed, 0xf3));
    p.setColor(QPalette::PlaceholderText, QColor(0x7d, 0x85, 0x90));
    p.setColor(QPalette::Text, QColor(0xe6, 0xed, 0xf3));
    p.setColor(QPalette::Button, QColor(0x2a, 0x30, 0x37));
    p.setColor(QPalette::ButtonText, QColor(0xe6, 0xed, 0xf3));
    p.setColor(QPalette::BrightText, QColor(0xff, 0x7b, 0x72));
    p.setColor(QPalette::Light, QColor(0x3d, 0x44, 0x4d));
    p.setColor(QPalette::Midlight, QColor(0x33, 0x39, 0x41));
    p.setColor(QPalette::Mid, QColor(0x2a, 0x30, 0x37));
    p.setColor(QPalette::Dark, QColor(0x10, 0x13, 0x17));
    p.setColor(QPalette::Shadow, QColor(0x05, 0x06, 0x08));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x81, 0xf7));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x58, 0xa6, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xbc, 0x8c, 0xff));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x6e, 0x76, 0x81));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x6e, 0x76, 0x81));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x6e, 0x76, 0x81));
    return p;
}

} // namespace

bool isDarkPalette(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightnessF() < palette.color(QPalette::WindowText).lightnessF();
}

ColorScheme applyColorScheme(QApplication &app, ColorScheme requested)
{
    // The platform's own palette, remembered before the first override replaces it.
    static const bool platformDark = isDarkPalette(QApplication::palette());
    ColorScheme scheme = requested;
    if (scheme == ColorScheme::System)
        scheme = platformDark ? ColorScheme::Dark : ColorScheme::Light;
    if (QStyle *fusion = QStyleFactory::create(QStringLiteral("Fusion")))
        app.setStyle(fusion);
    app.setPalette(scheme == ColorScheme::Dark ? darkPalette() : lightPalette());
    return scheme;
}

ThemeColors themeColors(const QPalette &palette)
{
    ThemeColors c;
    c.dark = isDarkPalette(palette);
    c.text = palette.color(QPalette::Text);
    c.mutedText = c.dark ? QColor(0x8b, 0x94, 0x9e) : QColor(0x65, 0x6d, 0x76);
    c.canvas = palette.color(QPalette::Base);
    c.grid = c.dark ? QColor(0x2b, 0x31, 0x38) : QColor(0xea, 0xee, 0xf2);
    c.origin = c.dark ? QColor(0x58, 0xa6, 0xff) : QColor(0x21, 0x6e, 0xdf);
    c.pop = c.dark ? QColor(0xf0, 0xb7, 0x2f) : QColor(0xd0, 0x8a, 0x00);
    c.client = c.dark ? QColor(0x56, 0xd3, 0x64) : QColor(0x1a, 0x7f, 0x37);
    c.link = c.dark ? QColor(0x6e, 0x76, 0x81) : QColor(0x8c, 0x95, 0x9f);
    c.linkActive = c.dark ? QColor(0x79, 0xc0, 0xff) : QColor(0x09, 0x69, 0xda);
    c.reap = c.dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
    c.error = c.reap;
    c.warning = c.dark ? QColor(0xd2, 0x99, 0x22) : QColor(0x9a, 0x67, 0x00);
    c.ok = c.client;
    return c;
}

} // namespace edgesse::gui

#pragma once

#include <QColor>
#include <QPalette>

class QApplication;

namespace edgesse::gui {

enum class ColorScheme { System, Light, Dark };

// Colours the views draw with, chosen so they read on both palettes.
struct ThemeColors
{
    bool dark = false;
    QColor text;
    QColor mutedText;
    QColor canvas;      // background of the topology and chart canvases
    QColor grid;
    QColor origin;
    QColor pop;
    QColor client;
    QColor link;
    QColor linkActive;
    QColor reap;
    QColor error;
    QColor warning;
    QColor ok;
};

// True when the palette the platform offers is a dark one (window darker than its text).
bool isDarkPalette(const QPalette &palette);

// Applies the Fusion style and a light or dark palette: System follows the platform's palette
// as it was at start-up; Light and Dark force one. Returns the scheme actually applied.
ColorScheme applyColorScheme(QApplication &app, ColorScheme requested);

ThemeColors themeColors(const QPalette &palette);

} // namespace edgesse::gui

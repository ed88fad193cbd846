"""Colours, fonts and figure size shared by every explorer, so the labs look like one course.

Colours come from the Okabe-Ito palette (readable with colour-blindness). A quantity keeps its
colour in every lab: parameters are always blue, MACs always vermillion, and so on.
"""

from __future__ import annotations

from cycler import cycler

# Okabe-Ito palette
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
ORANGE = "#E69F00"
SKY = "#56B4E9"
YELLOW = "#F0E442"
GREY = "#7F7F7F"  # lines and marks; text in grey uses TEXT_GREY
TEXT_GREY = "#595959"  # 7:1 on white (WCAG AA asks 4.5:1 for text)
BLACK = "#000000"

# one colour per quantity, the same in every explorer
PARAMS_COLOUR = BLUE
MACS_COLOUR = VERMILLION
MEMORY_COLOUR = GREEN
LATENCY_COLOUR = PURPLE
ENERGY_COLOUR = ORANGE
CURRENT_COLOUR = BLACK  # marks the current setting on a sweep

# lines of equal standing (activations, models...), in order: the Okabe-Ito colours, every pair
# still told apart under protanopia, deuteranopia and tritanopia (tests/test_ui_style.py)
SERIES_COLOURS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK, YELLOW)
# ...and told apart without colour too: by marker (14, one per activation of the registry; with
# the 8 colours the first 56 series differ in both), by line style (each with the glyph a text
# legend draws for it), or, for bars, by hatching (white lines on the colour)
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "p", "h", "<", ">", "d", "H")
SERIES_LINESTYLES = {"-": "——", "--": "– –", ":": "···", "-.": "–·–"}
SECOND_BARS_HATCH = "////"  # the second of two bar series
MARKER_EVERY = 0.12  # a marker every 12 % of the axes' diagonal: sparse enough to read the line

# the pictures of one explorer, side by side: 8 x 3.5 in at 100 dpi = 800 x 350 CSS pixels
# (display_options(pixel_ratio=2) draws 2 pixels per CSS pixel, at the same size on screen)
FIGURE_WIDTH_INCHES = 8.0
FIGURE_HEIGHT_INCHES = 3.5
DPI = 100

# matplotlib settings applied while an explorer builds its figures (no layout engine: the
# margins are fitted once, at the first picture, then stay: render.fix_layout)
RC_PARAMS = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titley": 1.0,  # a fixed title position: placing it automatically measures every label
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": cycler(color=SERIES_COLOURS),
    "lines.linewidth": 1.8,
}
# the settings above that display_options(font_scale=...) multiplies
FONT_SIZES = frozenset(name for name in RC_PARAMS if "size" in name)

# CSS of the HTML parts of a widget
READOUT_CSS = "border-collapse:collapse;font-size:13px;line-height:1.4"
# the theme's secondary text colour (JupyterLab, Notebook 7 and Voila define it, light or dark);
# #555 where no theme does
READOUT_NAME_CSS = (
    "padding:0 12px 0 0;color:var(--jp-content-font-color2,#555);text-align:left;font-weight:normal"
)
READOUT_VALUE_CSS = "padding:0;font-family:monospace;text-align:left"
WARNING_CSS = (
    "background:#fff3cd;color:#664d03;border-left:4px solid #e69f00;"
    "padding:4px 8px;margin:4px 0;font-size:13px"
)

# on the page for screen readers, off the screen for everyone else
VISUALLY_HIDDEN_CSS = (
    "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0"
)

// A 5x7 bitmap font for printable ASCII (32..126), drawn by hand for the run
// report's PNG plots: charts need a few labels, not a font engine.
#pragma once

namespace newsrl::launch {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
inline constexpr int kGlyphAdvance = kGlyphWidth + 1;  // one blank column between letters

// Whether pixel (col, row) of c's glyph is ink; row 0 is the top. Characters
// outside 32..126 draw as '?'.
bool glyph_pixel(char c, int col, int row);

}  // namespace newsrl::launch

/* text_internal.h: what font.c and layout.c share; not part of the public API. */
#ifndef CK_TEXT_INTERNAL_H
#define CK_TEXT_INTERNAL_H

#include <hb.h>

#include "ck_text.h"

/* One loaded font. The blob owns the file bytes (mapped or read by HarfBuzz) and outlives the
 * face and font made from it; ck_font_data hands those same bytes to the GPU rasteriser.
 * The HarfBuzz font is scaled to units per em, so shaped positions are in font units and
 * layout converts them to em (and then px) itself: results do not depend on the size the
 * font was shaped at. */
struct ck_font {
    hb_blob_t *blob;
    hb_face_t *face;
    hb_font_t *hb;
    unsigned upem;
    /* Font units, from the font's horizontal extents: ascender > 0, descender < 0. */
    int32_t ascender, descender, line_gap;
};

#endif

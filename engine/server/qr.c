/* qr.c: QR codes for links, as PNG (for letters printed from images) and SVG (for print
 * layouts that scale). The PNG is 1-bit greyscale with stored (uncompressed) deflate blocks:
 * a QR image is small, and this keeps zlib out of the dependencies. */
#include "server_internal.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc ^= 0xffffffffu;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool fail;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->fail || n == 0)
        return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->fail = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static void chunk(buf *b, const char *type, const uint8_t *data, size_t n)
{
    put32(b, (uint32_t)n);
    size_t at = b->n;
    put(b, type, 4);
    put(b, data, n);
    if (!b->fail)
        put32(b, crc32(0, b->p + at, n + 4));
}

/* PNG of the symbol: black modules are 0 (greyscale 1-bit, 0 = black). */
static ck_status write_png(const QRcode *qr, const char *path, int px, int quiet, ck_error *err)
{
    int side = (qr->width + 2 * quiet) * px;
    size_t row = 1 + ((size_t)side + 7) / 8, raw_n = row * (size_t)side;
    uint8_t *raw = calloc(raw_n, 1);
    buf idat = {0}, png = {0};
    ck_status st = CK_ERR_NOMEM;
    if (!raw)
        goto done;
    for (int y = 0; y < side; y++) {
        uint8_t *r = raw + (size_t)y * row;
        r[0] = 0; /* filter: none */
        memset(r + 1, 0xff, row - 1);
        int my = y / px - quiet;
        for (int x = 0; x < side; x++) {
            int mx = x / px - quiet;
            bool dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                        (qr->data[my * qr->width + mx] & 1);
            if (dark)
                r[1 + x / 8] &= (uint8_t) ~(0x80u >> (x % 8));
        }
    }
    /* zlib stream: header, stored blocks of at most 65535 bytes, Adler-32. */
    uint8_t zh[2] = {0x78, 0x01};
    put(&idat, zh, 2);
    uint32_t a = 1, bsum = 0;
    for (size_t off = 0; off < raw_n;) {
        size_t n = raw_n - off > 65535 ? 65535 : raw_n - off;
        uint8_t h[5] = {off + n == raw_n, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)~n,
                        (uint8_t)(~n >> 8)};
        put(&idat, h, 5);
        put(&idat, raw + off, n);
        for (size_t i = 0; i < n; i++) {
            a = (a + raw[off + i]) % 65521;
            bsum = (bsum + a) % 65521;
        }
        off += n;
    }
    put32(&idat, bsum << 16 | a);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13] = {(uint8_t)(side >> 24),
                        (uint8_t)(side >> 16),
                        (uint8_t)(side >> 8),
                        (uint8_t)side,
                        (uint8_t)(side >> 24),
                        (uint8_t)(side >> 16),
                        (uint8_t)(side >> 8),
                        (uint8_t)side,
                        1 /* bit depth */,
                        0 /* grey */,
                        0,
                        0,
                        0};
    put(&png, sig, 8);
    chunk(&png, "IHDR", ihdr, sizeof ihdr);
    if (idat.fail)
        goto done;
    chunk(&png, "IDAT", idat.p, idat.n);
    chunk(&png, "IEND", NULL, 0);
    if (png.fail)
        goto done;
    st = ck_write_atomic(path, png.p, png.n, 0644, err);
done:
    if (st == CK_ERR_NOMEM)
        ck_error_set(err, st, path, 0, 0, "out of memory");
    free(raw);
    free(idat.p);
    free(png.p);
    return st;
}

/* SVG: one path of unit squares, so it scales to any print size without blur. */
static ck_status write_svg(const QRcode *qr, const char *path, int quiet, ck_error *err)
{
    int side = qr->width + 2 * quiet;
    buf b = {0};
    char line[160];
    int n = snprintf(line, sizeof line,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\">\n<rect width=\"%d\" height=\"%d\" "
                     "fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
                     side, side, side, side);
    put(&b, line, (size_t)n);
    for (int y = 0; y < qr->width; y++)
        for (int x = 0; x < qr->width; x++)
            if (qr->data[y * qr->width + x] & 1) {
                n = snprintf(line, sizeof line, "M%d %dh1v1h-1z", x + quiet, y + quiet);
                put(&b, line, (size_t)n);
            }
    put(&b, "\"/>\n</svg>\n", 11);
    ck_status st = b.fail ? ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory")
                          : ck_write_atomic(path, b.p, b.n, 0644, err);
    free(b.p);
    return st;
}

ck_status ck_qr_write(const char *text, const char *png_path, const char *svg_path,
                      const ck_qr_params *params, int *modules, ck_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    ck_qr_params p = params ? *params : (ck_qr_params){0};
    int px = p.module_px > 0 ? p.module_px : 10, quiet = p.quiet > 0 ? p.quiet : 4;
    QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!qr)
        return ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0, "text too long for a QR code");
    ck_status st = CK_OK;
    if (png_path)
        st = write_png(qr, png_path, px, quiet, err);
    if (st == CK_OK && svg_path)
        st = write_svg(qr, svg_path, quiet, err);
    if (modules)
        *modules = qr->width;
    QRcode_free(qr);
    return st;
}

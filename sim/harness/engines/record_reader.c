/* record_reader: see record_reader.h. Every offset and rule here is the
 * one docs/record-format.md gives (section numbers in the comments). */
#include "record_reader.h"

#include <libdeflate.h>
#include <stdio.h>
#include <string.h>

#define HEADER_MAGIC 0x48525746u /* "FWRH" */
#define COMMIT_MAGIC 0xC3A5E15Au
#define HEADER_BODY  92u
#define SLOT_FIXED   16u
#define T_BLOCK      0xB1u
#define T_VOID       0x70u
#define T_COMPLETE   0xC3u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t round_ps(uint32_t x, uint32_t ps)
{
    return (x + ps - 1) / ps * ps;
}

static uint32_t crc(const uint8_t *p, size_t n)
{
    return (uint32_t)libdeflate_crc32(0, p, n);
}

static const char *type_name(uint8_t t)
{
    return t == T_BLOCK ? "BLOCK" : t == T_VOID ? "VOID" : "COMPLETE";
}

struct copy {
    uint8_t *b;
    int matches;
    uint32_t generation;
    uint32_t used; /* slots up to the last byte that is not erased */
};

/* Slots before the erased tail of a copy: a trial's log fills a small part
 * of its area, and the reader runs once per trial. */
static uint32_t used_slots(const uint8_t *b, uint32_t size, uint32_t hdr,
                           uint32_t slot, uint8_t ev)
{
    uint64_t all = 0x0101010101010101ull * ev, w;
    uint32_t end = size;
    /* Eight bytes at a time while they are all erased. */
    while (end >= hdr + 8) {
        memcpy(&w, b + end - 8, 8);
        if (w != all)
            break;
        end -= 8;
    }
    while (end > hdr && b[end - 1] == ev)
        end--;
    return end > hdr ? (end - hdr + slot - 1) / slot : 0;
}

static int all_erased(const uint8_t *p, uint32_t n, uint8_t ev)
{
    while (n--)
        if (p[n] != ev)
            return 0;
    return 1;
}

/* Section 2: the header names this image. Returns 1, or 0 with the first
 * field that differs in why (reported only when no copy matches). */
static int header_matches(const struct record_reader *r, const uint8_t *h,
                          const char *name, char *why, size_t n)
{
    const struct fwr_image *im = r->image;
    uint32_t commit_at = round_ps(HEADER_BODY, r->prog_size);
    uint8_t want[32];

    if (le32(h + commit_at) != COMMIT_MAGIC)
        return snprintf(why, n, "%s header: commit reads 0x%08x", name,
                        le32(h + commit_at)), 0;
    if (le32(h) != HEADER_MAGIC)
        return snprintf(why, n, "%s header: magic reads 0x%08x", name,
                        le32(h)), 0;
    if (le32(h + 88) != crc(h, 88))
        return snprintf(why, n,
                        "%s header: check value 0x%08x, CRC-32 of bytes "
                        "0..87 is 0x%08x",
                        name, le32(h + 88), crc(h, 88)), 0;
    if (h[4] != 1)
        return snprintf(why, n, "%s header: format version %u", name, h[4]), 0;
    if (h[5] != r->block_hash_kind || h[6] != im->digest_kind ||
        h[7] != im->digest_len || h[8] != im->version_len || h[9] || h[10] ||
        h[11])
        return snprintf(why, n,
                        "%s header: kinds/lengths %u %u %u %u, the image's "
                        "%u %u %u %u",
                        name, h[5], h[6], h[7], h[8], r->block_hash_kind,
                        im->digest_kind, im->digest_len, im->version_len), 0;
    if (le32(h + 12) != im->size || le32(h + 16) != r->block_size)
        return snprintf(why, n,
                        "%s header: image size %u, block size %u; the "
                        "image's %u, %u",
                        name, le32(h + 12), le32(h + 16), im->size,
                        r->block_size), 0;
    memset(want, 0, sizeof(want));
    memcpy(want, im->digest, im->digest_len < 32 ? im->digest_len : 32);
    if (memcmp(h + 24, want, 32))
        return snprintf(why, n, "%s header: the image digest differs", name),
               0;
    memset(want, 0, sizeof(want));
    memcpy(want, im->version, im->version_len < 32 ? im->version_len : 32);
    if (memcmp(h + 56, want, 32))
        return snprintf(why, n, "%s header: the version differs", name), 0;
    return 1;
}

/* Section 3: a valid slot (commit and check value), then well-formed.
 * Returns 1 valid, 0 not valid, -1 valid yet malformed (why says how). */
static int slot_valid(const struct record_reader *r, const uint8_t *s,
                      uint32_t k, uint32_t hs, char *why, size_t n)
{
    uint32_t nblocks = (r->image->size + r->block_size - 1) / r->block_size;
    uint32_t a0 = le32(s + 4), a1 = le32(s + 8), i;
    uint8_t t = s[0];

    if (le32(s + round_ps(SLOT_FIXED + hs, r->prog_size)) != COMMIT_MAGIC ||
        le32(s + 12 + hs) != crc(s, 12 + hs))
        return 0;
    if (t != T_BLOCK && t != T_VOID && t != T_COMPLETE)
        return snprintf(why, n, "slot %u: type 0x%02x is none of BLOCK, "
                        "VOID, COMPLETE", k, t), -1;
    if (s[1] != hs || s[2] || s[3])
        return snprintf(why, n, "slot %u: %s: hash size %u, reserved %u %u",
                        k, type_name(t), s[1], s[2], s[3]), -1;
    if ((t == T_BLOCK && (a0 >= nblocks || a1)) ||
        (t == T_VOID && (!a1 || a0 >= nblocks || a1 > nblocks - a0)) ||
        (t == T_COMPLETE && (a0 != nblocks || a1 != r->image->size)))
        return snprintf(why, n, "slot %u: %s(%u, %u) for an image of %u "
                        "blocks, %u bytes", k, type_name(t), a0, a1, nblocks,
                        r->image->size), -1;
    for (i = 0; t != T_BLOCK && i < hs; i++)
        if (s[12 + i])
            return snprintf(why, n, "slot %u: %s with a non-zero hash field",
                            k, type_name(t)), -1;
    if (r->check_padding) {
        uint32_t body = round_ps(SLOT_FIXED + hs, r->prog_size);
        uint32_t end = body + round_ps(4, r->prog_size);
        for (i = SLOT_FIXED + hs; i < end; i++)
            if ((i < body || i >= body + 4) && s[i] != r->erased)
                return snprintf(why, n,
                                "slot %u: %s: padding byte %u reads 0x%02x, "
                                "not the erased value",
                                k, type_name(t), i, s[i]), -1;
    }
    return 1;
}

/* Sections 2 and 3: the bytes after a field up to the next program unit
 * are the erased value. First offset in [from, to) that is not, or -1. */
static int64_t padding_at(const uint8_t *p, uint32_t from, uint32_t to,
                          uint8_t ev)
{
    for (; from < to; from++)
        if (p[from] != ev)
            return from;
    return -1;
}

int record_reader_check_complete(const struct record_reader *r, char *why,
                                 size_t whylen)
{
    uint32_t ps = r->prog_size, hs = r->hash_size;
    uint32_t hdr = round_ps(HEADER_BODY, ps) + round_ps(4, ps);
    uint32_t slot = round_ps(SLOT_FIXED + hs, ps) + round_ps(4, ps);
    uint32_t slots = r->record_size > hdr ? (r->record_size - hdr) / slot : 0;
    uint32_t nblocks = (r->image->size + r->block_size - 1) / r->block_size;
    struct copy c[2];
    int ncopies = r->mirror_addr != FWR_NO_MIRROR ? 2 : 1, m, use[2] = {0, 0};
    int64_t *live = r->live, last_void = -1, last_complete = -1;
    uint8_t last_type = 0;
    uint32_t k, i, last_a0 = 0, last_a1 = 0;
    int torn_seen = 0;
    char first_why[160] = "";
    int rc = -2;

    memset(c, 0, sizeof(c));
    for (m = 0; m < ncopies; m++) {
        char w[160];
        c[m].b = r->buf + (size_t)m * r->record_size;
        if (r->read(r->read_user, m ? r->mirror_addr : r->record_addr, c[m].b,
                    r->record_size) < 0)
            goto out;
        c[m].matches = header_matches(r, c[m].b, m ? "mirror" : "primary", w,
                                      sizeof(w));
        if (!c[m].matches && !first_why[0])
            snprintf(first_why, sizeof(first_why), "%s", w);
        c[m].generation = le32(c[m].b + 20);
        c[m].used = used_slots(c[m].b, r->record_size, hdr, slot, r->erased);
        if (c[m].used > slots)
            c[m].used = slots;
    }
    for (m = 0; r->check_padding && m < ncopies; m++) {
        uint32_t body = round_ps(HEADER_BODY, ps);
        int64_t at = -1;
        if (!c[m].matches)
            continue;
        at = padding_at(c[m].b, HEADER_BODY, body, r->erased);
        if (at < 0)
            at = padding_at(c[m].b, body + 4, hdr, r->erased);
        if (at >= 0) {
            snprintf(why, whylen,
                     "%s header: padding byte %lld reads 0x%02x, not the "
                     "erased value",
                     m ? "mirror" : "primary", (long long)at, c[m].b[at]);
            rc = -1;
            goto out;
        }
    }
    /* Section 7, rows 2-5: which copies the log is read from. */
    if (c[0].matches && ncopies == 2 && c[1].matches) {
        if (c[0].generation == c[1].generation)
            use[0] = use[1] = 1;
        else
            use[c[0].generation < c[1].generation ? 0 : 1] = 1;
    } else if (c[0].matches) {
        use[0] = 1;
    } else if (ncopies == 2 && c[1].matches) {
        use[1] = 1;
    } else {
        snprintf(why, whylen, "no record copy names the image (%s)",
                 first_why);
        rc = -1;
        goto out;
    }
    for (i = 0; i < nblocks; i++)
        live[i] = -1;
    /* Section 3, "Entries": slot by slot, the primary's when valid, else
     * the mirror's; the latest entry wins. */
    for (k = 0; k < slots; k++) {
        const uint8_t *s = NULL;
        if ((!use[0] || k >= c[0].used) && (!use[1] || k >= c[1].used))
            break; /* only erased slots follow */
        for (m = 0; m < ncopies && !s; m++) {
            const uint8_t *cand = c[m].b + hdr + (size_t)k * slot;
            int v;
            if (!use[m] || k >= c[m].used)
                continue;
            v = slot_valid(r, cand, k, hs, why, whylen);
            if (v < 0) {
                rc = -1;
                goto out;
            }
            if (v)
                s = cand;
        }
        if (!s) {
            for (m = 0; m < ncopies; m++)
                if (use[m] && k < c[m].used &&
                    !all_erased(c[m].b + hdr + (size_t)k * slot, slot,
                                r->erased))
                    torn_seen = 1;
            continue;
        }
        if (s[0] == T_VOID) {
            /* Section 5: a VOID is written over live records, or again
             * over the VOID it repeats (section 7, row 13). A torn slot
             * before it may have been a record its writer read as valid:
             * then nothing is known. */
            int covers = 0;
            for (i = le32(s + 4); i < le32(s + 4) + le32(s + 8); i++)
                covers |= live[i] >= 0;
            if (!covers && !torn_seen &&
                !(last_type == T_VOID && last_a0 == le32(s + 4) &&
                  last_a1 == le32(s + 8))) {
                snprintf(why, whylen,
                         "slot %u: VOID(%u, %u) covers no live record and "
                         "repeats no VOID",
                         k, le32(s + 4), le32(s + 8));
                rc = -1;
                goto out;
            }
        }
        last_type = s[0];
        last_a0 = le32(s + 4);
        last_a1 = le32(s + 8);
        if (s[0] == T_BLOCK) {
            live[le32(s + 4)] = k;
        } else if (s[0] == T_VOID) {
            for (i = le32(s + 4); i < le32(s + 4) + le32(s + 8); i++)
                live[i] = -1;
            last_void = k;
        } else {
            last_complete = k;
        }
    }
    if (last_complete < 0 || last_complete < last_void) {
        snprintf(why, whylen,
                 "no COMPLETE after the last VOID in the log (last VOID: "
                 "slot %lld, last COMPLETE: slot %lld, last entry: %s)",
                 (long long)last_void, (long long)last_complete,
                 last_type ? type_name(last_type) : "none");
        rc = -1;
        goto out;
    }
    /* A live record must describe the image's bytes. */
    for (i = 0; i < nblocks; i++) {
        const uint8_t *s;
        if (live[i] < 0)
            continue;
        m = use[0] && slot_valid(r, c[0].b + hdr + (size_t)live[i] * slot,
                                 (uint32_t)live[i], hs, why, whylen) == 1
                ? 0
                : 1;
        s = c[m].b + hdr + (size_t)live[i] * slot;
        if (memcmp(r->block_hashes + (size_t)i * hs, s + 12, hs)) {
            snprintf(why, whylen,
                     "slot %lld: BLOCK(%u) records a hash that is not the "
                     "image block's",
                     (long long)live[i], i);
            rc = -1;
            goto out;
        }
    }
    rc = 0;
out:
    if (rc == -2)
        snprintf(why, whylen, "record area: the device refused a read");
    return rc;
}

/* AES-CTR and ECDSA P-256 for fwr_pkgdl through mbedTLS:
 * fwr_mbedtls_pkg.h. */
#include "fwr_mbedtls_pkg.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>

#include "fwresume.h"

int fwr_mbedtls_pkg_init(struct fwr_mbedtls_pkg *m, const uint8_t *key,
                         uint32_t key_len, const uint8_t *pub)
{
    if (!m)
        return FWR_E_INVAL;
    mbedtls_aes_init(&m->aes);
    mbedtls_ecp_group_init(&m->grp);
    mbedtls_ecp_point_init(&m->q);
    m->have_key = m->have_pub = 0;
    if (key) {
        if ((key_len != 16u && key_len != 32u) ||
            mbedtls_aes_setkey_enc(&m->aes, key, key_len * 8u))
            return FWR_E_INVAL;
        m->have_key = 1;
    }
    if (pub) {
        /* A point off the curve would make every signature "not
         * verify": say so now rather than refuse every package. */
        if (mbedtls_ecp_group_load(&m->grp, MBEDTLS_ECP_DP_SECP256R1) ||
            mbedtls_ecp_point_read_binary(&m->grp, &m->q, pub,
                                          FWR_MBEDTLS_PUB_SIZE) ||
            mbedtls_ecp_check_pubkey(&m->grp, &m->q))
            return FWR_E_INVAL;
        m->have_pub = 1;
    }
    return 0;
}

void fwr_mbedtls_pkg_free(struct fwr_mbedtls_pkg *m)
{
    if (!m)
        return;
    mbedtls_aes_free(&m->aes);
    mbedtls_ecp_point_free(&m->q);
    mbedtls_ecp_group_free(&m->grp);
    m->have_key = m->have_pub = 0;
}

int fwr_mbedtls_aes_ctr(struct fwr_mbedtls_pkg *m, const uint8_t ctr[16],
                        uint8_t *buf, uint32_t len)
{
    uint8_t counter[16], stream[16];
    size_t off = 0;

    if (!m || !m->have_key)
        return FWR_E_HASH;
    /* mbedTLS counts the whole 16-byte block big-endian: the low 4 bytes
     * are j / 16 of the format's rule, and a block is far under 2^32
     * AES blocks, so the count never reaches the block index. */
    memcpy(counter, ctr, 16);
    if (mbedtls_aes_crypt_ctr(&m->aes, len, &off, counter, stream, buf, buf))
        return FWR_E_HASH;
    return 0;
}

int fwr_mbedtls_verify(struct fwr_mbedtls_pkg *m, const uint8_t digest[32],
                       const uint8_t sig[64])
{
    mbedtls_mpi r, s;
    int ok;

    if (!m || !m->have_pub)
        return 0;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ok = !mbedtls_mpi_read_binary(&r, sig, 32) &&
         !mbedtls_mpi_read_binary(&s, sig + 32, 32) &&
         !mbedtls_ecdsa_verify(&m->grp, digest, 32, &m->q, &r, &s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ok;
}

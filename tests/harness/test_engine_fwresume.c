/*
 * The fwresume adapter through the engine seam (engine.h) alone, on a
 * simulated NOR part with a link of our own: sizing, a download to
 * completion, a resume that claims only what is on flash, the audit, and
 * the API-contract checks the adapter makes (each shown failing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include "engine.h"
#include "sim_flash.h"

#define IMG  (40u * 1024u + 100u) /* a short last block */
#define BS   4096u
#define ES   4096u
#define REC  0x10000u

struct rig {
    const struct engine_ops *ops;
    struct sim_flash *dev;
    struct engine_params p;
    struct engine_env env;
    struct engine_image id;
    uint8_t img[IMG];
    /* the link */
    uint32_t at, left, deliver_max; /* deliver_max: bytes before it stops */
    uint64_t served;
    /* the contract's callbacks */
    uint64_t io_faults;
    int fail_reads; /* the next reads fail with an I/O error */
    char breach[200];
};

static int f_read(void *u, uint32_t a, void *b, uint32_t n)
{
    struct rig *g = u;
    if (g->fail_reads > 0) {
        g->fail_reads--;
        g->io_faults++;
        return SIM_E_READ_FAIL;
    }
    return sim_flash_read(g->dev, a, b, n);
}

static int f_program(void *u, uint32_t a, const void *b, uint32_t n)
{
    return sim_flash_program(((struct rig *)u)->dev, a, b, n);
}

static int f_erase(void *u, uint32_t a, uint32_t n)
{
    return sim_flash_erase(((struct rig *)u)->dev, a, n);
}

static int f_protect(void *u, uint32_t a, uint32_t n, int on)
{
    return sim_flash_protect(((struct rig *)u)->dev, a, n, on != 0);
}

static int f_settled(void *u, uint32_t a, void *b, uint32_t n)
{
    return sim_flash_read_settled(u, a, b, n);
}

static uint32_t l_version(void *u)
{
    return ((struct rig *)u)->id.version;
}

static void l_manifest(void *u, struct engine_image *out)
{
    *out = ((struct rig *)u)->id;
}

static uint32_t l_request(void *u, uint32_t off, uint32_t len)
{
    struct rig *g = u;
    uint64_t room = g->deliver_max > g->served ? g->deliver_max - g->served : 0;
    g->at = off;
    g->left = len < room ? len : (uint32_t)room;
    return g->left;
}

static uint32_t l_receive(void *u, void *buf, uint32_t len)
{
    struct rig *g = u;
    if (len > g->left)
        len = g->left;
    memcpy(buf, g->img + g->at, len);
    g->at += len;
    g->left -= len;
    g->served += len;
    return len;
}

static uint64_t e_now(void *u)
{
    return sim_flash_clock_ns(((struct rig *)u)->dev);
}

static uint64_t e_ops(void *u)
{
    const struct sim_stats *s = sim_flash_stats(((struct rig *)u)->dev);
    return s->reads + s->programs + s->erases;
}

static uint64_t e_io(void *u)
{
    return ((struct rig *)u)->io_faults;
}

static void e_breach(void *u, const char *what)
{
    struct rig *g = u;
    if (!g->breach[0])
        snprintf(g->breach, sizeof(g->breach), "%s", what);
}

static int setup(void **state)
{
    struct rig *g = calloc(1, sizeof(*g));
    struct sim_config cfg;
    uint32_t need = 0, i;

    assert_non_null(g);
    g->ops = engine_find("fwresume");
    assert_non_null(g->ops);
    assert_ptr_equal(g->ops, engine_default());
    assert_int_equal(g->ops->abi, ENGINE_ABI);
    assert_int_equal(sim_preset("w25q128", &cfg), 0);
    cfg.geo.size = 1u << 20;
    assert_int_equal(sim_flash_create(&g->dev, &cfg), 0);
    sim_flash_power_on(g->dev);
    for (i = 0; i < IMG; i++)
        g->img[i] = (uint8_t)(i * 131u + (i >> 9));

    g->p.prog_size = cfg.geo.prog_size;
    g->p.erase_size = ES;
    g->p.erased_value = 0xFF;
    g->p.block_size = BS;
    g->p.hash = ENGINE_HASH_CRC32;
    g->p.digest = ENGINE_HASH_CRC32;
    g->p.image_size = IMG;
    assert_int_equal(g->ops->record_need(&g->p, &need), 0);
    g->p.record_addr = REC;
    g->p.record_size = (need + ES - 1) / ES * ES;
    g->p.mirror_addr = REC + g->p.record_size;
    g->p.data_addr = g->p.mirror_addr + g->p.record_size;
    g->p.data_size = (IMG + ES - 1) / ES * ES;

    g->id.version = 1;
    g->id.size = IMG;
    g->id.digest_kind = ENGINE_HASH_CRC32;
    g->id.digest_len = 4;
    assert_int_equal(digest_buf(ENGINE_HASH_CRC32, g->img, IMG, g->id.digest),
                     0);
    g->id.tag_len = 2;
    memcpy(g->id.tag, "v1", 2);

    g->env.flash.user = g;
    g->env.flash.read = f_read;
    g->env.flash.program = f_program;
    g->env.flash.erase = f_erase;
    g->env.flash.protect = f_protect;
    g->env.link.user = g;
    g->env.link.version = l_version;
    g->env.link.manifest = l_manifest;
    g->env.link.request = l_request;
    g->env.link.receive = l_receive;
    g->env.user = g;
    g->env.now_ns = e_now;
    g->env.flash_ops = e_ops;
    g->env.io_faults = e_io;
    g->env.breach = e_breach;
    g->deliver_max = UINT32_MAX;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct rig *g = *state;
    sim_flash_destroy(g->dev);
    free(g);
    return 0;
}

/* Boot an instance and step it until done, an error or max steps. */
static int run(struct rig *g, void *ctx, int max_steps)
{
    int rc = g->ops->boot(ctx, &g->env), n;
    for (n = 0; !rc && n < max_steps; n++) {
        rc = g->ops->step(ctx);
        if (rc == ENGINE_DONE)
            return ENGINE_DONE;
    }
    return rc;
}

static void test_record_need_and_refusal(void **state)
{
    struct rig *g = *state;
    struct engine_params p = g->p;
    uint32_t need = 0;
    int rc;

    assert_int_equal(g->ops->record_need(&p, &need), 0);
    assert_true(need > 0 && need <= g->p.record_size);
    p.block_size = 3000; /* not a power of two */
    rc = g->ops->record_need(&p, &need);
    assert_true(rc < 0);
    assert_non_null(strstr(g->ops->error_name(rc), "FWR_E_"));
    assert_string_equal(g->ops->error_name(-999), "unknown engine error");
}

static void test_download_resume_audit(void **state)
{
    struct rig *g = *state;
    char err[200] = "", why[200] = "";
    void *a = g->ops->create(&g->p, err, sizeof(err)), *b;
    struct engine_flash peek = {.user = g->dev, .read = f_settled};
    uint64_t prog0;

    assert_non_null(a);
    assert_true(g->ops->ram(a) > 0);
    assert_int_equal(run(g, a, 100), ENGINE_DONE);
    assert_true(g->ops->complete(a));
    assert_int_equal(g->ops->verified(a), 1);
    assert_int_equal(g->served, IMG);
    assert_int_equal(memcmp(sim_flash_raw(g->dev) + g->p.data_addr, g->img,
                            IMG),
                     0);
    assert_int_equal(g->ops->audit(a, &peek, g->img, &g->id, why, sizeof(why)),
                     0);
    /* The audit is not a rubber stamp: these records are not those of an
     * image one bit apart (its own buffer: images are hashed once each). */
    {
        uint8_t *other = malloc(IMG);
        assert_non_null(other);
        memcpy(other, g->img, IMG);
        other[5000] ^= 1;
        assert_int_equal(
            g->ops->audit(a, &peek, other, &g->id, why, sizeof(why)), -1);
        assert_non_null(strstr(why, "BLOCK(1) records a hash"));
        free(other);
    }

    /* A second instance (fresh RAM) boots to a finished image: it claims
     * every block, programs nothing, downloads nothing. */
    b = g->ops->create(&g->p, err, sizeof(err));
    assert_non_null(b);
    prog0 = sim_flash_stats(g->dev)->programs;
    assert_int_equal(run(g, b, 10), ENGINE_DONE);
    assert_int_equal(g->served, IMG);
    assert_int_equal(sim_flash_stats(g->dev)->programs, prog0);
    assert_int_equal(g->ops->resumed(b), (IMG + BS - 1) / BS);
    assert_true(g->ops->claims(b, 10 * BS, IMG - 10 * BS));
    assert_string_equal(g->breach, "");
    g->ops->reset(a);
    assert_int_equal(g->ops->verified(a), 0);
    g->ops->destroy(a);
    g->ops->destroy(b);
}

static void test_resume_claims_what_is_on_flash(void **state)
{
    struct rig *g = *state;
    char err[200] = "";
    void *a = g->ops->create(&g->p, err, sizeof(err));
    void *b = g->ops->create(&g->p, err, sizeof(err));

    /* The link gives three and a half blocks, then nothing. */
    g->deliver_max = 3 * BS + BS / 2;
    assert_int_equal(run(g, a, 20), ENGINE_MORE);
    assert_false(g->ops->complete(a));
    g->deliver_max = UINT32_MAX;
    assert_int_equal(g->ops->boot(b, &g->env), 0);
    assert_int_equal(g->ops->resumed(b), 3);
    assert_true(g->ops->claims(b, 2 * BS, BS));
    assert_false(g->ops->claims(b, 3 * BS, BS));
    assert_false(g->ops->claims(b, 9 * BS, BS));
    /* The rest only: what is left of the image plus the half block. */
    assert_int_equal(run(g, b, 100), ENGINE_DONE);
    assert_int_equal(g->served, IMG + BS / 2);
    assert_string_equal(g->breach, "");
    g->ops->destroy(a);
    g->ops->destroy(b);
}

/* A read the harness failed makes the call return the engine's I/O error,
 * and the adapter sees no breach. */
static void test_read_error_reported(void **state)
{
    struct rig *g = *state;
    char err[200] = "";
    void *a = g->ops->create(&g->p, err, sizeof(err));

    g->fail_reads = 1;
    assert_int_equal(g->ops->boot(a, &g->env), g->ops->err_io);
    assert_string_equal(g->breach, "");
    g->ops->destroy(a);
}

/* An io_faults that grows on every query: to the adapter, a read failed
 * under every call. */
static uint64_t e_io_growing(void *u)
{
    return ++((struct rig *)u)->io_faults;
}

/* The check can fail: the harness says a read failed under the call, yet
 * the call succeeded (as an engine that swallowed an I/O error would). */
static void test_hidden_io_error_is_a_breach(void **state)
{
    struct rig *g = *state;
    char err[200] = "";
    void *a = g->ops->create(&g->p, err, sizeof(err));

    g->env.io_faults = e_io_growing;
    assert_int_equal(g->ops->boot(a, &g->env), 0);
    assert_string_equal(g->breach,
                        "a read failed with an I/O error under fwr_begin, "
                        "which returned 0 (FWR_E_IO expected)");
    g->ops->destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_need_and_refusal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_download_resume_audit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resume_claims_what_is_on_flash,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_error_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hidden_io_error_is_a_breach,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

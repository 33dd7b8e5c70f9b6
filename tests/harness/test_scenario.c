/*
 * Scenario files: every shipped scenario parses; defaults and units; each
 * class of mistake gives exactly "file:line: section.key: reason" (bad
 * files are written to a temporary folder); --set overrides; image files.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"
#include "tmpdir.h"

/* Parse text from bad.ini; the error must be exactly "<path>:" + want. */
static void expect_error(const char *text, const char *want)
{
    struct scenario sc;
    char err[512], full[1024];
    const char *p = tmpdir_write("bad.ini", text);
    snprintf(full, sizeof(full), "%s%s", p, want);
    assert_true(scenario_load(&sc, p, err, sizeof(err)) < 0);
    assert_string_equal(err, full);
    scenario_free(&sc);
}

static int load_ok(struct scenario *sc, const char *text)
{
    char err[512];
    int rc = scenario_load(sc, tmpdir_write("ok.ini", text), err, sizeof(err));
    if (rc)
        print_error("unexpected: %s\n", err);
    return rc;
}

/* ------------------------------------------------------------ library */

/* A campaign file (scenarios/campaign-*.ini but the base) has a
 * [campaign] section: `fotasim campaign` reads it, test_campaign tests it. */
static int is_campaign(const char *path)
{
    char line[256];
    int is = 0;
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while (!is && fgets(line, sizeof(line), fp))
        is = !strncmp(line, "[campaign]", 10);
    fclose(fp);
    return is;
}

static int parse_dir(const char *dir, int shipped)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        struct scenario sc;
        char p[1024], err[512];
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".ini"))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (is_campaign(p))
            continue;
        if (scenario_load(&sc, p, err, sizeof(err)))
            fail_msg("%s", err);
        if (shipped) { /* fotasim list shows both */
            assert_string_not_equal(sc.name, "unnamed");
            assert_true(strlen(sc.description) > 10);
        }
        assert_non_null(sc.text);
        scenario_free(&sc);
        n++;
    }
    closedir(d);
    return n;
}

static void test_every_shipped_scenario_parses(void **state)
{
    (void)state;
    assert_true(parse_dir(SCENARIO_DIR, 1) >= 9);
    parse_dir(TEST_SCENARIO_DIR, 0);
}

static void test_reference_scenario(void **state)
{
    struct scenario sc;
    struct scenario_layout l;
    char err[512];
    (void)state;
    assert_int_equal(
        scenario_load(&sc, SCENARIO_DIR "/nor-1m-4k.ini", err, sizeof(err)), 0);
    assert_string_equal(sc.name, "nor-1m-4k");
    assert_string_equal(sc.preset, "w25q128");
    assert_int_equal(sc.image.size, 1u << 20);
    assert_int_equal(sc.engine.block_size, 4096);
    assert_int_equal(sc.engine.hash, FWR_HASH_CRC32);
    assert_int_equal(sc.engine.verify, FWR_VERIFY_FULL);
    assert_true(sc.engine.mirror);
    assert_int_equal(sc.cuts.strategy, CUT_EXHAUSTIVE);
    assert_int_equal(sc.cuts.depth, 1);
    assert_int_equal(sc.device.faults.torn_mode, SIM_TORN_RANDOM);
    assert_true(sc.device.faults.unstable_fraction > 0);
    assert_int_equal(scenario_layout(&sc, &l, err, sizeof(err)), 0);
    assert_true(l.part_hi <= sc.device.geo.size);
    assert_int_equal(l.data_addr % sc.device.geo.erase_size, 0);
    scenario_free(&sc);
}

/* ------------------------------------------------------------ values */

static void test_defaults(void **state)
{
    struct scenario sc;
    (void)state;
    assert_int_equal(load_ok(&sc, "[scenario]\nseed = 1\n"), 0);
    assert_string_equal(sc.name, "unnamed");
    assert_string_equal(sc.preset, "w25q128");
    assert_int_equal(sc.image.size, 1u << 20);
    assert_int_equal(sc.engine.block_size, 4096);
    assert_int_equal(sc.engine.hash, FWR_HASH_CRC32);
    assert_int_equal(sc.engine.digest, FWR_HASH_CRC32);
    assert_int_equal(sc.engine.verify, FWR_VERIFY_FULL);
    assert_true(sc.engine.mirror);
    assert_int_equal(sc.engine.record_size, 0);
    assert_int_equal(sc.engine.partition_addr, 0);
    assert_int_equal(sc.cuts.strategy, CUT_EXHAUSTIVE);
    assert_int_equal(sc.cuts.depth, 1);
    assert_int_equal(sc.cuts.max_boots, 16);
    assert_int_equal(sc.seed, 1);
    assert_false(sc.expect.allow_detected_failure);
    scenario_free(&sc);
}

static void test_units(void **state)
{
    static const struct {
        const char *v;
        uint32_t want;
    } sizes[] = {{"1048576", 1048576}, {"1M", 1048576},  {"1MiB", 1048576},
                 {"4K", 4096},         {"64KiB", 65536}, {"0x10000", 65536},
                 {"8k", 8192}};
    struct scenario sc;
    char text[256];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(text, sizeof(text), "[image]\nsize = %s\n", sizes[i].v);
        assert_int_equal(load_ok(&sc, text), 0);
        assert_int_equal(sc.image.size, sizes[i].want);
        scenario_free(&sc);
    }
    assert_int_equal(load_ok(&sc, "[link]\nbandwidth = 250kbit\n"
                                  "latency = 10ms\ndrop_rate = 0.1\n"
                                  "change_after = 300K\n"
                                  "[faults]\ninitial_wear = 0.95\n"
                                  "wear = fail\n[cuts]\nstrategy = every\n"
                                  "every = 7\ndepth = 3\n"),
                     0);
    assert_int_equal(sc.link.bandwidth_bps, 31250);
    assert_int_equal(sc.link.latency_ns, 10000000);
    assert_true(sc.link.drop_rate > 0.09 && sc.link.drop_rate < 0.11);
    assert_int_equal(sc.link.change_after, 300 * 1024);
    assert_true(sc.device.faults.initial_wear > 0.94);
    assert_int_equal(sc.device.faults.wear_mode, SIM_WEAR_FAIL);
    assert_int_equal(sc.cuts.strategy, CUT_EVERY);
    assert_int_equal(sc.cuts.every, 7);
    assert_int_equal(sc.cuts.depth, 3);
    scenario_free(&sc);
    assert_int_equal(load_ok(&sc, "[link]\nbandwidth = 2M\nlatency = 250us\n"),
                     0);
    assert_int_equal(sc.link.bandwidth_bps, 2u << 20);
    assert_int_equal(sc.link.latency_ns, 250000);
    scenario_free(&sc);
}

static void test_repeated_key_last_wins_and_text_kept(void **state)
{
    struct scenario sc;
    const char *text = "[engine]\nblock_size = 4K\n[engine]\nblock_size = 8K\n";
    (void)state;
    /* fotasim run --set appends sections like this to the stored text. */
    assert_int_equal(load_ok(&sc, text), 0);
    assert_int_equal(sc.engine.block_size, 8192);
    assert_string_equal(sc.text, text);
    scenario_free(&sc);
}

/* ------------------------------------------------------------ errors */

static void test_error_unknown_key_and_section(void **state)
{
    (void)state;
    expect_error("[engine]\nblock_size = 4K\nblok = 3\n",
                 ":3: engine.blok: unknown key");
    expect_error("\n[engin]\nblock_size = 4K\n",
                 ":3: engin.block_size: unknown section [engin] (one of "
                 "scenario|device|image|engine|link|faults|cuts|expect)");
    expect_error("[device]\npreset = w25q64\n",
                 ":2: device.preset: unknown preset 'w25q64' (one of "
                 "w25q128|stm32f4-internal|w25n01gv|mt29f-slc)");
}

static void test_error_bad_values(void **state)
{
    (void)state;
    expect_error("[image]\n\nsize = lots\n",
                 ":3: image.size: 'lots' is not a size or count (4096, 4K, "
                 "1MiB, 0x1000)");
    expect_error("[image]\nsize = 4X\n",
                 ":2: image.size: '4X' is not a size or count (4096, 4K, "
                 "1MiB, 0x1000)");
    expect_error("[image]\nsize = 99999999999999999999\n",
                 ":2: image.size: '99999999999999999999' is not a size or "
                 "count (4096, 4K, 1MiB, 0x1000)");
    expect_error("[image]\nsize = 8G\n",
                 ":2: image.size: '8G' is out of range (1 to 256M)");
    expect_error("[link]\nlatency = soon\n",
                 ":2: link.latency: 'soon' is not a duration (250us, 3ms, "
                 "2s)");
    expect_error("[link]\nbandwidth = fast\n",
                 ":2: link.bandwidth: 'fast' is not a bandwidth (1M, 250K, "
                 "2Mbit)");
    expect_error("[engine]\nmirror = maybe\n",
                 ":2: engine.mirror: 'maybe' is not yes or no");
    expect_error("[engine]\nblock_size =\n", ":2: engine.block_size: no value");
}

static void test_error_bad_enum(void **state)
{
    (void)state;
    expect_error("[faults]\ntorn = sometimes\n",
                 ":2: faults.torn: 'sometimes' is not one of "
                 "none|all|prefix|random|faint");
    expect_error("[engine]\nhash = sha1\n",
                 ":2: engine.hash: 'sha1' is not one of "
                 "none|crc32|md5|sha256");
    expect_error("[cuts]\nstrategy = all\n",
                 ":2: cuts.strategy: 'all' is not one of "
                 "exhaustive|random|logspaced|every");
    expect_error("[faults]\nwear = bad\n",
                 ":2: faults.wear: 'bad' is not one of "
                 "none|fail|stuck|badblock");
}

static void test_error_out_of_range(void **state)
{
    (void)state;
    expect_error("[cuts]\ndepth = 5\n",
                 ":2: cuts.depth: '5' is out of range (1 to 4)");
    expect_error("[cuts]\ndepth = 0\n",
                 ":2: cuts.depth: '0' is out of range (1 to 4)");
    expect_error("[link]\ndrop_rate = 1.5\n",
                 ":2: link.drop_rate: '1.5' is out of range (0 to 0.95)");
    expect_error("[faults]\ninitial_wear = -0.1\n",
                 ":2: faults.initial_wear: '-0.1' is out of range (0 to 2)");
    expect_error("[device]\nnop = 300\n",
                 ":2: device.nop: '300' is out of range (0 to 16)");
    expect_error("[cuts]\nstrategy = random\ncount = 0\n",
                 ":3: cuts.count: must be > 0 for random");
    expect_error("[cuts]\nmax_boots = 0\n",
                 ":2: cuts.max_boots: '0' is out of range (1 to 1000)");
}

static void test_error_geometry_names_the_key_line(void **state)
{
    (void)state;
    /* block_size on line 4 is blamed, not the last line read. */
    expect_error("[device]\nprog_size = 16\n[engine]\nblock_size = 1000\n"
                 "mirror = yes\n",
                 ":4: engine.block_size: 1000 is not a power of two");
    expect_error("[device]\nprog_size = 16\n[engine]\nblock_size = 8\n",
                 ":4: engine.block_size: 8 is not a multiple of the "
                 "device's program unit (16)");
    /* block_size left at its default: the key the file did set. */
    expect_error("[device]\nprog_size = 3\nerase_size = 3072\nsize = 3M\n",
                 ":2: device.prog_size: the engine needs power-of-two "
                 "program and erase units (3, 3072)");
    expect_error("[device]\nerase_size = 3000\n",
                 ":2: device.erase_size: the engine needs power-of-two "
                 "program and erase units (1, 3000)");
    expect_error("[device]\nsize = 4100K\nerase_size = 8K\n",
                 ":2: device.size: 4198400 is not a whole number of "
                 "8192-byte erase units");
    expect_error("[engine]\nwrite_size = 8K\n",
                 ":2: engine.write_size: 8192 is not a power of two from "
                 "the program unit (1) to the block size (4096)");
    expect_error("[engine]\nwrite_size = 384\n",
                 ":2: engine.write_size: 384 is not a power of two from "
                 "the program unit (1) to the block size (4096)");
    expect_error("[engine]\ndigest = none\nverify = trusted\nmirror = no\n",
                 ":3: engine.verify: trusted needs an image digest "
                 "(engine.digest)");
    expect_error("[engine]\nhash = none\n", ":2: engine.hash: blocks need a "
                                            "hash");
}

static void test_error_does_not_fit(void **state)
{
    (void)state;
    expect_error("[device]\npreset = w25q128\nsize = 1M\n[image]\nsize = 4M\n",
                 ":5: image.size: image 4194304 bytes + record areas 2x36864 "
                 "do not fit the 1048576-byte device from 0x0");
    /* Only the device was shrunk: it is the one named. */
    expect_error("[device]\nsize = 1M\n",
                 ":2: device.size: image 1048576 bytes + record areas 2x12288 "
                 "do not fit the 1048576-byte device from 0x0");
    expect_error("[device]\nsize = 2M\n[engine]\npartition_addr = 1M\n",
                 ":4: engine.partition_addr: image 1048576 bytes + record "
                 "areas 2x12288 do not fit the 2097152-byte device from "
                 "0x100000");
    expect_error("[engine]\nrecord_size = 4K\n",
                 ":2: engine.record_size: 4096 bytes; the engine needs 8192 "
                 "for 256 blocks");
}

static void test_error_syntax_and_long_line(void **state)
{
    char text[600];
    (void)state;
    expect_error("[engine]\nblock_size = 4K\nthis is not ini\n",
                 ":3: syntax: expected [section] or key = value");
    expect_error("[engine\nblock_size = 4K\n",
                 ":1: syntax: expected [section] or key = value");
    expect_error("block_size = 4K\n", ":1: block_size: key before any "
                                      "[section]");
    snprintf(text, sizeof(text), "[scenario]\n; fine\ndescription = %0300d\n",
             0);
    expect_error(text, ":3: scenario.description: line longer than 198 "
                       "characters");
}

static void test_error_missing_files(void **state)
{
    struct scenario sc;
    char err[512], want[700];
    const char *path = tmpdir_path("none.ini");
    (void)state;
    assert_true(scenario_load(&sc, path, err, sizeof(err)) < 0);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
             path);
    assert_string_equal(err, want);

    snprintf(want, sizeof(want),
             ":2: image.file: cannot open %s: No such file or directory",
             tmpdir_path("nope.bin"));
    expect_error("[image]\nfile = nope.bin\n", want);
}

static void test_image_file_relative_and_sized(void **state)
{
    struct scenario sc;
    char err[512], want[700], bin[600];
    FILE *fp;
    (void)state;
    snprintf(bin, sizeof(bin), "%s", tmpdir_path("fw.bin"));
    fp = fopen(bin, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 100000; i++)
        fputc(i * 7, fp);
    fclose(fp);
    assert_int_equal(load_ok(&sc, "[image]\nfile = fw.bin\n"), 0);
    assert_string_equal(sc.image.file, bin);
    assert_int_equal(sc.image.size, 100000); /* from the file */
    scenario_free(&sc);
    snprintf(want, sizeof(want),
             ":3: image.size: 200000 bytes, but %s holds only 100000", bin);
    expect_error("[image]\nfile = fw.bin\nsize = 200000\n", want);
    (void)err;
}

/* ------------------------------------------------------------ --set */

static void test_layout_fits_and_aligns(void **state)
{
    struct scenario sc;
    struct scenario_layout l;
    char err[512];
    const char *p = tmpdir_write(
        "mcu.ini", "[device]\npreset = stm32f4-internal\n[image]\nsize = "
                   "384K\n[engine]\nblock_size = 16K\npartition_addr = 128K\n");
    (void)state;
    assert_int_equal(scenario_load(&sc, p, err, sizeof(err)), 0);
    assert_int_equal(scenario_layout(&sc, &l, err, sizeof(err)), 0);
    assert_int_equal(l.record_addr, 128 * 1024);
    assert_int_equal(l.record_addr % (128 * 1024), 0);
    assert_int_equal(l.mirror_addr, l.record_addr + l.record_size);
    assert_int_equal(l.data_addr % (128 * 1024), 0);
    assert_true(l.part_hi <= (1u << 20));
    scenario_free(&sc);
}

static void test_set_overrides(void **state)
{
    struct scenario sc;
    char err[512];
    (void)state;
    assert_int_equal(load_ok(&sc, "[image]\nsize = 64K\n"), 0);
    assert_int_equal(
        scenario_set(&sc, "engine.block_size=1K", err, sizeof(err)), 0);
    assert_int_equal(sc.engine.block_size, 1024);
    assert_int_equal(
        scenario_set(&sc, "cuts.strategy=random", err, sizeof(err)), 0);
    assert_int_equal(sc.cuts.strategy, CUT_RANDOM);

    assert_true(scenario_set(&sc, "engine.block_size=lots", err, sizeof(err)) <
                0);
    assert_string_equal(err, "--set engine.block_size: 'lots' is not a size "
                             "or count (4096, 4K, 1MiB, 0x1000)");
    assert_true(scenario_set(&sc, "engine.nope=1", err, sizeof(err)) < 0);
    assert_string_equal(err, "--set engine.nope: unknown key");
    assert_true(scenario_set(&sc, "blocksize", err, sizeof(err)) < 0);
    assert_string_equal(err, "--set blocksize: expected section.key=value");
    assert_true(scenario_set(&sc, "image.size=64M", err, sizeof(err)) < 0);
    assert_string_equal(err, "--set image.size: image 67108864 bytes + record "
                             "areas 2x1974272 do not fit the 4194304-byte "
                             "device from 0x0");
    /* A --set that breaks another key names both. */
    assert_true(scenario_set(&sc, "device.prog_size=3", err, sizeof(err)) < 0);
    assert_string_equal(err, "--set device.prog_size: the engine needs "
                             "power-of-two program and erase units (3, "
                             "4096)");
    /* Refused values leave the scenario as it was. */
    assert_int_equal(sc.device.geo.prog_size, 1);
    assert_int_equal(sc.image.size, 65536);
    assert_int_equal(sc.engine.block_size, 1024);
    scenario_free(&sc);
}

static void test_load_text_as_stored(void **state)
{
    struct scenario a, b;
    char err[512];
    (void)state;
    assert_int_equal(
        scenario_load(&a, SCENARIO_DIR "/flaky-link.ini", err, sizeof(err)), 0);
    assert_int_equal(scenario_load_text(&b, a.text, a.path, err, sizeof(err)),
                     0);
    assert_string_equal(a.name, b.name);
    assert_memory_equal(&a.link, &b.link, sizeof(a.link));
    assert_memory_equal(&a.engine, &b.engine, sizeof(a.engine));
    assert_memory_equal(&a.cuts, &b.cuts, sizeof(a.cuts));
    assert_int_equal(a.seed, b.seed);
    scenario_free(&b);
    assert_true(scenario_load_text(&b, "[cuts]\ndepth = 9\n", "stored", err,
                                   sizeof(err)) < 0);
    assert_string_equal(err, "stored:2: cuts.depth: '9' is out of range (1 to "
                             "4)");
    scenario_free(&a);
}

/* Each hostile value from the input audit: a clear error naming the key
 * and line, never a crash, a hang or a silent wrong value. */
static void test_hostile_values(void **state)
{
    (void)state;
    expect_error("[device]\npage_size = 0\n",
                 ":2: device.page_size: '0' is out of range (1 to 64K)");
    expect_error("[device]\npage_size = 3\n",
                 ":2: device.page_size: 3 is not a multiple of the program "
                 "unit (1) that divides the erase unit");
    expect_error("[device]\npreset = w25n01gv\nfactory_bad = 4294967294\n",
                 ":3: device.factory_bad: '4294967294' is out of range (0 to "
                 "64K)");
    expect_error("[device]\npreset = w25n01gv\nfactory_bad = 600\n",
                 ":3: device.factory_bad: 600 bad blocks of 1024: at most "
                 "half the part may be bad");
    expect_error("[device]\nsize = 0xFFFFF000\n",
                 ":2: device.size: '0xFFFFF000' is out of range (1 to 256M)");
    expect_error("[device]\npreset = w25n01gv\nspare_size = 1G\n",
                 ":3: device.spare_size: '1G' is out of range (0 to 64K)");
    expect_error("[device]\npreset = w25n01gv\nspare_size = 4096\n",
                 ":3: device.spare_size: 4096 spare bytes for a 2048-byte "
                 "page");
    expect_error("[device]\npreset = w25n01gv\nprog_size = 512\n",
                 ":3: device.prog_size: 512: NAND programs whole pages "
                 "(page_size 2048)");
    expect_error("[device]\npreset = w25n01gv\necc_codeword = 0\n",
                 ":3: device.ecc_codeword: 0 does not divide the 2048-byte "
                 "page into ECC codewords");
    expect_error("[device]\npreset = stm32f4-internal\nsize = 64M\n",
                 ":3: device.size: 67108864 bytes, but the part's sector map "
                 "covers 1048576");
    expect_error("[link]\nlatency = inf\n",
                 ":2: link.latency: 'inf' is not a duration (250us, 3ms, 2s)");
    expect_error("[link]\nlatency = 1e300s\n",
                 ":2: link.latency: '1e300s' is out of range (0ns to 60s)");
    expect_error("[link]\nbandwidth = nanbit\n",
                 ":2: link.bandwidth: 'nanbit' is not a bandwidth (1M, 250K, "
                 "2Mbit)");
    expect_error("[link]\ndrop_rate = nan\n",
                 ":2: link.drop_rate: 'nan' is not a finite number");
    expect_error("[faults]\nunstable = -nan\n",
                 ":2: faults.unstable: '-nan' is not a finite number");
    expect_error("[faults]\nendurance = 4294967295\ninitial_wear = 2\n",
                 ":2: faults.endurance: '4294967295' is out of range (0 to "
                 "100000000)");
    expect_error("[engine]\nblock_size = 8M\n",
                 ":2: engine.block_size: 8388608 is larger than the "
                 "4194304-byte device");
    expect_error("[cuts]\nnested_count = 1\n",
                 ":2: cuts.nested_count: unknown key");
    expect_error("[engine]\nblock_size = -4K\n",
                 ":2: engine.block_size: '-4K' is not a size or count (4096, "
                 "4K, 1MiB, 0x1000)");
    expect_error("[expect]\nmax_erases = lots\n",
                 ":2: expect.max_erases: 'lots' is not a size or count (4096, "
                 "4K, 1MiB, 0x1000) or auto|off");
}

static void test_silent_acceptance_refused(void **state)
{
    (void)state;
    /* inih would make "seed = 5" part of the description. */
    expect_error("[scenario]\ndescription = d\n  seed = 5\n",
                 ":3: indented line: a value continued on the next line is "
                 "not allowed (remove the leading blanks)");
    expect_error("", ": no settings: the file is empty or holds only "
                     "comments");
    expect_error("; just a comment\n\n# another\n",
                 ": no settings: the file is empty or holds only comments");
    /* A binary file's bytes are shown escaped, not sent to the terminal. */
    expect_error("[engine]\n\x1b[31mkey = 1\n",
                 ":2: engine.\\x1b[31mkey: unknown key");
    expect_error("[scenario]\ndescription = a\x7f\n",
                 ":2: scenario.description: control characters are not "
                 "allowed");
}

static void test_table_words_and_new_keys(void **state)
{
    struct scenario sc;
    struct scenario_layout l;
    char err[512];
    (void)state;
    assert_int_equal(load_ok(&sc, "[image]\nsize = 010K\n[engine]\n"
                                  "record_size = min\n[faults]\n"
                                  "fiu_points = yes\nfail_burst = 2\n"
                                  "fail_burst_after = 7\n[expect]\n"
                                  "max_erases = 300\nmax_programs = off\n"
                                  "max_recover_time = 2s\n"),
                     0);
    assert_int_equal(sc.image.size, 10 * 1024); /* decimal, not octal */
    assert_int_equal(sc.engine.record_size, SCENARIO_RECORD_MIN);
    assert_true(sc.device.faults.fiu_points);
    assert_int_equal(sc.device.faults.fail_burst, 2);
    assert_int_equal(sc.device.faults.fail_burst_after, 7);
    assert_int_equal(sc.expect.max_erases, 300);
    assert_int_equal(sc.expect.max_programs, 0);
    assert_int_equal(sc.expect.max_unit_erases, EXPECT_AUTO);
    assert_int_equal(sc.expect.max_recover_ns, 2000000000ull);
    /* min: exactly the engine's need, rounded to one erase unit here. */
    assert_int_equal(scenario_layout(&sc, &l, err, sizeof(err)), 0);
    assert_int_equal(l.record_size, sc.device.geo.erase_size);
    assert_int_equal(
        scenario_set(&sc, "expect.max_erases=auto", err, sizeof(err)), 0);
    assert_int_equal(sc.expect.max_erases, EXPECT_AUTO);
    scenario_free(&sc);
}

/* The key table is what `fotasim list --keys` prints: every key there,
 * with its range. */
static void test_key_listing(void **state)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    (void)state;
    assert_non_null(mem);
    scenario_print_keys(mem, 1);
    fclose(mem);
    assert_non_null(strstr(buf, "### [device]"));
    assert_non_null(strstr(buf, "| fail_burst | size/count | 0 to 64 |"));
    assert_non_null(strstr(buf, "| max_erases | size/count | 0 to "));
    assert_non_null(
        strstr(buf, "| torn | enum | none\\|all\\|prefix\\|random\\|faint |"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_shipped_scenario_parses),
        cmocka_unit_test(test_reference_scenario),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_repeated_key_last_wins_and_text_kept),
        cmocka_unit_test(test_error_unknown_key_and_section),
        cmocka_unit_test(test_error_bad_values),
        cmocka_unit_test(test_error_bad_enum),
        cmocka_unit_test(test_error_out_of_range),
        cmocka_unit_test(test_error_geometry_names_the_key_line),
        cmocka_unit_test(test_error_does_not_fit),
        cmocka_unit_test(test_error_syntax_and_long_line),
        cmocka_unit_test(test_error_missing_files),
        cmocka_unit_test(test_image_file_relative_and_sized),
        cmocka_unit_test(test_layout_fits_and_aligns),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_load_text_as_stored),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_silent_acceptance_refused),
        cmocka_unit_test(test_table_words_and_new_keys),
        cmocka_unit_test(test_key_listing),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

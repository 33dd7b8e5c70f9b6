/* pipeline: see pipeline.h. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say_db(const struct pipeline *p)
{
    fprintf(stderr, "fotasim: %s\n", db_errmsg(p->db));
}

/* The status of a database error: the wrong file, or the storage. */
static int db_status(int rc)
{
    return rc == DB_E_INPUT ? PIPELINE_INPUT : PIPELINE_STORAGE;
}

int pipeline_begin(struct pipeline *p, struct db *db, const struct scenario *sc,
                   struct torture *t, const struct pipeline_opts *o)
{
    struct db_run_info info;
    const struct shard *sh = &o->shard;
    uint64_t id;
    int rc;

    memset(p, 0, sizeof(*p));
    p->db = db;
    p->sc = sc;
    p->t = t;
    p->o = *o;
    rc = o->resume ? db_run_find_resumable(db, sc, sh->index, sh->count, &info)
                   : 0;
    if (rc < 0) {
        say_db(p);
        return db_status(rc);
    }
    if (o->resume && rc == 0) {
        /* Starting over would look like resuming: a finished run has
         * nothing left to run, and the user asked for that run. */
        int f = db_run_find_finished(db, sc, sh->index, sh->count,
                                     &p->finished_run, &p->finished_status);
        if (f < 0) {
            say_db(p);
            return db_status(f);
        }
        if (f == 1)
            return PIPELINE_INPUT;
        p->none_to_resume = 1;
    }
    p->skip = calloc(torture_planned(t) + 1, 1);
    p->worst = calloc(torture_unit_count(t) + 1, 4);
    if (!p->skip || !p->worst) {
        fprintf(stderr, "fotasim: out of memory\n");
        return PIPELINE_NOMEM;
    }
    if (rc == 1) {
        /* Skip what the database holds: with -j or shards the committed
         * trials need not be a prefix. */
        if ((rc = db_trials_done(db, info.run_id, p->skip, torture_planned(t),
                                 &p->done_before))) {
            say_db(p);
            return db_status(rc);
        }
        p->resumed = 1;
    } else if ((rc = db_run_begin(db, sc, torture_boundaries(t),
                                  torture_planned(t), &info)) ||
               (sh->count > 1 &&
                (rc = db_run_set_shard(db, info.run_id, sh->index,
                                       sh->count)))) {
        say_db(p);
        return db_status(rc);
    }
    p->run_id = info.run_id;
    for (id = 0; id < torture_planned(t); id++)
        p->planned += id % sh->count == sh->index && !p->skip[id];
    return PIPELINE_PASSED;
}

static int sink(void *user, const struct trial *t)
{
    struct pipeline *p = user;
    int rc = db_trial_add(p->db, p->run_id, t);
    if (rc) {
        /* The message names the file and the cause. The run stops here:
         * it cannot be complete. */
        say_db(p);
        if (!p->storage_rc)
            p->storage_rc = rc;
        return 1;
    }
    return p->o.on_trial ? p->o.on_trial(p->o.user, t, p->run_id) : 0;
}

/* Record the run's end. On an error, print it and, when passed or failed
 * was asked for, try to leave the run resumable (interrupted). Returns
 * first (an error already met) or this one. */
static int end_run(struct pipeline *p, enum db_run_status st, int first)
{
    int rc = db_run_end(p->db, p->run_id, st);
    if (!rc)
        return first;
    say_db(p);
    if (st != RUN_INTERRUPTED)
        db_run_end(p->db, p->run_id, RUN_INTERRUPTED);
    return first ? first : rc;
}

int pipeline_run(struct pipeline *p)
{
    struct torture *t = p->t;
    uint32_t u;
    int rc, store, wear_rc;

    rc = workers_run(t, p->o.jobs, p->o.shard, p->skip, sink, p, &p->res,
                     p->worst);
    p->torture_rc = rc;
    /* Any storage failure ends the run with PIPELINE_STORAGE. The wear
     * goes in even after a failed insert: a resumed run merges its own
     * into it (db_wear_add keeps the worst), so it must hold what this
     * part saw. */
    store = p->storage_rc;
    for (u = 0, wear_rc = 0; u < torture_unit_count(t); u++) {
        if (p->worst[u] > p->worst_unit_erases)
            p->worst_unit_erases = p->worst[u];
        if (!wear_rc && (torture_update_erases(t, u) || p->worst[u])) {
            wear_rc = db_wear_add(p->db, p->run_id, u,
                                  torture_update_erases(t, u), p->worst[u]);
            if (wear_rc) {
                say_db(p);
                store = store ? store : wear_rc;
            }
        }
    }
    if (torture_stop_requested())
        return end_run(p, RUN_INTERRUPTED, store) ? PIPELINE_STORAGE
                                                  : PIPELINE_INTERRUPTED;
    if (store) {
        /* Not passed, and left resumable. */
        end_run(p, RUN_INTERRUPTED, store);
        return PIPELINE_STORAGE;
    }
    if (rc) {
        fprintf(stderr, "fotasim: run failed (error %d)\n", rc);
        return end_run(p, RUN_FAILED, 0) ? PIPELINE_STORAGE : PIPELINE_FAILED;
    }
    /* db_run_end refuses passed unless every trial of the slice is
     * committed. */
    rc = p->res.failed ? PIPELINE_FAILED : PIPELINE_PASSED;
    if (end_run(p, rc ? RUN_FAILED : RUN_PASSED, 0))
        return PIPELINE_STORAGE;
    return rc;
}

void pipeline_free(struct pipeline *p)
{
    free(p->skip);
    free(p->worst);
    p->skip = NULL;
    p->worst = NULL;
}

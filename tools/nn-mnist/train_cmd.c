/*
 * `nn-mnist train`: one model, trained with the recommended recipe unless told otherwise, saved where
 * `nn-mnist predict` looks for it (models/digits.nnm).
 *
 * The run works in a folder of its own beside the destination, DIR/.NAME.train/, which holds its
 * checkpoints and its lock: an interrupted train resumes when the same command is run again, two
 * trains of one file refuse each other, and a grid in DIR is not disturbed. Only a finished,
 * non-diverged model replaces the destination, by a rename, so a failed or killed run never costs
 * the model that was there.
 */
#define _POSIX_C_SOURCE 200809L
#include "train_cmd.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nn/nn.h>

#include "augment.h"
#include "fsutil.h"
#include "options.h"
#include "scheduler.h"
#include "progress.h"
#include "record.h"
#include "fonts.h"
#include "pieces.h"
#include "reject.h"
#include "split.h"

#define DEFAULT_SAVE "models/digits.nnm"

static atomic_int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, 1);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nn-mnist train [options]\n\n"
            "Train one model and save it: by default the recipe recommended for reading real handwriting\n"
            "with 'nn-mnist predict': Keras' MNIST convnet with a dense layer of 256 before its output\n"
            "(--arch reader), Adam, relu, training images shifted, rotated, scaled, slanted, thickened and\n"
            "thinned (--augment=handwriting), with the digits of 45 installed fonts beside MNIST's (--fonts),\n"
            "what is not one digit as an 11th class (--reject), the pieces its reader cuts from strings of\n"
            "digits (--pieces), the fonts' letters and signs as text, a 12th class (--letters), and a cosine\n"
            "learning-rate schedule, 20 epochs of 128 images.\n"
            "Interrupted, the same command resumes where it stopped; the file under --save is replaced only\n"
            "by a finished model.\n\n"
            "  --save FILE         where the model goes [" DEFAULT_SAVE "]\n"
            "  --arch ARCH         reader [the default], cnn (Keras' convnet alone), mlp, or a list of\n"
            "                      layers (see nn-mnist grid --help)\n"
            "  --activation NAME   activation of the hidden layers [relu]\n"
            "  --optimizer NAME    sgd, adam, adamw, rmsprop or adagrad [adam]\n"
            "  --hidden SIZES      mlp: hidden layer sizes [128]\n"
            "  --dropout RATE      mlp: dropout after each hidden layer [0]\n"
            "  --batchnorm         mlp: batch norm in each hidden layer [off]\n"
            "  --epochs N          [20; 10 with --arch mlp]\n"
            "  --batch-size N      [128; 32 with --arch mlp]\n"
            "  --lr RATE           learning rate [the optimizer's Keras default]\n"
            "  --lr-schedule NAME  cosine or constant [cosine]\n"
            "  --augment[=KIND]    light: only shifts and rotations [handwriting] (see grid --help)\n"
            "  --no-augment        train on the images as they are\n"
            "  --reject SHARE      replace SHARE (0 to 0.5) of the dataset's training images (never the\n"
            "                      fonts' digits) by shapes that are not one digit (two touching, part of\n"
            "                      one), an 11th class with which 'nn-mnist predict' cuts touching digits\n"
            "                      apart [0.25 on mnist, else 0]\n"
            "  --no-reject         10 classes only, as the study's models\n"
            "  --fonts SHARE       add the digits of 45 fonts, where installed (handwriting, script and\n"
            "                      print; none of bench-digits'): other writers' shapes than MNIST's,\n"
            "                      SHARE (0 to 0.5) of the images trained on [0.09 on mnist, else 0]\n"
            "  --no-fonts          MNIST's writers only\n"
            "  --pieces SHARE      compose strings of the digits trained on, cut them as 'nn-mnist predict'\n"
            "                      would, and teach the pieces that are one digit as that digit and the\n"
            "                      others as not one (--reject's class): SHARE (0 to 0.5) of MNIST's\n"
            "                      images of each kind, half as many from the fonts' strings [0.1 on mnist\n"
            "                      with --reject, else 0]\n"
            "  --no-pieces         whole digits only\n");
    /* In two parts: ISO C asks compilers for string literals of 4095 characters at most. */
    fputs("  --letters SHARE     add the letters and signs of the same fonts that look like no digit\n"
          "                      (A, E, h, k, x, $, %, /, parentheses...) as text, a 12th class, SHARE (0 to\n"
          "                      0.2) of MNIST's images: 'nn-mnist predict' then leaves out a printed\n"
          "                      label, a name or a street beside the digits [0.06 on mnist with\n"
          "                      --reject, else 0]\n"
          "  --no-letters        digits and \"not one digit\" only (11 classes)\n"
          "  --validation SHARE  hold out SHARE (0 to 0.9) of the training images, the same from each\n"
          "                      class: the epochs report on it and --patience stops on it [0: none]\n"
          "  --patience N        stop after N epochs without a lower validation loss, keeping the best\n"
          "                      epoch's weights [off]\n"
          "  --seed N            seed of weights, shuffling, augmentation and the split [42]\n"
          "  --dataset NAME      mnist or fashion-mnist [mnist]\n"
          "  --data-dir DIR      folder holding the four IDX files [$NN_DATA_DIR/<dataset>, ./data/<dataset>]\n"
          "  --mirror URL        base URL to download MNIST from [$NN_MNIST_MIRROR, public mirrors]\n"
          "  --no-download       fail instead of downloading missing data\n"
          "  --threads N         BLAS threads [the number of cores]\n"
          "  --train-limit N     use only the first N training images [all]\n"
          "  --test-limit N      use only the first N test images [all]\n"
          "  -q, --quiet         no progress output\n"
          "  -h, --help          this text\n",
          f);
}

/* Splits the destination into its folder and its name less ".nnm" (the run's id). */
static int split_destination(const char *save, char *dir, size_t dlen, char *id, size_t ilen, char *err,
                             size_t errlen)
{
    const char *slash = strrchr(save, '/');
    const char *base = slash ? slash + 1 : save;
    size_t n = strlen(base), ext = strlen(NN_MODEL_FILE_EXT);
    if (n > ext && !strcmp(base + n - ext, NN_MODEL_FILE_EXT)) n -= ext;
    if (n == 0 || !strcmp(base, ".") || !strcmp(base, "..")) {
        snprintf(err, errlen, "--save %s: give a file name, e.g. %s", save, DEFAULT_SAVE);
        return -1;
    }
    if (n >= ilen || (slash && (size_t)(slash - save) + 1 >= dlen)) {
        snprintf(err, errlen, "--save %s: path too long", save);
        return -1;
    }
    snprintf(id, ilen, "%.*s", (int)n, base);
    if (!slash) snprintf(dir, dlen, ".");
    else if (slash == save) snprintf(dir, dlen, "/");
    else snprintf(dir, dlen, "%.*s", (int)(slash - save), save);
    return 0;
}

static void set_recipe_defaults(nnm_config *c)
{
    char err[256];
    nnm_config_defaults(c);
    snprintf(c->activations[0], NNM_MAX_NAME, "relu");
    snprintf(c->optimizers[0], NNM_MAX_NAME, "adam");
    c->n_activations = c->n_optimizers = 1;
    /* The parser gives train's non-MLP architecture 20 epochs of 128 unless told otherwise. */
    if (nnm_arch_parse(&c->arch, "reader", err, sizeof err) != 0) abort(); /* a constant spelling */
    c->augment = NNM_AUGMENT_HANDWRITING;
    c->reject = -1; /* the dataset's default, once it is known */
    c->fonts = -1;
    c->pieces = -1;
    c->letters = -1;
    c->lr_schedule = NNM_LR_COSINE;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cores > 0 ? (int)(cores < 64 ? cores : 64) : 1;
    c->jobs = 1;
}

/* train --pieces: the reader's own pieces (pieces.h) after the fonts' digits, from strings of the
 * MNIST digits trained on (never the validation split's) and of the fonts when they are trained on. */
static int add_pieces(const nnm_config *c, nn_dataset **train, int64_t n_train, nnm_pieces_info *info, char *err,
                      size_t errlen)
{
    uint32_t *fit = NULL, *val = NULL;
    int64_t n_fit = n_train, n_val = 0;
    if (c->validation > 0 &&
        nnm_split_stratified(*train, n_train, c->validation, c->split_seed, &fit, &n_fit, &val, &n_val, err, errlen) != 0)
        return -1;
    nnm_glyph_set glyphs = {0};
    int rc = c->fonts > 0 ? nnm_fonts_glyphs(&glyphs, err, errlen) : 1;
    if (rc >= 0) {
        if (!c->quiet) fprintf(stderr, "nn-mnist train: composing strings and cutting them as the reader would\n");
        nn_dataset *with = NULL;
        const int64_t per_kind = llround((double)c->pieces * (double)n_fit);
        rc = nnm_pieces_dataset(&with, *train, fit, n_fit, per_kind > 0 ? per_kind : 1, rc == 0 ? &glyphs : NULL,
                                c->seed ^ NNM_PIECES_SEED, info, err, errlen);
        if (rc == 0) {
            nn_dataset_free(*train);
            *train = with;
        }
    }
    nnm_glyph_set_free(&glyphs);
    free(fit);
    free(val);
    return rc;
}

int nnm_cmd_train(int argc, char **argv)
{
    double t0 = nnm_now();
    nnm_config c;
    set_recipe_defaults(&c);
    const char *save = DEFAULT_SAVE;
    char err[NNM_PATH_MAX], dir[NNM_PATH_MAX], id[96], work[4096 + 128];
    err[0] = '\0';
    nnm_cli_extra extra;
    int prc = nnm_parse_run_options(argc, argv, &c, NNM_PARSE_TRAIN, &extra, err, sizeof err);
    if (prc == 0 && extra.save) save = extra.save;
    /* "Not one digit" is a digit reader's class: pairs of garments teach a clothes classifier nothing. */
    if (c.reject < 0) c.reject = !strcmp(c.dataset, "mnist") ? NNM_REJECT_DEFAULT : 0;
    /* Other writers' digits: a digit reader's, not a clothes classifier's. */
    const int fonts_by_default = c.fonts < 0;
    if (c.fonts < 0) c.fonts = !strcmp(c.dataset, "mnist") ? NNM_FONTS_DEFAULT : 0;
    /* The reader's own pieces: those that are not one digit are taught as --reject's class. */
    if (c.pieces < 0) c.pieces = !strcmp(c.dataset, "mnist") && c.reject > 0 ? NNM_PIECES_DEFAULT : 0;
    /* Text, a class after "not one digit": a digit reader's, and only beside that class. */
    const int letters_by_default = c.letters < 0;
    if (c.letters < 0) c.letters = !strcmp(c.dataset, "mnist") && c.reject > 0 ? NNM_LETTERS_DEFAULT : 0;
    if (prc == 1) {
        usage(stdout);
        return 0;
    }
    if (prc != 0 || nnm_config_validate(&c, err, sizeof err) != 0 ||
        split_destination(save, dir, sizeof dir, id, sizeof id, err, sizeof err) != 0) {
        /* Empty: getopt has said what was wrong, and the parser how to get help. */
        if (err[0]) fprintf(stderr, "nn-mnist train: %s\n", err);
        return 2;
    }
    snprintf(work, sizeof work, "%s/.%s.train", dir, id);
    c.models_dir = work;
    if (nn_runtime_set_blas_threads(c.threads) != NN_OK) {
        fprintf(stderr, "nn-mnist train: --threads: %s\n", nn_last_error());
        return 2;
    }
    /* The folders before the data: a destination that cannot be written fails at once. */
    if (nnm_mkdirs(dir, err, sizeof err) || nnm_check_writable(dir, err, sizeof err) ||
        nnm_mkdirs(work, err, sizeof err) || nnm_lock_folder(work, err, sizeof err)) {
        fprintf(stderr, "nn-mnist train: %s\n", err);
        return 2;
    }
    nnm_sweep_temporaries(work);

    nn_dataset *train = NULL, *test = NULL;
    if (nnm_load_datasets(&c, &train, &test, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist train: %s\n", err);
        return 1;
    }
    int rc = 1;
    int64_t n_train = c.train_limit && c.train_limit < nn_dataset_count(train) ? c.train_limit : nn_dataset_count(train);
    if (c.batch_size > n_train) {
        fprintf(stderr, "nn-mnist train: --batch-size %lld is larger than the %lld training images\n",
                (long long)c.batch_size, (long long)n_train);
        rc = 2;
        goto out;
    }
    nnm_font_digits fonts = {0};
    char fonts_note[160] = "";
    if (c.fonts > 0) {
        nn_dataset *mixed = NULL;
        int frc = nnm_fonts_dataset(&mixed, train, n_train, c.fonts, &fonts, err, sizeof err);
        if (frc == 1 && fonts_by_default) {
            /* The recipe without its fonts is still a model; the settings say which it is. */
            fprintf(stderr, "nn-mnist train: warning: %s; training on the dataset's digits alone\n", err);
            c.fonts = 0;
        } else if (frc != 0) {
            fprintf(stderr, "nn-mnist train: %s\n", err);
            goto out;
        } else {
            nn_dataset_free(train);
            train = mixed;
            snprintf(fonts_note, sizeof fonts_note, "%lld images of %lld glyphs from %d fonts",
                     (long long)fonts.added, (long long)fonts.glyphs, fonts.fonts);
            if (!c.quiet && fonts.missing[0])
                fprintf(stderr, "nn-mnist train: --fonts: not installed, left out: %s\n", fonts.missing);
        }
    }
    nnm_font_letters letters = {0};
    char letters_note[160] = "";
    if (c.letters > 0) {
        nn_dataset *with = NULL;
        int lrc = nnm_letters_dataset(&with, train, n_train, c.letters, NNM_TEXT_CLASS, &letters, err, sizeof err);
        if (lrc == 1 && letters_by_default) {
            fprintf(stderr, "nn-mnist train: warning: %s; training without text\n", err);
            c.letters = 0;
        } else if (lrc != 0) {
            fprintf(stderr, "nn-mnist train: %s\n", err);
            goto out;
        } else {
            nn_dataset_free(train);
            train = with;
            snprintf(letters_note, sizeof letters_note, "%lld images of %lld letters and signs from %d fonts",
                     (long long)letters.added, (long long)letters.glyphs, letters.fonts);
        }
    }
    nnm_pieces_info pieces = {0};
    char pieces_note[160] = "";
    if (c.pieces > 0 && add_pieces(&c, &train, n_train, &pieces, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist train: %s\n", err);
        goto out;
    }
    if (c.pieces > 0)
        snprintf(pieces_note, sizeof pieces_note, "%lld digits and %lld not one digit from %lld strings",
                 (long long)pieces.digits, (long long)pieces.not_one, (long long)pieces.strings);
    if (!c.quiet) {
        char reject[64] = "", augmented[64] = "", with_fonts[96] = "", with_pieces[96] = "", with_letters[96] = "";
        if (c.fonts > 0)
            snprintf(with_fonts, sizeof with_fonts, " and %lld of %d fonts' digits (%lld glyphs)",
                     (long long)fonts.added, fonts.fonts, (long long)fonts.glyphs);
        if (c.augment) snprintf(augmented, sizeof augmented, ", augmented (%s)", nnm_augment_name(c.augment));
        if (c.reject > 0) snprintf(reject, sizeof reject, ", %g not one digit", (double)c.reject);
        if (c.pieces > 0)
            snprintf(with_pieces, sizeof with_pieces, " and %lld of its own pieces", (long long)pieces.added);
        if (c.letters > 0)
            snprintf(with_letters, sizeof with_letters, " and %lld of letters and signs", (long long)letters.added);
        fprintf(stderr, "nn-mnist %s: training %s (%s, %s, %s%s%s%s) on %lld images%s%s%s, %d epochs, %d BLAS thread%s\n",
                nn_version(), save, c.arch.n ? c.arch.text : "mlp", c.optimizers[0], c.activations[0],
                augmented,
                reject, c.lr_schedule != NNM_LR_CONSTANT ? ", cosine schedule" : "", (long long)n_train, with_fonts,
                with_letters, with_pieces, c.epochs, c.threads, c.threads > 1 ? "s" : "");
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    nnm_run run = {0};
    run.seed = c.seed;
    snprintf(run.id, sizeof run.id, "%s", id);
    snprintf(run.optimizer, sizeof run.optimizer, "%s", c.optimizers[0]);
    snprintf(run.activation, sizeof run.activation, "%s", c.activations[0]);
    nnm_progress *progress = nnm_progress_create(1, c.quiet, 0);
    if (c.validation > 0) nnm_progress_set_heldout(progress, "val");
    nnm_train_env env = {&c, train, test, progress, 0, &stop_requested, fonts.added + letters.added + pieces.added,
                         fonts.added > 0 ? fonts_note : NULL,
                         c.pieces > 0 || c.letters > 0 ? NNM_CLASSES : 0, pieces_note,
                         c.letters > 0 ? letters_note : NULL};
    nnm_record rec;
    nnm_record_init(&rec);
    int trc = nnm_train_run(&env, &run, &rec, err, sizeof err);
    nnm_progress_free(progress);

    char trained[8192];
    nnm_model_path(&c, run.id, trained, sizeof trained);
    if (trc == NNM_TRAIN_FAILED) {
        fprintf(stderr, "nn-mnist train: %s\nThe last checkpoint is kept; run the same command to continue.\n", err);
    } else if (trc == NNM_TRAIN_STOPPED) {
        fprintf(stderr, "\nnn-mnist train: interrupted; the checkpoint is saved in %s/.\n"
                        "Run the same command again to resume where it stopped.\n", work);
        rc = 130;
    } else if (rec.diverged_epoch > 0) {
        /* A diverged model reads nothing: the file already at the destination, if any, stays. */
        unlink(trained);
        nnm_run_cleanup(&c, run.id);
        fprintf(stderr, "nn-mnist train: the loss became non-finite at epoch %d; nothing saved. Try a lower --lr.\n",
                rec.diverged_epoch);
    } else if (rename(trained, save) != 0) {
        fprintf(stderr, "nn-mnist train: cannot move the model to %s: %s (it is in %s)\n", save, strerror(errno),
                trained);
    } else {
        nnm_run_cleanup(&c, run.id);
        char lock[8192];
        snprintf(lock, sizeof lock, "%s/.nn-mnist.lock", work);
        unlink(lock);
        rmdir(work); /* left in place when it holds anything else */
        printf("%s: test accuracy %.4f, loss %.4f; train accuracy %.4f, loss %.4f", save, rec.test_accuracy,
               rec.test_loss, rec.train_accuracy, rec.train_loss);
        if (rec.validation > 0) printf("; validation accuracy %.4f, loss %.4f", rec.val_accuracy, rec.val_loss);
        if (rec.best_epoch > 0) printf("; weights of epoch %d", rec.best_epoch);
        printf(" (%.0f s)\n", nnm_now() - t0);
        rc = 0;
    }
    nnm_record_free(&rec);
out:
    nn_dataset_free(train);
    nn_dataset_free(test);
    return rc;
}

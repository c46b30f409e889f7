/* libFuzzer target for nn-mnist's run-record parser (tools/nn-mnist/record.c, record_json.c), both
 * forms: JSON and the older text one. Records come from files a user may edit or a crash may cut,
 * and from MPI peers. The input goes in as an exact-size
 * NUL-terminated copy, so that reading past the end is caught. What parses is used: formatted, parsed
 * again and formatted again, which must give the same text (a record the tool writes must read back). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nnm_record r;
    char err[256] = "";
    if (nnm_record_parse(&r, text, err, sizeof err) != 0) {
        if (!err[0]) abort(); /* every refusal says why */
        free(text);
        return 0;
    }
    free(text);
    double acc = r.train_accuracy + r.test_accuracy + r.train_loss + r.test_loss + r.val_accuracy + r.val_loss +
                 r.lr + (double)r.params + r.validation + (double)r.split_seed;
    for (int i = 0; i < r.classes * r.classes; i++) acc += (double)r.confusion[i];
    for (int i = 0; i < r.n_curve; i++)
        acc += r.curve_loss[i] + r.curve_accuracy[i] + r.curve_heldout_loss[i] + r.curve_heldout_accuracy[i];
    for (int64_t i = 0; i < (r.n_test_correct + 7) / 8; i++) acc += r.test_correct[i];
    sink = acc + (double)(strlen(r.run_id) + strlen(r.optimizer) + strlen(r.activation) + strlen(r.settings) +
                          strlen(r.model_path));

    char *a = nnm_record_format(&r);
    nnm_record r2;
    if (!a || nnm_record_parse(&r2, a, err, sizeof err) != 0) {
        fprintf(stderr, "a parsed record does not read back: %s\n", err);
        abort();
    }
    char *b = nnm_record_format(&r2);
    if (!b || strcmp(a, b) != 0) abort();
    free(a);
    free(b);
    nnm_record_free(&r2);
    nnm_record_free(&r);
    return 0;
}

/*
 * The name of every temporary file nn-mnist creates (atomic writes, figures, downloads, writability
 * probes), and the test that recognises one. libnn's nn_model_save names its temporaries the same
 * way (include/nn/io.h), so the models folder follows the same rule.
 *
 * A rerun deletes the temporaries a killed grid left in its folders, and deleting is only safe for
 * files this program provably made. So the name carries a marker nobody types, in one exact shape:
 * "." NAME ".nntmp-" and the six characters mkstemp draws from [A-Za-z0-9], nothing before or after.
 * Loose patterns ("contains .tmp-", "ends in .png.??????") once deleted users' own files.
 *
 * Header-only: the figure and download code is also built without the rest of the tool (tests).
 */
#ifndef NNM_TMPNAME_H
#define NNM_TMPNAME_H

#include <stdio.h>
#include <string.h>

#define NNM_TMP_MARK ".nntmp-"
/* Bytes a template adds to the target path, terminating NUL included. */
#define NNM_TMP_EXTRA sizeof("." NNM_TMP_MARK "XXXXXX")
/* Longest NAME kept in a temporary's name: with the marker it stays within NAME_MAX (255). */
#define NNM_TMP_NAME_MAX (255 - (NNM_TMP_EXTRA - 1))

/* The mkstemp template for a temporary beside path: "DIR/.NAME.nntmp-XXXXXX", NAME being path's
 * last component (its first NNM_TMP_NAME_MAX bytes). 0, or -1 when cap is too small. */
static inline int nnm_tmp_template(char *buf, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t namelen = strlen(path + dirlen);
    if (namelen > NNM_TMP_NAME_MAX) namelen = NNM_TMP_NAME_MAX;
    int n = snprintf(buf, cap, "%.*s.%.*s" NNM_TMP_MARK "XXXXXX", (int)dirlen, path, (int)namelen, path + dirlen);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* Whether a folder entry's name has exactly the shape nnm_tmp_template (or nn_model_save) gives. */
static inline int nnm_is_tmp_name(const char *name)
{
    const size_t mark = sizeof NNM_TMP_MARK - 1;
    size_t len = strlen(name);
    if (len < 1 + 1 + mark + 6 || name[0] != '.') return 0;
    const char *tail = name + len - 6;
    if (memcmp(tail - mark, NNM_TMP_MARK, mark) != 0) return 0;
    for (int i = 0; i < 6; i++) {
        char c = tail[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

#endif

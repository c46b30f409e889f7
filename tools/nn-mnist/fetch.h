/* One verified download: HTTP(S) to a temporary file, checked, then renamed into place. */
#ifndef NNM_FETCH_H
#define NNM_FETCH_H

#include <stddef.h>

/* Downloads url (a gzip file) to dir/name. The SHA-256 of its gunzipped content must equal
 * sha256_hex; only then is the file fsynced and renamed into place (and the folder fsynced). On
 * any failure no file is left behind. Progress goes to stderr unless quiet. Returns 0, or -1 with
 * a short reason in why ("HTTP 404", "SHA-256 mismatch: ..."). Needs curl_global_init() first. */
int nnm_fetch_verified(const char *url, const char *dir, const char *name, const char *sha256_hex, int quiet,
                       char *why, size_t whylen);

#endif

/* A download that is either complete and verified under its final name, or absent.
 *
 * Bytes go to a hidden temporary file in the target folder while, in the same pass, they are
 * gunzipped and the content hashed: the published checksums are of the uncompressed files, since
 * mirrors recompress them. Only a matching file is fsynced and renamed; anything else is unlinked. */
#define _POSIX_C_SOURCE 200809L

#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "fsutil.h"
#include "tmpname.h"

/* The largest file of either dataset is 47 MB uncompressed (26 MB compressed); anything much
 * bigger is a wrong URL or a hostile server, and must not fill the disk. */
#define FETCH_MAX_BYTES (128LL << 20)

typedef struct sink {
    int fd;
    z_stream zs;
    int zs_ready;
    int stream_end;        /* the current gzip member is complete */
    EVP_MD_CTX *md;
    long long compressed;  /* bytes received */
    long long content;     /* bytes after gunzip */
    char why[256];         /* why the write callback stopped the transfer */
    int quiet;
    int tty;
    const char *name;
    double last_draw;
    unsigned char out[1 << 16];
} sink;

static void set_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* Gunzips and hashes one received chunk; 0, or -1 with s->why. */
static int inflate_chunk(sink *s, const unsigned char *p, size_t n)
{
    s->zs.next_in = (unsigned char *)p;
    s->zs.avail_in = (uInt)n;
    while (s->zs.avail_in > 0) {
        if (s->stream_end) {
            /* gzip files may be several members back to back; anything else after the end is not
             * part of the file we asked for. */
            if (s->zs.next_in[0] != 0x1f || inflateReset(&s->zs) != Z_OK) {
                set_why(s->why, sizeof s->why, "data after the end of the gzip stream");
                return -1;
            }
            s->stream_end = 0;
        }
        s->zs.next_out = s->out;
        s->zs.avail_out = sizeof s->out;
        int ret = inflate(&s->zs, Z_NO_FLUSH);
        size_t produced = sizeof s->out - s->zs.avail_out;
        if (produced > 0 && EVP_DigestUpdate(s->md, s->out, produced) != 1) {
            set_why(s->why, sizeof s->why, "SHA-256 update failed");
            return -1;
        }
        s->content += (long long)produced;
        if (s->content > FETCH_MAX_BYTES) {
            set_why(s->why, sizeof s->why, "content larger than %lld bytes: not an MNIST file", FETCH_MAX_BYTES);
            return -1;
        }
        if (ret == Z_STREAM_END) {
            s->stream_end = 1;
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            set_why(s->why, sizeof s->why, "not valid gzip data (zlib: %s)", s->zs.msg ? s->zs.msg : "error");
            return -1;
        }
    }
    return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    s->compressed += (long long)n;
    if (s->compressed > FETCH_MAX_BYTES) {
        set_why(s->why, sizeof s->why, "more than %lld bytes: not an MNIST file", FETCH_MAX_BYTES);
        return 0;
    }
    if (nnm_write_all(s->fd, ptr, n) != 0) {
        set_why(s->why, sizeof s->why, "cannot write the temporary file: %s", strerror(errno));
        return 0;
    }
    if (inflate_chunk(s, (const unsigned char *)ptr, n) != 0) return 0;
    return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    sink *s = userdata;
    if (s->quiet || !s->tty) return 0;
    double t = nnm_now();
    if (t - s->last_draw < 0.2) return 0;
    s->last_draw = t;
    if (dltotal > 0)
        fprintf(stderr, "\r  %s: %3d%% of %.1f MB", s->name, (int)(100.0 * (double)dlnow / (double)dltotal),
                (double)dltotal / 1e6);
    else
        fprintf(stderr, "\r  %s: %.1f MB", s->name, (double)dlnow / 1e6);
    return 0;
}

static void to_hex(const unsigned char *d, unsigned n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

/* Runs the transfer into s; 0, or -1 with why. */
static int transfer(const char *url, sink *s, char *why, size_t whylen)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        set_why(why, whylen, "cannot start libcurl");
        return -1;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L); /* an HTTP error page is not the file */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
    /* A stalled mirror is abandoned for the next one: under 1 KB/s for 30 s. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX_BYTES);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "nn-mnist (libnn)");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    CURLcode res = curl_easy_perform(curl);
    long http = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_cleanup(curl);
    if (res == CURLE_OK) return 0;
    if (s->why[0])
        set_why(why, whylen, "%s", s->why);
    else if (res == CURLE_HTTP_RETURNED_ERROR)
        set_why(why, whylen, "HTTP %ld", http);
    else
        set_why(why, whylen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(res));
    return -1;
}

int nnm_fetch_verified(const char *url, const char *dir, const char *name, const char *sha256_hex, int quiet,
                       char *why, size_t whylen)
{
    char tmp[NNM_PATH_MAX + NNM_TMP_EXTRA], final[NNM_PATH_MAX];
    if ((size_t)snprintf(final, sizeof final, "%s/%s", dir, name) >= sizeof final ||
        nnm_tmp_template(tmp, sizeof tmp, final) != 0) {
        set_why(why, whylen, "path too long");
        return -1;
    }
    sink *s = calloc(1, sizeof *s);
    if (!s) {
        set_why(why, whylen, "out of memory");
        return -1;
    }
    s->quiet = quiet;
    s->tty = isatty(STDERR_FILENO);
    s->name = name;
    s->fd = mkstemp(tmp);
    int rc = -1;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (s->fd < 0) {
        set_why(why, whylen, "cannot create a file in %s: %s", dir, strerror(errno));
        free(s);
        return -1;
    }
    if (!quiet) fprintf(stderr, "nn-mnist: downloading %s\n", url);
    s->md = EVP_MD_CTX_new();
    if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
        set_why(why, whylen, "cannot set up SHA-256");
        goto done;
    }
    if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
        set_why(why, whylen, "cannot set up gzip decompression");
        goto done;
    }
    s->zs_ready = 1;
    if (transfer(url, s, why, whylen) != 0) goto done;
    if (s->compressed == 0) {
        set_why(why, whylen, "empty response");
        goto done;
    }
    if (!s->stream_end) {
        set_why(why, whylen, "the gzip stream stops early (%lld bytes received)", s->compressed);
        goto done;
    }
    if (EVP_DigestFinal_ex(s->md, digest, &dlen) != 1) {
        set_why(why, whylen, "SHA-256 failed");
        goto done;
    }
    to_hex(digest, dlen, hex);
    if (strcmp(hex, sha256_hex) != 0) {
        set_why(why, whylen, "SHA-256 mismatch: content is %s, expected %s", hex, sha256_hex);
        goto done;
    }
    rc = nnm_publish_tmp(s->fd, tmp, final, why, whylen);
    s->fd = -1; /* closed by nnm_publish_tmp either way */
    if (rc != 0) goto done;
    (void)nnm_fsync_dir_of(final); /* best effort: the file is complete either way */
    if (!quiet)
        fprintf(stderr, "%s  %s: %.1f MB, SHA-256 verified\n", s->tty ? "\r" : "", name,
                (double)s->compressed / 1e6);
    rc = 0;
done:
    if (rc != 0) {
        if (!quiet && s->tty && s->last_draw > 0) fputc('\n', stderr); /* end the progress line */
        if (s->fd >= 0) close(s->fd);
        unlink(tmp);
    }
    if (s->zs_ready) inflateEnd(&s->zs);
    EVP_MD_CTX_free(s->md);
    free(s);
    return rc;
}

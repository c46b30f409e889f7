#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Set by the SIGWINCH handler and read at the next draw: a handler may safely do no more. */
static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
    (void)sig;
    resized = 1;
}

enum {
    LINE_MAX_BYTES = 1024, /* a line of fields: at most 8 of < 96 bytes, and a bar of 30 cells */
    MESSAGE_MAX = 4096,
    BAR_MIN = 10,         /* cells below which a bar says nothing: its percentage stands in */
    BAR_MAX = 30,
    ID_MAX = 24,          /* run ids are padded to align their bars, up to this */
    DRAW_EVERY_MS = 100,  /* live lines are redrawn at most this often */
    UPDATE_EVERY_MS = 50, /* a worker takes the lock to post its figures at most this often */
};

typedef struct slot {
    int active;
    char run_id[96];
    int epochs, epoch;
    int64_t steps, step;
    double loss, accuracy;
    /* Share of the run done, now and when first seen here (a resumed run starts above 0): the
     * study's speed counts only what this process trained. */
    double frac, frac0;
    int seen;
    double t_ref;   /* the clock and the run's global step when first seen: the speed is measured */
    int64_t g_ref;  /* from there, evaluation time included, so that the ETA holds */
    double last_update; /* only the owner thread reads it: between updates, no lock */
} slot;

typedef struct outbuf {
    char *d;
    size_t n, cap;
    int failed;
} outbuf;

struct nnm_progress {
    const char *heldout; /* what the epoch lines call the held-out set: "test" or "val" */
    pthread_mutex_t lock;
    int nslots, quiet, tty, unicode;
    slot *slots;
    int cols, rows;     /* the terminal's size; rows 0 when unknown */
    int *drawn_w;       /* display columns of each live line now on screen */
    int drawn_n;
    int erased, wrote;  /* this update: rows the cursor went up over, lines written since */
    double last_draw;
    int models, done_before, finished, pending; /* pending: runs ended here, not yet reported finished */
    double t0;
    outbuf o;
    struct sigaction old_winch;
    int winch_installed;
};

void nnm_format_duration(double s, char *buf, int len)
{
    if (!(s >= 0)) s = 0;
    if (s < 60) snprintf(buf, (size_t)len, "%.1fs", s);
    else if (s < 3600) snprintf(buf, (size_t)len, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else if (s < 1e8) snprintf(buf, (size_t)len, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(buf, (size_t)len, "--");
}

/* ---- display columns ---------------------------------------------------------------------- */

/* Decodes one UTF-8 character at s (before end): its byte length and display columns. Block
 * elements and the ellipsis, which this file draws, take one column; any other non-ASCII
 * character is counted as two, so that a wide one never makes a line wrap. */
static int glyph(const unsigned char *s, const unsigned char *end, int *bytes)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (n > end - s) n = 1;
    unsigned cp = n == 1 ? c : c & (0x7Fu >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            n = 1;
            cp = c;
            break;
        }
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    *bytes = n;
    if (cp < 0x80) return 1;
    return (cp >= 0x2580 && cp <= 0x259F) || cp == 0x2026 ? 1 : 2;
}

static int text_cols(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    int cols = 0, n;
    while (p < end) {
        cols += glyph(p, end, &n);
        p += n;
    }
    return cols;
}

/* Cuts the string in line (of *cols columns) to at most width columns, ending it with an ellipsis. */
static void cut_to(char *line, int *cols, int width, int unicode)
{
    if (*cols <= width) return;
    const char *dots = unicode ? "\xe2\x80\xa6" : "~";
    int keep = width - 1, c = 0, n;
    unsigned char *p = (unsigned char *)line, *end = p + strlen(line);
    if (keep < 0) {
        line[0] = '\0';
        *cols = 0;
        return;
    }
    while (p < end) {
        int g = glyph(p, end, &n);
        if (c + g > keep) break;
        c += g;
        p += n;
    }
    strcpy((char *)p, dots); /* at most 3 bytes replace at least one */
    *cols = c + 1;
}

/* ---- output, built whole and written at once ------------------------------------------------ */

static void put(outbuf *b, const char *s, size_t len)
{
    if (b->failed) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *d = realloc(b->d, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, s, len);
    b->n += len;
    b->d[b->n] = '\0';
}

static void puts_(outbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void flush_out(nnm_progress *p)
{
    if (!p->o.failed && p->o.n) fwrite(p->o.d, 1, p->o.n, stderr);
    fflush(stderr);
    p->o.n = 0;
    p->o.failed = 0;
}

/* ---- the terminal -------------------------------------------------------------------------- */

static int env_int(const char *name)
{
    const char *v = getenv(name);
    long x = v ? strtol(v, NULL, 10) : 0;
    return x > 0 && x < 100000 ? (int)x : 0;
}

static void read_size(nnm_progress *p)
{
    struct winsize ws;
    int cols = 0, rows = 0;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0) {
        cols = ws.ws_col;
        rows = ws.ws_row;
    }
    if (cols <= 0) cols = env_int("COLUMNS");
    if (rows <= 0) rows = env_int("LINES");
    p->cols = cols > 0 ? cols : 80;
    p->rows = rows;
}

/* A terminal that understands cursor movement: TERM set, and not "dumb" (Emacs' shell, some CI). */
static int capable_term(void)
{
    const char *t = getenv("TERM");
    return t && *t && strcmp(t, "dumb") != 0;
}

/* Block characters only where the locale says UTF-8; elsewhere they would show as mojibake. */
static int utf8_locale(void)
{
    const char *names[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        if (!v || !*v) continue;
        for (const char *s = v; *s; s++)
            if ((s[0] == 'u' || s[0] == 'U') && (s[1] == 't' || s[1] == 'T') && (s[2] == 'f' || s[2] == 'F') &&
                (s[3] == '8' || (s[3] == '-' && s[4] == '8')))
                return 1;
        return 0; /* the first one set decides, as in setlocale */
    }
    return 0;
}

/* Widest text a line may have: one column short of the width, so that the cursor never reaches the
 * last column, where terminals differ on when they wrap. */
static int line_width(const nnm_progress *p)
{
    return p->cols > 1 ? p->cols - 1 : 0;
}

/* ---- fitting a line of fields to the width ------------------------------------------------- */

enum { FULL, BRIEF, GONE };

typedef struct field {
    char full[96], brief[48]; /* brief "": the same as full */
    int state;
    int bar; /* an elastic bar of BAR_MIN..BAR_MAX cells; brief: its percentage */
} field;

typedef struct shrink {
    int field; /* -1: narrow the separators */
    int state;
} shrink;

static const char *field_text(const field *f)
{
    return f->state == BRIEF && f->brief[0] ? f->brief : f->full;
}

static int fields_cols(const field *f, int n, int sep)
{
    int w = 0, k = 0;
    for (int i = 0; i < n; i++) {
        if (f[i].state == GONE) continue;
        if (k++) w += sep;
        w += f[i].bar && f[i].state == FULL ? BAR_MIN : (int)strlen(field_text(&f[i]));
    }
    return w;
}

/* Applies the shrinks in order until the fields fit width, renders them into line, and returns its
 * display columns (never more than width). bar_frac fills the bar, which takes the room left. */
static int fit(const nnm_progress *p, field *f, int n, const shrink *order, int norder, double bar_frac, int width,
               char *line)
{
    int sep = 2;
    for (int k = 0; k < norder && fields_cols(f, n, sep) > width; k++) {
        if (order[k].field < 0) sep = 1;
        else f[order[k].field].state = order[k].state;
    }
    int extra = width - fields_cols(f, n, sep);
    int cells = BAR_MIN + (extra < 0 ? 0 : extra > BAR_MAX - BAR_MIN ? BAR_MAX - BAR_MIN : extra);
    if (!(bar_frac >= 0)) bar_frac = 0;
    if (bar_frac > 1) bar_frac = 1;
    int fill = (int)(bar_frac * cells + 1e-9);
    size_t k = 0;
    int any = 0;
    line[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (f[i].state == GONE) continue;
        for (int s = 0; any && s < sep; s++) line[k++] = ' ';
        any = 1;
        if (f[i].bar && f[i].state == FULL) {
            for (int j = 0; j < cells; j++) {
                const char *g = p->unicode ? (j < fill ? "\xe2\x96\x88" : "\xe2\x96\x91") : j < fill ? "#" : "-";
                size_t gl = strlen(g);
                memcpy(line + k, g, gl);
                k += gl;
            }
        } else {
            const char *t = field_text(&f[i]);
            size_t tl = strlen(t);
            memcpy(line + k, t, tl);
            k += tl;
        }
        line[k] = '\0';
    }
    int cols = text_cols(line, k);
    cut_to(line, &cols, width, p->unicode);
    return cols;
}

/* ---- the lines ---------------------------------------------------------------------------- */

static int id_width(const nnm_progress *p)
{
    int w = 0;
    for (int i = 0; i < p->nslots; i++) {
        int l = (int)strlen(p->slots[i].run_id);
        if (p->slots[i].active && l > w) w = l;
    }
    return w < ID_MAX ? w : ID_MAX;
}

/* "ETA 1m05s"; "ETA --" while the speed is not known yet. pad: right-aligned in 6 columns. */
static void eta_text(char *buf, size_t len, double seconds, int pad)
{
    char d[32] = "--";
    if (seconds >= 0) nnm_format_duration(seconds, d, sizeof d);
    snprintf(buf, len, "ETA %*s", pad ? 6 : 0, d);
}

static int digits(int64_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static int bar_line(const nnm_progress *p, const slot *s, int idw, double now, char *line)
{
    enum { ID, EP, BAR, STEPS, LOSS, ACC, RATE, ETA, N };
    field f[N];
    memset(f, 0, sizeof f);
    snprintf(f[ID].full, sizeof f[ID].full, "%-*.*s", idw, (int)sizeof f[ID].full - 1, s->run_id);
    /* Numbers padded to their largest width: the bars of all runs keep one length and one place. */
    int ew = digits(s->epochs), sw = digits(s->steps);
    snprintf(f[EP].full, sizeof f[EP].full, "epoch %*d/%d", ew, s->epoch, s->epochs);
    snprintf(f[EP].brief, sizeof f[EP].brief, "%*d/%d", ew, s->epoch, s->epochs);
    double ef = s->steps > 0 ? (double)s->step / (double)s->steps : 0;
    f[BAR].bar = 1;
    snprintf(f[BAR].brief, sizeof f[BAR].brief, "%3d%%", (int)(ef * 100));
    snprintf(f[STEPS].full, sizeof f[STEPS].full, "%*lld/%lld", sw, (long long)s->step, (long long)s->steps);
    snprintf(f[LOSS].full, sizeof f[LOSS].full, "loss %.4f", s->loss);
    snprintf(f[ACC].full, sizeof f[ACC].full, "acc %.4f", s->accuracy);
    int64_t g = (int64_t)(s->epoch - 1) * s->steps + s->step;
    double el = now - s->t_ref, rate = s->seen && el > 0.05 ? (double)(g - s->g_ref) / el : 0;
    if (rate > 0) {
        snprintf(f[RATE].full, sizeof f[RATE].full, "%5.0f steps/s", rate);
        snprintf(f[RATE].brief, sizeof f[RATE].brief, "%5.0f/s", rate);
    } else {
        snprintf(f[RATE].full, sizeof f[RATE].full, "   -- steps/s");
        snprintf(f[RATE].brief, sizeof f[RATE].brief, "   --/s");
    }
    double left = (double)s->epochs * (double)s->steps - (double)g;
    eta_text(f[ETA].full, sizeof f[ETA].full, rate > 0 ? left / rate : -1, 1);
    static const shrink order[] = {{RATE, BRIEF}, {EP, BRIEF}, {-1, 0},       {RATE, GONE}, {STEPS, GONE},
                                   {LOSS, GONE},  {ACC, GONE}, {BAR, BRIEF}, {ETA, GONE}};
    return fit(p, f, N, order, (int)(sizeof order / sizeof *order), ef, line_width(p), line);
}

/* The study's figures: share done (earlier runs included) and seconds left, -1 when not known yet.
 * The speed is what this process trained per second, in models; what is left is the runs not
 * finished, less the shares of those running. */
static void study_figures(const nnm_progress *p, double now, int *running, double *share, double *eta)
{
    double active = 0, work = 0;
    int r = 0;
    for (int i = 0; i < p->nslots; i++) {
        const slot *s = &p->slots[i];
        if (!s->active) continue;
        r++;
        active += s->frac;
        if (s->seen) work += s->frac - s->frac0;
    }
    work += p->finished; /* slight overcount for resumed runs; better than none for remote ones */
    double left = (double)(p->models - p->done_before - p->finished - p->pending) - active;
    if (left < 0) left = 0;
    double el = now - p->t0;
    *running = r;
    *share = p->models > 0 ? ((double)(p->done_before + p->finished + p->pending) + active) / p->models : 0;
    if (*share > 1) *share = 1;
    *eta = work > 1e-6 && el > 0.2 ? left * el / work : -1;
    if (left == 0) *eta = 0;
}

static int top_line(const nnm_progress *p, double now, char *line)
{
    enum { TITLE, PCT, RUNNING, ELAPSED, ETA, N };
    field f[N];
    memset(f, 0, sizeof f);
    int running;
    double share, eta;
    study_figures(p, now, &running, &share, &eta);
    int done = p->done_before + p->finished;
    snprintf(f[TITLE].full, sizeof f[TITLE].full, "study: %d/%d models done", done, p->models);
    snprintf(f[TITLE].brief, sizeof f[TITLE].brief, "%d/%d models", done, p->models);
    snprintf(f[PCT].full, sizeof f[PCT].full, "%d%%", (int)(share * 100));
    snprintf(f[RUNNING].full, sizeof f[RUNNING].full, "%d training", running);
    char d[32];
    nnm_format_duration(now - p->t0, d, sizeof d);
    snprintf(f[ELAPSED].full, sizeof f[ELAPSED].full, "elapsed %s", d);
    eta_text(f[ETA].full, sizeof f[ETA].full, eta, 0);
    static const shrink order[] = {{RUNNING, GONE}, {TITLE, BRIEF}, {-1, 0}, {PCT, GONE}, {ELAPSED, GONE}};
    return fit(p, f, N, order, (int)(sizeof order / sizeof *order), 0, line_width(p), line);
}

static int epoch_line(const nnm_progress *p, const slot *s, int epoch, double loss, double acc, double test_loss,
                      double test_acc, double seconds, char *line)
{
    enum { ID, LOSS, ACC, TLOSS, TACC, TIME, N };
    field f[N];
    memset(f, 0, sizeof f);
    int idw = id_width(p);
    char id[64];
    snprintf(id, sizeof id, "%s:", s->run_id);
    snprintf(f[ID].full, sizeof f[ID].full, "%-*s epoch %d/%d", idw + 1, id, epoch, s->epochs);
    snprintf(f[ID].brief, sizeof f[ID].brief, "%s %d/%d", id, epoch, s->epochs);
    snprintf(f[LOSS].full, sizeof f[LOSS].full, "loss %.4f", loss);
    snprintf(f[ACC].full, sizeof f[ACC].full, "accuracy %.4f", acc);
    snprintf(f[ACC].brief, sizeof f[ACC].brief, "acc %.4f", acc);
    snprintf(f[TLOSS].full, sizeof f[TLOSS].full, "%s loss %.4f", p->heldout, test_loss);
    snprintf(f[TACC].full, sizeof f[TACC].full, "%s accuracy %.4f", p->heldout, test_acc);
    snprintf(f[TACC].brief, sizeof f[TACC].brief, "%s acc %.4f", p->heldout, test_acc);
    nnm_format_duration(seconds, f[TIME].full, sizeof f[TIME].full);
    static const shrink order[] = {{-1, 0},      {ACC, BRIEF},  {TACC, BRIEF}, {TIME, GONE},
                                   {TLOSS, GONE}, {LOSS, GONE}, {ID, BRIEF},   {ACC, GONE}};
    return fit(p, f, N, order, (int)(sizeof order / sizeof *order), 0, line_width(p), line);
}

/* ---- drawing on a terminal ----------------------------------------------------------------- */

static int rows_of(int cols_drawn, int cols)
{
    return cols_drawn <= 0 || cols <= 0 ? 1 : (cols_drawn + cols - 1) / cols;
}

/* Starts an update: takes the new size after a resize, and moves the cursor back to the first live
 * line, exactly as many rows up as the last draw took. A line drawn at an earlier, wider size takes
 * several rows once a terminal that reflows (tmux, VTE, kitty...) has narrowed: those are counted. */
static void begin(nnm_progress *p)
{
    if (resized) {
        resized = 0;
        read_size(p);
    }
    p->o.n = 0;
    p->o.failed = 0;
    int up = 0;
    for (int i = 0; i < p->drawn_n; i++) up += rows_of(p->drawn_w[i], p->cols);
    puts_(&p->o, "\r");
    if (up > 0) {
        char mv[32];
        snprintf(mv, sizeof mv, "\033[%dA", up);
        puts_(&p->o, mv);
    }
    p->drawn_n = 0;
    p->erased = up;
    p->wrote = 0;
}

/* Ends an update: clears what the last one drew below the lines just written. After at least one
 * line, erase-below does it. With none, the cursor may stand at the screen's top left corner,
 * where tmux (scroll-on-clear) moves the whole screen into its scrollback instead of erasing:
 * there each row is cleared on its own, and the cursor goes back up. */
static void end_update(nnm_progress *p)
{
    if (p->wrote > 0) {
        puts_(&p->o, "\033[J");
    } else if (p->erased > 0) {
        for (int i = 0; i < p->erased; i++) puts_(&p->o, i + 1 < p->erased ? "\033[K\n" : "\033[K");
        if (p->erased > 1) {
            char mv[32];
            snprintf(mv, sizeof mv, "\033[%dA", p->erased - 1);
            puts_(&p->o, mv);
        }
    }
}

/* One line over whatever the last draw left there: the rest of the row is cleared. */
static void put_line(nnm_progress *p, const char *line)
{
    puts_(&p->o, line);
    puts_(&p->o, "\033[K\n");
    p->wrote++;
}

/* The live lines (the study's, then one bar per running model), then clears what an earlier,
 * taller draw left below them. */
static void draw_live(nnm_progress *p, double now)
{
    char line[LINE_MAX_BYTES];
    int bars = 0;
    for (int i = 0; i < p->nslots; i++) bars += p->slots[i].active;
    int top = p->models > 0;
    /* The cursor can only go back up within the screen: the live lines must fit its height. */
    int room = p->rows > 0 ? p->rows - 1 : 1 << 20, more = 0;
    if (top + bars > room) {
        more = top + bars - (room - 1);
        bars = room - 1 - top;
        if (bars < 0) {
            top = room >= 1 && top;
            bars = 0;
            more = 0;
        }
    }
    if (top) {
        p->drawn_w[p->drawn_n++] = top_line(p, now, line);
        put_line(p, line);
    }
    int idw = id_width(p);
    for (int i = 0, shown = 0; i < p->nslots && shown < bars; i++) {
        if (!p->slots[i].active) continue;
        p->drawn_w[p->drawn_n++] = bar_line(p, &p->slots[i], idw, now, line);
        put_line(p, line);
        shown++;
    }
    if (more > 0) {
        snprintf(line, sizeof line, "+%d more training", more);
        int cols = (int)strlen(line);
        cut_to(line, &cols, line_width(p), p->unicode);
        p->drawn_w[p->drawn_n++] = cols;
        put_line(p, line);
    }
    end_update(p);
    p->last_draw = now;
}

static void redraw(nnm_progress *p)
{
    begin(p);
    draw_live(p, nnm_now());
    flush_out(p);
}

/* Control characters in a message (a file name from the user, say) must not steer the terminal. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (*s == '\t') *s = ' ';
        else if ((unsigned char)*s < 0x20 && *s != '\n') *s = '?';
        else if (*s == 0x7f) *s = '?';
}

/* Keeps a message above the live lines, broken at spaces into lines that fit the width (a word
 * longer than the width is cut); continuation lines are indented. */
static void keep_wrapped(nnm_progress *p, const char *msg)
{
    int width = line_width(p);
    const char *para = msg;
    for (;;) {
        const char *nl = strchr(para, '\n'), *end = nl ? nl : para + strlen(para);
        const char *s = para;
        int indent = 0;
        do {
            int room = width - indent, cols = 0, n = 0;
            const unsigned char *q = (const unsigned char *)s, *e = (const unsigned char *)end;
            const char *brk = NULL;
            while (q < e) {
                int g = glyph(q, e, &n);
                if (cols + g > room) break;
                if (*q == ' ') brk = (const char *)q;
                cols += g;
                q += n;
            }
            const char *stop = (const char *)q;
            if (q < e && *q != ' ' && brk && brk > s) stop = brk;
            if (stop == s && q < e) stop = s + n; /* nothing fits: skip a glyph rather than loop */
            const char *t = stop;
            while (t > s && t[-1] == ' ') t--;
            char line[MESSAGE_MAX + 8]; /* the indent, and cut_to's ellipsis */
            size_t len = (size_t)(t - s) < sizeof line - 8 ? (size_t)(t - s) : sizeof line - 8;
            snprintf(line, sizeof line, "%*s%.*s", indent, "", (int)len, s);
            int lc = text_cols(line, strlen(line));
            cut_to(line, &lc, width, p->unicode);
            put_line(p, line);
            s = stop;
            while (s < end && *s == ' ') s++;
            indent = width > 20 ? 2 : 0;
        } while (s < end);
        if (!nl) break;
        para = nl + 1;
    }
}

/* ---- the API -------------------------------------------------------------------------------- */

void nnm_progress_set_heldout(nnm_progress *p, const char *name)
{
    if (p) p->heldout = name;
}

nnm_progress *nnm_progress_create(int slots, int quiet, int force_plain)
{
    nnm_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->heldout = "test";
    p->nslots = slots > 0 ? slots : 1;
    p->slots = calloc((size_t)p->nslots, sizeof *p->slots);
    p->drawn_w = calloc((size_t)p->nslots + 3, sizeof *p->drawn_w);
    if (!p->slots || !p->drawn_w) {
        free(p->slots);
        free(p->drawn_w);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->quiet = quiet;
    p->tty = !quiet && !force_plain && isatty(STDERR_FILENO) && capable_term();
    p->unicode = p->tty && utf8_locale();
    p->t0 = nnm_now();
    if (p->tty) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_winch;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART; /* training's reads and writes must not fail with EINTR */
        p->winch_installed = sigaction(SIGWINCH, &sa, &p->old_winch) == 0;
        resized = 0;
        read_size(p);
    }
    return p;
}

void nnm_progress_free(nnm_progress *p)
{
    if (!p) return;
    if (p->tty && p->drawn_n > 0) {
        begin(p);
        end_update(p);
        flush_out(p);
    }
    if (p->winch_installed) sigaction(SIGWINCH, &p->old_winch, NULL);
    pthread_mutex_destroy(&p->lock);
    free(p->o.d);
    free(p->slots);
    free(p->drawn_w);
    free(p);
}

void nnm_progress_study(nnm_progress *p, int models, int done)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->models = models > 0 ? models : 0;
    p->done_before = done > 0 ? done : 0;
    p->t0 = nnm_now();
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_start(nnm_progress *p, int slot_i, const char *run_id, int epochs, int64_t steps)
{
    if (!p || p->quiet || slot_i < 0 || slot_i >= p->nslots) return;
    pthread_mutex_lock(&p->lock);
    slot *s = &p->slots[slot_i];
    memset(s, 0, sizeof *s);
    s->active = 1;
    snprintf(s->run_id, sizeof s->run_id, "%s", run_id);
    s->epochs = epochs > 0 ? epochs : 1;
    s->steps = steps;
    s->epoch = 1;
    if (p->tty) redraw(p);
    pthread_mutex_unlock(&p->lock);
}

/* Records a run's position; caller holds the lock. */
static void set_position(slot *s, int epoch, int64_t step, double now)
{
    s->epoch = epoch;
    s->step = step;
    double total = (double)s->epochs * (double)s->steps;
    int64_t g = (int64_t)(epoch - 1) * s->steps + step;
    s->frac = total > 0 ? (double)g / total : 0;
    if (s->frac > 1) s->frac = 1;
    if (!s->seen) {
        s->seen = 1;
        s->frac0 = s->frac;
        s->t_ref = now;
        s->g_ref = g;
    }
}

void nnm_progress_step(nnm_progress *p, int slot_i, int epoch, int64_t step, double loss, double accuracy)
{
    if (!p || !p->tty || slot_i < 0 || slot_i >= p->nslots) return;
    slot *s = &p->slots[slot_i];
    double now = nnm_now();
    /* The first step is always posted: it is where the run's speed is measured from. */
    if (s->last_update > 0 && now - s->last_update < UPDATE_EVERY_MS * 1e-3) return;
    s->last_update = now;
    pthread_mutex_lock(&p->lock);
    set_position(s, epoch, step, now);
    s->loss = loss;
    s->accuracy = accuracy;
    if (now - p->last_draw >= DRAW_EVERY_MS * 1e-3 || resized) redraw(p);
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_epoch(nnm_progress *p, int slot_i, int epoch, double loss, double accuracy, double test_loss,
                        double test_accuracy, double seconds)
{
    if (!p || p->quiet || slot_i < 0 || slot_i >= p->nslots) return;
    pthread_mutex_lock(&p->lock);
    slot *s = &p->slots[slot_i];
    if (p->tty) {
        double now = nnm_now();
        set_position(s, epoch, s->steps, now);
        char line[LINE_MAX_BYTES];
        begin(p);
        epoch_line(p, s, epoch, loss, accuracy, test_loss, test_accuracy, seconds, line);
        put_line(p, line);
        if (epoch < s->epochs) { /* the bar moves on to the next epoch */
            s->epoch = epoch + 1;
            s->step = 0;
        }
        draw_live(p, now);
        flush_out(p);
    } else {
        fprintf(stderr, "%s: epoch %d/%d  loss %.4f  accuracy %.4f  %s loss %.4f  %s accuracy %.4f  (%.1fs)\n",
                s->run_id, epoch, s->epochs, loss, accuracy, p->heldout, test_loss, p->heldout, test_accuracy,
                seconds);
        fflush(stderr);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Prints a formatted message; caller holds the lock. study: add the study's figures to a plain line. */
static void message(nnm_progress *p, int study, const char *fmt, va_list ap)
{
    char text[MESSAGE_MAX];
    vsnprintf(text, sizeof text, fmt, ap);
    sanitize(text);
    if (p->tty) {
        begin(p);
        keep_wrapped(p, text);
        draw_live(p, nnm_now());
        flush_out(p);
        return;
    }
    if (study && p->models > 0) {
        /* No live top line here: the count and the ETA ride on the line of each finished model. */
        double el = nnm_now() - p->t0;
        int todo = p->models - p->done_before, done = p->done_before + p->finished;
        char e[32], eta[40] = "";
        nnm_format_duration(el, e, sizeof e);
        if (p->finished < todo) {
            eta_text(eta + 2, sizeof eta - 2, p->finished > 0 ? el / p->finished * (todo - p->finished) : -1, 0);
            memcpy(eta, ", ", 2);
        }
        fprintf(stderr, "%s  [%d/%d models done, elapsed %s%s]\n", text, done, p->models, e, eta);
    } else {
        fprintf(stderr, "%s\n", text);
    }
    fflush(stderr);
}

void nnm_progress_message(nnm_progress *p, const char *fmt, ...)
{
    if (!p || p->quiet) return;
    pthread_mutex_lock(&p->lock);
    va_list ap;
    va_start(ap, fmt);
    message(p, 0, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_finished(nnm_progress *p, const char *fmt, ...)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->finished++;
    if (p->pending > 0) p->pending--;
    if (!p->quiet) {
        va_list ap;
        va_start(ap, fmt);
        message(p, 1, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_end(nnm_progress *p, int slot_i)
{
    if (!p || p->quiet || slot_i < 0 || slot_i >= p->nslots) return;
    pthread_mutex_lock(&p->lock);
    slot *s = &p->slots[slot_i];
    if (s->active) p->pending++; /* until nnm_progress_finished says how it ended */
    s->active = 0;
    if (p->tty) redraw(p);
    pthread_mutex_unlock(&p->lock);
}

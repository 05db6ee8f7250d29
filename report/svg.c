// The SVG of a run's metrics: nice axis ticks and one panel per metric,
// written directly as text (SVG 1.1, no script, no external resource).
#include <math.h>
#include <string.h>

#include "report/plot.h"

// Panel geometry in SVG user units (px).
enum {
    PANEL_W = 520,
    PANEL_H = 300,
    PAD_L = 72, // room for y tick labels
    PAD_R = 24,
    PAD_T = 40, // panel title
    PAD_B = 46, // x tick labels and the axis name
    HEADER_H = 44,
    TICKS_X = 6,
    TICKS_Y = 5,
};

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                      "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

// 1, 2 or 5 x 10^k near x (x > 0, finite): the smallest one >= x, or with
// round_it the nearest one (Heckbert's "nice numbers", Graphics Gems 1990).
static double nice_num(double x, bool round_it) {
    double p = pow(10.0, floor(log10(x)));
    double f = x / p;
    const double tol = 1e-9; // log10/pow rounding must not turn 2.0 into 5
    double nf;
    if (round_it)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 + tol ? 1 : f <= 2 + tol ? 2 : f <= 5 + tol ? 5 : 10;
    return nf * p;
}

void plot_ticks_nice(double lo, double hi, int target, int flags, struct plot_ticks *out) {
    const bool integer = flags & PLOT_TICKS_INTEGER;
    bool tight = flags & PLOT_TICKS_TIGHT;
    if (!isfinite(lo) || !isfinite(hi)) lo = 0, hi = 1;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double mag = fmax(fabs(lo), fabs(hi));
    if (hi - lo <= 1e-12 * mag || hi == lo) { // one value: widen around it
        double d = mag > 0 ? 0.1 * mag : 1;
        if (integer && d < 1) d = 1;
        lo -= d;
        hi += d;
    }
    if (target < 2) target = 2;
    // Divide before subtracting so that huge opposite limits do not overflow.
    double spacing = nice_num(hi / (target - 1) - lo / (target - 1), tight);
    for (;;) {
        if (integer && spacing < 1) spacing = 1;
        double a = tight ? ceil(lo / spacing) : floor(lo / spacing);
        double b = tight ? floor(hi / spacing) : ceil(hi / spacing);
        out->n = (int)lround(b - a) + 1;
        out->first = a * spacing;
        out->lo = tight ? lo : a * spacing;
        out->hi = tight ? hi : b * spacing;
        if (tight && out->n < 2) { // too few ticks inside: extend the axis to ticks
            tight = false;
            continue;
        }
        if (out->n <= PLOT_MAX_TICKS) break;
        spacing = nice_num(spacing * 1.5, false);
    }
    out->spacing = spacing;
    out->n_decimals = spacing >= 1 ? 0 : (int)ceil(-log10(spacing) - 1e-9);
}

void plot_tick_label(char *buf, size_t n, const struct plot_ticks *t, double v) {
    if (fabs(v) < 1e-6 * t->spacing) v = 0; // no "-0.00" from rounding
    double mag = fmax(fabs(t->lo), fabs(t->hi));
    if (t->n_decimals > 4 || mag >= 1e6)
        snprintf(buf, n, "%.4g", v);
    else
        snprintf(buf, n, "%.*f", t->n_decimals, v);
}

// Text with &, <, > and " escaped.
static void put_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            // Control characters are not allowed in XML 1.0 text.
            if ((unsigned char)*s >= 0x20 || *s == '\t') fputc(*s, f);
        }
    }
}

struct frame {
    double x0, y0, w, h; // the plot area inside the panel
    struct plot_ticks xt, yt;
};

static double px_x(const struct frame *fr, double step) {
    return fr->x0 + (step - fr->xt.lo) / (fr->xt.hi - fr->xt.lo) * fr->w;
}
static double px_y(const struct frame *fr, double v) {
    return fr->y0 + fr->h - (v - fr->yt.lo) / (fr->yt.hi - fr->yt.lo) * fr->h;
}

static void draw_axes(FILE *f, const struct frame *fr) {
    char label[64];
    fprintf(f, "<g class=\"grid\">\n");
    for (int i = 0; i < fr->yt.n; i++) {
        double y = px_y(fr, fr->yt.first + i * fr->yt.spacing);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr->x0, y,
                fr->x0 + fr->w, y);
    }
    fprintf(f, "</g>\n<g class=\"axis\">\n");
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\"/>\n",
            fr->x0, fr->y0, fr->w, fr->h);
    for (int i = 0; i < fr->xt.n; i++) {
        double v = fr->xt.first + i * fr->xt.spacing, x = px_x(fr, v), yb = fr->y0 + fr->h;
        plot_tick_label(label, sizeof label, &fr->xt, v);
        fprintf(f,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>"
                "<text class=\"xtick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                x, yb, x, yb + 5, x, yb + 18, label);
    }
    for (int i = 0; i < fr->yt.n; i++) {
        double v = fr->yt.first + i * fr->yt.spacing, y = px_y(fr, v);
        plot_tick_label(label, sizeof label, &fr->yt, v);
        fprintf(f,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>"
                "<text class=\"ytick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                fr->x0 - 5, y, fr->x0, y, fr->x0 - 8, y + 4, label);
    }
    fprintf(f, "<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">step</text>\n",
            fr->x0 + fr->w / 2, fr->y0 + fr->h + 36);
    fprintf(f, "</g>\n");
}

// The curve of key k: a polyline per run of finite values (NaN ends a run),
// a dot for a run of one point. Rows without the key are skipped.
static void draw_series(FILE *f, const struct plot_metrics *m, int k, const struct frame *fr,
                        const char *color) {
    int64_t run_len = 0;
    double first_x = 0, first_y = 0;
    fprintf(f, "<g class=\"series\" stroke=\"%s\" fill=\"%s\">\n", color, color);
    for (int64_t i = 0; i <= m->n_rows; i++) {
        bool end = i == m->n_rows;
        if (!end && !m->present[i * m->n_keys + k]) continue;
        double v = end ? NAN : m->value[i * m->n_keys + k];
        if (isfinite(v)) {
            double x = px_x(fr, (double)m->step[i]), y = px_y(fr, v);
            if (run_len == 0) {
                first_x = x, first_y = y;
            } else {
                if (run_len == 1)
                    fprintf(f, "<polyline class=\"series\" fill=\"none\" points=\"%.2f,%.2f",
                            first_x, first_y);
                fprintf(f, " %.2f,%.2f", x, y);
            }
            run_len++;
            continue;
        }
        if (run_len == 1)
            fprintf(f, "<circle class=\"dot\" cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\"/>\n", first_x,
                    first_y);
        else if (run_len > 1)
            fprintf(f, "\"/>\n");
        run_len = 0;
    }
    fprintf(f, "</g>\n");
}

static void draw_panel(FILE *f, const struct plot_metrics *m, int k, double ox, double oy,
                       const char *color) {
    struct frame fr = {
        .x0 = PAD_L, .y0 = PAD_T, .w = PANEL_W - PAD_L - PAD_R, .h = PANEL_H - PAD_T - PAD_B};
    double lo = INFINITY, hi = -INFINITY;
    int64_t n_finite = 0, last = -1;
    for (int64_t i = 0; i < m->n_rows; i++) {
        double v = m->value[i * m->n_keys + k];
        if (!m->present[i * m->n_keys + k] || !isfinite(v)) continue;
        lo = fmin(lo, v), hi = fmax(hi, v);
        n_finite++;
        last = i;
    }
    plot_ticks_nice((double)m->step[0], (double)m->step[m->n_rows - 1], TICKS_X,
                    PLOT_TICKS_INTEGER | PLOT_TICKS_TIGHT, &fr.xt);
    plot_ticks_nice(n_finite ? lo : 0, n_finite ? hi : 1, TICKS_Y, 0, &fr.yt);

    fprintf(f, "<g class=\"panel\" id=\"panel-");
    put_escaped(f, m->keys[k]);
    fprintf(f, "\" transform=\"translate(%.0f,%.0f)\">\n", ox, oy);
    fprintf(f, "<rect class=\"bg\" width=\"%d\" height=\"%d\"/>\n", PANEL_W, PANEL_H);
    fprintf(f, "<text class=\"title\" x=\"%d\" y=\"24\">", PAD_L);
    put_escaped(f, m->keys[k]);
    if (last >= 0)
        fprintf(f, "<tspan class=\"note\" dx=\"8\">(last %.4g at step %lld)</tspan>",
                m->value[last * m->n_keys + k], (long long)m->step[last]);
    fprintf(f, "</text>\n");
    draw_axes(f, &fr);
    if (n_finite == 0)
        fprintf(f,
                "<text class=\"note\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">no finite "
                "values</text>\n",
                fr.x0 + fr.w / 2, fr.y0 + fr.h / 2);
    draw_series(f, m, k, &fr, color);
    fprintf(f, "</g>\n");
}

int plot_svg_write(FILE *f, const struct plot_metrics *m, const int *panels, int n_panels,
                   const char *title, struct err *e) {
    if (n_panels <= 0 || m->n_rows == 0) return err_user(e, "nothing to plot");
    for (int p = 0; p < n_panels; p++)
        if (panels[p] < 0 || panels[p] >= m->n_keys)
            return err_internal(e, "plot panel %d names key %d of %d", p, panels[p], m->n_keys);
    int cols = n_panels == 1 ? 1 : 2, rows = (n_panels + cols - 1) / cols;
    int width = cols * PANEL_W, height = HEADER_H + rows * PANEL_H;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            width, height, width, height);
    fprintf(f, "<style>\n"
               "text { font-family: sans-serif; font-size: 12px; fill: #222; }\n"
               ".header { font-size: 16px; font-weight: bold; }\n"
               ".title { font-size: 14px; font-weight: bold; }\n"
               ".note { font-size: 11px; font-weight: normal; fill: #666; }\n"
               ".bg { fill: #fff; }\n"
               ".grid line { stroke: #e4e4e4; stroke-width: 1; }\n"
               ".axis line, .axis rect { stroke: #444; stroke-width: 1; }\n"
               "polyline.series { stroke-width: 1.6; stroke-linejoin: round; }\n"
               "circle.dot { stroke: none; }\n"
               "</style>\n");
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", width, height);
    fprintf(f, "<text class=\"header\" x=\"16\" y=\"28\">");
    put_escaped(f, title);
    fprintf(f, "</text>\n");
    for (int p = 0; p < n_panels; p++)
        draw_panel(f, m, panels[p], (double)(p % cols) * PANEL_W,
                   HEADER_H + (double)(p / cols) * PANEL_H,
                   palette[p % (int)(sizeof palette / sizeof *palette)]);
    fprintf(f, "</svg>\n");
    return 0;
}

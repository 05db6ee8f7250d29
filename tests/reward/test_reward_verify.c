// Extraction, verdicts, bounded cost on pathological input, and shaping.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "reward/reward.h"

struct extract_case {
    const char *response;
    enum reward_mode mode;
    const char *expected; // NULL: no answer
    enum reward_answer_source source;
};

#define SOL REWARD_MODE_SOLUTION
#define FIN REWARD_SOURCE_FINAL

static const struct extract_case extract_cases[] = {
    {"so \\boxed{42}.", REWARD_MODE_BOXED, "42", REWARD_SOURCE_BOXED},
    {"\\boxed{1} then \\boxed{2}", REWARD_MODE_BOXED, "2", REWARD_SOURCE_BOXED},
    {"\\boxed{\\frac{1}{2}}", REWARD_MODE_BOXED, "\\frac{1}{2}", REWARD_SOURCE_BOXED},
    {"\\boxed{\\{1, 2\\}}", REWARD_MODE_BOXED, "\\{1, 2\\}", REWARD_SOURCE_BOXED},
    {"\\boxed{ {a}^{b} }", REWARD_MODE_BOXED, "{a}^{b}", REWARD_SOURCE_BOXED},
    {"\\fbox{7}", REWARD_MODE_BOXED, "7", REWARD_SOURCE_BOXED},
    {"the answer: $\\boxed 5$", REWARD_MODE_BOXED, "5", REWARD_SOURCE_BOXED},
    {"\\boxed{3} and then \\boxed{unclosed", REWARD_MODE_BOXED, "3", REWARD_SOURCE_BOXED},
    {"\\boxed{\\boxed{9}}", REWARD_MODE_BOXED, "9", REWARD_SOURCE_BOXED},
    {"\\boxedx{4}", REWARD_MODE_BOXED, NULL, REWARD_SOURCE_NONE},
    {"\\boxed{}", REWARD_MODE_BOXED, NULL, REWARD_SOURCE_NONE},
    {"She pays 5 + 3 = 8.\n#### 8", REWARD_MODE_GSM8K, "8", REWARD_SOURCE_HASHES},
    {"#### 1,000\n", REWARD_MODE_BOXED, "1,000", REWARD_SOURCE_HASHES},
    {"Thus the answer is 12. Done", REWARD_MODE_BOXED, "12", REWARD_SOURCE_ANSWER_IS},
    {"The answer is: $\\frac{3}{4}$", REWARD_MODE_BOXED, "$\\frac{3}{4}$", REWARD_SOURCE_ANSWER_IS},
    {"THE ANSWER IS 3.5.", REWARD_MODE_BOXED, "3.5.", REWARD_SOURCE_ANSWER_IS},
    {"所以答案是 12。", REWARD_MODE_BOXED, "12", REWARD_SOURCE_CHINESE},
    {"故答案为：$7$", REWARD_MODE_BOXED, "7$", REWARD_SOURCE_CHINESE},
    {"答案为 -3", REWARD_MODE_BOXED, "-3", REWARD_SOURCE_CHINESE},
    {"I got 3 apples and 4 pears, 7 in all", REWARD_MODE_BOXED, NULL, REWARD_SOURCE_NONE},
    {"I got 3 apples and 4 pears, 7 in all", REWARD_MODE_GSM8K, "7", REWARD_SOURCE_LAST_NUMBER},
    {"total -1,234.5 dollars", REWARD_MODE_GSM8K, "-1,234.5", REWARD_SOURCE_LAST_NUMBER},
    {"ratio 3/4", REWARD_MODE_GSM8K, "3/4", REWARD_SOURCE_LAST_NUMBER},
    {"no digits here", REWARD_MODE_GSM8K, NULL, REWARD_SOURCE_NONE},
    {"", REWARD_MODE_GSM8K, NULL, REWARD_SOURCE_NONE},
    {"\\boxed{5} #### 6", REWARD_MODE_GSM8K, "5",
     REWARD_SOURCE_BOXED}, // ---- solution mode: the final statement of a worked solution ----
    {"So the maximum perimeter is $\\mathbf{3 2}$. Note $7$.", SOL, "\\mathbf{3 2}", FIN},
    {"$x=16+4=\\mathbf{2 0}$, and $y = 3$.", SOL, "\\mathbf{2 0}", FIN},
    {"the answer is $\\sqrt{256}=16$. With $T=7$ we check $5$.", SOL, "16", FIN},
    {"the answer is therefore $12$. Then $5$.", SOL, "12", FIN},
    {"the answer is the remainder of $576$ by 1000 . It is 976 .", SOL, "976", FIN},
    {"so $n=5$ or $n=15$.", SOL, "n=5$ or $n=15", FIN},
    {"so $p=3$ and $q=4$.", SOL, "p=3$ and $q=4", FIN},
    {"so $n-2=9$, and $n=11$.", SOL, "11", FIN},
    {"the triples are $(1,8,19),(2,7,13)$, and $(4,5,7)$.", SOL, "(1,8,19),(2,7,13)$, and $(4,5,7)",
     FIN},
    {"first $(1,2)$\n\nthen $(3,4)$", SOL, "(3,4)", FIN},
    {"$$\n\\begin{aligned}\n2 x & =18 \\\\\nx & =9 .\n\\end{aligned}\n$$", SOL, "9", FIN},
    {"So the desired value of $n$ is 4096 .", SOL, "4096", FIN},
    {"the values are 1, 3, 5, and 15 .", SOL, "1, 3, 5, and 15", FIN},
    {"Therefore $x=5$. That is, the 5 th and 15 th terms.", SOL, "5", FIN},
    {"we get $y=2$ (see <img_3438>)", SOL, "2", FIN},
    {"costs \\$5 and $x = 7$", SOL, "7", FIN},
    {"so $x=7$. (We can check that $x=0$ fails.)", SOL, "7", FIN}, // a final aside goes
    {"so $p q=5$ (and $r=2$ ).", SOL, "5", FIN},
    {"so $x=7$. (Checking: $2$.) (Also $3$ works.)", SOL, "7", FIN},
    {"So there are 10 solutions:\n\n| $x$ | $y$ |\n| 1 | 20 |\n", SOL, "10", FIN}, // a table
    {"so 8 pairs. See below.\n| $a$ | 3 |\n| -1 | 30 |", SOL, "8", FIN},
    {"| $a$ | 3 |\n| -1 | 30 |", SOL, "30", FIN},                            // a table alone stays
    {"So $k=20$.\n\nFor example, if $k=7$, then $c=1750$.", SOL, "20", FIN}, // an example
    {"So $k=20$.\n\nFor instance $k=7$.\n\n(Check: $3$.)", SOL, "20", FIN},
    {"So $k=20$. For example, $k=7$.", SOL, "7", FIN}, // not a paragraph of its own
    {"So $k=20$.\n\nAn example: $k=7$.", SOL, "7", FIN},
    {"the point is $(1, 2)$.", SOL, "(1, 2)", FIN}, // a tuple is no aside
    {"the point is (3, 4).", SOL, "(3, 4)", FIN},
    {"the interval is [3, 4) here", SOL, "[3, 4)", FIN},
    {"we get (3, 4 and 5)", SOL, "(3, 4 and 5)", FIN},
    {"so $x = 2$, which satisfies (5).", SOL, "2", FIN}, // (5) labels an equation
    {"it satisfies equation (1).", SOL, NULL, REWARD_SOURCE_NONE},
    {"no math here", SOL, NULL, REWARD_SOURCE_NONE},
    {"$x$ and $y$ only", SOL, NULL, REWARD_SOURCE_NONE},
    {"unclosed $x = 5", SOL, NULL, REWARD_SOURCE_NONE},
    {"\\boxed{3} but $x = 5$", SOL, "3", REWARD_SOURCE_BOXED},
    // the opening statement (IMO shortlist style: the answer first, then the proof)
    {"The required maximum is $2 n-2$. Proof: so $k \\le 5$.", SOL, "2 n-2", FIN},
    {"There is only one such integer, namely, $n=2$. Then $x = 7$.", SOL, "2", FIN},
    {"The maximum number of boxes is 6 . Then we show $x=4$.", SOL, "6", FIN},
    {"The required minimum is $6 m$ and is achieved by $m$ blocks; $x=4$.", SOL, "6 m", FIN},
    {"The smallest values are 2 and 4 . Then $x=4$.", SOL, "2 and 4", FIN},
    {"The only solutions are $n=1$ or $n=3$. Then $x=4$.", SOL, "n=1$ or $n=3", FIN},
    {"$E(7,3)=3$. First, $x = 5$.", SOL, "3", FIN},
    {"The answer is $5$. Yet $\\mathbf{7}$ is bold.", SOL, "\\mathbf{7}", FIN}, // bold first
    {"$x=2$. Then $y=3$.", SOL, "3", FIN},                                      // no function
    {"$E(n,3)=n$. First, $x = 5$.", SOL, "5", FIN},                             // not a constant
    {"The probability of at least one tail is $1/2$. So $x = 7$.", SOL, "7", FIN},
    {"The probability is $\\frac12$, the least. So $p = 3$.", SOL, "3", FIN}, // no key word first
    {"The largest such is at least $5$. Thus $k=7$.", SOL, "7", FIN},         // no value after is
    {"The maximum is $5$ for $n$ odd. Thus $k=7$.", SOL, "7", FIN},           // a condition follows
    {"First, the maximum is $5$. Thus $k=7$.", SOL, "5", FIN},
    {"The required maximum is $N=n$.\n\nTo rule out $N=n+1$, see $x=5$.", SOL, "n", FIN},
    {"The required maximum is $ $. Then $x=5$.", SOL, "5", FIN}, // empty math
    {"So the final answer is $n=960$. In general the answer is $n=N^2$.", SOL, "960", FIN},
    {"First $x=2$. So the answer is $n=960$. In general the answer is $n=N^2$.", SOL, "N^2", FIN},
    {"so $x = 5$.", REWARD_MODE_BOXED, NULL, REWARD_SOURCE_NONE},
    // "The required ... is": the sentence's subject names the answer
    {"The required number is $\\binom{2 n}{n}$. To prove it, $x=5$.", SOL, "\\binom{2 n}{n}", FIN},
    {"The desired sum is 12 . Then $x=5$.", SOL, "12", FIN},
    {"A candidate for desired number is $2 0 X Y$, where $X=6$. So it is 2069 .", SOL, "2069",
     FIN},                                                                   // not the subject
    {"The required inequality holds for $n=3$. Thus $k=7$.", SOL, "7", FIN}, // no copula
    // a trailing domain clause is no answer
    {"In summary $f(x)=x-1, x \\in \\mathbb{R}$.", SOL, "f(x)=x-1", FIN},
    {"so $f(n)=2 n, n \\in \\mathbb{Z}_{>0}$.", SOL, "f(n)=2 n", FIN},
    {"so $y=x-1, x \\in \\mathbb{R}$.", SOL, "x-1", FIN},
    {"so $g(x)=2 x^{2} ,\\quad x \\in \\mathbb{R}^{+}$ .", SOL, "g(x)=2 x^{2}", FIN},
    {"so $f(x)=x, x \\in [0, 1]$.", SOL, "[0, 1]", FIN},      // not a \mathbb set
    {"so $f(x)=x, y \\in \\mathbb{R}, z=2$.", SOL, "2", FIN}, // not trailing
    // bold letters mark vectors: then bold is no answer marker
    {"The answer is $s=3$, for any $n$. So $\\mathbf{v} \\vee \\mathbf{0}$ holds.", SOL, "3", FIN},
    {"The answer is $s=3$. So $\\mathbf{v}=\\mathbf{1 2}$ holds.", SOL, "3", FIN},
    {"The answer is $s=3$. So $\\mathbf{1 2}$ holds.", SOL, "\\mathbf{1 2}", FIN},
    // the closing statement: a last sentence that names its value and ends with it
    {"So $a=65$. Thus the least angle is $65^{\\circ}$.", SOL, "65^{\\circ}", FIN},
    {"So $y=2$. Thus the least value is $\\frac{1}{2 T}$, and with $T=20$, this is "
     "$\\frac{1}{40}$.",
     SOL, "\\frac{1}{40}", FIN}, // a value after it: the last value
    {"The ten smallest are 27, $54,108$, and 378.", SOL, "27, $54,108$, and 378", FIN},
    {"We get $x=3$. The candidates are $4$ and $9$, and only 4 works.", SOL, "4", FIN},
    {"We get $x=3$. The probability is $\\frac{1}{2}$, the largest.", SOL, "\\frac{1}{2}", FIN},
    {"We get $x=3$. Thus 79 is the largest integer $N$ for which $4 N$ is prime.", SOL, "79", FIN},
    {"We get $x=3$. Hence $2021 \\cdot 5$ is indeed the answer.", SOL, "2021 \\cdot 5", FIN},
    {"We get $x=3$. Then 623 must be the only answer.", SOL, "623", FIN},
    {"We get $x=3$. Thus 79 is prime for $n=5$.", SOL, "5", FIN}, // no key word after "the"
    {"We get $x=3$. Thus 79 is the case for $n=5$.", SOL, "5", FIN},
    {"We get $x=3$. So at least 7 is the minimum of $f$ at $x=2$.", SOL, "7", FIN},
    {"We see that $M=\\frac{9}{32}$ is indeed the smallest constant, with $(1,2)$.", SOL,
     "\\frac{9}{32}", FIN},
    // a count that is the last sentence's subject
    {"We get $x=2$. Thus, 8 of the positive divisors of 900 are perfect squares.", SOL, "8", FIN},
    {"So $n=4$. In total, 202 of the integers $f(1), \\ldots, f(2014)$ end in 1 .", SOL, "202",
     FIN},
    {"We get $x=2$. Thus 3 of the 5 balls are red, so the probability is $3/5$.", SOL, "3/5", FIN},
    {"We get $x=2$. So 3 of the 5 balls are 7 cm long.", SOL, "7", FIN},    // a copula with a value
    {"We get $x=2$. Thus, 8 of the $n$ values give $n=4$.", SOL, "4", FIN}, // an equation
    {"We get $x=2$. Then we see a group of 4 of the 9 cells, 12 in all.", SOL, "12", FIN},
    // "<value> is the answer" anywhere, as "the answer is <value>"
    {"Then 623 must be the only answer. Why? We have $c=3$.", SOL, "623", FIN},
    {"So $N=12$ is the answer. Check: $N+1=13$.", SOL, "12", FIN},
    {"Is 623 the answer? We have $c=3$.", SOL, "3", FIN},
    {"So $x$ is the answer. Then $y=5$.", SOL, "5", FIN},
    {"The answer is 5. Then 6 is the answer to (b). So $y=7$.", SOL, "5", FIN},
    {"Thus 623 is the answer to part (a)", SOL, "623", FIN},
    {"Thus x623 is the answer. So $y=7$.", SOL, "7", FIN}, // part of a word
    // a reason clause that ends the sentence is not the answer
    {"We get $y=1$.\n\nso $\\sin x=\\frac{3}{4}$ since $\\sin x>0$ because $0<x<90$.", SOL,
     "\\frac{3}{4}", FIN},
    {"so $x=3$ because $y=2$.", SOL, "3", FIN},
    {"so $x=3$ since $y$ is odd.", SOL, "3", FIN}, // the last value is already before it
    {"Thus $B=2$; since $B_1=2$, it follows that $B=2^{9}$.", SOL, "2^{9}", FIN}, // a comma
    {"We get $z=5$. Since $y=2$, we have $x=3$.", SOL, "3", FIN},
    {"We get $z=5$. Since $y=2$ we have $x=3$ as $w=4$.", SOL, "4", FIN}, // it opens the sentence
    {"We get $z=5$. So $x$ holds since $y=2$.", SOL, "2", FIN}, // no value before the reason
    // the last value: not a domain; a name defined without digits in the last sentence
    {"so $f(x)=1 / x$ for all $x \\in \\mathbb{R}_{>0}$.", SOL, "f(x)=1 / x", FIN},
    {"so $x=2$ for $n \\in \\mathbb{Z}_{>0}$.", SOL, "2", FIN},
    {"We get $x=3$. So $N=n$.", SOL, "n", FIN},
    {"We get $x=3$. Finally, the function $f(n)=n$ satisfies (1).", SOL, "f(n)=n", FIN},
    {"We get $N=n$. So $x=3$ holds for $y$.", SOL, "3", FIN}, // not in the last sentence
    {"We get $x=3$. So $n+m=k$.", SOL, "3", FIN},             // not a name
    {"We get $x=3$. So $N \\le n$.", SOL, "3", FIN},          // not a definition
    {"$$ (x+1) f(y)=y, \\text { hence } f(y)=y+1 $$", SOL, "f(y)=y+1", FIN}, // the conclusion
    {"so $x^{2}=4 \\Rightarrow x>1$.", SOL, "x>1", FIN},
    {"so $x^{2}=4 \\text{ and } x=2$.", SOL, "2", FIN},
    {"so $x=4 \\text{ hence}$.", SOL, "4 \\text{ hence}", FIN}, // nothing after it
    {"so $f(m)=m$.", SOL, "f(m)=m", FIN}, // a function's definition stays whole
    {"so $f(m)=g(m)=m$.", SOL, "m", FIN},
    {"so $f(2)=4$.", SOL, "4", FIN},
    // names set to one value stay whole: "a=b=-2" is the pair (-2, -2)
    {"Thus, $a=b=-2$.", SOL, "a=b=-2", FIN},
    {"Thus, $x=y+1=3$.", SOL, "3", FIN},
    {"Thus, $2 a=b=4$.", SOL, "4", FIN},
    {"Thus, $a=1, b=c=2$.", SOL, "2", FIN},
    // "We claim that $M=...$." in the first or second sentence
    {"Let $M$ be the maximum. We claim that $M=n(n+1) / 2$. First $x=5$.", SOL, "n(n+1) / 2", FIN},
    {"We claim that $M=7$. First $x=5$.", SOL, "7", FIN},
    {"Let $M$ be the maximum. We claim that $2 M=7$. First $x=5$.", SOL, "5", FIN},  // no name
    {"Let $M$ be it. We claim that $M=7$ for $n$ odd. First $x=5$.", SOL, "5", FIN}, // a condition
    {"Let $M$ be it. Set $a=1$. We claim that $M=7$. First $x=5$.", SOL, "5", FIN},  // third
    {"Let $M$ be it. We claim that $M \\mid 7$. First $x=5$.", SOL, "5", FIN},       // no equation
};

static void test_extract_table(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof extract_cases / sizeof extract_cases[0]; k++) {
        const struct extract_case *c = &extract_cases[k];
        struct reward_extract_opts o;
        reward_extract_opts_default(&o, c->mode);
        size_t start = 0, len = 0;
        enum reward_answer_source src =
            reward_extract_answer(c->response, strlen(c->response), &o, &start, &len);
        if (src != c->source || (c->expected && (len != strlen(c->expected) ||
                                                 memcmp(c->response + start, c->expected, len))))
            fail_msg("case %zu '%s': got source %s '%.*s', expected %s '%s'", k, c->response,
                     reward_answer_source_name(src), (int)len, c->response + start,
                     reward_answer_source_name(c->source), c->expected ? c->expected : "");
    }
}

static void test_extract_options(void **state) {
    (void)state;
    struct reward_extract_opts o;
    reward_extract_opts_default(&o, REWARD_MODE_BOXED);
    o.use_answer_is = false;
    size_t start, len;
    const char *r = "the answer is 4";
    assert_int_equal(reward_extract_answer(r, strlen(r), &o, &start, &len), REWARD_SOURCE_NONE);
    o.use_last_number = true;
    assert_int_equal(reward_extract_answer(r, strlen(r), &o, &start, &len),
                     REWARD_SOURCE_LAST_NUMBER);
    enum reward_mode m;
    assert_true(reward_mode_parse("gsm8k", &m) && m == REWARD_MODE_GSM8K);
    assert_true(reward_mode_parse("solution", &m) && m == REWARD_MODE_SOLUTION);
    assert_string_equal(reward_mode_name(REWARD_MODE_SOLUTION), "solution");
    reward_extract_opts_default(&o, REWARD_MODE_SOLUTION);
    assert_true(o.use_final_statement && !o.use_last_number);
    o.use_final_statement = false; // off: "answer is" decides
    r = "the answer is 4, not $5$";
    assert_int_equal(reward_extract_answer(r, strlen(r), &o, &start, &len),
                     REWARD_SOURCE_ANSWER_IS);
    assert_false(reward_mode_parse("math", &m));
}

static struct reward_verifier *make_verifier(enum reward_mode mode) {
    struct reward_verifier_opts o;
    reward_verifier_opts_default(&o, mode);
    struct reward_verifier *v;
    struct err e;
    assert_int_equal(reward_verifier_create(&o, &v, &e), 0);
    return v;
}

static void verify_str(struct reward_verifier *v, const char *response, const char *gold,
                       struct reward_verdict *out) {
    reward_verify(v, response, strlen(response), gold, strlen(gold), NULL, out);
}

static void test_verdicts(void **state) {
    (void)state;
    struct reward_verifier *v = make_verifier(REWARD_MODE_BOXED);
    struct reward_verdict vd;
    verify_str(v, "so the total is \\boxed{\\frac{1}{2}}", "0.5", &vd);
    assert_true(vd.is_correct);
    assert_string_equal(vd.extracted, "\\frac{1}{2}");
    assert_int_equal(vd.source, REWARD_SOURCE_BOXED);
    verify_str(v, "I do not know", "5", &vd);
    assert_false(vd.is_correct);
    assert_true(vd.is_no_answer);
    assert_string_equal(vd.reason, "no answer");
    verify_str(v, "\\boxed{2}", "1/2", &vd);
    assert_false(vd.is_correct);
    assert_false(vd.is_no_answer);
    // a gold given as a solution stands for its boxed answer
    verify_str(v, "\\boxed{4}", "2+2 = \\boxed{4}", &vd);
    assert_true(vd.is_correct);
    // a per-call override: the last number for GSM8K-style rows
    struct reward_extract_opts gsm;
    reward_extract_opts_default(&gsm, REWARD_MODE_GSM8K);
    reward_verify(v, "it costs 18 dollars", 19, "18", 2, &gsm, &vd);
    assert_true(vd.is_correct);
    reward_verifier_destroy(&v);
    assert_null(v);
}

// The solution mode's rules end to end: each reads the right statement, and
// a wrong gold against it stays wrong (expected verdicts written by hand).
static const struct {
    const char *response, *gold;
    bool is_correct;
} solution_cases[] = {
    {"We get $x=3$. Then 623 must be the only answer. Why? $c=3$.", "623", true},
    {"We get $x=3$. Then 623 must be the only answer. Why? $c=3$.", "3", false},
    {"Let $M$ be the maximum. We claim that $M=n(n+1) / 2$. So $x=5$.", "\\frac{n(n+1)}{2}", true},
    {"Let $M$ be the maximum. We claim that $M=n(n+1) / 2$. So $x=5$.", "\\frac{n(n-1)}{2}", false},
    {"Thus, $a=b=-2$.", "-2,-2", true},
    {"Thus, $a=b=-2$.", "-2,2", false},
    {"In summary $f(x)=x-1, x \\in \\mathbb{R}$.", "f(x)=x-1", true},
    {"In summary $f(x)=x-1, x \\in \\mathbb{R}$.", "f(x)=x+1", false},
    {"In summary $f(x)=x-1, x \\in \\mathbb{R}$.", "\\mathbb{R}", false},
    {"We get $x=3$. The ten smallest are 27, $54,108$, and 378.", "27,54,108,378", true},
    {"We get $x=3$. The ten smallest are 27, $54,108$, and 378.", "27,54,108", false},
    {"So there are 10 solutions:\n\n| $x$ | $y$ |\n| 1 | 20 |", "10", true},
    {"So there are 10 solutions:\n\n| $x$ | $y$ |\n| 1 | 20 |", "20", false},
    {"We get $x=2$. Thus, 8 of the positive divisors of 900 are perfect squares.", "8", true},
    {"We get $x=2$. Thus, 8 of the positive divisors of 900 are perfect squares.", "900", false},
    {"so $f(m)=m$.", "f(n)=n", true},
    {"so $f(m)=m$.", "f(n)=n+1", false},
    {"We get $y=1$.\n\nso $x=\\frac{3}{4}$ since $\\sin x>0$ because $0<x<90$.", "\\frac{3}{4}",
     true},
    {"We get $y=1$.\n\nso $x=\\frac{3}{4}$ since $\\sin x>0$ because $0<x<90$.", "(0, 90)", false},
    {"These give $5+4 d=5+4(-\\frac{5}{2})=-5$ and $5+4 d=5+4(\\frac{1}{2})=7$.", "-5,7", true},
    {"These give $5+4 d=5+4(-\\frac{5}{2})=-5$ and $5+4 d=5+4(\\frac{1}{2})=7$.", "-5,5", false},
    {"The lists are 1,7,103, 105 and 3, 5, 101, 107.", "(1,7,103,105), (3,5,101,107)", true},
    {"The lists are 1,7,103, 105 and 3, 5, 101, 107.", "(1,7,103,105), (3,5,107,101)", false},
};

static void test_solution_verdicts(void **state) {
    (void)state;
    struct reward_verifier *v = make_verifier(REWARD_MODE_SOLUTION);
    struct reward_verdict vd;
    for (size_t k = 0; k < sizeof solution_cases / sizeof solution_cases[0]; k++) {
        verify_str(v, solution_cases[k].response, solution_cases[k].gold, &vd);
        if (vd.is_correct != solution_cases[k].is_correct)
            fail_msg("case %zu '%s' vs '%s': %s (extracted '%s')", k, solution_cases[k].response,
                     solution_cases[k].gold, vd.reason, vd.extracted);
    }
    reward_verifier_destroy(&v);
}

// Each must come back, wrong (or no answer), without crash, hang or overflow.
static void test_pathological(void **state) {
    (void)state;
    struct reward_verifier *v = make_verifier(REWARD_MODE_BOXED);
    struct reward_verdict vd;
    size_t n = 1 << 20;
    char *big = malloc(n + 64);
    // 1 MB of nested braces inside a box
    strcpy(big, "\\boxed{");
    for (size_t k = 7; k < n; k++) big[k] = k < n / 2 ? '{' : '}';
    big[n] = 0;
    verify_str(v, big, "5", &vd);
    assert_false(vd.is_correct);
    assert_true(vd.is_budget_exceeded);
    // 10,000 nested braces that do close, around a small answer
    size_t m = 0;
    m += (size_t)sprintf(big, "\\boxed{");
    for (int k = 0; k < 10000; k++) big[m++] = '{';
    big[m++] = '5';
    for (int k = 0; k < 10000; k++) big[m++] = '}';
    big[m++] = '}';
    big[m] = 0;
    verify_str(v, big, "5", &vd);
    assert_false(vd.is_correct);
    assert_true(vd.is_budget_exceeded);
    // 100 KB of unclosed boxes
    m = 0;
    while (m + 8 < 100000) m += (size_t)sprintf(big + m, "\\boxed{");
    verify_str(v, big, "5", &vd);
    assert_false(vd.is_correct);
    // deep parentheses within the size bound
    m = (size_t)sprintf(big, "\\boxed{");
    for (int k = 0; k < 1500; k++) big[m++] = '(';
    big[m++] = '1';
    for (int k = 0; k < 1500; k++) big[m++] = ')';
    big[m++] = '}';
    big[m] = 0;
    verify_str(v, big, "1", &vd);
    assert_false(vd.is_correct);
    assert_true(vd.is_budget_exceeded);
    // a long flat sum (tree height, not parser recursion)
    m = (size_t)sprintf(big, "\\boxed{");
    for (int k = 0; k < 1300; k++) m += (size_t)sprintf(big + m, "1+");
    m += (size_t)sprintf(big + m, "1}");
    verify_str(v, big, "1301", &vd);
    assert_false(vd.is_correct);
    // huge values
    verify_str(v, "\\boxed{10^{10^{10}}}", "5", &vd);
    assert_false(vd.is_correct);
    verify_str(v, "\\boxed{1000!}", "5", &vd);
    assert_false(vd.is_correct);
    verify_str(v, "\\boxed{1000!}", "1000!", &vd);
    assert_true(vd.is_correct); // same text, value overflows: decided as text
    verify_str(v, "\\boxed{(10^{400})!}", "2", &vd);
    assert_false(vd.is_correct);
    verify_str(v, "\\boxed{x^{10^{10}}}", "x", &vd);
    assert_false(vd.is_correct);
    // invalid UTF-8 and unbalanced \left(
    verify_str(v, "\\boxed{\xff\xfe\xc3}", "5", &vd);
    assert_false(vd.is_correct);
    verify_str(v, "\\boxed{\\left( 1, 2}", "(1,2)", &vd);
    assert_false(vd.is_correct);
    verify_str(v, "\\boxed{\\frac{1}{0}}", "1", &vd);
    assert_false(vd.is_correct);
    verify_str(v, "\\boxed{0/0}", "0", &vd);
    assert_false(vd.is_correct);
    // 1 MB of text without an answer
    memset(big, 'a', n);
    big[n] = 0;
    verify_str(v, big, "5", &vd);
    assert_true(vd.is_no_answer);
    // random bytes: only that it returns
    struct rng_seq r;
    rng_seq_init(&r, 7, rng_stream_id(RNG_TEST, 1, 0, 0), 0);
    static const char alphabet[] = "\\{}()[]^_0123456789x+-*/=,.!|%$ abc\\frac\\sqrt\\boxed";
    for (int t = 0; t < 300; t++) {
        size_t len = 7 + rng_seq_below(&r, 200);
        strcpy(big, "\\boxed{");
        for (size_t k = 7; k < len; k++) big[k] = alphabet[rng_seq_below(&r, sizeof alphabet - 1)];
        big[len] = 0;
        verify_str(v, big, "x+1", &vd);
    }
    free(big);
    reward_verifier_destroy(&v);
}

static void test_shaping_modes(void **state) {
    (void)state;
    struct reward_shaping_opts o;
    reward_shaping_opts_default(&o);
    struct err e;
    assert_int_equal(reward_shaping_opts_check(&o, &e), 0);
    double rm = 2;
    assert_true(fabs(reward_shape(&o, 1, &rm) - 1 / (1 + exp(-1.0))) < 1e-15);
    assert_true(fabs(reward_shape(&o, 0, &rm) - (1 / (1 + exp(-1.0)) - 1)) < 1e-15);
    assert_true(reward_shape(&o, 1, NULL) == 1 && reward_shape(&o, 0, NULL) == 0);
    o.mode = REWARD_SHAPING_RULE;
    assert_true(reward_shape(&o, 1, &rm) == 1);
    o.mode = REWARD_SHAPING_RM;
    assert_true(reward_shape(&o, 0, &rm) == 2);
    o.mode = REWARD_SHAPING_WEIGHTED;
    o.w_v = 0.5;
    o.w_m = 0.25;
    assert_true(reward_shape(&o, 1, &rm) == 1);
    enum reward_shaping_mode m;
    assert_true(reward_shaping_mode_parse("qwen", &m) && m == REWARD_SHAPING_QWEN);
    assert_false(reward_shaping_mode_parse("sigmoid", &m));
    o.alpha = -1;
    assert_int_equal(reward_shaping_opts_check(&o, &e), ERR_USER);
}

// Qwen shaping: any correct answer outranks any wrong one, whatever the
// reward model says, including scores that saturate the sigmoid.
static void test_shaping_correct_outranks_wrong(void **state) {
    (void)state;
    struct reward_shaping_opts o;
    reward_shaping_opts_default(&o);
    double extremes[] = {0,      1e-300,  -1e-300,  1,        -1,        36,
                         -36,    80,      -80,      1500,     -1500,     1e300,
                         -1e300, DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN};
    size_t n_ext = sizeof extremes / sizeof extremes[0];
    struct rng_seq r;
    rng_seq_init(&r, 1, rng_stream_id(RNG_TEST, 2, 0, 0), 0);
    for (int t = 0; t < 20000; t++) {
        double a = t < (int)(n_ext * n_ext) ? extremes[t % n_ext] : rng_seq_normal(&r) * 50;
        double b = t < (int)(n_ext * n_ext) ? extremes[t / n_ext] : rng_seq_normal(&r) * 50;
        for (int k = 0; k < 3; k++) {
            o.alpha = k == 0 ? 0.5 : k == 1 ? 1 : 10;
            double correct = reward_shape(&o, 1, &a), wrong = reward_shape(&o, 0, &b);
            if (!(correct > wrong))
                fail_msg("r_m %g (correct) vs %g (wrong), alpha %g", a, b, o.alpha);
        }
    }
}

static void test_overlong_and_score(void **state) {
    (void)state;
    struct reward_shaping_opts o;
    reward_shaping_opts_default(&o);
    assert_true(reward_overlong_penalty(&o, 1 << 20) == 0); // off by default
    o.has_overlong_penalty = true;
    o.overlong_max_tokens = 100;
    o.overlong_buffer_tokens = 20;
    o.overlong_factor = 1;
    struct err e;
    assert_int_equal(reward_shaping_opts_check(&o, &e), 0);
    assert_true(reward_overlong_penalty(&o, 80) == 0);
    assert_true(fabs(reward_overlong_penalty(&o, 90) + 0.5) < 1e-15);
    assert_true(reward_overlong_penalty(&o, 100) == -1);
    assert_true(reward_overlong_penalty(&o, 101) == -1);
    struct reward_verifier *v = make_verifier(REWARD_MODE_BOXED);
    struct reward_request req = {
        .response = "\\boxed{3}", .n_response = 9, .gold = "3", .n_gold = 1, .n_tokens = 90};
    struct reward_verdict vd;
    struct reward_components c;
    struct reward_stats s = {0};
    o.mode = REWARD_SHAPING_RULE;
    reward_score(v, &o, &req, NULL, &vd, &c);
    assert_true(c.r_v == 1 && !c.has_rm && fabs(c.r - 0.5) < 1e-15);
    reward_stats_add(&s, &vd, &c);
    req.response = "nothing";
    req.n_response = 7;
    req.n_tokens = 10;
    reward_score(v, &o, &req, NULL, &vd, &c);
    assert_true(c.r_v == 0 && c.r == 0);
    reward_stats_add(&s, &vd, &c);
    struct reward_stats total = {0};
    reward_stats_merge(&total, &s);
    assert_int_equal(total.n, 2);
    assert_int_equal(total.n_correct, 1);
    assert_int_equal(total.n_no_answer, 1);
    assert_true(fabs(total.sum_overlong + 0.5) < 1e-15);
    // The format penalty hits a response without an answer, not a wrong answer.
    o.format_penalty = 0.25;
    assert_int_equal(reward_shaping_opts_check(&o, &e), 0);
    reward_score(v, &o, &req, NULL, &vd, &c);
    assert_true(vd.is_no_answer && c.r_format == -0.25 && c.r == -0.25);
    req.response = "\\boxed{4}";
    req.n_response = 9;
    reward_score(v, &o, &req, NULL, &vd, &c);
    assert_true(!vd.is_no_answer && c.r_v == 0 && c.r_format == 0 && c.r == 0);
    o.format_penalty = -1;
    assert_int_equal(reward_shaping_opts_check(&o, &e), ERR_USER);
    reward_verifier_destroy(&v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_table),
        cmocka_unit_test(test_extract_options),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_solution_verdicts),
        cmocka_unit_test(test_pathological),
        cmocka_unit_test(test_shaping_modes),
        cmocka_unit_test(test_shaping_correct_outranks_wrong),
        cmocka_unit_test(test_overlong_and_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
